"""The engine on a busy machine, and from an empty compile cache: ratios measured in one run.

    python bench/bench_busy.py [--quick] [--data-dir DIR] [--against OLD_CHECKOUT] [--no-window]

Starts CPU-bound processes itself (`python -c "while True: pass"`, as many as asked) and stops
them again, and prints three tables, then a summary of the figures issue 13 asks for, each
against its ceiling:

1. busy / idle: for each optimizer, blocks of batches of the Trainer as `main.py train` runs it
   (a child process, its main thread), taken in turn with 0, 2 and 4 competing processes; each
   block's time against the same child's block at load 0 in the same round. The window: the
   same with a run in the real MainWindow (offscreen, its worker thread, bench/bench_app.py),
   in turns of a second.
2. oversubscribed: at each load, the engine (Adam) against the engine on one thread
   (NUMBA_NUM_THREADS=1) and against the plain NumPy reference (tests/reference.py, BLAS on all
   cores), their blocks taken one after the other in the same round.
3. first run: `main.py train --epochs 1` with an empty NUMBA_CACHE_DIR against the same command
   again (warm), wall and CPU seconds.

--against DIR also times, in the same rounds at load 0 only, the engine of another checkout of
this project (the code before a change: `git archive REV | tar -x -C DIR`), and its first run.

Why rounds: this machine is shared and its speed drifts within seconds, so only times taken
close together are compared. The load average before and after each table is printed: figures
taken while other people's processes ran are still ratios of neighbouring blocks, but say so.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OPTIMIZERS = ("sgd", "momentum", "adam")
# The children's environment, as this process was started: importing core sets GOMP_SPINCOUNT
# (core/compiled/kernels.py), which the old code's children must not inherit.
ENVIRONMENT = dict(os.environ)
LOADS = (0, 2, 4)


# -- the competing processes ---------------------------------------------------------------------

class Spinners:
    """`count` CPU-bound processes, started and stopped on demand."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def set(self, count: int) -> None:
        while len(self.processes) > count:
            process = self.processes.pop()
            process.kill()
            process.wait()
        while len(self.processes) < count:
            self.processes.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        time.sleep(0.3)  # started (or gone) before the next block

    def close(self) -> None:
        self.set(0)


def load_average() -> str:
    return "load average " + " / ".join(f"{value:.2f}" for value in os.getloadavg()) + " (1 / 5 / 15 min)"


# -- the timed processes -------------------------------------------------------------------------

def child(kind: str, optimizer: str, data_dir: str) -> int:
    """Trains blocks of batches on demand: each stdin line "N" trains about N more batches and
    answers the seconds a batch took. engine: the Trainer, its own chunks of ~0.05 s, a block
    ending with a chunk (the Trainer yields a ChunkEnd after training all of it),
    validation between epochs included, as in `main.py train`; reference: tests/reference.py."""
    from core.data.dataset import load_dataset
    from core.engine.config import TrainConfig
    try:
        from core.engine.events import ChunkEnd
    except ImportError:  # code before the run model (--against): one BatchEnd a batch, sent chunk by chunk
        from core.engine.events import BatchEnd as ChunkEnd

    dataset = load_dataset(data_dir)
    config = TrainConfig.for_optimizer(optimizer, epochs=10_000)
    if kind == "engine":
        from core.engine.trainer import Trainer

        trainer = Trainer(config, dataset)
        events = (event for event in trainer.run() if isinstance(event, ChunkEnd))
        next(events)  # compiled (or loaded from the cache) before the first block
        consumed = 1
        print("ready", flush=True)
        for line in sys.stdin:
            started, first = time.perf_counter(), consumed
            while consumed < first + int(line):
                next(events)
                consumed = len(trainer.history.batch_losses)
            print((time.perf_counter() - started) / (consumed - first), flush=True)
        return 0
    from threadpoolctl import threadpool_limits

    from core.engine.lcg import LCG, shuffle_in_place
    from core.engine.network import MLP
    from tests.reference import ReferenceNetwork

    network = ReferenceNetwork(MLP.initialized(config.layer_sizes, config.seed, config.init), config)
    order = np.arange(len(dataset.train_images))
    shuffle_in_place(order, LCG(config.seed))
    batch, at = config.batch_size, 0
    print("ready", flush=True)
    with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
        for line in sys.stdin:
            started = time.perf_counter()
            for _ in range(int(line)):
                if at + batch > len(order):
                    at = 0
                rows = order[at:at + batch]
                network.step(dataset.train_images[rows], dataset.train_labels[rows], config.lr)
                at += batch
            print((time.perf_counter() - started) / int(line), flush=True)
    return 0


