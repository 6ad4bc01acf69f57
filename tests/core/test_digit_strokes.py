"""Digits back to strokes: thinning, tracing and placing (the drawn-digit check's first half)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.digit_strokes import (
    digit_strokes,
    ink_depth,
    ink_past_ends,
    open_filled_loops,
    place_strokes,
    skeleton,
    smooth,
    trace,
    trimmed_ends,
)
from core.data.preprocess import model_pen_width


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


def tapered_stroke(start: float, stop: float, at: float, width: float = 3.0, horizontal: bool = False) -> np.ndarray:
    """A stroke at 28 x 28 (4x supersampled) from row `start` to row `stop` (columns, if
    `horizontal`) centred on column (row) `at`: `width` px wide, narrowing to a point over its
    last 2 px at each end, as a pen lifted off the paper leaves it. Positions measured from the
    image's edge: pixel index k spans k to k + 1."""
    rows, cols = (np.indices((112, 112)) + 0.5) / 4
    along, across = (cols, rows) if horizontal else (rows, cols)
    from_end = np.minimum(along - start, stop - along)
    ink = (from_end >= 0) & (np.abs(across - at) <= width / 2 * np.clip(from_end / 2, 0, 1))
    return ink.reshape(28, 4, 28, 4).mean(axis=(1, 3))


def model_pen(strokes: list[np.ndarray]) -> float:
    """The pen the pad renders `strokes` with for the model (28-px units)."""
    return model_pen_width(float(np.ptp(np.concatenate(strokes), axis=0).max()), 0.0)


def test_a_stroke_redrawn_with_the_models_pen_is_as_long_as_its_ink():
    one = tapered_stroke(4, 24, at=13.5)  # ink 20 px high
    strokes = digit_strokes(one)
    drawn_height = np.ptp(np.concatenate(strokes)[:, 0]) + model_pen(strokes)  # the round caps included
    # the skeleton runs nearly to the tips: drawn to them, the caps made it 21.4 px high (and 19.5
    # with the trim measured by the ink's depth at the ends, which is to the tip's side)
    assert drawn_height == pytest.approx(20, abs=0.25)


def test_the_gap_between_a_stroke_end_and_the_next_stroke_stays_open():
    # a 4 whose bar stops 1 px short of its upright: drawn to the bar's tip, the cap closed it up
    # (0.3 px left), which is how 4s came to read as 9s; trimmed by the depth at the tip, 1.4 px
    four = np.maximum(tapered_stroke(4, 24, at=17.5), tapered_stroke(3, 15, at=13.5, horizontal=True))
    strokes = digit_strokes(four)
    assert len(strokes) == 2
    bar, upright = sorted(strokes, key=lambda path: np.ptp(path[:, 0]))
    between = np.hypot(*(bar[:, None, :] - upright[None, :, :]).transpose(2, 0, 1)).min()
    assert between - model_pen(strokes) == pytest.approx(1.0, abs=0.3)


