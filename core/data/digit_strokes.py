"""MNIST digits turned back into pen strokes, to draw them again on the pad as a person would.

The drawn-digit check (tests/drawn_digits.py, bench/bench_drawn.py) needs digits drawn on the
real pad whose true class is known and whose raw test image the model has also been scored on.
A digit's skeleton (Zhang & Suen's thinning, 1984, on the digit enlarged 4x so that the paths come
out smooth) is traced into strokes: paths along the skeleton's pixels, each pixel-to-pixel step
used once. A loop the writer closed up with a thick pen (the lower loop of many 8s, the loop of a
6) is a blob of ink whose skeleton is a line, which the redraw would draw as a stroke and so as
another digit (an 8 as a 9): `open_filled_loops` first cuts out the inside of such blobs, so that
the pen goes round them as the writer's did. A round pen's cap reaches half its width past a
stroke's last point, and the skeleton runs nearly to the tip of the ink: `trimmed_ends` draws each
line end back so that the cap ends where the writer's ink did, or every stroke would come out
longer and close the gaps that tell a 4 from a 9. `place_strokes` then scales the strokes so that
the ink, once drawn with a pen of the pad's width, is a given number of pixels high, at a given
place.
"""

from __future__ import annotations

import numpy as np

from core.data.preprocess import model_pen_width, resize_area

UPSCALE = 4  # the digit is thinned at 112 x 112: at 28 x 28 the skeleton's staircase shows in the strokes
SMOOTHING = 5  # points averaged along a traced path (at 112 px) to take its staircase off
HEADING_STEPS = 4  # steps back along a traced path from its end that give the direction it ends in
MOST_TRIMMED = 1 / 3  # of a path's length, at each end: a short dash keeps its middle (trimmed_ends)
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))  # P2..P9, clockwise


