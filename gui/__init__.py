"""The Qt layer: windows and widgets over the engine in core/."""
