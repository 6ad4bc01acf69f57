import os
import sys
import threading

import pytest

from gui.training_worker import TRAINING_NICENESS, yield_to_the_gui


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice levels are Linux's")
def test_the_training_thread_yields_to_the_gui_thread_only():
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def train() -> None:
        thread_id = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, thread_id)
        yield_to_the_gui()
        seen["change"] = os.getpriority(os.PRIO_PROCESS, thread_id) - before

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    assert seen["change"] == min(TRAINING_NICENESS, 19 - main_before)  # relative to the launch's nice level
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before  # the GUI's is untouched
