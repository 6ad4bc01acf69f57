"""The current model: the one model every view shows, owned here and nowhere else.

It is the run in progress (a snapshot of its weights, `show_live`), the last finished run, or a
model loaded from a file, imported, fine-tuned or taken from the run history (`set_checkpoint`).
The drawing pad, the filters, the map and the Errors tab subscribe to `changed` and read the model
from here when they need it, so none of them can show a stale copy.

Two things are kept apart because they differ during a run: `model` is what the views show (the
live weights), `checkpoint` the last whole model, what Save, Export and Fine-tune use.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.data.dataset import DIGIT_NAMES
from core.engine.config import TrainConfig
from core.engine.network import MLP
from core.engine.run_state import Checkpoint
from core.wording import counted
from gui.training_panel import OPTIMIZER_LABELS


def describe_run(config: TrainConfig) -> str:
    """A run's settings in a few words: "Adam lr 0.001"."""
    return f"{OPTIMIZER_LABELS[config.optimizer]} lr {config.lr:g}"


def describe_checkpoint(checkpoint: Checkpoint, source: str) -> str:
    """What a model is, for the pad's label and the Errors tab: where it came from, how it was trained."""
    accuracy = "" if checkpoint.test_acc is None else f", test accuracy {checkpoint.test_acc:.2%}"
    epochs = len(checkpoint.history.epoch_losses)
    return (f"{source} ({describe_run(checkpoint.config)}, {counted(epochs, 'epoch')} on "
            f"{checkpoint.dataset_name}{accuracy})")


class CurrentModel(QObject):
    """Owns the current model, its class names, its description and where it came from."""

    changed = Signal()  # anything below changed: read it from here

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.checkpoint: Checkpoint | None = None  # the last whole model: Save, Export and Fine-tune use it
        self.model: MLP | None = None  # what the views show: a private copy nothing mutates
        self.class_names: tuple[str, ...] = DIGIT_NAMES
        self.source = ""  # "bundled pretrained model", "mine.npz", "this session's run (finished)"...
        self.description = ""  # the source with how the model was trained; "" without a model
        self.live = False  # the model is a snapshot of the run in progress

    @property
    def name(self) -> str:
        """The model in a few words, for a legend: where it came from, or "the run in progress"."""
        return "the run in progress" if self.live else self.source or self.description

    def set_checkpoint(self, checkpoint: Checkpoint, source: str) -> None:
        """A whole model becomes current (views get a copy of its weights, so training it again cannot touch them)."""
        self.checkpoint, self.source = checkpoint, source
        self._show(checkpoint.model.copy(), checkpoint.class_names, describe_checkpoint(checkpoint, source), live=False)

    def show_live(self, model: MLP, class_names: tuple[str, ...], run_settings: str) -> None:
        """The weights of the run in progress (a snapshot the worker sent); the checkpoint stays the last whole one."""
        self._show(model, class_names, f"the run in progress ({run_settings})", live=True)

    def show_model(self, model: MLP, class_names: tuple[str, ...], description: str) -> None:
        """A bare model without a checkpoint (a view used on its own, a check of the pad)."""
        self._show(model, class_names, description, live=False)

    def _show(self, model: MLP, class_names: tuple[str, ...], description: str, live: bool) -> None:
        self.model, self.class_names, self.description, self.live = model, tuple(class_names), description, live
        self.changed.emit()
