"""Digits back to strokes: thinning, tracing and placing (the drawn-digit check's first half)."""

import numpy as np
import pytest

from core.data.digit_strokes import digit_strokes, ink_depth, open_filled_loops, place_strokes, skeleton, smooth, trace


def test_a_thick_bar_thins_to_a_line_one_pixel_wide_along_its_middle():
    bar = np.zeros((20, 40))
    bar[8:13, 5:35] = 1.0
    lines = skeleton(bar)
    assert lines.sum() > 20
    assert set(np.flatnonzero(lines.any(axis=1))) == {10}  # the middle row only
    assert not (lines & (bar == 0)).any()


def test_a_ring_thins_to_a_closed_loop_traced_in_one_path_back_to_its_start():
    rows, cols = np.indices((40, 40))
    radius = np.hypot(rows - 20, cols - 20)
    ring = ((radius > 10) & (radius < 14)).astype(float)
    paths = trace(skeleton(ring))
    longest = max(paths, key=len)
    assert len(paths) <= 2  # the loop, and at most a leftover pixel
    assert np.abs(longest[0] - longest[-1]).max() <= 1.5  # ends where it began
    assert np.hypot(longest[:, 0] - 20, longest[:, 1] - 20).mean() == pytest.approx(12, abs=1.0)


def test_a_cross_is_traced_as_paths_covering_every_pixel_each_step_once():
    lines = np.zeros((21, 21), bool)
    lines[10, 2:19] = True
    lines[2:19, 10] = True
    paths = trace(lines)
    steps = [frozenset(map(tuple, pair)) for path in paths for pair in zip(path[:-1], path[1:])]
    assert len(steps) == len(set(steps)) == 32  # 16 steps each way, none twice
    assert {tuple(map(int, p)) for path in paths for p in path} == set(map(tuple, np.argwhere(lines)))
    # the walk keeps its direction through the junction: two straight strokes, not four
    assert len(paths) == 2


