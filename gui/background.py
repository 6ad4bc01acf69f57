"""Work too slow for the GUI thread (evaluating 10,000 images, loading a dataset) run in Qt's pool.

`run_in_background(function, *args, done=..., failed=...)` calls `function(*args)` on a pool
thread and hands its result to `done` on the GUI thread. `done` and `failed` must be bound slots
of objects living in the GUI thread: Qt then queues the call to that thread (a lambda would run
on the pool thread). `BackgroundTasks` holds the tasks an object started until they report, and
drops the report of a request that a newer one of its kind has made stale.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.errors import EngineError


def failure_message(error: BaseException) -> str:
    """What the user is told of a task that raised: the project's own message as it is, the rest
    with its kind."""
    if isinstance(error, EngineError):
        return str(error)
    if isinstance(error, MemoryError):
        return "not enough memory"
    return f"{type(error).__name__}: {error}"


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(str)


class BackgroundTask(QRunnable):
    def __init__(self, function: Callable, *args) -> None:
        super().__init__()
        self.function, self.args = function, args
        self.relay = _Relay()  # created on the GUI thread, so its signals reach GUI slots queued

    def run(self) -> None:
        try:
            result = self.function(*self.args)
        except Exception as error:  # noqa: BLE001 - a task that dies unreported leaves its view waiting forever
            self.relay.failed.emit(failure_message(error))
        else:
            self.relay.done.emit(result)


def run_in_background(function: Callable, *args, done: Callable, failed: Callable | None = None,
                      then: Callable | None = None) -> BackgroundTask:
    """Run `function(*args)` in Qt's pool; `done(result)` or `failed(message)` on the GUI thread,
    then `then()` either way. Every slot is connected before the task starts: a signal emitted
    before a connection is made reaches only the receivers connected at that moment."""
    task = BackgroundTask(function, *args)
    task.relay.done.connect(done)
    if failed is not None:
        task.relay.failed.connect(failed)
    if then is not None:
        task.relay.done.connect(then)
        task.relay.failed.connect(then)
    QThreadPool.globalInstance().start(task)
    return task


class BackgroundTasks(QObject):
    """The tasks one owner started, each held until it reports, so that its relay object stays alive
    until its result has been delivered."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[BackgroundTask] = set()
        # kind -> (task, done, failed) of the newest request of that kind not yet answered
        self._newest: dict[str, tuple[BackgroundTask, Callable, Callable | None]] = {}

    def start(self, function: Callable, *args, done: Callable, failed: Callable | None = None,
              newest_of: str | None = None) -> BackgroundTask:
        """Run `function(*args)` in the pool (see run_in_background). With `newest_of`, a kind of
        request (a scoring of the current model): tasks finish in any order, and only the newest
        task of that kind reports; an older one's result or failure is dropped unseen. The newest
        task's `done` and `failed` are called from this object's slots, so they may be any callables."""
        if newest_of is None:
            task = run_in_background(function, *args, done=done, failed=failed, then=self._forget_finished)
        else:
            task = run_in_background(function, *args, done=self._report_if_newest,
                                     failed=self._report_failure_if_newest, then=self._forget_finished)
            # registered after the task started, yet before it can report: its report is queued to
            # this object's thread, which is busy here until start() returns
            self._newest[newest_of] = (task, done, failed)
        self._tasks.add(task)
        return task

    def supersede(self, kind: str) -> None:
        """A newer request of `kind` was made, whether or not a task will run for it (its dataset
        may be missing): the tasks of that kind still running have nothing to report any more."""
        self._newest.pop(kind, None)

    def _newest_reporting(self) -> tuple[Callable, Callable | None] | None:
        """The slots of the task whose relay sent the signal being handled, if it is the newest of
        its kind (it is then no longer waited for); None for a stale one."""
        sender = self.sender()
        for kind, (task, done, failed) in self._newest.items():
            if task.relay is sender:
                del self._newest[kind]
                return done, failed
        return None

    @Slot(object)
    def _report_if_newest(self, result: object) -> None:
        slots = self._newest_reporting()
        if slots is not None:
            slots[0](result)

    @Slot(str)
    def _report_failure_if_newest(self, message: str) -> None:
        slots = self._newest_reporting()
        if slots is not None and slots[1] is not None:
            slots[1](message)

    def __len__(self) -> int:
        return len(self._tasks)

    @Slot()
    def _forget_finished(self) -> None:
        sender = self.sender()
        self._tasks = {task for task in self._tasks if task.relay is not sender}


def wait_for_background_work(timeout_ms: int = 3000) -> bool:
    """On closing: let running tasks end before the window's objects go away."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
