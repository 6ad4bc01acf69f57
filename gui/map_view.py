"""The hidden-layer map: 2,000 test images placed by the last hidden layer's outputs, coloured by class.

PCA follows the current model, live during a run (redrawn at most MAX_REFRESHES_PER_SECOND times
a second, and only while the tab is shown), so the classes can be seen pulling apart epoch by
epoch. t-SNE, on request, runs in the background with progress and a Cancel. Hovering a point
shows its image; clicking puts it on the drawing pad's preview.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core.analysis.hidden_map import last_hidden, map_sample, pca_2d, tsne_2d
from core.engine.network import MLP
from gui.background import run_in_background
from gui.current_model import CurrentModel
from gui.prediction_view import gray_pixmap
from gui.theme import BASE

MAX_REFRESHES_PER_SECOND = 1  # bench_app --tab Map: 2 a second, 89.6-92.0 % of headless training; 1, 91.1-93.4 %
CLASS_COLORS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#4db6ac", "#f06292",
                "#a1887f", "#90a4ae")
THUMBNAIL = 56
NO_DATA = "The map needs the test images: choose the dataset folder in the training panel."


class _Progress(QObject):
    """Carries a pool thread's progress to the GUI thread (queued: the object lives in the GUI thread)."""
    moved = Signal(float)


