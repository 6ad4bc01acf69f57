"""The errors the engine raises on purpose: each carries a message a user can act on."""


class EngineError(Exception):
    """Base class: the CLI prints the message, the GUI shows it in a dialog."""


class DatasetError(EngineError):
    """A dataset file or folder is missing, truncated, corrupt or inconsistent."""


class DownloadError(DatasetError):
    """The dataset could not be fetched from any mirror."""


class ModelFileError(EngineError):
    """A saved model cannot be read: wrong format, version, shapes or content."""


class ConfigError(EngineError, ValueError):
    """A training setting is out of its valid range."""


class ImageFileError(EngineError):
    """An image given to classify cannot be read."""


class RunHistoryError(EngineError):
    """A run in the history folder cannot be found, read or touched (a bad id, a path outside it)."""


class FileWriteError(EngineError):
    """A file cannot be written where asked: a missing or read-only folder, a directory, a full disk."""


class OptionalDependencyError(EngineError):
    """A feature needs an optional package that is not installed; the message says how to get it."""
