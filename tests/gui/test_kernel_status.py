"""While a first run waits for its kernels to compile, the panel says so, and then gives way."""

from dataclasses import dataclass

from core.engine import kernel_preparation
from gui.kernel_status import REFRESH_MS, KernelStatus
from gui.training_panel import TrainingPanel


@dataclass
class Preparation:  # the fields of a KernelPreparation, set by the test
    done: bool = False
    first_run: bool = True
    stage: str = "the training step"
    stages_done: int = 1
    seconds: float = 12.0


def make_status(qtbot, preparation):
    panel = TrainingPanel("")
    qtbot.addWidget(panel)
    return panel, KernelStatus(panel, preparation=preparation)


def test_a_first_run_shows_the_compilation_then_what_follows(qtbot):
    preparation = Preparation()
    panel, status = make_status(qtbot, preparation)
    assert status.show_until_ready(then="loading the dataset…")
    assert panel.progress.format() == "preparing the kernels… 12 s"
    assert panel.progress_detail.text() == "first run only: the training step, 2 of 2"
    preparation.seconds = 13.0
    qtbot.waitUntil(lambda: "13 s" in panel.progress.format(), timeout=10 * REFRESH_MS)
    preparation.done = True
    qtbot.waitUntil(lambda: panel.progress.format() == "loading the dataset…", timeout=10 * REFRESH_MS)


def test_nothing_is_shown_when_the_kernels_are_ready_or_cached(qtbot):
    for preparation in (Preparation(done=True), Preparation(first_run=False)):
        panel, status = make_status(qtbot, preparation)
        panel.show_message("before")
        assert not status.show_until_ready(then="starting…")
        assert panel.progress.format() == "before"


def test_the_runs_own_messages_take_over(qtbot):
    preparation = Preparation()
    panel, status = make_status(qtbot, preparation)
    status.show_until_ready(then="starting…")
    panel.show_message("stopping…")
    with qtbot.waitSignal(status._timer.timeout, timeout=20 * REFRESH_MS):  # the next refresh sees the takeover
        pass
    assert not status._timer.isActive(), "the status has stopped refreshing"
    preparation.done = True
    assert panel.progress.format() == "stopping…"


def test_a_build_elsewhere_that_ended_without_kernels_gives_way_to_preparing_them_here(qtbot):
    class FailedBuild:
        def state(self):
            return None  # ended, nothing in the cache

    panel, status = make_status(qtbot, Preparation(first_run=False))
    status.elsewhere = FailedBuild()
    assert status.compiled_state() is None
    status.show_until_ready(then="starting…")
    assert status.elsewhere is None and status.compiled_state() is None
    assert status.preparation is kernel_preparation.start_preparing(), "this process prepares them now"
