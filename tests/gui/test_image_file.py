"""Image files read through QImage: grayscale arrays, white paper, and clear errors."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from core.errors import ImageFileError
from gui.image_file import qimage_to_gray, read_grayscale

WIDTH, HEIGHT = 45, 30  # 45 is no multiple of 4: the grayscale rows carry padding
DIGIT = (slice(5, 25), slice(15, 30))  # rows, columns of the black bar


def digit_image(image_format=QImage.Format.Format_RGB32, paper=Qt.GlobalColor.white) -> QImage:
    """A black bar (the 'digit') on `paper`."""
    image = QImage(WIDTH, HEIGHT, image_format)
    image.fill(paper)
    painter = QPainter(image)
    painter.fillRect(DIGIT[1].start, DIGIT[0].start, DIGIT[1].stop - DIGIT[1].start,
                     DIGIT[0].stop - DIGIT[0].start, QColor("black"))
    painter.end()
    return image


def expected_gray() -> np.ndarray:
    gray = np.full((HEIGHT, WIDTH), 255, np.uint8)
    gray[DIGIT] = 0
    return gray


def test_a_png_reads_back_exactly(tmp_path):
    path = tmp_path / "digit.png"
    assert digit_image().save(str(path))
    gray = read_grayscale(path)
    assert gray.shape == (HEIGHT, WIDTH) and gray.dtype == np.uint8
    np.testing.assert_array_equal(gray, expected_gray())


def test_a_jpeg_reads_back_close(tmp_path):
    path = tmp_path / "digit.jpg"
    assert digit_image().save(str(path), "JPEG", 95)
    gray = read_grayscale(str(path))
    assert gray.shape == (HEIGHT, WIDTH) and gray.dtype == np.uint8
    # JPEG rings at the edges; well inside and well outside the bar the values hold
    assert gray[8:22, 18:27].max() < 40
    assert gray[:, :10].min() > 215 and gray[:, 35:].min() > 215


def test_transparent_pixels_count_as_white_paper(tmp_path):
    path = tmp_path / "transparent.png"
    image = digit_image(QImage.Format.Format_ARGB32, paper=Qt.GlobalColor.transparent)
    assert image.hasAlphaChannel() and image.save(str(path))
    np.testing.assert_array_equal(read_grayscale(path), expected_gray())


def test_colours_become_their_gray_level():
    image = QImage(4, 3, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 200, 200))
    image.setPixelColor(1, 2, QColor(0, 0, 0))
    gray = qimage_to_gray(image)
    assert gray.shape == (3, 4) and gray[2, 1] == 0
    assert np.all(gray[gray != 0] == 200)


def test_a_file_that_is_no_image_is_an_image_file_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is no picture")
    with pytest.raises(ImageFileError) as info:
        read_grayscale(path)
    assert str(path) in str(info.value) and "not an image" in str(info.value)


def test_a_missing_file_or_a_folder_is_an_image_file_error(tmp_path):
    for path in (tmp_path / "missing.png", tmp_path):
        with pytest.raises(ImageFileError) as info:
            read_grayscale(path)
        assert str(path) in str(info.value) and "no such file" in str(info.value)