def skeleton(image: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Zhang-Suen thinning of `image` > threshold: (H, W) bool, lines one pixel wide (8-connected)."""
    ink = np.pad(np.asarray(image) > threshold, 1)
    while True:
        changed = False
        for first_pass in (True, False):
            p = [np.roll(ink, (-dr, -dc), axis=(0, 1)) for dr, dc in _NEIGHBOURS]  # p[k][r, c] = ink[r+dr, c+dc]
            count = sum(q.astype(np.int8) for q in p)
            transitions = sum((~p[k] & p[(k + 1) % 8]).astype(np.int8) for k in range(8))
            p2, p4, p6, p8 = p[0], p[2], p[4], p[6]
            if first_pass:
                outer = ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                outer = ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            remove = ink & (count >= 2) & (count <= 6) & (transitions == 1) & outer
            if remove.any():
                ink &= ~remove
                changed = True
        if not changed:
            return ink[1:-1, 1:-1]


def ink_depth(ink: np.ndarray) -> np.ndarray:
    """How many pixels deep each pixel of `ink` (bool) lies in it: 1 at its edge, 0 outside.

    Erosions by a cross and by a square in turn, so that the depth is close to the distance to the
    background in every direction (the centre of a disc of radius 40 is 36 deep), where erosions by
    one of them alone would measure a diamond's or a square's. Outside the image is background: ink
    that runs off the edge is 1 deep there, and an image of ink alone is eroded away too."""
    left = np.pad(np.asarray(ink, dtype=bool), 1)
    depth = np.zeros(left.shape, dtype=np.int32)
    square = False
    while left.any():
        depth += left
        eroded = left.copy()
        eroded[1:] &= left[:-1]
        eroded[:-1] &= left[1:]
        eroded[:, 1:] &= left[:, :-1]
        eroded[:, :-1] &= left[:, 1:]
        if square:
            eroded[1:, 1:] &= left[:-1, :-1]
            eroded[1:, :-1] &= left[:-1, 1:]
            eroded[:-1, 1:] &= left[1:, :-1]
            eroded[:-1, :-1] &= left[1:, 1:]
        left, square = eroded, not square
    return depth[1:-1, 1:-1]


def open_filled_loops(ink: np.ndarray, lines: np.ndarray | None = None) -> np.ndarray:
    """`ink` (bool) without what lies deeper in it than the width of its strokes; `ink` itself
    when nothing is, so that a caller holding its skeleton (`lines`, made here when not given)
    need not thin it again.

    A stroke is as wide as twice the ink's depth along its skeleton; the lower quartile of that
    depth is taken, as the filled parts themselves raise it. Where the ink is deeper than a
    stroke's width, strokes were drawn side by side until they filled a loop: taking out that
    inside leaves a ring a stroke wide, which thins to the loop the pen drew. A crossing of two
    strokes is not that deep (about 0.7 of a width), but a bend or a junction can be, by a pixel,
    and gets a small hole that the redraw goes round: on a digit with thick bends that puts back
    some of the ink a single line would lose. Sparing them lost more digits in the drawn-digit
    check than it saved (whole test set, seed 1, before the line ends were trimmed: 0.67 points
    lost, cutting only what lies a pixel deeper than a width, and 0.67 keeping holes under a
    quarter of a width squared, against 0.56).
    """
    ink = np.asarray(ink, dtype=bool)
    lines = skeleton(ink) if lines is None else lines
    if not lines.any():
        return ink
    depth = ink_depth(ink)
    filled = depth > 2 * np.percentile(depth[lines], 25)  # deeper than a stroke is wide
    return ink & ~filled if filled.any() else ink


def trace(lines: np.ndarray) -> list[np.ndarray]:
    """Paths along the pixels of a one-pixel-wide `lines` (bool), as (K, 2) float (row, col) arrays.

    Every step between 8-neighbouring pixels is walked once. Walks start at line ends, then at
    junctions, then anywhere (closed loops); at each pixel the walk goes on in the direction
    closest to the one it came from, as a pen would. A lone pixel is a path of one point.
    """
    pixels = {(int(r), int(c)) for r, c in np.argwhere(lines)}

    def linked(p, q):
        # a diagonal step that a corner pixel already joins would be a second way round that corner
        return q in pixels and (p[0] == q[0] or p[1] == q[1] or
                                ((p[0], q[1]) not in pixels and (q[0], p[1]) not in pixels))

    neighbours = {p: [q for q in ((p[0] + dr, p[1] + dc) for dr, dc in _NEIGHBOURS) if linked(p, q)]
                  for p in pixels}
    walked: set[frozenset] = set()
    paths: list[np.ndarray] = []
    covered: set[tuple[int, int]] = set()

    def open_steps(p):
        return [q for q in neighbours[p] if frozenset((p, q)) not in walked]

    def starts():
        ends = sorted(p for p in pixels if len(neighbours[p]) == 1)
        junctions = sorted(p for p in pixels if len(neighbours[p]) > 2)
        return ends + junctions + sorted(pixels)

    for start in starts():
        while open_steps(start):
            path, here, direction = [start], start, None
            while True:
                steps = open_steps(here)
                if not steps:
                    break
                if direction is not None:
                    steps.sort(key=lambda q: -((q[0] - here[0]) * direction[0] + (q[1] - here[1]) * direction[1])
                               / np.hypot(q[0] - here[0], q[1] - here[1]))
                following = steps[0]
                walked.add(frozenset((here, following)))
                direction = (following[0] - here[0], following[1] - here[1])
                here = following
                path.append(here)
            if len(path) > 2 or not all(p in covered for p in path):  # not a junction's leftover corner
                paths.append(np.array(path, dtype=float))
                covered.update(path)
    paths += [np.array([p], dtype=float) for p in sorted(pixels - covered)]
    return paths


def smooth(path: np.ndarray, window: int = SMOOTHING) -> np.ndarray:
    """A moving average along `path` (K, 2), its two ends kept where they are."""
    if len(path) <= 2 or window <= 1:
        return path
    half = min(window // 2, (len(path) - 1) // 2)
    padded = np.concatenate([np.repeat(path[:1], half, axis=0), path, np.repeat(path[-1:], half, axis=0)])
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    out = np.stack([np.convolve(padded[:, axis], kernel, mode="valid") for axis in (0, 1)], axis=1)
    out[0], out[-1] = path[0], path[-1]
    return out


EndReach = tuple[float | None, float | None]  # how far the ink runs past a path's first and last point


def ink_past_ends(paths: list[np.ndarray], lines: np.ndarray, ink: np.ndarray) -> list[EndReach]:
    """For each of trace's `paths` over `lines` (a skeleton(): at a line end, one 8-neighbour),
    how far `ink` (bool) runs on past its first and its last point, in pixels, in the direction
    the path ends in; None where the path does not end at an end of a line (at a junction, or a
    loop's start) or is one point.

    Measured along the path's heading, not as the ink's depth there: a stroke narrows to its tip,
    so the nearest background is to its side, short of the tip, and a trim by the depth cut the
    strokes too short (README, Drawn digits). `ink` is the digit's own, not open_filled_loops':
    what the cap must match is where the writer's ink stopped.
    """
    skeleton_pixels = {(int(r), int(c)) for r, c in np.argwhere(lines)}

    def line_end(point: np.ndarray) -> bool:
        row, col = int(point[0]), int(point[1])
        return sum((row + dr, col + dc) in skeleton_pixels for dr, dc in _NEIGHBOURS) == 1

    def reach(end: np.ndarray, before: np.ndarray) -> float:
        heading = (end - before) / np.hypot(*(end - before))  # trace never comes back to a line end
        distance = 0.0
        while True:  # in quarter pixels, until a step lands off the ink: its edge is about halfway back
            distance += 0.25
            row, col = np.round(end + distance * heading).astype(int)
            if not (0 <= row < ink.shape[0] and 0 <= col < ink.shape[1] and ink[row, col]):
                return distance - 0.125

    reaches = []
    for path in paths:
        back = min(HEADING_STEPS, len(path) - 1)
        first, last = ((reach(end, before) if back and line_end(end) else None)
                       for end, before in ((path[0], path[back]), (path[-1], path[-1 - back])))
        reaches.append((first, last))
    return reaches


def trimmed_ends(paths: list[np.ndarray], reaches: list[EndReach]) -> list[np.ndarray]:
    """`paths` with each end drawn back so that the round cap of the pen the pad renders them
    with for the model ends where the digit's ink did, `reaches` (ink_past_ends') past it.

    The cap reaches the pen's half width past a path's last point, and the skeleton runs nearly
    to a stroke's tip: drawn to the skeleton's ends, most strokes came out half a pixel or so (of
    28) longer at each free end than the writer's, and a 4 nearly closed at the top was drawn
    closed and read as a 9 (README, Drawn digits). The pen's width follows the trimmed strokes'
    extent (model_pen_width), so the trim is worked out again from it: three rounds bring the
    radius within a hundredth of a pixel. No end loses more than MOST_TRIMMED of its path.
    """
    if not paths:
        return []
    trimmed = paths
    for _ in range(3):  # the extent shrinks a little with each trim, and the pen with it
        radius = model_pen_width(float(np.ptp(np.concatenate(trimmed), axis=0).max()), 0.0) / 2
        trimmed = [_cut_ends(path, [0.0 if past is None else radius - past for past in ends])
                   for path, ends in zip(paths, reaches, strict=True)]
    return trimmed


def arc_lengths(path: np.ndarray) -> np.ndarray:
    """How far along `path` (K, 2) each of its points lies, from its first: (K,), 0 first."""
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])


def _cut_ends(path: np.ndarray, lengths_off: list[float]) -> np.ndarray:
    """`path` (K, 2) with lengths_off[0] pixels of its length taken off at its start and
    lengths_off[1] at its end: each at most MOST_TRIMMED of its length, and none if negative."""
    if len(path) < 2 or max(lengths_off) <= 0:
        return path
    along = arc_lengths(path)
    most = MOST_TRIMMED * along[-1]
    start = min(max(lengths_off[0], 0.0), most)
    stop = along[-1] - min(max(lengths_off[1], 0.0), most)
    kept = np.concatenate([[start], along[(along > start) & (along < stop)], [stop]])
    return np.stack([np.interp(kept, along, path[:, axis]) for axis in (0, 1)], axis=1)


def digit_strokes(digit: np.ndarray) -> list[np.ndarray]:
    """Strokes that draw `digit` ((28, 28) or (784,), uint8 or floats in [0, 1]) along its skeleton.

    Paths in the digit's 28-px units, (row, col) of pixel centers; [] when the digit holds no ink.
    """
    image = np.asarray(digit, dtype=np.float32).reshape(28, 28)
    if image.max() > 1:
        image = image / 255
    big = resize_area(image, 28 * UPSCALE, 28 * UPSCALE)
    ink = big > 0.5
    lines = skeleton(ink)
    opened = open_filled_loops(ink, lines)
    if opened is not ink:  # thinned again only when a loop was opened
        lines = skeleton(opened)
    traced = trace(lines)
    if not traced:
        return []
    paths = trimmed_ends([smooth(path) for path in traced], ink_past_ends(traced, lines, ink))
    return [(path + 0.5) / UPSCALE - 0.5 for path in paths]


def place_strokes(strokes: list[np.ndarray], ink_height: float, pen_width: float, center: tuple[float, float],
                  ) -> list[np.ndarray]:
    """The strokes scaled and moved so that, drawn with a round pen `pen_width` wide, their ink is
    `ink_height` high (the pen adds half its width above and below the paths) and its box is centred
    on `center` (row, col). Same units as `ink_height` (pad pixels); returns (K, 2) (x, y) arrays."""
    points = np.concatenate(strokes)
    top, bottom = points[:, 0].min(), points[:, 0].max()
    left, right = points[:, 1].min(), points[:, 1].max()
    scale = max(ink_height - pen_width, 1.0) / max(bottom - top, 1.0)
    middle = np.array([(top + bottom) / 2, (left + right) / 2])
    placed = [(stroke - middle) * scale + np.asarray(center, dtype=float) for stroke in strokes]
    return [stroke[:, ::-1] for stroke in placed]
