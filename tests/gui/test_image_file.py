"""Image files read through QImage: grayscale arrays, white paper, and clear errors."""

import struct
import zlib

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from core.data.preprocess import to_mnist
from core.errors import ImageFileError
from gui.image_file import MAX_SIDE, qimage_to_gray, read_grayscale

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
    for path, problem in ((tmp_path / "missing.png", "no such file"), (tmp_path, "is a folder")):
        with pytest.raises(ImageFileError) as info:
            read_grayscale(path)
        assert str(path) in str(info.value) and problem in str(info.value)


def ink_on_transparent(colour, paper=Qt.GlobalColor.transparent) -> QImage:
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32)
    image.fill(paper)
    painter = QPainter(image)
    painter.fillRect(DIGIT[1].start, DIGIT[0].start, DIGIT[1].stop - DIGIT[1].start,
                     DIGIT[0].stop - DIGIT[0].start, QColor(colour))
    painter.end()
    return image


@pytest.mark.parametrize("colour", ["white", "black", "red", "yellow", "#808080"])
def test_ink_on_a_transparent_background_stays_ink_whatever_its_colour(tmp_path, colour):
    path = tmp_path / "ink.png"
    assert ink_on_transparent(colour).save(str(path))
    gray = read_grayscale(path).astype(int)
    ink, paper = gray[DIGIT], np.delete(gray, np.s_[DIGIT[1]], axis=1)
    assert abs(int(np.median(ink)) - int(np.median(paper))) > 60, (colour, np.median(ink), np.median(paper))
    digit = to_mnist(gray)
    assert digit is not None and digit.max() == pytest.approx(1.0)
    np.testing.assert_allclose(digit, to_mnist(expected_gray()), atol=0.3)


def test_opaque_paper_with_transparent_margins_keeps_its_ink(tmp_path):
    """Dark ink on opaque white paper inside a transparent frame: the frame takes the paper's colour."""
    image = QImage(WIDTH + 20, HEIGHT + 20, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.drawImage(10, 10, digit_image())
    painter.end()
    path = tmp_path / "framed.png"
    assert image.save(str(path))
    gray = read_grayscale(path)
    assert gray[0, 0] == 255 and gray[10 + DIGIT[0].start + 5, 10 + DIGIT[1].start + 5] == 0
    np.testing.assert_allclose(to_mnist(gray), to_mnist(expected_gray()), atol=1e-6)


def test_a_fully_transparent_picture_is_empty(tmp_path):
    path = tmp_path / "nothing.png"
    assert ink_on_transparent("transparent").save(str(path))
    assert to_mnist(read_grayscale(path)) is None


def write_big_gray_png(path, width, height):
    """A grayscale PNG with a black bar in its middle third, compressed row by row (never whole in memory)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    compressor = zlib.compressobj(6)
    paper = b"\x00" + b"\xff" * width
    bar = b"\x00" + b"\xff" * (width // 3) + b"\x00" * (width // 3) + b"\xff" * (width - 2 * (width // 3))
    rows = [compressor.compress(bar if height // 4 <= y < 3 * height // 4 else paper) for y in range(height)]
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", b"".join(rows) + compressor.flush()) + chunk(b"IEND", b""))
    return path


def test_a_huge_png_is_refused_with_its_size_named(tmp_path):
    path = write_big_gray_png(tmp_path / "huge.png", 20000, 20000)
    with pytest.raises(ImageFileError) as info:
        read_grayscale(path)
    assert str(path) in str(info.value) and "20000x20000 pixels" in str(info.value)


def test_a_large_png_within_qts_limit_is_read_downscaled(tmp_path):
    path = write_big_gray_png(tmp_path / "large.png", 6000, 3000)
    gray = read_grayscale(path)
    assert gray.shape == (1024, MAX_SIDE)
    assert gray[512, MAX_SIDE // 2] < 30 and gray[10, 10] > 225
    assert to_mnist(gray) is not None


def test_a_large_jpeg_is_decoded_downscaled(tmp_path):
    image = QImage(6000, 4500, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.fillRect(2500, 1000, 1000, 2500, QColor("black"))
    painter.end()
    path = tmp_path / "large.jpg"
    assert image.save(str(path), "JPEG", 90)
    del image
    gray = read_grayscale(path)
    assert max(gray.shape) == MAX_SIDE and gray.shape[0] == round(4500 * MAX_SIDE / 6000)
    assert gray[gray.shape[0] // 2, gray.shape[1] // 2] < 30
