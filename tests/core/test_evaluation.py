"""The model's verdict on a test set: confusion counts, mistakes, and their order by confidence."""

import numpy as np
import pytest

from core.analysis.evaluation import Evaluation, evaluate
from core.engine.network import MLP


def an_evaluation():
    # five images, three classes: rows are the predicted probabilities
    probabilities = np.array([[0.9, 0.05, 0.05],   # true 0, right
                              [0.2, 0.7, 0.1],     # true 0, wrong (0.7)
                              [0.1, 0.3, 0.6],     # true 1, wrong (0.6)
                              [0.05, 0.9, 0.05],   # true 1, right
                              [0.1, 0.85, 0.05]],  # true 0, wrong (0.85)
                             dtype=np.float32)
    return Evaluation(probabilities, np.array([0, 0, 1, 1, 0]), ("a", "b", "c"))


def test_confusion_counts_true_rows_against_predicted_columns():
    evaluation = an_evaluation()
    np.testing.assert_array_equal(evaluation.confusion, [[1, 2, 0], [0, 1, 1], [0, 0, 0]])
    assert evaluation.accuracy == pytest.approx(2 / 5)


def test_mistakes_come_most_confident_first_or_least_confident_first():
    evaluation = an_evaluation()
    assert evaluation.mistakes().tolist() == [4, 1, 2]
    assert evaluation.mistakes("unsure").tolist() == [2, 1, 4]


def test_a_cell_holds_the_images_of_that_true_and_predicted_class():
    evaluation = an_evaluation()
    assert evaluation.cell(0, 1).tolist() == [4, 1]
    assert evaluation.cell(1, 1).tolist() == [3]
    assert evaluation.cell(2, 0).tolist() == []
    with pytest.raises(ValueError):
        evaluation.cell(0, 1, order="random")


def test_evaluate_scores_a_model_on_images():
    model = MLP.initialized((784, 16, 10), seed=3)
    images = np.random.default_rng(0).integers(0, 256, (50, 784)).astype(np.uint8)
    labels = np.arange(50) % 10
    evaluation = evaluate(model, images, labels, tuple("0123456789"))
    assert evaluation.probabilities.shape == (50, 10)
    np.testing.assert_allclose(evaluation.probabilities.sum(axis=1), 1, rtol=1e-5)
    assert evaluation.confusion.sum() == 50
    assert evaluation.accuracy == pytest.approx(np.mean(model.predict(images) == labels))
