"""The run history: summaries on disk, their validation, the recorder that writes them."""