def test_smoothing_keeps_the_ends_and_straightens_a_staircase():
    staircase = np.array([[i // 2, (i + 1) // 2] for i in range(20)], dtype=float)
    smoothed = smooth(staircase)
    np.testing.assert_array_equal(smoothed[[0, -1]], staircase[[0, -1]])
    deviation = lambda path: np.abs(path[:, 0] - path[:, 1]).max()  # noqa: E731
    assert deviation(smoothed[2:-2]) < deviation(staircase)


def test_placed_strokes_have_the_asked_ink_height_and_center():
    strokes = [np.array([[0.0, 0.0], [10.0, 5.0]]), np.array([[5.0, 0.0], [5.0, 4.0]])]
    placed = place_strokes(strokes, ink_height=120, pen_width=20, center=(140, 100))
    points = np.concatenate(placed)  # (x, y)
    assert np.ptp(points[:, 1]) == pytest.approx(100)  # 120 of ink less the pen's 20
    assert (points[:, 1].min() + points[:, 1].max()) / 2 == pytest.approx(140)
    assert (points[:, 0].min() + points[:, 0].max()) / 2 == pytest.approx(100)


def test_a_digit_gives_strokes_inside_its_ink_and_an_empty_one_none():
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a '1'
    strokes = digit_strokes(digit)
    points = np.concatenate(strokes)
    assert len(strokes) == 1
    assert points[:, 1].min() > 11 and points[:, 1].max() < 16
    assert np.ptp(points[:, 0]) > 14
    assert digit_strokes(np.zeros(784, np.uint8)) == []


def enclosed(lines: np.ndarray) -> int:
    """How many background pixels `lines` (bool) cut off from the border: 0 when it draws no loop."""
    free = np.pad(~lines, 1, constant_values=True)
    reached = np.ones_like(free)
    reached[1:-1, 1:-1] = False
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= free
        if (grown == reached).all():
            return int(np.count_nonzero(free & ~reached))
        reached = grown


def filled_six() -> np.ndarray:
    """A 6 written with a thick pen: its loop closed up into a disc of ink, its stem a bar 6 px wide."""
    rows, cols = np.indices((80, 60))
    disc = np.hypot(rows - 55, cols - 30) <= 14
    stem = (rows >= 8) & (rows <= 50) & (cols >= 17) & (cols <= 22)
    return disc | stem


def test_ink_depth_counts_pixels_to_the_background():
    bar = np.zeros((20, 40), bool)
    bar[8:13, 5:35] = True  # 5 px wide: 1, 2, 3, 2, 1 deep across
    depth = ink_depth(bar)
    np.testing.assert_array_equal(depth[8:13, 20], [1, 2, 3, 2, 1])
    assert (depth[~bar] == 0).all()
    rows, cols = np.indices((101, 101))
    disc = np.hypot(rows - 50, cols - 50) <= 40
    assert 34 <= ink_depth(disc).max() <= 41  # about its radius, whichever way the background lies


def test_outside_the_image_is_background_to_ink_depth():
    bar = np.zeros((10, 20), bool)
    bar[3:8, :] = True  # runs off both sides: 1 deep there, as at its top and bottom
    np.testing.assert_array_equal(ink_depth(bar)[3:8, 0], [1, 1, 1, 1, 1])
    np.testing.assert_array_equal(ink_depth(bar)[3:8, 10], [1, 2, 3, 2, 1])
    for shape in ((1, 1), (5, 5), (1, 7)):
        ink = np.ones(shape, bool)  # ink alone: eroded from the edges, not forever
        depth = ink_depth(ink)
        assert depth.min() == 1 and depth.max() == (min(shape) + 1) // 2
        np.testing.assert_array_equal(open_filled_loops(ink), ink)


def test_a_loop_filled_by_a_thick_pen_is_opened_so_that_its_skeleton_goes_round_it():
    six = filled_six()
    assert enclosed(skeleton(six)) == 0  # thinned as it is, the disc is a line: the 6 would be drawn as a 1
    opened = open_filled_loops(six)
    assert not (opened & ~six).any()
    assert enclosed(skeleton(opened)) > 100  # a loop round the disc's inside
    # the ring left is about a stroke wide: the stem's 6 px, not the disc's 28
    assert ink_depth(opened).max() <= 5


def test_strokes_drawn_alike_are_left_as_they_are():
    rows, cols = np.indices((40, 40))
    radius = np.hypot(rows - 20, cols - 20)
    ring = (radius > 10) & (radius < 15)
    cross = np.zeros((40, 40), bool)
    cross[17:23, 4:36] = True
    cross[4:36, 17:23] = True  # where the strokes cross, the ink is deeper than either stroke
    bar = np.zeros((40, 40), bool)
    bar[5:35, 10:30] = True  # a thick stroke, not a filled loop: one width throughout
    for ink in (ring, cross, bar, np.zeros((40, 40), bool)):
        np.testing.assert_array_equal(open_filled_loops(ink), ink)


def drawn_lines(strokes: list[np.ndarray], scale: int = 4) -> np.ndarray:
    """The pixels `strokes` (28-px units) pass through, on a grid `scale` times finer."""
    lines = np.zeros((28 * scale, 28 * scale), bool)
    for stroke in strokes:
        for a, b in zip(stroke[:-1], stroke[1:]):
            for t in np.linspace(0, 1, 20):
                row, col = np.round(((1 - t) * a + t * b + 0.5) * scale - 0.5).astype(int)
                lines[row, col] = True
    return lines


def test_a_digit_with_a_filled_loop_is_redrawn_going_round_it():
    six = np.zeros((112, 112), np.float32)
    six[16:96, 26:86] = filled_six()
    digit = six.reshape(28, 4, 28, 4).mean(axis=(1, 3))  # the 6 at MNIST's 28 x 28
    assert enclosed(drawn_lines(digit_strokes(digit))) > 50
