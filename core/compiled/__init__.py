"""The numba kernels and their preparation: the only code that runs compiled."""
