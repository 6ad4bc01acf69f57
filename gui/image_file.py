"""Reading image files (PNG, JPEG, ...) as grayscale arrays, through Qt's QImage.

QImage reads the common formats without any other dependency, and it works without a
QApplication, so the headless `predict` command uses it too. The size is read from the header
first: a large picture is decoded downscaled when its format can (JPEG), read whole and then
downscaled when that fits Qt's allocation limit, and otherwise refused with its size named.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageIOHandler, QImageReader

from core.errors import ImageFileError

MAX_SIDE = 2048  # longer side a picture is brought down to: a digit needs 20 px of it
_BYTES_PER_PIXEL = 4  # what Qt allocates for a colour picture (ARGB32)


def read_grayscale(path: str | os.PathLike) -> np.ndarray:
    """(H, W) uint8, 0 black to 255 white, at most MAX_SIDE on a side.

    Transparency is flattened so that ink stays ink whatever its colour (see `flatten_alpha`).
    """
    path = Path(path)
    if path.is_dir():
        raise ImageFileError(f"{path}: is a folder, not an image")
    if not path.is_file():
        raise ImageFileError(f"{path}: no such file")
    reader = QImageReader(str(path))
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > MAX_SIDE:
        scaled = size.scaled(MAX_SIDE, MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio)
        if reader.supportsOption(QImageIOHandler.ImageOption.ScaledSize):
            reader.setScaledSize(scaled)
        elif size.width() * size.height() * _BYTES_PER_PIXEL > QImageReader.allocationLimit() * 2**20:
            raise ImageFileError(f"{path}: {size.width()}x{size.height()} pixels, too large to read "
                                 f"({QImageReader.allocationLimit()} MB at most; a JPEG of any size is read)")
    image = reader.read()
    if image.isNull():
        raise ImageFileError(f"{path}: not an image Qt can read (PNG, JPEG, BMP, ...)")
    if max(image.width(), image.height()) > MAX_SIDE:
        image = image.scaled(QSize(MAX_SIDE, MAX_SIDE), Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    if image.hasAlphaChannel():
        return flatten_alpha(image)
    return qimage_to_gray(image)


def qimage_to_gray(image: QImage) -> np.ndarray:
    """(H, W) uint8 copy of any QImage, converted to 8-bit grayscale."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return _pixels(gray, 1)[:, :, 0].copy()


def flatten_alpha(image: QImage) -> np.ndarray:
    """(H, W) uint8 gray of a picture with transparency, its transparent parts filled so that ink stays ink.

    When the opaque pixels have contrast of their own (dark ink on opaque paper, with transparent
    margins), the transparent parts take the paper's gray. When they are all of one shade (ink drawn
    on a transparent background, white or black or any colour), the alpha channel alone says where
    the ink is: the result is full-strength dark ink (opaque) on white paper (transparent).
    """
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888)  # kept alive while its pixels are read
    rgba = _pixels(converted, 4).astype(np.float32) / 255
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    alpha = rgba[..., 3]
    opaque = gray[alpha > 0.5]
    if opaque.size == 0:
        return np.full(gray.shape, 255, np.uint8)  # nothing drawn: blank paper
    low, paper, high = np.percentile(opaque, [5, 50, 95])
    flat = alpha * gray + (1 - alpha) * paper if high - low > 0.25 else 1 - alpha  # else: dark ink on white
    return np.clip(np.rint(flat * 255), 0, 255).astype(np.uint8)


def _pixels(image: QImage, channels: int) -> np.ndarray:
    """(H, W, channels) uint8 view of an 8-bit-per-channel QImage's pixels, row padding dropped."""
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, :width * channels].reshape(height, width, channels)
