"""The compiled kernels as the window opens: built or loaded, and what a run waits for meanwhile.

On a first run after install (numba's cache empty) another process builds them
(core/engine/compile_process.py) and runs train with NumPy until they are ready (`elsewhere`).
Otherwise the window loads them (core/engine/kernel_preparation.py) in a thread of their own as
soon as it opens; a run started before they are ready waits for them in its worker, and the panel
says so, with the stage and the seconds so far, instead of "loading the dataset..." (which is
what it showed for some 45 s under load, the dataset long loaded).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from core.engine.compile_process import compile_elsewhere
from core.engine.kernel_preparation import STAGES, start_preparing

REFRESH_MS = 250


class KernelStatus(QObject):
    """Shows the preparation's progress in `panel` while a run waits for it; `preparation` is
    anything with the fields of a KernelPreparation (the process's own by default)."""

    def __init__(self, panel, parent: QObject | None = None, preparation=None) -> None:
        super().__init__(parent)
        self.elsewhere = compile_elsewhere() if preparation is None else None
        if preparation is None and self.elsewhere is None:
            preparation = start_preparing()
        self.preparation = preparation  # None while another process builds the kernels
        self._panel = panel
        self._shown: int | None = None  # the panel's message count after its own last message
        self._then = ""
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)

    def compiled_state(self) -> bool | None:
        """For a run about to train (any thread): True the kernels built elsewhere are ready, False
        still being built, None none are built elsewhere (they are prepared in this process)."""
        elsewhere = self.elsewhere
        return None if elsewhere is None else elsewhere.state()

    def show_until_ready(self, then: str) -> bool:
        """When the kernels are still being compiled, say so until they are ready, then show
        `then`; returns False (showing nothing) when there is nothing to wait for. A build elsewhere
        that ended without the kernels gives way to preparing them here (and saying so)."""
        if self.elsewhere is not None and self.elsewhere.state() is None:
            self.elsewhere, self.preparation = None, start_preparing()
        if self.preparation is None or self.preparation.done or not self.preparation.first_run:
            return False  # (built elsewhere: the run trains with NumPy meanwhile, it waits for nothing)
        self._then, self._shown = then, None
        self._refresh()
        self._timer.start()
        return True

    def _refresh(self) -> None:
        if self._shown is not None and self._panel.messages_shown != self._shown:
            self._timer.stop()  # the run took the message over (progress, stop, its end)
            return
        if self.preparation.done:
            self._timer.stop()
            self._shown = None
            self._panel.show_message(self._then)
            return
        preparation = self.preparation  # FIRST_RUN_MESSAGE, in two lines short enough for the narrow panel
        step = min(preparation.stages_done + 1, len(STAGES))
        stage = preparation.stage or "starting"
        self._panel.show_message(f"preparing the kernels… {preparation.seconds:.0f} s",
                                 f"first run only: {stage}, {step} of {len(STAGES)}")
        self._shown = self._panel.messages_shown  # the count after its own message: any other changes it
