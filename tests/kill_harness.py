"""Killing `main.py train` at random moments and checking what it leaves: shared by the suite's
short kill test and bench/bench_kills.py (the 20-kill, 25-epoch version).

A kill is SIGKILL (no handler, no cleanup runs) at a random moment of the training: after the
run's first epoch line, at a uniform fraction of a complete run's training time, measured first
on the same machine (so the moments are spread over the run whatever the machine's speed), or at
the first save after such a moment (a save takes a small part of an epoch: random moments alone
seldom land in one). After
each kill: the temp files left are counted, `main.py runs list --json` is started (opening the
history removes them), and every listed run's model and the --save file must load.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    killed_at: float | None  # seconds after the first epoch line; None: the run ended first
    epochs_seen: int
    temp_files_left: int  # by the kill, before the next start
    temp_files_after_start: int
    runs_listed: int
    runs_loaded: int
    unreadable: list = field(default_factory=list)
    save_file_loads: bool = True
    list_exit_code: int = 0


def _train_process(train_args: list[str], env: dict) -> tuple[subprocess.Popen, list[float]]:
    """The training process, and the times its epoch lines appeared (filled by a reader thread)."""
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", "--json", *train_args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    epoch_times: list[float] = []

    def read() -> None:
        for line in process.stdout:
            if line.startswith('{"event": "epoch"'):
                epoch_times.append(time.monotonic())

    threading.Thread(target=read, daemon=True).start()
    return process, epoch_times


def _wait_for_first_epoch(process: subprocess.Popen, epoch_times: list[float], timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while not epoch_times and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return epoch_times[0] if epoch_times else None


def training_seconds(train_args: list[str], env: dict, timeout: float = 600) -> float:
    """How long a complete run trains, from its first epoch line to its exit."""
    process, epoch_times = _train_process(train_args, env)
    first = _wait_for_first_epoch(process, epoch_times, timeout)
    process.wait(timeout)
    if process.returncode != 0 or first is None:
        raise RuntimeError(f"the complete run failed (exit code {process.returncode})")
    return time.monotonic() - first


def kill_once(train_args: list[str], env: dict, span: float, rng: random.Random, runs_dir: Path,
              save_path: Path | None, timeout: float = 600, mid_write: bool = False) -> Outcome:
    """One run killed at a random moment; with `mid_write`, at the first save going on after that
    moment (a temp file in the runs folder), so that the kill lands inside a write."""
    process, epoch_times = _train_process(train_args, env)
    first = _wait_for_first_epoch(process, epoch_times, timeout)
    killed_at = None
    if first is not None:
        moment = first + rng.uniform(0, span)
        while process.poll() is None and time.monotonic() < moment:
            time.sleep(0.002)
        while mid_write and process.poll() is None and not any(runs_dir.glob("*.tmp")):
            time.sleep(0.0005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_at = time.monotonic() - first
    if process.poll() is None and killed_at is None:
        process.send_signal(signal.SIGKILL)  # no epoch line before the timeout: killed anyway
    process.wait(timeout)
    return check_history(env, runs_dir, save_path, killed_at, len(epoch_times))


def check_history(env: dict, runs_dir: Path, save_path: Path | None, killed_at: float | None,
                  epochs_seen: int) -> Outcome:
    from core.errors import EngineError
    from core.files.model_file import load_checkpoint

    left = len(list(runs_dir.glob("*.tmp"))) + (len(list(save_path.parent.glob("*.tmp"))) if save_path else 0)
    listing = subprocess.run([sys.executable, str(ROOT / "main.py"), "runs", "list", "--json"],
                             capture_output=True, text=True, env=env)
    runs = json.loads(listing.stdout)["runs"] if listing.returncode == 0 else []
    loaded = 0
    for run in runs:
        try:
            load_checkpoint(runs_dir / f"{run['run_id']}.npz")
            loaded += 1
        except EngineError:
            pass
    save_loads = True
    if save_path is not None and save_path.exists():
        try:
            load_checkpoint(save_path)
        except EngineError:
            save_loads = False
    unreadable = json.loads(listing.stdout)["unreadable"] if listing.returncode == 0 else ["runs list failed"]
    return Outcome(killed_at, epochs_seen, left, len(list(runs_dir.glob("*.tmp"))), len(runs), loaded,
                   unreadable, save_loads, listing.returncode)


def kill_environment(base: Path, save_interval: float = 0.0) -> tuple[dict, Path]:
    """An environment with private user folders; the runs folder it implies."""
    env = {**os.environ, "XDG_DATA_HOME": str(base / "data"), "XDG_CONFIG_HOME": str(base / "config"),
           "XDG_CACHE_HOME": str(base / "cache"), "MNIST_MLP_SAVE_INTERVAL": str(save_interval),
           "PYTHONPATH": str(ROOT)}
    return env, base / "data" / "mnist-mlp" / "runs"
