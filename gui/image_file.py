"""Reading image files (PNG, JPEG, ...) as grayscale arrays, through Qt's QImage.

QImage reads the common formats without any other dependency, and it works without a
QApplication, so the headless `predict` command uses it too.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from core.errors import ImageFileError


def read_grayscale(path: str | os.PathLike) -> np.ndarray:
    """(H, W) uint8, 0 black to 255 white; transparent pixels count as white paper."""
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(f"{path}: no such file")
    image = QImage(str(path))
    if image.isNull():
        raise ImageFileError(f"{path}: not an image Qt can read (PNG, JPEG, BMP, ...)")
    if image.hasAlphaChannel():
        image = _flatten_on_white(image)
    return qimage_to_gray(image)


def qimage_to_gray(image: QImage) -> np.ndarray:
    """(H, W) uint8 copy of any QImage, converted to 8-bit grayscale."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    buffer = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, :width].copy()


def _flatten_on_white(image: QImage) -> QImage:
    from PySide6.QtGui import QColor, QPainter

    flat = QImage(image.size(), QImage.Format.Format_RGB32)
    flat.fill(QColor("white"))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    return flat
