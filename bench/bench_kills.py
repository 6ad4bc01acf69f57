"""A full run killed at random moments, again and again: does it always leave a loadable model, a
readable history and, after the next start, no temp file?

    python bench/bench_kills.py [--data-dir DIR | --synthetic N] [--kills 20] [--epochs 25] [--save-interval 0]

Trains `main.py train` (real MNIST from --data-dir or $MNIST_DIR, or N generated training images
with --synthetic; default Adam settings and layers, --save to a file that already holds a model)
once to the end to measure its training time, then starts it --kills times and SIGKILLs each at a
random moment of its training (tests/kill_harness.py); every second one waits, after its random
moment, for a save to begin and is killed in the middle of that write. After each kill it counts
the temp files the kill left, starts `main.py runs list --json`, and loads every listed run's
model and the --save file. --save-interval 0 saves the run at every epoch's end (the
window's schedule is 10 s), so that kills land in the middle of writes. Prints one line a kill and
the totals; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_data import write_dataset  # noqa: E402
from tests.kill_harness import kill_environment, kill_once, training_seconds  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--save-interval", type=float, default=0.0)
    parser.add_argument("--synthetic", type=int, metavar="N", help="N generated training images instead of MNIST")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.data_dir and not args.synthetic:
        parser.error("give --data-dir, set MNIST_DIR, or use --synthetic N")
    with tempfile.TemporaryDirectory(prefix="bench-kills-") as base:
        env, runs_dir = kill_environment(Path(base), args.save_interval)
        if args.synthetic:
            args.data_dir = str(write_dataset(Path(base) / "synthetic", train_count=args.synthetic,
                                              test_count=max(1000, args.synthetic // 6)))
        save = Path(base) / "saved" / "model.npz"
        train_args = ["--data-dir", args.data_dir, "--epochs", str(args.epochs), "--save", str(save)]
        span = training_seconds(train_args, env)
        print(f"{args.data_dir}: a complete run of {args.epochs} epochs trains for {span:.1f} s; "
              f"killing {args.kills} runs at random moments of it")
        rng = random.Random(args.seed)
        failures = 0
        totals = {"killed": 0, "temp_left": 0, "kills_leaving_temp": 0}
        for index in range(1, args.kills + 1):
            outcome = kill_once(train_args, env, span, rng, runs_dir, save, mid_write=index % 2 == 0)
            ok = (outcome.list_exit_code == 0 and not outcome.unreadable and outcome.save_file_loads
                  and outcome.runs_loaded == outcome.runs_listed and outcome.temp_files_after_start == 0)
            failures += not ok
            totals["killed"] += outcome.killed_at is not None
            totals["temp_left"] += outcome.temp_files_left
            totals["kills_leaving_temp"] += outcome.temp_files_left > 0
            moment = "ended first" if outcome.killed_at is None else f"killed at {outcome.killed_at:5.2f} s"
            print(f"{index:>3}: {moment}, {outcome.epochs_seen:>2} epochs, {outcome.temp_files_left} temp files left "
                  f"-> {outcome.temp_files_after_start} after the next start; runs listed {outcome.runs_listed}, "
                  f"loaded {outcome.runs_loaded}; --save file loads: {outcome.save_file_loads}; "
                  f"{'ok' if ok else 'FAILED'}", flush=True)
        size = sum(path.stat().st_size for path in runs_dir.iterdir() if path.is_file())
        print(f"{totals['killed']} kills mid-run, {totals['kills_leaving_temp']} of them mid-write "
              f"({totals['temp_left']} temp files, all removed at the next start); history {size / 1e6:.1f} MB; "
              f"{failures} failed checks")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
