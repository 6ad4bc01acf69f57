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
from core.analysis.robustness import RobustnessComparison, compare_robustness
from gui.background import BackgroundTasks, failure_message
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
        self._latest_request = 0  # scorings finish in any order: only the latest request's is shown
        self._latest_robustness = 0  # the same for the robustness curves
        self._tasks = BackgroundTasks(self)
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
        if model is None:
            self.view.clear(NO_MODEL)
            return
        self.pending = False
        self.view.set_busy(f"Evaluating {name}…")

        self._latest_request += 1
        request = self._latest_request

        def start() -> None:
            dataset = self.data.dataset

            def score() -> tuple[int, str, Evaluation | None, np.ndarray | str]:
                """The request's number and name travel with its scores and images, or its failure."""
                try:
                    return request, name, evaluate(model, dataset.test_images, dataset.test_labels,
                                                   dataset.class_names), dataset.test_images
                except Exception as error:  # noqa: BLE001 - told to the user, as BackgroundTask's own are
                    return request, name, None, failure_message(error)

            self._tasks.start(score, done=self._on_evaluated, failed=self._on_evaluation_failed)

        self.data.with_dataset(start, missing=lambda message: self.view.clear(f"No dataset to evaluate on: {message}"))

    @Slot(object)
    def _on_evaluated(self, result: tuple[int, str, Evaluation | None, np.ndarray | str]) -> None:
        request, name, evaluation, images_or_error = result
        if request != self._latest_request:  # a newer model's scoring is on its way: this one says nothing
            return
        if evaluation is None:
            self._on_evaluation_failed(images_or_error)
        else:
            self.view.set_evaluation(evaluation, images_or_error, name)

    @Slot(str)
    def _on_evaluation_failed(self, message: str) -> None:
        self.view.clear("Could not evaluate: " + message)
        self.messages.error("Could not evaluate the model", message)

    def evaluate_robustness(self) -> None:
        """Robustness curves of the current model beside the chosen second one, off the GUI thread."""
        view = self.view.robustness
        model, name = self.current.model, self.current.name
        if model is None:
            view.clear(NO_MODEL)
            return
        second = view.second_model_path()
        view.set_busy(f"Scoring {name} on changed test digits…")
        self._latest_robustness += 1
        request = self._latest_robustness

        def start() -> None:
            dataset = self.data.dataset

            def score() -> tuple[int, RobustnessComparison | str]:  # its request number travels with it
                try:
                    return request, compare_robustness(model, name, second, dataset.test_images, dataset.test_labels)
                except Exception as error:  # noqa: BLE001 - told to the user, as BackgroundTask's own are
                    return request, failure_message(error)

            self._tasks.start(score, done=self._on_robustness, failed=self._on_robustness_failed)

        if not self.data.with_dataset(start):
            view.clear("No dataset to score on: choose its folder in the training panel.")

    @Slot(object)
    def _on_robustness(self, result: tuple[int, RobustnessComparison | str]) -> None:
        request, comparison = result
        if request != self._latest_robustness:  # a newer scoring is on its way: this one says nothing
            return
        if isinstance(comparison, str):
            self._on_robustness_failed(comparison)
        else:
            self.view.robustness.set_comparison(comparison)

    @Slot(str)
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
