"""The Errors tab's requests, answered off the GUI thread: the current model scored on the test set
(confusion matrix and mistakes), its robustness curves, and the test images that excite a unit.

It follows the current model: a new one is scored at once when the tab is showing and no run is
going on, else when the tab is next shown (never during a run: the scoring would slow it down).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QTabWidget

from core.analysis.evaluation import Evaluation, evaluate
from core.analysis.explain import top_exciting
from core.analysis.robustness import compare_robustness
from gui.background import BackgroundTasks
from gui.current_model import CurrentModel
from gui.dataset_folder import DatasetFolder
from gui.errors_view import ErrorsView
from gui.messages import Messages

NO_MODEL = "No model yet: train one or load one."


class ErrorsAnalysis(QObject):
    def __init__(self, view: ErrorsView, current: CurrentModel, data: DatasetFolder, tabs: QTabWidget,
                 is_training: Callable[[], bool], messages: Messages) -> None:
        super().__init__(view)
        self.view, self.current, self.data, self.tabs = view, current, data, tabs
        self.is_training, self.messages = is_training, messages
        self.pending = False  # the current model has not been scored since it changed
        self._tasks = BackgroundTasks(self)  # scorings finish in any order: only the newest request's is shown
        current.changed.connect(self._on_model_changed)
        view.evaluate_requested.connect(self.evaluate)
        view.robustness.robustness_requested.connect(self.evaluate_robustness)
        data.load_failed.connect(lambda message: view.clear("No dataset to evaluate on: " + message))

    def _on_model_changed(self) -> None:
        self.pending = True
        self.evaluate_if_due()

    def evaluate_if_due(self) -> None:
        """Score the current model if it changed since the last scoring and the tab shows it."""
        if self.pending and self.tabs.currentWidget() is self.view and not self.is_training():
            self.evaluate()

    def evaluate(self) -> None:
        """Score the current model on the whole test set, off the GUI thread."""
        model, name = self.current.model, self.current.name  # the pad's label says the rest
        self._tasks.supersede("evaluation")  # whatever happens to this request, an older one says nothing now
        if model is None:
            self.view.clear(NO_MODEL)
            return
        self.pending = False
        self.view.set_busy(f"Evaluating {name}…")

        def start() -> None:
            dataset = self.data.dataset

            def score() -> tuple[str, Evaluation, np.ndarray]:
                """The model's name travels with its scores: the current model may have changed since."""
                return name, evaluate(model, dataset.test_images, dataset.test_labels,
                                      dataset.class_names), dataset.test_images

            self._tasks.start(score, done=self._on_evaluated, failed=self._on_evaluation_failed,
                              newest_of="evaluation")

        self.data.with_dataset(start, missing=lambda message: self.view.clear(f"No dataset to evaluate on: {message}"))

    def _on_evaluated(self, result: tuple[str, Evaluation, np.ndarray]) -> None:
        name, evaluation, images = result
        self.view.set_evaluation(evaluation, images, name)

    def _on_evaluation_failed(self, message: str) -> None:
        self.view.clear("Could not evaluate: " + message)
        self.messages.error("Could not evaluate the model", message)

    def evaluate_robustness(self) -> None:
        """Robustness curves of the current model beside the chosen second one, off the GUI thread."""
        view = self.view.robustness
        model, name = self.current.model, self.current.name
        self._tasks.supersede("robustness")
        if model is None:
            view.clear(NO_MODEL)
            return
        second = view.second_model_path()
        view.set_busy(f"Scoring {name} on changed test digits…")

        def start() -> None:
            dataset = self.data.dataset
            self._tasks.start(compare_robustness, model, name, second, dataset.test_images, dataset.test_labels,
                              done=view.set_comparison, failed=self._on_robustness_failed, newest_of="robustness")

        if not self.data.with_dataset(start):
            view.clear("No dataset to score on: choose its folder in the training panel.")

    def _on_robustness_failed(self, message: str) -> None:
        self.view.robustness.clear("Could not score robustness: " + message)

    @Slot(int, int)
    def show_exciting_images(self, layer: int, unit: int) -> None:
        """The gallery shows the test images that excite a unit of the current model most."""
        model, images = self.current.model, self.view.images
        if model is None or images is None:
            self.messages.status("Evaluate the model on the test set first (Errors tab, F5)", 5000)
            return
        top = top_exciting(model, images.astype(np.float32) / 255, layer, unit)
        name = "output" if layer == len(model.weights) - 1 else f"layer {layer + 1}"
        self.view.show_selection(top, f"The test images that excite {name}, unit {unit}, most")
        self.tabs.setCurrentWidget(self.view)
