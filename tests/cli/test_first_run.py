"""A first run after install (numba's cache empty) trains at once, with NumPy, while another process
builds the compiled kernels; the next run finds them."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.compiled import kernels
from core.engine.compile_process import ELSEWHERE_MESSAGE, LOCK_NAME, building

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 180  # seconds, each of the three waits: about 13 s on an idle 2-core machine


@pytest.mark.skipif(not kernels.AVAILABLE or os.name == "nt",
                    reason="needs numba (and a POSIX system) to build kernels elsewhere")
def test_a_first_run_trains_with_numpy_while_the_kernels_are_built_then_the_next_uses_them(tiny_dataset_dir,
                                                                                             tmp_path):
    cache = tmp_path / "numba cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    command = [sys.executable, str(ROOT / "main.py"), "train", "--epochs", "1", "--hidden", "32",
               "--data-dir", str(tiny_dataset_dir), "--no-history"]

    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT)
    assert first.returncode == 0, first.stderr
    assert ELSEWHERE_MESSAGE in first.stdout
    assert "test accuracy" in first.stdout

    deadline = time.monotonic() + BUILD_TIMEOUT
    locks = list(cache.rglob(LOCK_NAME))
    assert locks, "the build's lock is in numba's cache folder"
    while building(locks[0].parent) and time.monotonic() < deadline:  # its process holds the lock while it lives
        time.sleep(0.2)
    assert not building(locks[0].parent), "the compiling process did not finish"
    assert list(cache.rglob("step_kernels.train_steps-*.nbi")), "the training step is in the cache"

    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT)
    assert second.returncode == 0, second.stderr
    assert "first run" not in second.stdout and "test accuracy" in second.stdout
