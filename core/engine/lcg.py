"""The seed's random numbers: a 31-bit linear congruential generator.

s <- (s * 1103515245 + 12345) mod 2^31, the first s being the seed. The assembly uses one stream
for the weight init and a second stream, with the same seed, for the per-epoch shuffle.
"""

from __future__ import annotations

import numpy as np

from core.compiled import kernels

MULTIPLIER = 1103515245
INCREMENT = 12345
MODULUS = 2**31
_MASK = MODULUS - 1


class LCG:
    """One stream of the seed's generator. `state` is the last value produced (the seed at first)."""

    def __init__(self, seed: int) -> None:
        self.state = int(seed) & _MASK

    def next(self) -> int:
        self.state = (self.state * MULTIPLIER + INCREMENT) & _MASK
        return self.state

    def states(self, count: int) -> np.ndarray:
        """The next `count` states as uint64, exactly as `count` calls to next() would give.

        Computed by doubling blocks with the affine jump s_{k+L} = A_L s_k + C_L (mod 2^31), so a
        shuffle of 60,000 indices costs a few vector operations instead of 60,000 Python steps.
        """
        out = np.empty(count, dtype=np.uint64)
        if count == 0:
            return out
        out[0] = self.next()
        filled = 1
        jump_a, jump_c = MULTIPLIER, INCREMENT  # the affine map of one step
        while filled < count:
            take = min(filled, count - filled)
            block = out[:take] * np.uint64(jump_a) + np.uint64(jump_c)
            out[filled:filled + take] = block & np.uint64(_MASK)
            filled += take
            # compose the map with itself: L steps -> 2L steps
            jump_a, jump_c = (jump_a * jump_a) & _MASK, (jump_a * jump_c + jump_c) & _MASK
        self.state = int(out[-1])
        return out

    def uniforms(self, count: int) -> np.ndarray:
        """The next `count` values u = (s - (2^30 - 1)) / 2^30, in (-1, 1], as float64."""
        states = self.states(count).astype(np.int64)
        return (states - (2**30 - 1)) / float(2**30)


def shuffle_in_place(indices: np.ndarray, generator: LCG, compiled: bool | None = None) -> None:
    """The seed's Fisher-Yates: for i from n-1 down to 1, j = next() mod (i + 1), swap i and j.

    `compiled` None swaps with the compiled kernel when numba is there (core/engine/backend.py decides for a run)."""
    count = len(indices)
    if count < 2:
        return
    draws = generator.states(count - 1)
    bounds = np.arange(count, 1, -1, dtype=np.uint64)  # i + 1 for i = n-1 .. 1
    partners = (draws % bounds).astype(np.int64)
    # compiled: the Python loop held the GIL (and the GUI) for tens of ms an epoch
    if kernels.AVAILABLE if compiled is None else compiled and kernels.AVAILABLE:
        kernels.swap_in_order(indices, partners)
        return
    values = indices.tolist()
    for i, j in zip(range(count - 1, 0, -1), partners.tolist()):
        values[i], values[j] = values[j], values[i]
    indices[:] = values
