"""The headless command line over the engine in core/."""
