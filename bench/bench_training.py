"""Seconds per epoch of the engine beside the plain per-batch NumPy reference, timed in one run.

    python bench/bench_training.py [--data-dir DIR] [--repeats 3] [--memory] [--kernels numpy]

Prints a Markdown table: for each optimizer, one epoch (937 batches of 64) of the engine's
Trainer and of core/reference.py on the same shuffled batches, and their ratio. Compare ratios,
not seconds: machines here are shared and noisy, so each figure is the fastest of --repeats runs,
engine and reference alternating. --memory adds the peak resident memory of a full 25-epoch Adam
run (in a child process). --kernels numpy times the engine without numba (MNIST_MLP_KERNELS=numpy),
to show what the compiled kernels buy.
"""

from __future__ import annotations

import argparse
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

from core import kernels  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.events import EpochEnd  # noqa: E402
from core.lcg import LCG, shuffle_in_place  # noqa: E402
from core.network import MLP  # noqa: E402
from core.reference import ReferenceNetwork  # noqa: E402
from core.sparse_images import SparseImages  # noqa: E402
from core.trainer import Trainer  # noqa: E402


def engine_epoch_seconds(config: TrainConfig, dataset) -> float:
    """One epoch through the Trainer, as the CLI and the app run it (validation excluded)."""
    trainer = Trainer(config.replace(epochs=1), dataset)
    return next(event.seconds for event in trainer.run() if isinstance(event, EpochEnd))


def reference_epoch_seconds(config: TrainConfig, dataset) -> float:
    network = ReferenceNetwork(MLP.initialized(config.layer_sizes, config.seed, config.init), config)
    order = np.arange(len(dataset.train_images))
    shuffle_in_place(order, LCG(config.seed))
    batch = config.batch_size
    started = time.perf_counter()
    for start in range(0, len(order) - batch + 1, batch):
        rows = order[start:start + batch]
        network.step(dataset.train_images[rows], dataset.train_labels[rows], config.lr)
    return time.perf_counter() - started


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
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the fastest is kept")
    parser.add_argument("--memory", action="store_true", help="also measure a full run's peak memory")
    parser.add_argument("--kernels", choices=("numba", "numpy"), default="numba",
                        help="numpy: the engine without its compiled kernels")
    args = parser.parse_args()
    if args.kernels == "numpy" and kernels.AVAILABLE:  # core.kernels reads it at import: start over
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MNIST_MLP_KERNELS": "numpy"})
    dataset = load_dataset(resolve_data_dir(args.data_dir))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, "
          f"fused kernels: {'numba' if kernels.AVAILABLE else 'off (NumPy path)'}")
    print(blas_description())
    print()
    print("| optimizer | engine s/epoch | engine samples/s | reference s/epoch | speed-up |")
    print("|---|---:|---:|---:|---:|")
    engine_epoch_seconds(TrainConfig.for_optimizer("adam", hidden=(8,)), dataset)  # compile kernels
    for name in ("sgd", "momentum", "adam"):
        config = TrainConfig.for_optimizer(name)
        engine, reference = float("inf"), float("inf")
        for _ in range(args.repeats):
            engine = min(engine, engine_epoch_seconds(config, dataset))
            reference = min(reference, reference_epoch_seconds(config, dataset))
        samples = (len(dataset.train_images) // config.batch_size) * config.batch_size
        print(f"| {name} | {engine:.3f} | {samples / engine:,.0f} | {reference:.3f} | {reference / engine:.2f}x |",
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
