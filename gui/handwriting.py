"""Teach it your handwriting: the pad's drawings kept with the right digit, and the model fine-tuned on them.

`HandwritingTeacher` owns the personal set (core/data/personal_set.py) and runs the fine-tuning in the
background (core/engine/fine_tune.py), scoring the model on the test set before and after; the window
makes the tuned model current. The controls sit under the drawing pad: "It is a [digit]",
"Keep", "Fine-tune".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from core.data.personal_set import PersonalSet
from core.engine.fine_tune import fine_tune
from core.engine.run_state import Checkpoint
from core.errors import EngineError
from gui.background import run_in_background


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
        if [self.digit_box.itemText(k) for k in range(self.digit_box.count())] != list(names):
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

