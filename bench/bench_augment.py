"""What augmentation costs: runs with and without it, alternating, on real MNIST.

    python bench/bench_augment.py [--epochs 3] [--pairs 5] [--optimizer adam] [--data-dir DIR]

Each pair is a plain run and an augmented run of the same settings, one after the other (which
goes first alternates); a run's time is its wall time from start to its last epoch's end, the
augmented one's including its images (the first epoch's made at its start on every core,
the next ones are made on one core while the epoch before trains).
Printed: each pair's seconds per epoch and their ratio, and the median ratio. The target is at
most 1.5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.engine.config import TrainConfig  # noqa: E402
from core.engine.events import EpochEnd  # noqa: E402
from core.engine.trainer import Trainer  # noqa: E402


def seconds_per_epoch(config: TrainConfig, dataset) -> float:
    trainer = Trainer(config, dataset)
    started = time.perf_counter()
    last = started
    for event in trainer.run():
        if isinstance(event, EpochEnd):
            last = time.perf_counter()
    return (last - started) / config.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    dataset = load_dataset(resolve_data_dir(args.data_dir))
    plain = TrainConfig.for_optimizer(args.optimizer, epochs=args.epochs)
    augmented = plain.replace(augment=True)
    seconds_per_epoch(plain.replace(epochs=1), dataset)  # compile and warm up both paths
    seconds_per_epoch(augmented.replace(epochs=1), dataset)
    ratios = []
    for pair in range(args.pairs):
        order = (plain, augmented) if pair % 2 == 0 else (augmented, plain)
        times = {config.augment: seconds_per_epoch(config, dataset) for config in order}
        ratios.append(times[True] / times[False])
        print(f"pair {pair + 1}: plain {times[False]:.3f} s/epoch, augmented {times[True]:.3f} s/epoch, "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"median ratio augmented / plain over {args.pairs} pairs of {args.epochs}-epoch {args.optimizer} runs: "
          f"{np.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
