"""Images as compressed sparse rows, the form in which the compiled input layer reads a batch.

An MNIST image is 81 % zero pixels (about 150 of 784 are non-zero). `SparseImages` keeps, for
each image, the indices and float32 values (pixel / 255) of its non-zero pixels only; the
training step's input layer then skips the zeros in both z1 = x W1 + b1 and dW1 = x^T grad_z1
(core/compiled/kernels.py). Built once per run (its size and the epochs it saves: docs/PERFORMANCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.compiled import kernels

# The density the sparse kernels are built for (MNIST: 0.19). Denser images still go through them:
# on Fashion-MNIST (about 0.5) they beat a dense BLAS layer too (docs/PERFORMANCE.md).
MAX_DENSITY = 0.35


@dataclass(frozen=True)
class SparseImages:
    """Row i's non-zero pixels are columns[starts[i]:starts[i + 1]], with those values."""

    starts: np.ndarray  # (N + 1,) int64
    columns: np.ndarray  # (nnz,) uint16 pixel indices, increasing within a row
    values: np.ndarray  # (nnz,) float32
    pixels: int

    @classmethod
    def from_images(cls, images: np.ndarray, compiled: bool | None = None) -> SparseImages:
        """From (N, pixels) uint8 images (scaled by 1/255, as np.divide does) or float32 ones;
        built by the compiled kernels when numba is there (`compiled` None) or asked for."""
        images = np.ascontiguousarray(images)
        pixels = images.shape[1]
        column_type = np.uint16 if pixels <= 2**16 else np.int32
        divisor = np.float32(255 if images.dtype == np.uint8 else 1)
        starts = np.zeros(len(images) + 1, dtype=np.int64)
        if not (kernels.AVAILABLE if compiled is None else compiled and kernels.AVAILABLE):
            # the same arrays, with more temporary memory
            image_index, columns = np.nonzero(images)
            np.cumsum(np.bincount(image_index, minlength=len(images)), out=starts[1:])
            values = np.divide(images[image_index, columns], divisor, dtype=np.float32)
            return cls(starts, columns.astype(column_type), values, pixels)
        kernels.count_nonzero_rows(images, starts)
        np.cumsum(starts, out=starts)
        columns = np.empty(starts[-1], dtype=column_type)
        values = np.empty(starts[-1], dtype=np.float32)
        kernels.fill_sparse_rows(images, divisor, starts, columns, values)
        return cls(starts, columns, values, pixels)

    def __len__(self) -> int:
        return len(self.starts) - 1

    @property
    def density(self) -> float:
        """The fraction of pixels that are non-zero."""
        return len(self.values) / max(1, len(self) * self.pixels)

    def take(self, rows: np.ndarray) -> SparseBatch:
        """The images `rows` as a batch (no copy)."""
        return SparseBatch(self, rows)


@dataclass(frozen=True)
class SparseBatch:
    """Some rows of a SparseImages: what TrainingStep.run accepts in place of a dense batch."""

    images: SparseImages
    rows: np.ndarray  # (B,) integer indices into images

    def __len__(self) -> int:
        return len(self.rows)

    def to_dense(self, out: np.ndarray | None = None) -> np.ndarray:
        """The batch as a dense (B, pixels) float32 array."""
        out = np.zeros((len(self.rows), self.images.pixels), dtype=np.float32) if out is None else out
        out[...] = 0
        images = self.images
        for b, row in enumerate(self.rows):
            span = slice(images.starts[row], images.starts[row + 1])
            out[b, images.columns[span]] = images.values[span]
        return out
