"""Files shipped with the application: the pretrained model and icons."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PRETRAINED_MODEL = "pretrained.npz"


def asset_path(name: str) -> Path:
    """Where a bundled file lies, for an installed package or a source checkout alike."""
    return Path(str(resources.files(__name__) / name))


def pretrained_model_path() -> Path | None:
    path = asset_path(PRETRAINED_MODEL)
    return path if path.is_file() else None
