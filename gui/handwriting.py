"""Teach it your handwriting: the pad's drawings kept with the right digit, and the model fine-tuned on them.

`HandwritingTeacher` owns the personal set (core/data/personal_set.py) and runs the fine-tuning in the
background (core/engine/fine_tune.py), scoring the model on the test set before and after;
`HandwritingActions` makes the tuned model current. The controls sit under the drawing pad:
"It is a [digit]", "Keep", "Fine-tune".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from core.data.personal_set import PersonalSet
from core.engine.fine_tune import fine_tune
from core.engine.run_state import Checkpoint
from core.errors import EngineError
from core.wording import counted
from gui.background import run_in_background
from gui.current_model import CurrentModel
from gui.messages import Messages

if TYPE_CHECKING:  # the drawing panel holds the teach bar below: a run-time import would be circular
    from gui.dataset_folder import DatasetFolder
    from gui.drawing_panel import DrawingPanel


@dataclass(frozen=True)
class FineTuneReport:
    """What the window shows when a fine-tuning ends, and the tuned checkpoint."""

    checkpoint: Checkpoint
    personal_before: float
    personal_after: float
    test_before: float
    test_after: float
    drawings: int

    def summary(self) -> str:
        right_before = round(self.personal_before * self.drawings)
        right_after = round(self.personal_after * self.drawings)
        return (f"Your drawings: {right_before} of {self.drawings} read right before, {right_after} after. "
                f"Test accuracy {self.test_before:.2%} before, {self.test_after:.2%} after.")


def tune(checkpoint: Checkpoint, dataset, personal_images: np.ndarray, personal_labels: np.ndarray) -> FineTuneReport:
    """Fine-tune `checkpoint`'s model (on a pool thread): the tuned checkpoint and the figures."""
    result = fine_tune(checkpoint.model, dataset.train_images, dataset.train_labels, personal_images, personal_labels)
    test_before = float(np.mean(checkpoint.model.predict(dataset.test_images) == dataset.test_labels))
    test_after = float(np.mean(result.model.predict(dataset.test_images) == dataset.test_labels))
    history = replace(checkpoint.history, test_acc=test_after)
    tuned = replace(checkpoint, model=result.model, history=history, optimizer_state={})
    return FineTuneReport(tuned, result.personal_before, result.personal_after, test_before, test_after,
                          len(personal_labels))