class MapView(QWidget):
    image_chosen = Signal(object, object, int)  # image (784,) uint8, probabilities (unused: None), test index

    def __init__(self, current: CurrentModel | None = None, parent: QWidget | None = None) -> None:
        """`current`: the model to map, followed as it changes (a view on its own gets one of its own)."""
        super().__init__(parent)
        self.current = current if current is not None else CurrentModel(self)
        self.current.changed.connect(self._on_model_changed)
        self.images: np.ndarray | None = None  # the sampled test images (N, 784) uint8
        self.labels: np.ndarray | None = None
        self.indices: np.ndarray | None = None  # their indices in the test set
        self.class_names: tuple[str, ...] = ()
        self.coordinates: np.ndarray | None = None  # (N, 2) on screen
        self._brushes: list = []  # one per sampled image, its class's colour
        self.method = "PCA"
        self._axes: np.ndarray | None = None  # the last PCA axes: the next map keeps their signs
        self._generation = 0  # counts changes of model or sample: a t-SNE of an older one is dropped
        self._tsne_generation = 0
        self._pending = False
        self._last_draw = -np.inf
        self._cancel = threading.Event()
        self._tsne_task = None
        self._progress_relay = _Progress()
        self._progress_relay.moved.connect(self._on_tsne_progress)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw_pending)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.pca_button = QPushButton("PCA")
        self.pca_button.setToolTip("Project on the two directions of largest variance: fast, follows a live run")
        self.tsne_button = QPushButton("t-SNE")
        self.tsne_button.setToolTip("Place similar images together (t-SNE): separates the classes better, "
                                    "takes seconds; for the model as it is now")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMBNAIL, THUMBNAIL)
        self.thumbnail.setStyleSheet("background: black; border: 1px solid #444;")
        self.readout = QLabel(" ")
        self.readout.setObjectName("readout")
        self.plot = pg.PlotWidget()
        self.plot.setBackground(BASE)
        plot_item = self.plot.getPlotItem()
        plot_item.setMenuEnabled(False)
        plot_item.hideAxis("left")
        plot_item.hideAxis("bottom")
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, hoverable=True, hoverSize=9,
                                          hoverPen=pg.mkPen("w", width=1))
        self.plot.addItem(self.scatter)
        self.legend = QLabel()
        self.legend.setWordWrap(True)

        buttons = QHBoxLayout()
        for widget in (self.pca_button, self.tsne_button, self.cancel_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch()
        header = QHBoxLayout()
        text = QVBoxLayout()
        text.addWidget(self.caption)
        text.addLayout(buttons)
        header.addLayout(text, 1)
        header.addWidget(self.thumbnail)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.readout)

        self.pca_button.clicked.connect(self.show_pca)
        self.tsne_button.clicked.connect(self.start_tsne)
        self.cancel_button.clicked.connect(self.cancel)
        self.scatter.sigHovered.connect(self._on_hovered)
        self.scatter.sigClicked.connect(self._on_clicked)
        self._set_caption()

    # -- data -------------------------------------------------------------------------------------
    def set_samples(self, test_images: np.ndarray, test_labels: np.ndarray, class_names: tuple[str, ...]) -> None:
        """The test set to sample the map's images from (a fixed, seeded sample)."""
        self.indices = map_sample(test_labels)
        self.images, self.labels = test_images[self.indices], np.asarray(test_labels)[self.indices]
        self.class_names = tuple(class_names)
        # made once: 2,000 brushes at each live redraw were most of its time
        self._brushes = [pg.mkBrush(CLASS_COLORS[int(label) % len(CLASS_COLORS)]) for label in self.labels]
        self.legend.setText("  ".join(f"<span style='color:{CLASS_COLORS[k % len(CLASS_COLORS)]}'>&#9679;</span> "
                                      f"{name}" for k, name in enumerate(self.class_names)))
        self._axes = None
        self._generation += 1
        self._request()

    @property
    def model(self) -> MLP | None:
        return self.current.model

    def _on_model_changed(self) -> None:
        """PCA redrawn soon if shown; a t-SNE map goes back to PCA."""
        self._generation += 1
        self._request()

    def _request(self) -> None:
        self._pending = True
        if self.isVisible():
            self._schedule()

    def _schedule(self) -> None:
        if self._timer.isActive():
            return
        wait = max(0.0, 1.0 / MAX_REFRESHES_PER_SECOND - (time.monotonic() - self._last_draw))
        self._timer.start(int(np.ceil(wait * 1000)))

    def _draw_pending(self) -> None:
        if not self._pending or not self.isVisible() or self._tsne_task is not None:
            return
        self._pending = False
        self.show_pca()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pending:
            self._schedule()

    def show_waiting(self, text: str) -> None:
        """Say what the map waits for (the dataset loading) instead of what it lacks."""
        self.caption.setText(text)

    def _ready(self) -> bool:
        if self.images is None:
            self.caption.setText(NO_DATA)
        elif self.model is None:
            self.caption.setText("No model yet: train one or load one.")
        return self.images is not None and self.model is not None

    @Slot()
    def show_pca(self) -> None:
        if not self._ready():
            return
        coordinates, self._axes = pca_2d(last_hidden(self.model, self.images), self._axes)
        self.method = "PCA"
        self._show(coordinates)

    # -- t-SNE ----------------------------------------------------------------------------------
    @Slot()
    def start_tsne(self) -> None:
        if not self._ready() or self._tsne_task is not None:
            return
        self._cancel.clear()
        features = last_hidden(self.model, self.images)
        relay, cancel = self._progress_relay, self._cancel

        def report(fraction: float) -> bool:  # on the pool thread: go on unless cancelled
            relay.moved.emit(fraction)
            return not cancel.is_set()

        def project():
            return tsne_2d(features, progress=report)

        self._tsne_generation = self._generation
        self._tsne_task = run_in_background(project, done=self._on_tsne_done, failed=self._on_tsne_failed)
        self._set_busy(True)

    @Slot()
    def cancel(self) -> None:
        """Stop a t-SNE in progress (also called when the window closes)."""
        self._cancel.set()

    def _set_busy(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.tsne_button.setEnabled(not busy)
        self.pca_button.setEnabled(not busy)
        if busy:
            self.caption.setText("t-SNE of the last hidden layer: placing 2,000 test images…")

    @Slot(float)
    def _on_tsne_progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    @Slot(object)
    def _on_tsne_done(self, coordinates) -> None:
        self._tsne_task = None
        self._set_busy(False)
        if coordinates is None or self._tsne_generation != self._generation:  # cancelled, or of an older model
            self._set_caption()
            if self._pending:
                self._schedule()
            return
        self.method = "t-SNE"
        self._show(coordinates)

    @Slot(str)
    def _on_tsne_failed(self, message: str) -> None:
        self._tsne_task = None
        self._set_busy(False)
        self.caption.setText(f"t-SNE failed: {message}")

    # -- drawing ----------------------------------------------------------------------------------
    def _show(self, coordinates: np.ndarray) -> None:
        first = self.coordinates is None
        self.coordinates = coordinates
        self.scatter.setData(x=coordinates[:, 0], y=coordinates[:, 1], brush=self._brushes,
                             data=np.arange(len(coordinates)))
        if first or self.method == "t-SNE":
            self.plot.getPlotItem().autoRange(padding=0.05)
        self._last_draw = time.monotonic()
        self._set_caption()

    def _set_caption(self) -> None:
        how = ("projected on its two principal axes (PCA), redrawn as the model trains" if self.method == "PCA"
               else "placed by t-SNE: near points the layer sees alike; distances between clusters mean little")
        self.caption.setText(f"<b>The last hidden layer's view of 2,000 test images</b>, {how}. "
                             "Hover a point for its image; click it to put it on the drawing pad.")

    def _point_index(self, points) -> int | None:
        return int(points[0].data()) if len(points) else None

    def _on_hovered(self, _scatter, points, _event) -> None:
        index = self._point_index(points)
        if index is None or self.images is None:
            return
        self.thumbnail.setPixmap(gray_pixmap(self.images[index].reshape(28, 28), THUMBNAIL))
        name = self.class_names[int(self.labels[index])]
        self.readout.setText(f"test image #{int(self.indices[index])}, truly {name}")

    def _on_clicked(self, _scatter, points, _event) -> None:
        index = self._point_index(points)
        if index is not None and self.images is not None:
            self.image_chosen.emit(self.images[index], None, int(self.indices[index]))
