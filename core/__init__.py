"""The training engine: pure NumPy, importable and testable without Qt."""