class TimedChild:
    """A child process of `child`, importing the project from `root`."""

    def __init__(self, label: str, kind: str, optimizer: str, data_dir: str, root: Path = ROOT,
                 env: dict | None = None, loads: tuple[int, ...] = LOADS) -> None:
        self.label, self.kind, self.loads = label, kind, loads
        self.seconds: dict[int, list[float]] = {load: [] for load in loads}  # a batch's, block by block
        command = [sys.executable, str(ROOT / "bench" / "bench_busy.py"), "--child", kind, optimizer,
                   "--data-dir", data_dir]
        environment = {**ENVIRONMENT, "PYTHONPATH": str(root), **(env or {})}
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=environment, cwd=str(root))
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{label}: the child process failed")

    def block(self, batches: int, load: int) -> None:
        self.process.stdin.write(f"{batches}\n")
        self.process.stdin.flush()
        self.seconds[load].append(float(self.process.stdout.readline()))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def ratios(numerators: list[float], denominators: list[float]) -> np.ndarray:
    return np.array(numerators) / np.array(denominators)


def describe(values: np.ndarray) -> str:
    return f"{np.median(values):.2f}x ({values.min():.2f}-{values.max():.2f})"


# -- 1 and 2: blocks in rounds -------------------------------------------------------------------

def rounds_of_blocks(data_dir: str, rounds: int, batches: int, against: Path | None) -> dict[str, float]:
    """Tables 1 and 2 (and the idle A/B with --against): each child trains a block in turn.
    Returns the summary's figures (medians)."""
    children = [TimedChild(name, "engine", name, data_dir) for name in OPTIMIZERS]
    children.append(TimedChild("adam, one thread", "engine", "adam", data_dir, env={"NUMBA_NUM_THREADS": "1"}))
    children.append(TimedChild("adam, NumPy reference", "reference", "adam", data_dir))
    old = [TimedChild(f"{name}, old code", "engine", name, data_dir, root=against, loads=(0,))
           for name in OPTIMIZERS] if against else []
    spinners = Spinners()
    print(f"before: {load_average()}", flush=True)
    try:
        for _ in range(rounds):
            for load in LOADS:
                spinners.set(load)
                for timed in children + old:
                    if load in timed.loads:
                        timed.block(batches if timed.kind == "engine" else batches // 3, load)  # slower
            print(f"  round {len(children[0].seconds[0])} of {rounds} done, {load_average()}", file=sys.stderr,
                  flush=True)
    finally:
        spinners.close()
        for timed in children + old:
            timed.close()
    print(f"after:  {load_average()}\n")
    epoch = 60_000 // 64  # batches in an epoch (the children answer seconds a batch)
    print(f"busy / idle: each block's seconds against the same child's load-0 block of its round "
          f"({rounds} rounds of {batches}-batch blocks)\n")
    print("| run | idle s/epoch | 2 competing: s/epoch | busy / idle | 4 competing: s/epoch | 4 / idle |")
    print("|---|---:|---:|---:|---:|---:|")
    for timed in children:
        idle, busy, over = (np.array(timed.seconds[load]) for load in LOADS)
        print(f"| {timed.label} | {np.median(idle) * epoch:.3f} | {np.median(busy) * epoch:.3f} | "
              f"{describe(busy / idle)} | {np.median(over) * epoch:.3f} | {describe(over / idle)} |")
    engine, one_thread, reference = children[2], children[3], children[4]
    print("\noversubscribed: the engine's (Adam) block against the one-thread engine's and the NumPy "
          "reference's blocks of the same round and load (below 1: the engine is faster)\n")
    print("| competing processes | engine / one-thread engine | engine / NumPy reference |")
    print("|---:|---:|---:|")
    for load in LOADS:
        print(f"| {load} | {describe(ratios(engine.seconds[load], one_thread.seconds[load]))} | "
              f"{describe(ratios(engine.seconds[load], reference.seconds[load]))} |")
    if old:
        print(f"\nidle, this code against {against} (below 1: this code is faster)\n")
        print("| optimizer | this code s/epoch | old code s/epoch | this / old |")
        print("|---|---:|---:|---:|")
        for new, previous in zip(children, old):
            print(f"| {new.label} | {np.median(new.seconds[0]) * epoch:.3f} | "
                  f"{np.median(previous.seconds[0]) * epoch:.3f} | "
                  f"{describe(ratios(new.seconds[0], previous.seconds[0]))} |")
    print(flush=True)
    figures = {f"busy / idle, {timed.label} (2 competing)": float(np.median(ratios(timed.seconds[2], timed.seconds[0])))
               for timed in children[:3]}
    figures["engine / one-thread engine, Adam (4 competing)"] = float(np.median(ratios(engine.seconds[4],
                                                                                       one_thread.seconds[4])))
    return figures


def window_turns(data_dir: str, turns: int) -> float:
    """busy / idle for a run in the real window: turns of a second at load 0 and at load 2."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_app import InAppRun, rate, warm_up
    from PySide6.QtWidgets import QApplication

    from core.data.dataset import load_dataset
    from core.engine.config import TrainConfig

    app = QApplication.instance() or QApplication([])
    dataset = load_dataset(data_dir)
    warm_up(dataset)
    config = TrainConfig(epochs=10_000)
    settings = Path(tempfile.mkdtemp()) / "bench-busy.ini"
    in_app = InAppRun(app, config, dataset, settings)
    spinners = Spinners()
    rates: dict[int, list[float]] = {0: [], 2: []}
    print(f"before: {load_average()}", flush=True)
    at = in_app.latest
    try:
        for _ in range(turns):
            for load in (0, 2):
                spinners.set(load)
                at, before = in_app.take_turn(1.0), at
                rates[load].append(rate(before, at, config.batch_size))
    finally:
        spinners.close()
        in_app.close()
    print(f"after:  {load_average()}\n")
    busy_over_idle = ratios(rates[0], rates[2])  # a rate's inverse is a time
    print("| run | idle samples/s | 2 competing: samples/s | busy / idle (time) |")
    print("|---|---:|---:|---:|")
    print(f"| adam, in the window | {np.median(rates[0]):,.0f} | {np.median(rates[2]):,.0f} | "
          f"{describe(busy_over_idle)} |\n", flush=True)
    return float(np.median(busy_over_idle))


# -- 3: the first run ----------------------------------------------------------------------------

def timed_command(root: Path, data_dir: str, cache: Path, home: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `main.py train --epochs 1` from `root`, its compile cache in `cache`."""
    env = {**ENVIRONMENT, "NUMBA_CACHE_DIR": str(cache), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, str(root / "main.py"), "train", "--epochs", "1", "--data-dir", data_dir],
                   check=True, env=env, cwd=str(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wait_for_background_build(cache: Path, started: float, timeout: float = 900) -> float:
    """Seconds from `started` until no process builds kernels into `cache` any more (a first run
    trains with NumPy while one does: core/engine/compile_process.py); the warm run comes after."""
    from core.engine.compile_process import LOCK_NAME, building

    deadline = time.monotonic() + timeout
    while any(building(lock.parent) for lock in cache.rglob(LOCK_NAME)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return time.perf_counter() - started


def first_runs(data_dir: str, pairs: int, against: Path | None) -> float:
    """Table 3; returns this code's median first-run / warm ratio (wall)."""
    print(f"before: {load_average()}", flush=True)
    rows = []
    for label, root in [("this code", ROOT)] + ([("old code", against)] if against else []):
        for _ in range(pairs if root == ROOT else 1):
            home = Path(tempfile.mkdtemp(prefix="bench-busy-"))
            try:
                started = time.perf_counter()
                cold = timed_command(root, data_dir, home / "numba", home)
                built = wait_for_background_build(home / "numba", started)
                warm = timed_command(root, data_dir, home / "numba", home)
            finally:
                shutil.rmtree(home, ignore_errors=True)
            rows.append((label, cold, warm, built))
    print(f"after:  {load_average()}\n")
    print("`main.py train --epochs 1`: an empty NUMBA_CACHE_DIR (first run), then the same command again (warm)\n")
    print("| code | first run: wall s | CPU s | kernels built after s | warm: wall s | CPU s | first / warm (wall) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, cold, warm, built in rows:
        print(f"| {label} | {cold[0]:.1f} | {cold[1]:.1f} | {built:.1f} | {warm[0]:.1f} | {warm[1]:.1f} | "
              f"{cold[0] / warm[0]:.1f}x |")
    print("(CPU s: the command's own process and its children waited for; a first run's background build is "
          "not among them)\n", flush=True)
    return float(np.median([cold[0] / warm[0] for label, cold, warm, _ in rows if label == "this code"]))


# The "Done when" (issue 13): each figure's ceiling.
TARGETS = {"busy / idle": 2.5, "engine / one-thread engine": 1.5, "first run / warm": 3.0}


def summary(figures: dict[str, float]) -> None:
    """The figures the issue asks for, in one table, each against its ceiling."""
    print(f"summary ({load_average()})\n")
    print("| figure | measured (median) | at most | met |")
    print("|---|---:|---:|---|")
    for name, value in figures.items():
        ceiling = next(limit for prefix, limit in TARGETS.items() if name.startswith(prefix))
        print(f"| {name} | {value:.2f}x | {ceiling:.1f}x | {'yes' if value <= ceiling else 'NO'} |")
    print(flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds, 1 first run (a few minutes idle; 10-15 minutes at load 10)")
    parser.add_argument("--against", type=Path, help="another checkout of the project to compare with")
    parser.add_argument("--no-window", action="store_true", help="skip the in-window turns")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "OPTIMIZER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still stop the competing processes (finally)
    if not args.child:  # a child imports the project from its PYTHONPATH: this one or --against
        sys.path.insert(0, str(ROOT))
    from core.data.dataset import resolve_data_dir

    data_dir = str(resolve_data_dir(args.data_dir))
    if args.child:
        return child(*args.child, data_dir)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}; "
          f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(the project default)')}\n")
    figures = rounds_of_blocks(data_dir, rounds=3 if args.quick else 8, batches=300, against=args.against)
    if not args.no_window:
        figures["busy / idle, adam in the window (2 competing)"] = window_turns(data_dir, turns=3 if args.quick else 6)
    figures["first run / warm, main.py train --epochs 1 (wall)"] = first_runs(data_dir, pairs=1 if args.quick else 2,
                                                                              against=args.against)
    summary(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
