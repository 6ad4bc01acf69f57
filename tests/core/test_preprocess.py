"""MNIST-style preprocessing: bounding box to 20 px, aspect kept, center of mass at the center."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.data.preprocess import resize_area, to_mnist, to_mnist_placed

CENTER = 14.0  # where MNIST's digits have their center of mass (core/data/preprocess.py)


def center_of_mass(image):
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum())


def ink_box(image):
    """(height, width) of the smallest box holding every non-zero pixel."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def seven(canvas_shape=(400, 300), top=300, left=20, size=60, dtype=np.uint8):
    """A '7' (a bar and a slanted stroke) of `size` px, drawn light on dark, far from the center."""
    canvas = np.zeros(canvas_shape, dtype=np.float64)
    thickness = size // 8
    canvas[top:top + thickness, left:left + size * 2 // 3] = 1.0
    for row in range(size):
        col = left + size * 2 // 3 - row * 2 // 5
        canvas[top + row, col - thickness:col] = 1.0
    return (canvas * 255).astype(np.uint8) if dtype == np.uint8 else canvas.astype(dtype)


def test_an_off_center_digit_is_centered_by_mass_with_a_20_px_box():
    drawing = seven()
    image = to_mnist(drawing)
    assert image.shape == (28, 28) and image.dtype == np.float32
    height, width = ink_box(image)
    assert height == 20 and 10 < width < 20
    row, col = center_of_mass(image)
    assert abs(row - CENTER) <= 1 and abs(col - CENTER) <= 1
    # the '7' carries its mass up and to the right of its box's middle: centering is by mass, not box
    rows = np.flatnonzero(image.any(axis=1))
    assert abs((rows[0] + rows[-1]) / 2 - row) > 0.5


@pytest.mark.parametrize("size", [8, 25, 60, 250])
def test_any_size_comes_out_20_px_on_its_longer_side(size):
    canvas = np.zeros((600, 500), np.uint8)
    canvas[100:100 + size, 200:200 + size * 3 // 4] = 255
    image = to_mnist(canvas)
    height, width = ink_box(image)
    assert height == 20 and abs(width - 15) <= 1
    assert image.max() == pytest.approx(1.0)


def test_the_aspect_ratio_is_kept_a_tall_thin_stroke_stays_tall():
    canvas = np.zeros((200, 200), np.uint8)
    canvas[20:180, 90:98] = 255  # 160 x 8
    height, width = ink_box(to_mnist(canvas))
    assert height == 20 and width == 1
    height, width = ink_box(to_mnist(canvas.T.copy()))
    assert height == 1 and width == 20


def test_dark_ink_on_light_paper_is_inverted():
    light_on_dark = seven()
    dark_on_light = 255 - light_on_dark
    inverted = to_mnist(dark_on_light)
    np.testing.assert_allclose(inverted, to_mnist(light_on_dark), atol=1e-6)
    assert inverted[0, 0] == 0 and inverted.max() == pytest.approx(1.0)


def test_float_and_uint8_input_give_the_same_image():
    as_uint8 = to_mnist(seven())
    for dtype in (np.float32, np.float64):
        np.testing.assert_allclose(to_mnist(seven(dtype=dtype)), as_uint8, atol=1e-6)


@pytest.mark.parametrize("blank", [
    np.zeros((280, 280), np.uint8),
    np.full((280, 280), 255, np.uint8),
    np.zeros((50, 70), np.float32),
    np.ones((50, 70), np.float64),
    np.full((100, 100), 0.05),  # faint everywhere, below the ink threshold
], ids=["black", "white", "black-float", "white-float", "faint"])
def test_an_image_without_ink_gives_none(blank):
    assert to_mnist(blank) is None


def test_a_dot_becomes_a_centered_block():
    canvas = np.zeros((100, 100), np.uint8)
    canvas[3:6, 95:98] = 255  # a pen's dot, not a speck
    image = to_mnist(canvas)
    assert ink_box(image) == (20, 20)
    np.testing.assert_allclose(center_of_mass(image), (CENTER, CENTER), atol=0.51)


@pytest.mark.parametrize("level", [0.02, 0.3, 0.5, 0.55, 0.7, 0.98])
def test_a_uniform_grey_picture_is_empty_even_with_noise(level):
    assert to_mnist(np.full((120, 90), level)) is None
    noisy = np.clip(level + np.random.default_rng(0).normal(0, 0.04, (120, 90)), 0, 1)
    assert to_mnist(noisy) is None
    assert to_mnist(np.round(np.full((28, 28), level * 255)).astype(np.uint8)) is None


@pytest.mark.parametrize("paper", [255, 0, 128, 200])
def test_a_few_stray_pixels_are_empty(paper):
    rng = np.random.default_rng(1)
    small = np.full((100, 100), paper, np.uint8)
    small[rng.integers(0, 100, 3), rng.integers(0, 100, 3)] = 255 - paper if paper != 128 else 0
    assert to_mnist(small) is None
    large = np.full((1000, 1000), paper, np.uint8)
    large[rng.integers(0, 1000, 60), rng.integers(0, 1000, 60)] = 255 - paper if paper != 128 else 0
    assert to_mnist(large) is None


def test_a_digit_on_grey_paper_is_the_digit():
    on_black = seven().astype(np.float64) / 255
    on_grey = 0.55 - 0.55 * on_black  # dark ink on mid-grey paper, as a dim photo
    digit = to_mnist(on_grey)
    assert digit is not None
    np.testing.assert_allclose(digit, to_mnist(on_black), atol=1e-5)


def test_a_non_grayscale_array_is_refused():
    with pytest.raises(ValueError, match="2-D"):
        to_mnist(np.zeros((28, 28, 3), np.uint8))


@settings(max_examples=40, deadline=None)
@given(image=hnp.arrays(np.float32, st.tuples(st.integers(1, 40), st.integers(1, 40)),
                        elements=st.floats(0, 1, width=32)),
       height=st.integers(1, 40), width=st.integers(1, 40))
def test_resize_area_preserves_the_mean_and_the_range(image, height, width):
    resized = resize_area(image, height, width)
    assert resized.shape == (height, width) and resized.dtype == np.float32
    assert resized.mean(dtype=np.float64) == pytest.approx(image.mean(dtype=np.float64), abs=1e-5)
    assert resized.min() >= image.min() - 1e-5 and resized.max() <= image.max() + 1e-5


@settings(max_examples=30, deadline=None)
@given(value=st.floats(0, 1), shape=st.tuples(st.integers(1, 60), st.integers(1, 60)),
       height=st.integers(1, 30), width=st.integers(1, 30))
def test_resize_area_keeps_a_flat_image_flat(value, shape, height, width):
    np.testing.assert_allclose(resize_area(np.full(shape, value, np.float32), height, width), value, atol=1e-5)


def test_resize_area_averages_blocks_and_keeps_the_same_size_unchanged():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(resize_area(image, 2, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(resize_area(image, 4, 4), image)
    np.testing.assert_allclose(resize_area(image, 8, 8)[::2, ::2], image)


@settings(max_examples=40, deadline=None)
@given(top=st.integers(0, 150), left=st.integers(0, 150), height=st.integers(2, 50), width=st.integers(2, 50),
       dark_on_light=st.booleans())
def test_any_blob_anywhere_fits_the_frame_20_px_in_float32(top, left, height, width, dark_on_light):
    canvas = np.zeros((200, 200), np.uint8)
    canvas[top:top + height, left:left + width] = 255
    if dark_on_light:
        canvas = 255 - canvas
    image = to_mnist(canvas)
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0 and image.max() <= 1
    assert max(ink_box(image)) == 20
    np.testing.assert_allclose(center_of_mass(image), (CENTER, CENTER), atol=0.51)


def test_the_placement_maps_the_frame_back_onto_the_drawing():
    # what the model read, carried back to the picture, lies on the picture's own ink: a saliency
    # map shown on the pad is over the strokes it is about
    drawing = seven()
    frame, placement = to_mnist_placed(drawing)
    np.testing.assert_array_equal(frame, to_mnist(drawing))
    back = placement.to_source(frame)
    assert back.shape == drawing.shape
    ink = drawing > 0
    assert back[ink].mean() > 5 * back[~ink].mean()  # mostly on the ink
    assert back[~ink].max() < 1.0
    assert np.allclose(center_of_mass(back), center_of_mass(drawing.astype(float)), atol=3.0)  # source px
    assert not back[:250].any() and not back[:, 120:].any()  # nothing outside the ink's box


def test_one_frame_pixel_maps_back_to_the_source_patch_it_was_averaged_from():
    drawing = seven(canvas_shape=(280, 280), top=40, left=40, size=200)
    frame, placement = to_mnist_placed(drawing)
    top, left, height, width = placement.box
    marker = np.zeros((28, 28), np.float32)
    marker[top + 5, left + 3] = 1.0
    back = placement.to_source(marker)
    crop_top, crop_left, crop_height, crop_width = placement.crop
    expected_row = crop_top + (5 + 0.5) * crop_height / height - 0.5
    expected_col = crop_left + (3 + 0.5) * crop_width / width - 0.5
    row, col = center_of_mass(back)
    assert abs(row - expected_row) < 1.0 and abs(col - expected_col) < 1.0
