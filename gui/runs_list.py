"""The session's runs as a checkable list: tick to show a run on the charts, remove to drop it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

RUN_ID_ROLE = Qt.ItemDataRole.UserRole


def color_icon(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class RunsList(QWidget):
    visibility_changed = Signal(str, bool)
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setToolTip("Runs on the charts: untick to hide one")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.remove_button = QPushButton("Remove run")
        self.remove_button.setToolTip("Remove the selected run from the charts (Delete)")
        self.remove_button.setEnabled(False)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentItemChanged.connect(lambda item, _: self.remove_button.setEnabled(item is not None))
        self.remove_button.clicked.connect(self._remove_current)
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.list, self._remove_current)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    def add_run(self, run_id: str, text: str, color: str, checked: bool = True) -> None:
        item = QListWidgetItem(color_icon(color), text)
        item.setToolTip(text)
        item.setData(RUN_ID_ROLE, run_id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.list.blockSignals(True)
        self.list.insertItem(0, item)
        self.list.blockSignals(False)

    def set_text(self, run_id: str, text: str) -> None:
        item = self._item(run_id)
        if item is not None:
            self.list.blockSignals(True)
            item.setText(text)
            item.setToolTip(text)
            self.list.blockSignals(False)

    def set_checked(self, run_id: str, checked: bool) -> None:
        """Tick or untick a run's box, as the charts already show it (no visibility_changed)."""
        item = self._item(run_id)
        if item is not None:
            self.list.blockSignals(True)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.list.blockSignals(False)

    def contains(self, run_id: str) -> bool:
        return self._item(run_id) is not None

    def run_ids(self) -> list[str]:
        return [self.list.item(row).data(RUN_ID_ROLE) for row in range(self.list.count())]

    def remove_run(self, run_id: str) -> None:
        item = self._item(run_id)
        if item is not None:
            self.list.takeItem(self.list.row(item))

    def _item(self, run_id: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(RUN_ID_ROLE) == run_id:
                return self.list.item(row)
        return None

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.visibility_changed.emit(item.data(RUN_ID_ROLE), item.checkState() == Qt.CheckState.Checked)

    def _remove_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.remove_requested.emit(item.data(RUN_ID_ROLE))
