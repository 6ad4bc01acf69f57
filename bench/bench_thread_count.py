"""The adaptive kernel thread count against the step kept on all threads, in one process.

    python bench/bench_thread_count.py [--data-dir DIR]

Chunks of batches of the compiled step, alternating between a step that chooses its thread count
(core/engine/thread_count.py) and the same step on all kernel threads, per optimizer: the idle
cost of the adapter's probes, or its gain when other processes want the cores (start some beside
it, or run it inside bench/bench_busy.py's conditions). Ratios of neighbouring chunks, medians.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_busy import OPTIMIZERS, describe, load_average  # noqa: E402


def adapter_against_fixed(data_dir: str, rounds: int = 40, batches: int = 100) -> None:
    """In this process, the compiled step choosing its thread count (core/engine/thread_count.py)
    against the same step kept on all kernel threads, chunks of `batches` batches alternating, per
    optimizer (the first 4 rounds left out). The idle cost of the adapter's probes, or its gain
    under load."""
    from core.data.dataset import load_dataset
    from core.data.sparse_images import SparseImages
    from core.engine import thread_count
    from core.engine.config import TrainConfig
    from core.engine.network import MLP, ParameterBuffer, TrainingStep
    from core.engine.optim import make_optimizer

    dataset = load_dataset(data_dir)
    images = SparseImages.from_images(dataset.train_images)
    adaptive_plan = thread_count.ThreadCountAdapter.plan
    order = np.random.default_rng(0).permutation(len(dataset.train_images))
    print(f"before: {load_average()}", flush=True)
    print("\n| optimizer | adaptive us/batch | all threads us/batch | adaptive / all threads | ended on |")
    print("|---|---:|---:|---:|---:|")
    try:
        for name in OPTIMIZERS:
            config = TrainConfig.for_optimizer(name)
            runs = {}
            for label in ("adaptive", "fixed"):
                model = MLP.initialized(config.layer_sizes, config.seed)
                runs[label] = (model, make_optimizer(config, model.flat.size), TrainingStep(config.layer_sizes, 64),
                               ParameterBuffer(config.layer_sizes), [])
            for r in range(rounds):
                start = (r * batches) % (len(order) // 64 - batches) * 64
                rows = order[start:start + batches * 64]
                for label, (model, optimizer, step, grads, seconds) in runs.items():
                    thread_count.ThreadCountAdapter.plan = (adaptive_plan if label == "adaptive"
                                                            else lambda self, count: [(self.most, count)])
                    started = time.perf_counter()
                    step.train_batches(model, images, rows, dataset.train_labels[rows], grads, optimizer, config.lr)
                    seconds.append((time.perf_counter() - started) / batches)
            adaptive, fixed = (np.array(runs[label][4][4:]) for label in ("adaptive", "fixed"))
            print(f"| {name} | {np.median(adaptive) * 1e6:.0f} | {np.median(fixed) * 1e6:.0f} | "
                  f"{describe(adaptive / fixed)} | {runs['adaptive'][2]._threads.threads} thread(s) |", flush=True)
    finally:
        thread_count.ThreadCountAdapter.plan = adaptive_plan
    print(f"\nafter:  {load_average()}\n", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    from core.data.dataset import resolve_data_dir

    adapter_against_fixed(str(resolve_data_dir(args.data_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
