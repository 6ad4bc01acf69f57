"""The CLI says when a first run compiles its kernels, instead of stalling silently in epoch 1."""

import threading

from cli.progress import wait_for_kernels
from core.engine.kernel_preparation import FIRST_RUN_MESSAGE


class Preparation:  # the fields of a KernelPreparation; ready after `delay` seconds
    def __init__(self, first_run: bool, delay: float) -> None:
        self.first_run, self.stage, self.stages_done, self.seconds = first_run, "the training step", 1, 3.0
        self._ready = threading.Event()
        threading.Timer(delay, self._ready.set).start()

    @property
    def done(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout=None) -> bool:
        return self._ready.wait(timeout)


def test_a_first_run_says_it_compiles_and_when_it_is_ready(capsys):
    preparation = Preparation(first_run=True, delay=0.6)
    wait_for_kernels(preparation)
    assert preparation.done
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{FIRST_RUN_MESSAGE}..." and out[-1].startswith("compiled kernels ready (3.0 s")


def test_a_run_that_loads_them_from_the_cache_waits_silently(capsys):
    for preparation, quiet in ((Preparation(first_run=False, delay=0.4), False),
                               (Preparation(first_run=True, delay=0.4), True)):  # --json: no text
        wait_for_kernels(preparation, quiet=quiet)
        assert preparation.done
    assert capsys.readouterr().out == ""
