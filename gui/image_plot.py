"""A bare pyqtgraph plot for showing one image: no axes, no menu, no buttons, square pixels."""

from __future__ import annotations

import pyqtgraph as pg

from gui.theme import BASE


def image_plot() -> tuple[pg.PlotWidget, pg.ImageItem]:
    """A plot holding one row-major ImageItem, row 0 at the top as in a picture."""
    plot = pg.PlotWidget()
    plot.setBackground(BASE)
    plot_item = plot.getPlotItem()
    plot_item.setMenuEnabled(False)
    plot_item.hideButtons()
    plot_item.hideAxis("left")
    plot_item.hideAxis("bottom")
    plot_item.setAspectLocked(True)
    plot_item.invertY(True)
    image = pg.ImageItem(axisOrder="row-major")
    plot_item.addItem(image)
    return plot, image
