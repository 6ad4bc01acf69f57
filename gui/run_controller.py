"""The training glue of the window: the panel's Start, Race, Pause and Stop go to the session, and
the session's reports go to the charts, the runs list, the panel and the status bar.

Nothing here trains or computes: a run's reports arrive ready to show (core/engine/run_progress.py
coalesced them, with the ETA; core/runs/curve_data.py smooths the losses as the charts take them).
The window constructs the controller and wires its own signals; a run's weights and its final
model go to the window's CurrentModel, which the views follow.

From Start to a plotted point: TrainingPanel.start_requested -> RunController.start_training ->
TrainingSession.start -> TrainingWorker.run (its thread) -> Trainer.run() yields ChunkEnd ->
RunProgress.observe -> TrainingWorker.progressed (queued) -> TrainingSession.progressed(run id) ->
RunController.on_progressed -> CurvesView.add_batches -> RunCurveData.add_batches + setData.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel

from core.data.dataset import has_dataset_files
from core.engine.compile_process import ELSEWHERE_MESSAGE
from core.engine.config import TrainConfig
from core.engine.events import BackendChanged, EpochEnd, LearningRateChanged, RunEnd, RunStart
from core.engine.network import MLP
from core.engine.run_progress import BatchProgress, Progress
from core.engine.run_state import Checkpoint, History
from core.errors import ConfigError
from core.runs.run_history import RunRecord
from core.wording import counted
from gui.current_model import describe_run
from gui.training_worker import WeightsSnapshot

STOPPING = "stopping…"


class RunController(QObject):
    """Starts, steers and shows the window's training runs; `window` is the MainWindow that owns it."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.speed_label = QLabel()  # samples a second, in the status bar while a run trains
        self._live_label = ""
        self._stopping = False  # the user pressed Stop since the run started
        self._run_ended = False  # the current run reported its end (else a stop came before it trained)

    def wire(self) -> None:
        window, panel, session = self.window, self.window.training_panel, self.session
        window.statusBar().addPermanentWidget(self.speed_label)
        panel.start_requested.connect(self.start_training)
        panel.race_requested.connect(self.start_race)
        panel.pause_toggled.connect(self.on_pause_toggled)
        panel.stop_requested.connect(self.stop_training)
        panel.lr_change_requested.connect(session.set_lr)
        window.runs_list.remove_requested.connect(self.remove_run)
        session.run_started.connect(self.on_run_started)
        session.run_began.connect(self.on_run_began)
        session.progressed.connect(self.on_progressed)
        session.lr_changed.connect(self.on_lr_changed)
        session.backend_changed.connect(self.on_backend_changed)
        session.weights_changed.connect(self.on_weights_changed)
        session.run_finished.connect(self.on_run_finished)
        session.run_failed.connect(self.on_run_failed)
        session.run_saved.connect(self.on_run_saved)
        session.race_progressed.connect(self.on_race_progressed)
        session.idle.connect(self.on_session_idle)

    # -- the user's requests ---------------------------------------------------------------------
    def _settings_or_complain(self) -> TrainConfig | None:
        window = self.window
        try:
            config = window.training_panel.config()
        except ConfigError as error:
            window.show_error("Invalid settings", str(error))
            return None
        if not has_dataset_files(window.data_folder()):
            window.show_error("No dataset", window._missing_dataset_message(window.data_folder()))
            return None
        return config

    def start_training(self) -> None:
        if self.session.is_running():
            return
        config = self._settings_or_complain()
        if config is not None:
            self.window.race_table.hide()
            self.session.start(config, self.window.data_folder())

    def start_race(self) -> None:
        """Compare optimizers: SGD, Momentum and Adam, one after another, on the same terms."""
        if self.session.is_running():
            return
        config = self._settings_or_complain()
        if config is not None:
            self.window.race_table.show()
            self.window.tabs.setCurrentIndex(0)
            self.session.start_race(config, self.window.data_folder())

    @Slot(bool)
    def on_pause_toggled(self, paused: bool) -> None:
        if paused:
            self.session.pause()
            self.window.statusBar().showMessage("Paused", 3000)
        else:
            self.session.resume()

    def stop_training(self) -> None:
        if self.session.is_running():
            self.session.stop()
            self._stopping = True
            self.window.training_panel.show_message(STOPPING)

    def remove_run(self, run_id: str) -> None:
        window = self.window
        if run_id == self.session.run_id and self.session.is_running():
            window.statusBar().showMessage("The run in progress cannot be removed; stop it first.", 5000)
            return
        window.curves.remove_run(run_id)
        window.runs_list.remove_run(run_id)

    def add_history_to_charts(self, run_id: str, label: str, history: History, visible: bool = True) -> None:
        """A finished run (a loaded model's, a stored one's) on the charts and in the runs list."""
        if not history.epoch_losses:
            return
        window = self.window
        batches = max(1, len(history.batch_losses) // len(history.epoch_losses))
        run = window.curves.show_history(run_id, label, history, batches)
        window.curves.set_run_visible(run_id, visible)
        window.runs_list.remove_run(run_id)
        window.runs_list.add_run(run_id, run.legend_text(), run.color, checked=visible)

    # -- the session's reports -------------------------------------------------------------------
    @Slot(str, object)
    def on_run_started(self, run_id: str, config: TrainConfig) -> None:
        window = self.window
        self._live_label = describe_run(config)
        self._stopping = self._run_ended = False
        window.curves.show_epochs(config.epochs)
        window.training_panel.set_running(True)
        waiting = "loading the dataset…" if window.dataset is None else "starting…"
        if not window.kernel_status.show_until_ready(then=waiting):  # a first run compiles the kernels
            window.training_panel.show_message(waiting)
        elsewhere = window.kernel_status.elsewhere
        if elsewhere is not None and not elsewhere.ready():
            window.statusBar().showMessage(ELSEWHERE_MESSAGE[0].upper() + ELSEWHERE_MESSAGE[1:] + ".", 20000)
        window.save_action.setEnabled(False)
        if self.session.is_racing():
            window.race_table.show_results(self.session.race_results, running=config.optimizer)

    @Slot(str, object)
    def on_run_began(self, run_id: str, start: RunStart) -> None:
        """The run's first event: its curves go on the charts, counted in its batches per epoch."""
        run = self.window.curves.begin_run(run_id, self._live_label, start.batches_per_epoch, live=True)
        self.window.runs_list.add_run(run_id, self._live_label, run.color)

    @Slot(str, object)
    def on_progressed(self, run_id: str, progress: Progress) -> None:
        if progress.batches is not None:
            self._show_batches(run_id, progress.batches)
        if progress.epochs:
            self._show_epochs(run_id, progress.epochs)

    def _show_batches(self, run_id: str, progress: BatchProgress) -> None:
        self.window.curves.add_batches(run_id, progress.new_losses)
        if progress.batch:
            self.window.training_panel.show_progress(progress.epoch, progress.epochs, progress.batch,
                                                     progress.batches_per_epoch, progress.seconds_left)
            self.speed_label.setText(f"{progress.samples_per_second:,.0f} samples/s")

    def _show_epochs(self, run_id: str, events: tuple[EpochEnd, ...]) -> None:
        self.window.curves.add_epochs(run_id, [event.loss for event in events], [event.val_acc for event in events])
        last = events[-1]
        self.window.statusBar().showMessage(f"Epoch {last.epoch}/{last.epochs}: loss {last.loss:.4f}, "
                                            f"validation accuracy {last.val_acc:.2%} ({last.seconds:.1f} s)", 10000)

    @Slot(str, object)
    def on_backend_changed(self, run_id: str, event: BackendChanged) -> None:
        self.window.statusBar().showMessage(f"The compiled kernels are ready: the run trains with them from epoch "
                                            f"{event.epoch} on.", 15000)

    @Slot(str, object)
    def on_lr_changed(self, run_id: str, event: LearningRateChanged) -> None:
        curves = self.window.curves
        per_epoch = curves.runs[run_id].batches_per_epoch
        curves.mark_lr_change(run_id, event.epoch - 1 + event.batch / per_epoch, event.lr)
        self.window.statusBar().showMessage(f"Learning rate {event.lr:g} from epoch {event.epoch}, "
                                            f"batch {event.batch + 1}", 10000)

    @Slot(object)
    def on_weights_changed(self, snapshot: WeightsSnapshot) -> None:
        model = MLP(snapshot.layer_sizes, snapshot.parameters)
        self.window.current_model.show_live(model, snapshot.class_names, self._live_label)

    @Slot(str, object, object)
    def on_run_finished(self, run_id: str, end: RunEnd, checkpoint: Checkpoint) -> None:
        window, panel = self.window, self.window.training_panel
        self._run_ended = True
        if run_id in window.curves.runs:
            window.curves.finish_run(run_id, end.test_acc)
            window.runs_list.set_text(run_id, window.curves.runs[run_id].legend_text())
        window.current_model.set_checkpoint(checkpoint, f"this session's run ({end.status})")
        if end.status == "diverged":
            window.show_error("Training diverged", end.message)
            panel.show_message("diverged", "lower the learning rate")
        elif end.status == "stopped":
            panel.show_message(f"stopped after {counted(end.epochs_done, 'epoch')}",
                               f"test accuracy {end.test_acc:.2%}")
        else:
            panel.show_message(f"done: test accuracy {end.test_acc:.2%}",
                               f"{counted(end.epochs_done, 'epoch')} in {end.elapsed:.1f} s")
            panel.progress.setValue(1000)

    @Slot(str)
    def on_run_failed(self, message: str) -> None:
        self.window.training_panel.show_message("could not start")
        self.window.show_error("Training could not start", message)

    @Slot(object)
    def on_run_saved(self, record: RunRecord) -> None:
        self.window.history.show_record(record)

    @Slot(object)
    def on_race_progressed(self, results) -> None:
        self.window.race_table.show_results(results)

    @Slot()
    def on_session_idle(self) -> None:
        window = self.window
        window.curves.autorange_epochs()
        if self._stopping and not self._run_ended:  # stopped before the first batch: no run ended
            window.training_panel.show_message("stopped before training began")
        window.training_panel.set_running(False)
        window.save_action.setEnabled(window.current is not None)
        self.speed_label.clear()
        window.history.refresh()
