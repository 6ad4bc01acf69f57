"""Augmentation: each epoch's images distorted from the run's seed; the same seed gives the same curve."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.data import augment_kernels
from core.data.augment import Distortions, EpochImages, distort, draw_parameters
from core.data.sparse_images import SparseImages
from core.engine.config import TrainConfig
from core.engine.events import ChunkEnd
from core.engine.trainer import Trainer
from core.files.model_file import load_checkpoint, save_checkpoint
from tests.fake_data import make_digit_like_images

NONE = Distortions(shift=0, rotation=0, scale=0, shear=0, elastic=0, thicker=0, thinner=0)


@pytest.fixture(scope="module")
def images():
    return make_digit_like_images(300, seed=4)[0].reshape(-1, 784)


@pytest.fixture(scope="module")
def dataset(images):
    _, labels = make_digit_like_images(300, seed=4)
    test_images, test_labels = make_digit_like_images(100, seed=5)
    return SimpleNamespace(name="fake", class_names=tuple("0123456789"), train_images=images, train_labels=labels,
                           test_images=test_images.reshape(-1, 784), test_labels=test_labels)


def dense(sparse: SparseImages) -> np.ndarray:
    return augment_kernels.to_uint8(sparse).reshape(-1, 28, 28).astype(np.float64)


def parameters(count, **distortions):
    return draw_parameters(count, np.random.default_rng(0), NONE.__class__(**{**NONE.__dict__, **distortions}))


def test_no_distortion_gives_the_images_back_as_from_images_makes_them(images):
    sparse = SparseImages.from_images(images)
    same = distort(sparse, *parameters(len(images)))  # keeps every level unless told
    np.testing.assert_array_equal(same.starts, sparse.starts)
    np.testing.assert_array_equal(same.columns, sparse.columns)
    np.testing.assert_array_equal(same.values, sparse.values)


def test_a_digit_loses_its_faintest_levels_and_a_dark_garment_keeps_them():
    """Splatting's faint fringe is cut from images whose ink is bright (MNIST's digits), not from
    images whose ink is faint itself (a dark garment)."""
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[6:22, 12:16] = 255
    digit[6:22, 11] = digit[6:22, 16] = 20  # anti-aliased edges: 2.4 % of the ink
    garment = np.zeros((28, 28), dtype=np.uint8)
    garment[4:24, 6:22] = 18  # all of it below FAINTEST
    garment[10:12, 10:18] = 120
    images = np.stack([digit, garment]).reshape(2, -1)
    sparse = SparseImages.from_images(images)
    np.testing.assert_array_equal(augment_kernels.faintest_levels(sparse.starts, sparse.values),
                                  [augment_kernels.FAINTEST, 0])
    faintest = augment_kernels.faintest_levels(sparse.starts, sparse.values)
    same = augment_kernels.to_uint8(distort(sparse, *parameters(2), faintest=faintest)).reshape(2, 28, 28)
    expected_digit = np.where(digit >= augment_kernels.FAINTEST, digit, 0)
    np.testing.assert_array_equal(same[0], expected_digit)
    np.testing.assert_array_equal(same[1], garment)
    turned = augment_kernels.to_uint8(distort(sparse, *parameters(2, rotation=12.0), faintest=faintest))
    turned = turned.reshape(2, 28, 28)
    levels = turned[0][turned[0] > 0]
    assert levels.min() >= augment_kernels.FAINTEST
    assert 0 < turned[1][turned[1] > 0].min() < augment_kernels.FAINTEST


def test_the_faintest_levels_are_the_same_compiled_and_in_numpy(images, monkeypatch):
    """Images with their faint ink on both sides of MAX_FAINT_INK, and an empty one."""
    if augment_kernels._faint_shares is None:
        pytest.skip("numba is not available: only the NumPy path exists")
    rng = np.random.default_rng(2)
    faint = np.where(images > 0, rng.integers(1, 60, images.shape), 0).astype(np.uint8)
    mixed = np.concatenate([images, faint, np.maximum(images, faint), np.zeros((1, 784), np.uint8)])
    sparse = SparseImages.from_images(mixed)
    levels = augment_kernels.faintest_levels(sparse.starts, sparse.values)
    monkeypatch.setattr(augment_kernels, "_faint_shares", None)
    np.testing.assert_array_equal(augment_kernels.faintest_levels(sparse.starts, sparse.values), levels)
    assert set(levels) == {0, augment_kernels.FAINTEST} and levels[-1] == augment_kernels.FAINTEST
    assert (levels[len(images):2 * len(images)] == 0).all()  # all their ink faint


def test_a_whole_pixel_shift_moves_the_ink_and_keeps_it(images):
    sparse = SparseImages.from_images(images)
    affine, elastic, stroke = parameters(len(images))
    affine[:, :, 2] += (2.0, -1.0)  # two rows down, one column left
    moved = dense(distort(sparse, affine, elastic, stroke))
    original = images.reshape(-1, 28, 28).astype(np.float64)
    expected = np.zeros_like(original)
    expected[:, 2:, :27] = original[:, :26, 1:]
    np.testing.assert_array_equal(moved, expected)


@pytest.mark.parametrize("kind", ["rotation", "scale", "shear", "elastic", "shift"])
def test_each_distortion_moves_pixels_but_keeps_most_of_the_ink(images, kind):
    sparse = SparseImages.from_images(images)
    amount = {"rotation": 12.0, "scale": 0.1, "shear": 0.2, "elastic": 1.2, "shift": 1.5}[kind]
    moved = dense(distort(sparse, *parameters(len(images), **{kind: amount})))
    original = images.reshape(-1, 28, 28).astype(np.float64)
    assert np.abs(moved - original).sum(axis=(1, 2)).mean() > 0.1 * original.sum(axis=(1, 2)).mean()
    # splatting keeps the ink; only what leaves the frame or saturates is lost
    assert moved.sum() == pytest.approx(original.sum(), rel=0.08)


def test_thicker_strokes_carry_more_ink_and_thinner_less(images):
    sparse = SparseImages.from_images(images)
    original = images.astype(np.float64).sum()
    affine, elastic, stroke = parameters(len(images))
    ink = {}
    for share in (-0.5, 0.8):
        ink[share] = dense(distort(sparse, affine, elastic, np.full_like(stroke, share))).sum()
    assert ink[-0.5] < 0.9 * original and ink[0.8] > 1.2 * original


@pytest.mark.parametrize("cut", [0, augment_kernels.FAINTEST])
def test_the_compiled_and_numpy_paths_agree(images, cut):
    if augment_kernels._compiled is None:
        pytest.skip("numba is not available: only the NumPy path exists")
    sparse = SparseImages.from_images(images)
    affine, elastic, stroke = draw_parameters(len(images), np.random.default_rng(3))
    faintest = np.full(len(images), cut, dtype=np.uint8)
    compiled = augment_kernels.to_uint8(distort(sparse, affine, elastic, stroke, faintest=faintest))
    in_numpy = np.empty_like(compiled)
    augment_kernels._distort_numpy(sparse.starts, sparse.columns, sparse.values, affine, elastic, stroke, faintest,
                                   in_numpy)
    assert np.abs(compiled.astype(int) - in_numpy).max() <= 1 or cut  # float32 against float64 sums
    assert np.mean(compiled != in_numpy) < 1e-3  # (by the cut, a level can go from 25 to 0 in one path)
    assert (compiled[compiled > 0] >= cut).all()


def test_draws_stay_within_their_ranges():
    affine, elastic, stroke = draw_parameters(5000, np.random.default_rng(1))
    matrix = affine[:, :, :2].astype(np.float64)
    determinant = np.linalg.det(matrix)  # the area scale: (1 +- 0.1)^2, a shear keeps areas
    assert 0.9**2 - 1e-4 <= determinant.min() and determinant.max() <= 1.1**2 + 1e-4
    where_center_goes = matrix @ [14.0, 14.0] + affine[:, :, 2]
    assert np.abs(where_center_goes - 14).max() <= 2.0 + 1e-4  # the shift
    assert -0.5 <= stroke.min() and stroke.max() <= 0.8 and np.ptp(stroke) > 1.2
    assert elastic.std() == pytest.approx(1.2, rel=0.05)


def test_an_epochs_images_depend_on_the_seed_and_epoch_only(images):
    first = EpochImages(images, seed=7, sparse=True)
    ahead = [first.for_epoch(epoch) for epoch in (1, 2, 3)]  # 2 and 3 made in the background, on one core
    first.close()
    again = EpochImages(images, seed=7, sparse=True)
    direct = again.for_epoch(3, prepare_next=False)  # out of order, made at once on every core
    np.testing.assert_array_equal(direct.values, ahead[2].values)
    np.testing.assert_array_equal(direct.columns, ahead[2].columns)
    assert not np.array_equal(ahead[0].starts, ahead[1].starts)
    other = EpochImages(images, seed=8, sparse=True).for_epoch(3, prepare_next=False)
    assert not np.array_equal(other.starts, direct.starts)
    dense_epoch = EpochImages(images, seed=7, sparse=False).for_epoch(3, prepare_next=False)
    np.testing.assert_array_equal(dense_epoch, augment_kernels.to_uint8(direct))


def test_a_background_epoch_that_fails_is_made_again_where_its_error_can_be_seen(images, monkeypatch):
    epochs = EpochImages(images, seed=7, sparse=True)
    real = EpochImages._make
    calls = []

    def once_failing(self, epoch, parts):
        calls.append((epoch, parts))
        if len(calls) == 2:  # epoch 2, in the background
            raise MemoryError("no room")
        return real(self, epoch, parts)

    monkeypatch.setattr(EpochImages, "_make", once_failing)
    epochs.for_epoch(1)
    second = epochs.for_epoch(2, prepare_next=False)
    assert calls[1] == (2, 1) and calls[2][0] == 2  # failed on one core, made again in the foreground
    np.testing.assert_array_equal(second.values, real(EpochImages(images, seed=7, sparse=True), 2, 1).values)


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_images_made_on_several_threads_are_the_ones_made_on_one(images, parts):
    sparse = SparseImages.from_images(images)
    affine, elastic, stroke = draw_parameters(len(images), np.random.default_rng(11))
    alone = distort(sparse, affine, elastic, stroke)
    shared = distort(sparse, affine, elastic, stroke, parts=parts)
    np.testing.assert_array_equal(shared.starts, alone.starts)
    np.testing.assert_array_equal(shared.columns, alone.columns)
    np.testing.assert_array_equal(shared.values, alone.values)


def test_ink_pushed_past_the_frame_is_lost_in_both_paths_alike(images):
    """Shifts of up to 8 px push strokes over every edge: the compiled kernel's bordered canvas
    must drop what leaves the frame, before the stroke change reads it, as the NumPy path does."""
    if augment_kernels._compiled is None:
        pytest.skip("numba is not available: only the NumPy path exists")
    sparse = SparseImages.from_images(images)
    rng = np.random.default_rng(5)
    affine, elastic, stroke = draw_parameters(len(images), rng, Distortions(shift=8.0))
    faintest = augment_kernels.faintest_levels(sparse.starts, sparse.values)
    compiled = augment_kernels.to_uint8(distort(sparse, affine, elastic, stroke, faintest=faintest))
    in_numpy = np.empty_like(compiled)
    augment_kernels._distort_numpy(sparse.starts, sparse.columns, sparse.values, affine, elastic, stroke, faintest,
                                   in_numpy)
    differ = np.abs(compiled.astype(int) - in_numpy)
    # by one level, or a level at the cut kept in one path and dropped in the other
    assert ((differ <= 1) | (np.minimum(compiled, in_numpy) == 0)).all() and np.mean(differ > 0) < 1e-3
    edges = compiled.reshape(-1, 28, 28)[:, [0, 27], :].any(axis=(1, 2)) | \
        compiled.reshape(-1, 28, 28)[:, :, [0, 27]].any(axis=(1, 2))
    assert edges.mean() > 0.3  # the check did reach the edges
    assert compiled.sum() < 0.97 * images.astype(np.int64).sum() * (1 + stroke.mean())


def test_far_moves_empty_images_and_no_numbers_give_what_the_numpy_path_gives():
    """Edge cases of the compiled kernel's bounds: ink in the frame's corners, an empty image, maps
    that push all ink far off the frame (either way), and places that are no number at all."""
    if augment_kernels._compiled is None:
        pytest.skip("numba is not available: only the NumPy path exists")
    corners = np.zeros((4, 28, 28), dtype=np.uint8)
    for k, (r, c) in enumerate([(0, 0), (0, 27), (27, 0), (27, 27)]):
        corners[k, r, c] = 255
        corners[k, max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] |= 128
    images = np.concatenate([corners, np.zeros((1, 28, 28), np.uint8), np.full((1, 28, 28), 255, np.uint8)])
    images = images.reshape(len(images), -1)
    sparse = SparseImages.from_images(images)
    moves = [0.0, 0.6, -0.6, 14.0, -14.0, 27.5, -27.5, 40.0, -1e6, 1e20, np.inf, np.nan]
    for move in moves:
        affine, elastic, stroke = draw_parameters(len(images), np.random.default_rng(1))
        affine[:, :, 2] += np.float32(move)
        faintest = np.zeros(len(images), np.uint8)
        compiled = augment_kernels.to_uint8(distort(sparse, affine, elastic, stroke, faintest=faintest))
        in_numpy = np.empty_like(compiled)
        with np.errstate(invalid="ignore"):
            augment_kernels._distort_numpy(sparse.starts, sparse.columns, sparse.values, affine, elastic, stroke,
                                           faintest, in_numpy)
        assert np.abs(compiled.astype(int) - in_numpy).max() <= 1, move
        if not abs(move) < 28:
            assert not compiled.any(), move  # nothing lands, nothing is left on the canvas for the next image
    assert not augment_kernels.to_uint8(distort(sparse, *draw_parameters(len(images), np.random.default_rng(2)),
                                                faintest=np.zeros(len(images), np.uint8)))[4].any()


def small_config(**changes):
    values = {"hidden": (32, 16), "epochs": 3, "batch_size": 32, "augment": True, **changes}
    return TrainConfig.for_optimizer("adam", **values)


def test_an_augmented_run_follows_the_same_curve_for_the_same_seed_and_another_than_plain(dataset):
    runs = [Trainer(config, dataset) for config in (small_config(), small_config(), small_config(augment=False))]
    for trainer in runs:
        list(trainer.run())
    assert runs[0].history.batch_losses == runs[1].history.batch_losses
    assert runs[0].history.batch_losses != runs[2].history.batch_losses
    assert runs[0].history.test_acc > 0.3  # it learns from distorted images (chance: 0.1; 0.5-0.67 over four seeds)


def test_an_augmented_run_resumed_mid_epoch_continues_the_same_curve(dataset, tmp_path):
    straight = Trainer(small_config(), dataset)
    list(straight.run())
    interrupted = Trainer(small_config(), dataset)
    interrupted.max_chunk = 3
    for event in interrupted.run():
        if isinstance(event, ChunkEnd) and len(interrupted.history.batch_losses) >= 9 + 5:
            interrupted.stop()
    path = save_checkpoint(tmp_path / "run.npz", interrupted.checkpoint())
    checkpoint = load_checkpoint(path)
    assert checkpoint.config.augment  # saved with the run, so a resumed run augments too
    resumed = Trainer.from_checkpoint(checkpoint, dataset)
    list(resumed.run())
    assert resumed.history.batch_losses == pytest.approx(straight.history.batch_losses, rel=1e-6)


def test_a_helper_threads_failure_reaches_the_caller(images, monkeypatch):
    """A part that fails in a helper thread (say, out of memory) raises in the caller, as its own error."""
    if augment_kernels._compiled is None:
        pytest.skip("numba is not available: the NumPy path uses no threads")
    sparse = SparseImages.from_images(images)
    real = augment_kernels._distort_run

    def failing_second_part(starts, *rest):
        if starts[0] != sparse.starts[0]:
            raise MemoryError("no room for the second part")
        return real(starts, *rest)

    monkeypatch.setattr(augment_kernels, "_distort_run", failing_second_part)
    with pytest.raises(MemoryError, match="second part"):
        distort(sparse, *parameters(len(images)), parts=2)


def test_the_step_runs_on_one_kernel_thread_while_the_next_epochs_images_are_made(dataset, monkeypatch):
    """The making thread gets a core of its own: the step's two threads would otherwise wait for
    the one whose core it took at every batch. Once the images are made, the step has them all."""
    from core.compiled import kernels
    from core.engine.network import TrainingStep
    if not kernels.PARALLEL:
        pytest.skip("one kernel thread only (numba missing or NUMBA_NUM_THREADS=1): there is nothing to lower")
    making = {"now": True}
    monkeypatch.setattr(EpochImages, "making", property(lambda self: making["now"]))
    allowed = []  # the kernel threads the trainer allows at each call of the step
    real = TrainingStep.train_batches
    monkeypatch.setattr(TrainingStep, "train_batches",
                        lambda self, *args, **kwargs: (allowed.append(kernels.kernel_threads()),
                                                       real(self, *args, **kwargs))[1])
    before = kernels.kernel_threads()
    assert before > 1
    list(Trainer(small_config(epochs=2), dataset).run())
    assert allowed and set(allowed) == {1}
    assert kernels.kernel_threads() == before  # given back at the end
    making["now"] = False
    allowed.clear()
    list(Trainer(small_config(epochs=2), dataset).run())
    assert allowed and set(allowed) == {before}
