"""Seconds per epoch of the engine beside the plain per-batch NumPy reference, timed in one run.

    python bench/bench_training.py [--data-dir DIR] [--repeats 2] [--memory] [--kernels numpy]

Prints a Markdown table: for each optimizer, epochs (937 batches of 64) of the engine's Trainer
and of tests/reference.py on the same shuffled batches, timed in alternating blocks of 100
batches, and the median of the blocks' ratios. Compare ratios, not seconds: machines here are
shared and their speed drifts, so seconds per epoch are medians of blocks, scaled to an epoch.
--memory adds the peak resident memory of a full 25-epoch Adam run (in a child process).
--kernels numpy times the engine without numba (MNIST_MLP_KERNELS=numpy), to show what the
compiled kernels buy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.compiled import kernels  # noqa: E402
from core.data.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.data.sparse_images import SparseImages  # noqa: E402
from core.engine.config import TrainConfig  # noqa: E402
from core.engine.events import ChunkEnd  # noqa: E402
from core.engine.lcg import LCG, shuffle_in_place  # noqa: E402
from core.engine.network import MLP  # noqa: E402
from core.engine.trainer import Trainer  # noqa: E402
from tests.reference import ReferenceNetwork  # noqa: E402

BLOCK = 100  # batches per timed block
# Idle seconds before each block: OpenBLAS's threads spin for about 0.1 s after their last job
# (2^28 cycles), and would take a core from the engine's first batches after a reference block.
SETTLE = 0.25


def paired_block_seconds(config: TrainConfig, dataset) -> list[tuple[float, float]]:
    """(engine, reference) seconds of each block of BLOCK batches of one epoch, taken in turn.

    The engine is the Trainer, as the CLI and the app run it (validation excluded), paused
    between blocks, each block one call of its compiled step (the CLI's own calls last about
    0.05 s, some 250 batches); the reference takes the same shuffled batches right after. Timed close
    together, each pair sees the same machine, so their ratio stays steady while this shared
    machine's speed drifts within minutes (docs/PERFORMANCE.md).
    """
    trainer = Trainer(config.replace(epochs=1), dataset)
    trainer.max_chunk, trainer.chunk_seconds = BLOCK, 1e9  # after its first batch, one compiled call a block
    events = (event for event in trainer.run() if isinstance(event, ChunkEnd))
    next(events)
    network = ReferenceNetwork(MLP.initialized(config.layer_sizes, config.seed, config.init), config)
    order = np.arange(len(dataset.train_images))
    shuffle_in_place(order, LCG(config.seed))
    batch = config.batch_size
    network.step(dataset.train_images[order[:batch]], dataset.train_labels[order[:batch]], config.lr)
    pairs = []
    for first in range(1, trainer.batches_per_epoch - BLOCK + 1, BLOCK):
        time.sleep(SETTLE)
        started = time.perf_counter()
        next(events)  # one chunk: BLOCK batches
        engine = time.perf_counter() - started
        time.sleep(SETTLE)
        with all_blas_threads():  # the paused Trainer keeps BLAS on one thread (core/engine/trainer.py)
            started = time.perf_counter()
            for start in range(first * batch, (first + BLOCK) * batch, batch):
                rows = order[start:start + batch]
                network.step(dataset.train_images[rows], dataset.train_labels[rows], config.lr)
            pairs.append((engine, time.perf_counter() - started))
    events.close()
    return pairs


def all_blas_threads():
    """BLAS on every core, as the reference runs alone (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=os.cpu_count(), user_api="blas")


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: (install threadpoolctl to show it)"
    parts = [f"{info['internal_api']} {info.get('version', '')} {info.get('architecture', '')}, "
             f"{info['num_threads']} threads" for info in threadpool_info() if info["user_api"] == "blas"]
    return "BLAS: " + "; ".join(parts)


def peak_memory_of_full_run(data_dir: str | None) -> float:
    """Peak resident MB of `main.py train` (Adam, 25 epochs) in a child process."""
    command = [sys.executable, str(ROOT / "main.py"), "train", "--json"]
    if data_dir:
        command += ["--data-dir", data_dir]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--repeats", type=int, default=2, help="epochs of each optimizer")
    parser.add_argument("--memory", action="store_true", help="also measure a full run's peak memory")
    parser.add_argument("--kernels", choices=("numba", "numpy"), default="numba",
                        help="numpy: the engine without its compiled kernels")
    args = parser.parse_args()
    if args.kernels == "numpy" and kernels.AVAILABLE:  # core.compiled.kernels reads it at import: start over
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MNIST_MLP_KERNELS": "numpy"})
    dataset = load_dataset(resolve_data_dir(args.data_dir))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, "
          f"fused kernels: {'numba' if kernels.AVAILABLE else 'off (NumPy path)'}")
    print(blas_description())
    print()
    print(f"| optimizer | engine s/epoch | engine samples/s | reference s/epoch | speed-up (median of "
          f"{BLOCK}-batch pairs) | speed-up range |")
    print("|---|---:|---:|---:|---:|---:|")
    list(Trainer(TrainConfig.for_optimizer("adam", hidden=(8,), epochs=1), dataset).run())  # compile kernels
    for name in ("sgd", "momentum", "adam"):
        config = TrainConfig.for_optimizer(name)
        pairs = [pair for _ in range(args.repeats) for pair in paired_block_seconds(config, dataset)]
        engine, reference = (np.array(times) for times in zip(*pairs))
        speedups = reference / engine
        batches = len(dataset.train_images) // config.batch_size
        engine_epoch = np.median(engine) * batches / BLOCK
        reference_epoch = np.median(reference) * batches / BLOCK
        print(f"| {name} | {engine_epoch:.3f} | {batches * config.batch_size / engine_epoch:,.0f} | "
              f"{reference_epoch:.3f} | {np.median(speedups):.2f}x | {speedups.min():.2f}-{speedups.max():.2f}x |",
              flush=True)
    if kernels.AVAILABLE:
        started = time.perf_counter()
        SparseImages.from_images(dataset.train_images)
        print(f"\nonce per run, before the first epoch: the training images as sparse rows, "
              f"{time.perf_counter() - started:.2f} s")
    if args.memory:
        print(f"\npeak resident memory of a 25-epoch Adam run: {peak_memory_of_full_run(args.data_dir):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
