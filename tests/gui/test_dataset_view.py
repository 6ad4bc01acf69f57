"""The dataset view: class balance bars, a class's training images page by page, click to choose one."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from core.data.dataset import FASHION_NAMES, Dataset, load_dataset
from gui.dataset_view import COLUMNS, GAP, IMAGES_PER_PAGE, NO_DATASET, DatasetView
from tests.fake_data import make_digit_like_images
from tests.gui.window_driver import on_screen


@pytest.fixture(scope="module")
def dataset(tiny_dataset_dir) -> Dataset:
    return load_dataset(tiny_dataset_dir)  # 640 training images: 7 pages of all classes


@pytest.fixture
def view(qtbot, dataset):
    widget = on_screen(qtbot, DatasetView(), 640, 700)
    widget.set_dataset(dataset)
    return widget


def tiles_on_screen(view: DatasetView) -> np.ndarray:
    """The images of the shown mosaic, cut back into (100, 28, 28) tiles (NaN for empty cells)."""
    mosaic = view.mosaic_item.image
    tiles = []
    for index in range(IMAGES_PER_PAGE):
        row, column = divmod(index, COLUMNS)
        top, left = row * (28 + GAP), column * (28 + GAP)
        tiles.append(mosaic[top:top + 28, left:left + 28])
    return np.array(tiles)


def click_tile(qtbot, view: DatasetView, index: int) -> None:
    row, column = divmod(index, COLUMNS)
    center = QPointF(column * (28 + GAP) + 14, row * (28 + GAP) + 14)
    point = view.mosaic_plot.mapFromScene(view.mosaic_item.mapToScene(center))
    assert view.mosaic_plot.viewport().rect().contains(point)
    qtbot.mouseClick(view.mosaic_plot.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_without_a_dataset_it_says_how_to_get_one(qtbot):
    view = DatasetView()
    qtbot.addWidget(view)
    assert view.pages.currentWidget() is view.message
    assert view.message.text() == "Load a dataset (start a run, or choose a folder)" == NO_DATASET


def test_the_bars_hold_each_class_share_of_its_set(view, dataset):
    for bars, labels in ((view.train_bars, dataset.train_labels), (view.test_bars, dataset.test_labels)):
        heights = np.asarray(bars.opts["height"])
        np.testing.assert_allclose(heights * len(labels) / 100, np.bincount(labels, minlength=10))
    np.testing.assert_array_equal(view.train_counts, np.bincount(dataset.train_labels, minlength=10))
    assert view.pages.currentIndex() == 1 and f"{len(dataset.train_labels):,} training" in view.title.text()


def test_hovering_a_bar_gives_its_counts(qtbot, view, dataset):
    point = view.balance_plot.mapFromScene(view.balance_plot.plotItem.vb.mapViewToScene(QPointF(3, 1)))
    qtbot.mouseMove(view.balance_plot.viewport(), point)
    train, test = np.bincount(dataset.train_labels)[3], np.bincount(dataset.test_labels)[3]
    qtbot.waitUntil(lambda: view.balance_readout.text().startswith("3: "), timeout=1000)
    assert f"{train:,} training images" in view.balance_readout.text()
    assert f"{test:,} test images" in view.balance_plot.toolTip()


def test_choosing_class_3_shows_its_images_in_dataset_order(view, dataset):
    view.class_combo.setCurrentIndex(4)  # "all classes", "0", "1", "2", "3"
    assert view.chosen_class == 3
    expected = dataset.train_images[dataset.train_labels == 3].reshape(-1, 28, 28)
    assert len(expected) < IMAGES_PER_PAGE
    tiles = tiles_on_screen(view)
    np.testing.assert_array_equal(tiles[:len(expected)], expected)
    assert np.isnan(tiles[len(expected):]).all()
    assert view.page_label.text() == "page 1 of 1"
    assert not view.next_button.isEnabled() and not view.previous_button.isEnabled()


def test_all_classes_page_through_and_stop_at_the_ends(qtbot, view, dataset):
    assert view.page_label.text() == "page 1 of 7"
    assert not view.previous_button.isEnabled()
    view.previous_page()
    assert view.page == 0
    for _ in range(10):
        qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)  # disabled at the end: no effect
    assert view.page == 6 and view.page_label.text() == "page 7 of 7" and not view.next_button.isEnabled()
    tiles = tiles_on_screen(view)
    np.testing.assert_array_equal(tiles[:40], dataset.train_images[600:640].reshape(-1, 28, 28))
    assert np.isnan(tiles[40:]).all()
    view.previous_page()
    np.testing.assert_array_equal(tiles_on_screen(view), dataset.train_images[500:600].reshape(-1, 28, 28))


def test_page_down_and_page_up_turn_pages(qtbot, view):
    view.activateWindow()
    view.class_combo.setFocus()
    qtbot.keyClick(view.class_combo, Qt.Key.Key_PageDown)
    qtbot.keyClick(view.class_combo, Qt.Key.Key_PageDown)
    assert view.page == 2
    qtbot.keyClick(view.class_combo, Qt.Key.Key_PageUp)
    assert view.page == 1


def test_clicking_an_image_chooses_it_with_its_label(qtbot, view, dataset):
    view.select_class(7)
    with qtbot.waitSignal(view.image_chosen, timeout=1000) as blocker:
        click_tile(qtbot, view, 13)
    image, label = blocker.args
    position = np.flatnonzero(dataset.train_labels == 7)[13]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and label == 7
    np.testing.assert_array_equal(image, dataset.train_images[position].reshape(28, 28))


def test_clicking_on_a_later_page_picks_from_that_page(qtbot, view, dataset):
    view.set_page(3)
    with qtbot.waitSignal(view.image_chosen, timeout=1000) as blocker:
        click_tile(qtbot, view, 99)
    np.testing.assert_array_equal(blocker.args[0], dataset.train_images[399].reshape(28, 28))
    assert blocker.args[1] == dataset.train_labels[399]


def test_clicking_an_empty_cell_chooses_nothing(qtbot, view, dataset):
    view.select_class(3)  # fewer than 100 images: the last cell is empty
    with qtbot.assertNotEmitted(view.image_chosen, wait=50):
        click_tile(qtbot, view, 99)


def test_clicking_a_bar_browses_its_class(qtbot, view):
    point = view.balance_plot.mapFromScene(view.balance_plot.plotItem.vb.mapViewToScene(QPointF(5, 1)))
    qtbot.mouseClick(view.balance_plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert view.chosen_class == 5 and view.class_combo.currentText() == "5"


def test_fashion_mnist_shows_its_class_names(qtbot, view):
    train_images, train_labels = make_digit_like_images(120, seed=5)
    test_images, test_labels = make_digit_like_images(40, seed=6)
    fashion = Dataset("Fashion-MNIST", FASHION_NAMES, train_images.reshape(-1, 784), train_labels,
                      test_images.reshape(-1, 784), test_labels)
    view.set_dataset(fashion)
    combo_items = [view.class_combo.itemText(index) for index in range(view.class_combo.count())]
    assert combo_items == ["all classes", *FASHION_NAMES]
    ticks = view.balance_plot.getAxis("bottom")._tickLevels[0]  # what setTicks was given
    assert [name for _, name in ticks] == list(FASHION_NAMES)
    view.class_combo.setCurrentText("Dress")
    assert view.chosen_class == 3 and "Dress" in view.mosaic_readout.text()
    assert "Fashion-MNIST" in view.title.text()


def test_a_new_dataset_starts_over_and_none_brings_the_hint_back(view, dataset):
    view.select_class(2)
    view.set_dataset(dataset)  # the same data again: the place is kept
    assert view.chosen_class == 2
    view.set_dataset(None)
    assert view.pages.currentWidget() is view.message
    view.next_page()  # harmless without data


def test_a_view_that_asked_for_the_dataset_gets_the_folder_chosen_while_it_loaded(qtbot, make_window,
                                                                                  tiny_dataset_dir, tmp_path):
    from tests.fake_data import write_dataset

    other = write_dataset(tmp_path / "other")
    window = make_window(data_dir=tiny_dataset_dir)
    seen = []
    window.data.with_dataset(lambda: seen.append(window.data.dataset.folder))
    window.training_panel.set_data_dir(str(other))  # chosen while the first folder loads
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [other], "answered with the folder chosen now, not the one that was loading"
