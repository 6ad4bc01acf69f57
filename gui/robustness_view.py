"""Robustness curves on the Errors tab: the current model beside a second one, change by change.

Five small charts in a row (shift, rotation, scale, stroke, noise), accuracy against the change's
level (core/analysis/robustness.py), the current model in the accent colour and the second model (the
bundled one, a model file, or none) dashed. The scoring runs in the background, as the Errors
tab's evaluation does; this view only shows what it is given.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from assets import pretrained_model_path
from core.analysis.robustness import LEVELS, RobustnessComparison
from gui.theme import ACCENT, BASE

SECOND_COLOR = "#ffb74d"
TITLES = {"shift": "shift (px)", "rotation": "rotation (°)", "scale": "scale (×)", "stroke": "stroke (px)",
          "noise": "noise (σ)"}


class RobustnessView(QWidget):
    robustness_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: RobustnessComparison | None = None
        self._file: Path | None = None
        self.status = QLabel("Robustness: accuracy on changed test digits.")
        self.status.setWordWrap(True)
        self.compare_box = QComboBox()
        self.compare_box.addItem("beside the bundled model", "bundled")
        self.compare_box.addItem("beside a model file…", "file")
        self.compare_box.addItem("alone", None)
        self.compare_box.setToolTip("The second model whose curves are drawn dashed beside the current one's")
        self.run_button = QPushButton("Robustness")
        self.run_button.setToolTip("Score the current model (and the second one) on changed test digits")
        header = QHBoxLayout()
        header.addWidget(self.status, 1)
        header.addWidget(self.compare_box)
        header.addWidget(self.run_button)
        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setBackground(BASE)
        self.charts.setMinimumHeight(100)  # more left the confusion matrix too small at 1024x640
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        for column, name in enumerate(LEVELS):
            plot = self.charts.addPlot(row=0, col=column, title=f"<span style='font-size:9pt'>{TITLES[name]}</span>")
            plot.setMinimumWidth(60)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setYRange(0, 100, padding=0.1)  # room for the 0 and 100 labels
            plot.setXRange(min(LEVELS[name]), max(LEVELS[name]), padding=0.05)  # empty, it shows the levels to come
            plot.showGrid(x=False, y=True, alpha=0.2)
            plot.getAxis("left").setTicks([[(0, "0"), (50, "50"), (100, "100")]])  # legible at its smallest
            if column == 0:
                plot.getAxis("left").setWidth(32)  # "100" fits
            else:  # one accuracy axis for the row: the others take no width
                plot.hideAxis("left")
            levels = LEVELS[name]
            plot.getAxis("bottom").setTicks([[(level, f"{level:g}") for level in levels[::2]]])
            first = plot.plot(pen=pg.mkPen(ACCENT, width=2), symbol="o", symbolSize=5, symbolBrush=ACCENT)
            second = plot.plot(pen=pg.mkPen(SECOND_COLOR, width=2, style=Qt.PenStyle.DashLine), symbol="t",
                               symbolSize=5, symbolBrush=SECOND_COLOR)
            self.plots[name], self.curves[name] = plot, (first, second)
        self.legend = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.charts, 1)
        layout.addWidget(self.legend)
        self.run_button.clicked.connect(self.robustness_requested)
        self.compare_box.activated.connect(self._on_compare_chosen)

    def second_model_path(self) -> Path | None:
        """The file of the model to draw beside the current one, or None."""
        choice = self.compare_box.currentData()
        if choice == "bundled":
            return pretrained_model_path()
        return self._file if choice == "file" else None

    def set_comparison_file(self, path: str | Path) -> None:
        self._file = Path(path)
        self.compare_box.setCurrentIndex(self.compare_box.findData("file"))
        self.compare_box.setItemText(self.compare_box.currentIndex(), f"beside {self._file.name}")

    def _on_compare_chosen(self, _index: int) -> None:
        if self.compare_box.currentData() == "file":
            path, _ = QFileDialog.getOpenFileName(self, "Model to compare with", str(self._file or ""),
                                                  "Model files (*.npz)")
            if path:
                self.set_comparison_file(path)
            elif self._file is None:
                self.compare_box.setCurrentIndex(self.compare_box.findData("bundled"))

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        self.run_button.setEnabled(False)

    def clear(self, message: str) -> None:
        self.comparison = None
        self.status.setText(message)
        self.run_button.setEnabled(True)
        for first, second in self.curves.values():
            first.setData([], [])
            second.setData([], [])
        self.legend.setText("")

    def set_comparison(self, comparison: RobustnessComparison) -> None:
        self.comparison = comparison
        self.run_button.setEnabled(True)
        for index, curves in enumerate((comparison.first, comparison.second)):
            for curve in curves or []:
                self.curves[curve.name][index].setData(list(curve.levels), [100 * a for a in curve.accuracies])
        if comparison.second is None:
            for _, second in self.curves.values():
                second.setData([], [])
        plain = comparison.first[0].accuracies[0]
        self.status.setText(f"Robustness: accuracy (%) on changed test digits; unchanged {plain:.1%}.")
        names = [f"<span style='color:{ACCENT}'>━ {comparison.first_name}</span>"]
        if comparison.second is not None:
            names.append(f"<span style='color:{SECOND_COLOR}'>┅ {Path(comparison.second_name).name}</span>")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(names))
