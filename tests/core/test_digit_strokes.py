"""Digits back to strokes: thinning, tracing and placing (the drawn-digit check's first half)."""

import numpy as np
import pytest

from core.data.digit_strokes import digit_strokes, place_strokes, skeleton, smooth, trace


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
