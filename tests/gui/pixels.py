"""What a view shows, read from its pixels: for assertions on a grab rather than on its existence."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage, QPixmap


def rgb_array(image: QImage | QPixmap) -> np.ndarray:
    """(height, width, 3) ints of an image's pixels."""
    if isinstance(image, QPixmap):
        image = image.toImage()
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return pixels[:, :3 * image.width()].reshape(image.height(), image.width(), 3).astype(int)


def pixels_of_colour(image: QImage | QPixmap, colour: str, tolerance: int = 8) -> int:
    """How many pixels are `colour`, give or take `tolerance` per channel."""
    wanted = QColor(colour)
    distance = np.abs(rgb_array(image) - [wanted.red(), wanted.green(), wanted.blue()]).max(axis=2)
    return int((distance <= tolerance).sum())


def red_and_blue_pixels(image: QImage | QPixmap) -> tuple[int, int]:
    """How many pixels are clearly red, and clearly blue (a diverging colour scale's two ends)."""
    rgb = rgb_array(image)
    red, blue = rgb[..., 0] - rgb[..., 2], rgb[..., 2] - rgb[..., 0]
    return int((red > 80).sum()), int((blue > 80).sum())


def image_28x28(preview: QPixmap) -> np.ndarray:
    """The gray level at the centre of each of the 28x28 pixels a preview draws big."""
    rgb = rgb_array(preview)
    rows = (np.arange(28) * rgb.shape[0]) // 28 + rgb.shape[0] // 56
    columns = (np.arange(28) * rgb.shape[1]) // 28 + rgb.shape[1] // 56
    return rgb[rows][:, columns].mean(axis=2)


def correlation(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(first), np.ravel(second))[0, 1])
