"""The compiled kernels made ready ahead of a run, in a background thread, so that it can be said.

A run's first compiled call compiles its kernels (numba), or loads them from numba's cache on
disk: a first run after install compiled for about 20 s inside "epoch 1" with no word, and the
window showed "loading the dataset..." meanwhile. `KernelPreparation` does it in a thread of its
own as soon as the CLI or the window starts (the CLI meanwhile loads the dataset), and tells
what it is doing: its `stage`, the stages done, and whether it had to compile (`compiled`: a
first run) or found everything in the cache.

It compiles the training step without running it: the thread that first runs a parallel kernel
matters (core/compiled/kernels.py), and that is the run's own. The serial kernels (sparse rows,
shuffle, the augmentation's distortion) are simply called on a few pixels. The signature is taken
from the arguments a real step call builds (`TrainingStep.compiled_arguments`), so the run finds
exactly that build, and numba's lock makes a run that starts before preparation is over wait for it
instead of compiling twice.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from core.compiled import kernels, step_kernels
from core.data import augment_kernels
from core.data.augment import distort, draw_parameters
from core.data.sparse_images import SparseImages
from core.engine.lcg import LCG, shuffle_in_place
from core.engine.network import MLP, ParameterBuffer, TrainingStep
from core.engine.optim import make_optimizer

STAGES = ("the image, augmentation and shuffle kernels", "the training step")
FIRST_RUN_MESSAGE = "preparing the compiled kernels, first run only"


def _prepare_data_kernels() -> None:
    images = np.zeros((2, 4), dtype=np.uint8)
    images[0, 1] = 7
    SparseImages.from_images(images)
    shuffle_in_place(np.arange(4), LCG(1))
    # the augmentation's (2.6 s to compile, which a first augmented run waited for in its epoch 1)
    digits = SparseImages.from_images(np.eye(2, 784, 300, dtype=np.uint8) * 200)
    faintest = augment_kernels.faintest_levels(digits.starts, digits.values)
    distort(digits, *draw_parameters(2, np.random.default_rng(0)), faintest=faintest)


def _prepare_training_step() -> None:
    """Compiles `train_steps` for the types of a run's call: tiny arrays, the same dtypes (MNIST's
    labels are uint8; every optimizer's update has the same types)."""
    from core.engine.config import TrainConfig

    sizes, batch = (4, 3, 3, 2), 2
    step = TrainingStep(sizes, batch)
    if not step.fused:
        return
    model = MLP(sizes)
    optimizer = make_optimizer(TrainConfig(), model.flat.size)
    images = SparseImages.from_images(np.ones((batch, sizes[0]), dtype=np.uint8))
    arguments = step.compiled_arguments(model, images, np.arange(batch), np.zeros(batch, dtype=np.uint8),
                                        ParameterBuffer(sizes), optimizer.compiled_update(0.001), np.empty(1))
    step_kernels.train_steps.compile(tuple(kernels.numba.typeof(argument) for argument in arguments))


class KernelPreparation:
    """Compiles (or loads from the cache) every kernel a training run calls, in a daemon thread.

    Read its fields from any thread: `first_run` (numba's cache holds no training step: it will
    compile, for some 20 s), `stage` (what it is doing, from STAGES, "" once done), `stages_done`,
    `compiled` (whether anything was compiled rather than loaded), `seconds`, `error` (the
    exception's text if it failed: the run then compiles as before).
    """

    def __init__(self) -> None:
        self.first_run = kernels.AVAILABLE and not _cached(step_kernels.train_steps)
        self.stage = ""
        self.stages_done = 0
        self.compiled = False
        self.error = ""
        self._started = time.perf_counter()
        self._finished: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._prepare, name="kernel preparation", daemon=True)

    def start(self) -> KernelPreparation:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def seconds(self) -> float:
        return (self._finished or time.perf_counter()) - self._started

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until prepared (or failed); False on timeout."""
        return self._done.wait(timeout)

    def _prepare(self) -> None:
        try:
            if kernels.AVAILABLE:
                for stage, prepare in zip(STAGES, (_prepare_data_kernels, _prepare_training_step)):
                    self.stage = stage
                    prepare()
                    self.stages_done += 1
                self.compiled = any(_compiled_here(kernel) for kernel in _KERNELS)
                if _cached(step_kernels.train_steps):  # built here: an earlier background build's failure is past
                    forget_failed_build()
        except Exception as error:  # noqa: BLE001 - the run compiles its kernels itself then
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.stage = ""
            self._finished = time.perf_counter()
            self._done.set()


_KERNELS = ("count_nonzero_rows", "fill_sparse_rows", "swap_in_order", "train_steps")
# Left in numba's cache folder by a background build (core/engine/compile_process.py) from its
# start until it has cached the step, so a build that died (killed, crashed, failed) is known;
# while it is there, runs prepare their kernels in-process. Removed once they are cached.
FAILED_NAME = "mnist-mlp-build-failed.txt"


def forget_failed_build() -> None:
    try:
        (Path(step_kernels.train_steps.stats.cache_path) / FAILED_NAME).unlink(missing_ok=True)
    except (AttributeError, OSError):
        pass


def _compiled_here(name: str) -> bool:
    """Whether numba compiled the kernel in this process (rather than loading it from its cache)."""
    module = step_kernels if hasattr(step_kernels, name) else kernels
    return bool(getattr(module, name).stats.cache_misses)


def _cached(kernel) -> bool:
    """Whether numba's cache holds a build of `kernel` that it would load: one made from today's
    source (a build of an older version, left by an upgrade or an edit, would be compiled again).
    Numba's own index reader checks the source's stamp; where its internals differ (another numba
    version), any build file found counts."""
    try:
        return bool(kernel._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - numba internals: fall back to the files themselves
        pass
    try:
        folder = Path(kernel.stats.cache_path)
        return any(folder.glob(f"*.{kernel.py_func.__name__}-*.nbc"))
    except (AttributeError, OSError):
        return False


_lock = threading.Lock()
_preparation: KernelPreparation | None = None


def start_preparing() -> KernelPreparation:
    """The process's preparation, started on the first call (later calls return the same one)."""
    global _preparation
    with _lock:
        if _preparation is None:
            _preparation = KernelPreparation().start()
        return _preparation
