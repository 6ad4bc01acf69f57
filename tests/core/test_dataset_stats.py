"""Class balance and class selections of a dataset's labels."""

import numpy as np
import pytest

from core.data.dataset import load_dataset
from core.data.dataset_stats import class_counts, class_indices, page_count


def test_class_counts_match_bincount_on_a_generated_dataset(tiny_dataset_dir):
    dataset = load_dataset(tiny_dataset_dir)
    counts = class_counts(dataset.train_labels, 10)
    np.testing.assert_array_equal(counts, np.bincount(dataset.train_labels, minlength=10))
    assert counts.sum() == len(dataset.train_labels)


def test_a_class_without_images_counts_zero():
    np.testing.assert_array_equal(class_counts(np.array([0, 0, 2], np.uint8), 4), [2, 0, 1, 0])
    np.testing.assert_array_equal(class_counts(np.array([], np.uint8), 3), [0, 0, 0])


def test_a_label_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="0..2"):
        class_counts(np.array([0, 3], np.uint8), 3)


def test_class_indices_keep_dataset_order():
    labels = np.array([3, 1, 3, 0, 3], np.uint8)
    np.testing.assert_array_equal(class_indices(labels, 3), [0, 2, 4])
    np.testing.assert_array_equal(class_indices(labels, 2), [])
    np.testing.assert_array_equal(class_indices(labels, None), np.arange(5))


@pytest.mark.parametrize(("items", "pages"), [(0, 1), (1, 1), (100, 1), (101, 2), (6131, 62)])
def test_page_count(items, pages):
    assert page_count(items, 100) == pages