class TeachBar(QWidget):
    """Under the pad: the right digit for the drawing, Keep, and Fine-tune with the set's size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._class_names: tuple[str, ...] = ()
        self.digit_box = QComboBox()
        self.digit_box.setToolTip("The digit you meant, when the model read another")
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Keep this drawing, as the model saw it, with the digit you meant, "
                                    "in your personal set")
        self.tune_button = QPushButton("Fine-tune")
        self.tune_button.setToolTip("Train the current model a little on MNIST with your drawings mixed in")
        self.digit_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.digit_box.setMinimumContentsLength(2)
        for button, width in ((self.keep_button, 48), (self.tune_button, 96)):
            button.setMinimumWidth(width)  # below the style's 80 px: the window fits a 1024-px screen
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("It is a"))
        layout.addWidget(self.digit_box)
        layout.addWidget(self.keep_button)
        layout.addWidget(self.tune_button, 1)
        self.set_class_names(tuple(str(digit) for digit in range(10)))

    def set_class_names(self, names: tuple[str, ...]) -> None:
        if tuple(names) != self._class_names:  # refilled only when they change: not at each of a run's snapshots
            self._class_names = tuple(names)
            self.digit_box.clear()
            self.digit_box.addItems(list(names))

    def set_count(self, count: int, busy: bool = False) -> None:
        self.tune_button.setText("Fine-tuning…" if busy else f"Fine-tune ({count})")
        self.tune_button.setEnabled(count > 0 and not busy)


class HandwritingTeacher(QObject):
    """Owns the personal set; fine-tunes in the background and reports the tuned checkpoint."""

    tuned = Signal(object)  # FineTuneReport
    failed = Signal(str)
    changed = Signal(int)  # the number of drawings kept

    def __init__(self, personal: PersonalSet | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.error: str | None = None
        try:
            self.personal = personal if personal is not None else PersonalSet()
        except EngineError as error:  # a damaged set: said once; Clear deletes it and starts afresh
            self.error = f"Your personal set could not be read (File > My handwriting > Clear starts afresh): {error}"
            self.personal = None
        self._task = None

    def __len__(self) -> int:
        return 0 if self.personal is None else len(self.personal)

    def busy(self) -> bool:
        return self._task is not None

    def keep(self, image: np.ndarray, label: int) -> None:
        if self.personal is None:
            raise EngineError(self.error or "no personal set")
        self.personal.add(image, label)
        self.changed.emit(len(self))

    def clear(self) -> None:
        if self.personal is not None:
            self.personal.clear()
        else:
            PersonalSet.remove()
            self.personal, self.error = PersonalSet(), None
        self.changed.emit(len(self))

    def start(self, checkpoint: Checkpoint, dataset) -> None:
        if self.busy() or not len(self):
            return
        self._task = run_in_background(tune, checkpoint, dataset, self.personal.flat_images(),
                                       self.personal.labels.copy(), done=self._on_done, failed=self._on_failed)

    @Slot(object)
    def _on_done(self, report: FineTuneReport) -> None:
        self._task = None
        self.tuned.emit(report)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._task = None
        self.failed.emit(message)



class HandwritingActions(QObject):
    """The window's side of the teacher: Keep and Fine-tune under the pad, File > My handwriting, and a
    tuned model made current (unless the current model changed while it was being tuned)."""

    def __init__(self, teacher: HandwritingTeacher, drawing: DrawingPanel, current: CurrentModel,
                 data: DatasetFolder, is_training: Callable[[], bool], messages: Messages, parent: QWidget) -> None:
        super().__init__(parent)
        self.teacher, self.drawing, self.current, self.data = teacher, drawing, current, data
        self.is_training, self.messages = is_training, messages
        self._tuned_from: Checkpoint | None = None  # the model a fine-tuning in progress started from
        self.export_action = QAction("&Export as IDX files…", parent, triggered=self.export_personal_set)
        self.clear_action = QAction("&Clear…", parent, triggered=self.clear_personal_set)
        drawing.teach.keep_button.clicked.connect(self.keep_drawing)
        drawing.teach.tune_button.clicked.connect(self.fine_tune)
        teacher.changed.connect(self._on_personal_set_changed)
        teacher.tuned.connect(self._on_fine_tuned)
        teacher.failed.connect(self._on_fine_tune_failed)
        drawing.teach.set_count(len(teacher))
        if teacher.error:
            messages.status(teacher.error, 15000)

    @Slot()
    def keep_drawing(self) -> None:
        image = self.drawing.model_input
        if image is None:
            self.messages.status("Draw a digit first, then say which it is.", 5000)
            return
        try:
            self.teacher.keep(image, self.drawing.teach.digit_box.currentIndex())
        except EngineError as error:
            self.messages.error("Cannot keep the drawing", str(error))
        except OSError as error:
            self.messages.error("Cannot keep the drawing", f"{error.filename or 'your personal set'}: "
                                                          f"{error.strerror or error}")

    @Slot()
    def fine_tune(self) -> None:
        if self.is_training():
            self.messages.status("Fine-tuning waits for the run in progress to end.", 5000)
            return
        checkpoint = self.current.checkpoint
        if checkpoint is None:
            self.messages.status("No model to fine-tune: train one or load one.", 5000)
            return
        self._tuned_from = checkpoint  # a result for another model than the current one is dropped

        def start() -> None:
            if self.is_training():
                return
            self.teacher.start(checkpoint, self.data.dataset)
            self.drawing.teach.set_count(len(self.teacher), busy=True)
            self.messages.status("Fine-tuning on MNIST with your drawings mixed in…")

        self.data.with_dataset(start)

    @Slot()
    def export_personal_set(self) -> None:
        if not len(self.teacher):
            self.messages.status("Your personal set is empty: keep a drawing first.", 5000)
            return
        folder = QFileDialog.getExistingDirectory(self.parent(), "Export your handwriting to a folder")
        if folder:
            try:
                self.teacher.personal.export(folder)
            except OSError as error:
                self.messages.error("Cannot export", f"{folder}: {error.strerror or error}")
                return
            self.messages.status(f"{counted(len(self.teacher), 'drawing')} written to {folder}", 5000)

    @Slot()
    def clear_personal_set(self) -> None:
        if self.messages.confirm("Clear your handwriting",
                                 f"Delete the {counted(len(self.teacher), 'drawing')} of your personal set?"):
            self.teacher.clear()

    @Slot(int)
    def _on_personal_set_changed(self, count: int) -> None:
        self.drawing.teach.set_count(count)
        self.messages.status(f"{counted(count, 'drawing')} in your personal set.", 5000)

    @Slot(object)
    def _on_fine_tuned(self, report: FineTuneReport) -> None:
        self.drawing.teach.set_count(len(self.teacher))
        if self.current.checkpoint is not self._tuned_from or self.is_training():
            self.messages.status("Fine-tuning finished, but the current model changed meanwhile: "
                                 "its result was dropped.", 15000)
            return
        self.current.set_checkpoint(report.checkpoint, "fine-tuned on your handwriting")
        self.messages.status(report.summary(), 30000)

    @Slot(str)
    def _on_fine_tune_failed(self, message: str) -> None:
        self.drawing.teach.set_count(len(self.teacher))
        self.messages.clear_status()
        self.messages.error("Fine-tuning failed", message)