def test_strokes_meeting_at_a_junction_still_meet():
    # the bar thinner than the pen, so that a stem trimmed at the junction would stop short of it
    tee = np.maximum(tapered_stroke(4, 24, at=5.5, width=1.5, horizontal=True), tapered_stroke(5, 24, at=14.5))
    strokes = digit_strokes(tee)
    points = np.concatenate(strokes)
    # the bar (on row 5, in pixel indices) is drawn all along, through the junction
    along_the_bar = np.stack([np.full(31, 5.0), np.linspace(8, 21, 31)], axis=1)
    nearest = np.hypot(*(along_the_bar[:, None, :] - points[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert nearest.max() < 0.5
    stems = [stroke for stroke in strokes if np.ptp(stroke[:, 0]) > 10]
    assert stems and all(stem[:, 0].min() <= 5.5 for stem in stems)  # up to the bar: a junction ends no ink


def test_the_ink_past_a_line_end_is_measured_along_the_line_not_to_its_side():
    ink = np.zeros((112, 112), bool)
    ink[50:55, 10:61] = True  # a bar 5 px high, columns 10 to 60
    lines = np.zeros((112, 112), bool)
    lines[52, 20:51] = True
    lines[51, 35] = True  # a branch: (52, 35) is a junction
    whole = np.array([[52.0, col] for col in range(20, 51)])
    to_the_junction = np.array([[52.0, col] for col in range(20, 36)])
    past = ink_past_ends([whole, to_the_junction, np.array([[52.0, 40.0]])], lines, ink)
    assert past[0] == (pytest.approx(10.5, abs=0.25), pytest.approx(10.5, abs=0.25))  # to each pixel's far edge
    assert past[1][0] == pytest.approx(10.5, abs=0.25) and past[1][1] is None  # a junction ends no ink
    assert past[2] == (None, None)  # a single point has no heading


def test_a_short_dash_keeps_its_middle_however_much_its_ends_ask():
    dash = np.array([[10.0, 10.0], [10.0, 12.0], [10.0, 16.0]])
    upright = np.array([[0.0, 30.0], [56.0, 30.0]])  # the rest of the digit: the pen 8 px wide, a cap of 4
    kept = trimmed_ends([dash, upright], [(None, None), (None, None)])  # no line ends at all
    np.testing.assert_array_equal(kept[0], dash)
    cut, same = trimmed_ends([dash, upright], [(1.0, 1.0), (None, None)])  # each end asks for 3 px off
    assert np.ptp(cut[:, 1]) == pytest.approx(2.0)  # a third of its 6 px kept, taken evenly from both ends
    assert cut[:, 1].mean() == pytest.approx(13.0)
    np.testing.assert_array_equal(same, upright)


def test_an_end_whose_ink_runs_on_past_the_pens_cap_is_left_where_it_is():
    stroke = np.array([[10.0, 10.0], [10.0, 30.0], [10.0, 70.0]])  # 60 px: a pen 8.6 px wide, a cap of 4.3
    same = trimmed_ends([stroke], [(4.5, 9.0)])[0]
    np.testing.assert_array_equal(same, stroke)  # not lengthened either
    one_end = trimmed_ends([stroke], [(4.5, 1.0)])[0]
    assert one_end[0].tolist() == [10.0, 10.0]
    # cut = the trimmed stroke's cap, (60 - cut) * 2.5 / 17.5 / 2, less the 1 px of ink past the end
    assert 70 - one_end[-1, 1] == pytest.approx(46 / 15, abs=0.01)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=30),
       reaches=st.tuples(st.one_of(st.none(), st.floats(0, 20)), st.one_of(st.none(), st.floats(0, 20))))
def test_a_trimmed_path_is_a_part_of_the_path_at_most_a_third_shorter_at_each_end(steps, reaches):
    path = np.concatenate([[[50.0, 50.0]], 50 + np.cumsum(steps, axis=0)])
    upright = np.array([[0.0, 0.0], [100.0, 0.0]])  # a digit 100 px high: a cap of 7 px
    cut = trimmed_ends([path, upright], [reaches, (None, None)])[0]
    assert len(cut) >= 1 and np.isfinite(cut).all()
    if len(path) < 2 or reaches == (None, None):
        np.testing.assert_array_equal(cut, path)
        return
    length = lambda p: float(np.hypot(*np.diff(p, axis=0).T).sum())  # noqa: E731
    assert length(cut) == pytest.approx(length(path), abs=1e-6) or length(cut) >= length(path) / 3 - 1e-6
    assert length(cut) <= length(path) + 1e-6
    # every point it keeps lies on the path: each is within the segment it came from
    distances = [min(_to_segment(q, a, b) for a, b in zip(path[:-1], path[1:])) for q in cut]
    assert max(distances) < 1e-6


def _to_segment(q: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    span = b - a
    t = 0.0 if not span.any() else float(np.clip(np.dot(q - a, span) / np.dot(span, span), 0, 1))
    return float(np.hypot(*(a + t * span - q)))
