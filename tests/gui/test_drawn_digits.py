"""The drawn-digit check on a small seeded sample: test digits redrawn on the real pad read as well
as the test images themselves (tests/drawn_digits.py; bench/bench_drawn.py draws all 10,000).

The pad renders for the model with a pen sized to the drawing (core/data/preprocess.py,
model_pen_width): a digit drawn small or large reaches the model with MNIST's ink.
"""

from __future__ import annotations

import numpy as np
import pytest

from assets import pretrained_model_path
from core.data.dataset import load_dataset
from core.data.digit_strokes import digit_strokes, place_strokes
from core.engine.network import MLP
from core.files.model_file import load_checkpoint
from gui.draw_pad import PEN_WIDTH, RENDER_SIZE
from tests.drawn_digits import BUCKETS, SIZES, draw_test_digits, make_panel, place_on_pad, replay

SAMPLE = 200
PEN = PEN_WIDTH * RENDER_SIZE


@pytest.fixture
def panel(qtbot):
    model = load_checkpoint(pretrained_model_path()).model
    panel = make_panel(model)
    qtbot.addWidget(panel)
    return panel


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset(mnist_dir)


@pytest.fixture
def drawn(panel, mnist):
    return draw_test_digits(panel, panel.model, mnist.test_images, mnist.test_labels, SAMPLE, seed=14)


def test_a_digit_drawn_small_or_large_reaches_the_model_alike(panel):
    seven = [np.array([[0.0, 0.0], [0.0, 10.0], [20.0, 4.0]])]  # (row, col): a bar and a slanted leg
    images = []
    for height in (90, 230):
        replay(panel, place_strokes(seven, height, PEN, (140, 140)))
        images.append(panel.model_input)
    small, large = images
    # with the on-screen pen for both, the small one's strokes came out 2.6 times as thick
    assert small.sum() == pytest.approx(large.sum(), rel=0.1)
    assert np.abs(small - large).mean() < 0.03


def ink_box(placed: list[np.ndarray]) -> tuple[float, float, float, float]:
    """left, top, right, bottom of the ink of strokes placed on the pad, the round pen included."""
    points = np.concatenate(placed)
    return (points[:, 0].min() - PEN / 2, points[:, 1].min() - PEN / 2,
            points[:, 0].max() + PEN / 2, points[:, 1].max() + PEN / 2)


def test_a_digit_too_wide_for_its_height_is_drawn_smaller_not_cut_off_at_the_pads_sides():
    wide = [np.array([[0.0, 0.0], [0.0, 30.0], [10.0, 12.0]])]  # (row, col): three times as wide as high
    rng = np.random.default_rng(3)
    widths = []
    for _ in range(50):
        placed, height = place_on_pad(wide, rng)
        left, top, right, bottom = ink_box(placed)
        assert -1e-6 <= left and right <= RENDER_SIZE + 1e-6 and -1e-6 <= top and bottom <= RENDER_SIZE + 1e-6
        assert bottom - top == pytest.approx(height)
        widths.append(right - left)
    # 90-230 px high would make it up to 650 px wide; all but the draws under 107 px high are made
    # as large as the pad's width allows
    assert np.mean(np.isclose(widths, RENDER_SIZE)) > 0.8


def test_every_test_digit_is_drawn_whole_on_the_pad(mnist):
    # 13 or 14 digits in 2000 (wide 0s and 2s, slanted 9s) were placed wider than the pad, cut off at its sides
    rng = np.random.default_rng(2)
    cut = 0
    for index in rng.permutation(len(mnist.test_images))[:400]:
        strokes = digit_strokes(mnist.test_images[index])
        placed, height = place_on_pad(strokes, rng)
        left, top, right, bottom = ink_box(placed)
        cut += not (-1e-6 <= left and right <= RENDER_SIZE + 1e-6 and -1e-6 <= top and bottom <= RENDER_SIZE + 1e-6)
        assert height <= SIZES[1]
    assert cut == 0


def test_drawn_digits_carry_mnists_ink_at_every_size(drawn, mnist):
    train = mnist.train_images[:10000].astype(np.float32) / 255
    ink = drawn.images.reshape(len(drawn.images), -1)
    assert ink.sum(axis=1).mean() == pytest.approx(train.sum(axis=1).mean(), rel=0.08)  # 102.8 (all 60,000: 102.4)
    assert np.mean(ink > 0) == pytest.approx(np.mean(train > 0), abs=0.02)  # 19.1 % of the pixels
    assert ink[ink > 0].mean() == pytest.approx(train[train > 0].mean(), abs=0.05)  # 0.68
    for low, high in BUCKETS:
        chosen = (drawn.ink_heights >= low) & (drawn.ink_heights < high)
        assert ink[chosen].sum(axis=1).mean() == pytest.approx(train.sum(axis=1).mean(), rel=0.12), (low, high)


def test_drawn_digits_read_nearly_as_well_as_the_same_test_images(drawn):
    assert len(drawn.indices) == SAMPLE
    assert np.ptp(drawn.ink_heights) > 100  # small and large drawings both
    lost = drawn.raw_right.mean() - drawn.drawn_right.mean()
    # the whole test set (bench/bench_drawn.py) loses 0.45-0.47 points with the bundled model (the aim: 0.5); 200
    # digits are allowed 2 points (4 digits) for the sample's chance. The preprocessing before it lost 3.
    assert lost <= 0.02, f"drawn {drawn.drawn_right.mean():.2%} vs raw {drawn.raw_right.mean():.2%}"



def test_the_flips_are_the_digits_read_right_as_test_images_and_wrong_drawn(drawn, mnist):
    flips = drawn.flips(mnist.test_labels)
    assert len(flips) == np.count_nonzero(drawn.raw_right & ~drawn.drawn_right)
    for index, label, read, _height in flips:
        assert label == mnist.test_labels[index] != read
    np.testing.assert_array_equal(drawn.drawn_right, drawn.drawn_read == mnist.test_labels[drawn.indices])


def test_the_same_drawings_read_by_a_model_are_what_that_model_reads_on_the_pad(drawn, mnist, panel):
    again = drawn.read_by(panel.model, mnist.test_images, mnist.test_labels)
    np.testing.assert_array_equal(again.drawn_read, drawn.drawn_read)
    np.testing.assert_array_equal(again.raw_right, drawn.raw_right)
    other = MLP.initialized((784, 32, 10), seed=5)  # untrained: reads something else
    by_other = drawn.read_by(other, mnist.test_images, mnist.test_labels)
    np.testing.assert_array_equal(by_other.drawn_read, [int(other.predict_proba(image[None])[0].argmax())
                                                        for image in drawn.images])
    assert by_other.drawn_right.mean() < 0.5 and by_other.raw_right.mean() < 0.5
