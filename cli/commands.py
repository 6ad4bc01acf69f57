"""The headless subcommands. Errors end as one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from cli.interchange import export_model, import_model
from cli.parser import build_parser
from cli.progress import ProgressLine, progress_text, wait_for_kernels
from cli.runs_command import history_store, runs
from cli.train_flags import config_from_flags
from core.analysis.metrics import accuracy_from_confusion, confusion_matrix
from core.atomic_file import check_writable_target, remove_stray_temp_files
from core.data.dataset import Dataset, has_dataset_files, load_dataset, resolve_data_dir
from core.data.download import DownloadProgress, download_mnist
from core.engine.compile_process import ELSEWHERE_MESSAGE, compile_elsewhere
from core.engine.events import BackendChanged, EpochEnd, RunEnd
from core.engine.kernel_preparation import start_preparing
from core.engine.run_progress import RunProgress
from core.engine.run_state import Checkpoint
from core.engine.trainer import Trainer
from core.errors import EngineError, ImageFileError, ModelFileError
from core.files.curves_jsonl import epoch_line, test_line
from core.files.model_file import load_checkpoint, save_checkpoint
from core.runs.run_recorder import RunRecorder, save_interval_from_environment
from core.wording import counted

PROGRESS_LINES_PER_SECOND = 10


def run_cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 0
    handler = {"train": train, "evaluate": evaluate, "predict": predict, "download": download,
               "runs": runs, "export": export_model, "import": import_model}[args.command]
    try:
        return handler(args)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _print_json(**values) -> None:
    print(json.dumps(values), flush=True)


def obtain_dataset(data_dir: str | None, quiet: bool = False) -> Dataset:
    """The dataset in the folder given (or found); MNIST is downloaded when it is nowhere."""
    folder = resolve_data_dir(data_dir)
    if not has_dataset_files(folder):
        if data_dir is not None:
            return load_dataset(folder)  # raises, naming the missing files
        fetch_mnist(folder, quiet)
    return load_dataset(folder)


def fetch_mnist(folder: Path, quiet: bool = False) -> Path:
    bar = ProgressLine()
    if not quiet:
        print(f"MNIST not found: downloading it into {folder}", file=sys.stderr)

    def report(progress: DownloadProgress) -> None:
        if not quiet:
            label = f"{progress.file_name} ({progress.file_index + 1}/{progress.file_count})"
            bar.update(progress.bytes_done, progress.bytes_total or progress.bytes_done, label)

    path = download_mnist(folder, progress=report)
    if not quiet:
        bar.finish(f"MNIST is in {path}")
    return path


def train(args) -> int:
    if args.save:
        check_writable_target(args.save)  # before the training, not after it
        remove_stray_temp_files(Path(args.save).parent, re.compile(re.escape(Path(args.save).name)))
    store = None if args.no_history else history_store(args.history_budget)
    # a first run trains with NumPy while another process builds the kernels; else they are
    # loaded (or compiled, when that cannot be done elsewhere) while the dataset loads
    elsewhere = compile_elsewhere()
    preparation = start_preparing() if elsewhere is None else None
    backend = "numpy" if elsewhere is not None else None
    dataset = obtain_dataset(args.data_dir, quiet=args.json)
    if args.extra_data is not None:
        from core.data.personal_set import PersonalSet

        extra = PersonalSet(args.extra_data or None)
        dataset = extra.added_to(dataset)
        if not args.json:
            print(f"with {counted(len(extra), 'drawing')} of {extra.folder} added to the training images")
    if args.resume:
        trainer = Trainer.from_checkpoint(load_checkpoint(args.resume), dataset, epochs=args.epochs, source=args.resume,
                                          backend=backend)
    else:
        trainer = Trainer(config_from_flags(args), dataset, backend=backend)
    if elsewhere is not None:
        trainer.upgrade = elsewhere.ready
    config = trainer.config
    if not args.json:
        hidden = ",".join(str(size) for size in config.hidden)
        print(f"{dataset.name}: {len(dataset.train_images)} training images; {config.optimizer} lr={config.lr:g} "
              f"batch={config.batch_size} epochs={config.epochs} hidden={hidden} seed={config.seed}"
              + (" augmented" if config.augment else ""))
    if preparation is not None:
        wait_for_kernels(preparation, quiet=args.json)
    elif not args.json:
        print(ELSEWHERE_MESSAGE, flush=True)
    bar = ProgressLine()
    recorder = None if store is None else RunRecorder(store, config.optimizer, save_interval_from_environment())
    end = _drive(trainer, args.json, bar, recorder)
    trained = trainer.checkpoint()
    save_error = _save_model(args, trained)
    if recorder is not None and recorder.store is not None:
        store.prune(keep=frozenset({recorder.run_id}))
    if args.json:
        _print_json(**test_line(end.test_acc, end.status, end.epochs_done))
    else:
        print(f"{end.message}" if end.status != "finished" else
              f"test accuracy {end.test_acc:.2%} after {counted(end.epochs_done, 'epoch')} "
              f"({end.elapsed:.1f} s of training)")
    if save_error is not None:
        print(f"error: {save_error}; {_rescue(trained, end.status, recorder, args)}", file=sys.stderr)
        return 1
    if elsewhere is not None and not args.json and elsewhere.running():
        print("the compiled kernels are still being built in the background; the next run will use them")
    if recorder is not None and recorder.failure is not None:
        print(f"warning: the run could not be recorded in the history: {recorder.failure}", file=sys.stderr)
    elif recorder is not None and not args.json:
        print(f"recorded in the history as {recorder.run_id} (python main.py runs show {recorder.run_id})")
    if end.status == "diverged":
        print(f"error: {end.message}", file=sys.stderr)
        return 1
    return 0


def _save_model(args, checkpoint: Checkpoint) -> str | None:
    """Write the model to --save; the reason it could not be written, or None."""
    if not args.save:
        return None
    try:
        path = save_checkpoint(args.save, checkpoint)
    except OSError as error:  # a full disk, the folder gone or made read-only since the check
        return f"cannot write the model to {args.save} ({error.strerror or error})"
    if not args.json:
        print(f"saved model to {path}")
    return None


def _rescue(checkpoint: Checkpoint, status: str, recorder: RunRecorder | None, args) -> str:
    """Where the trained model is kept when --save failed: the run's file in the history (written
    now if the run was not recorded). The text ends the error line."""
    if recorder is None or recorder.model_path() is None:
        try:
            recorder = RunRecorder(history_store(args.history_budget), checkpoint.config.optimizer)
        except EngineError as error:
            return f"the history folder cannot be opened either ({error}): the trained model is lost"
        recorder.finish(status, checkpoint)
    path = recorder.model_path()
    if path is None:
        return f"it could not be kept in the history either ({recorder.failure}): the trained model is lost"
    return f"the trained model is kept in {path} (copy it, or: python main.py runs export {recorder.run_id} PATH)"


def _drive(trainer: Trainer, as_json: bool, bar: ProgressLine, recorder: RunRecorder | None = None) -> RunEnd:
    """Train, printing the window's reports (core/engine/run_progress.py) as a progress line, and each epoch."""
    end = None
    progress = RunProgress(per_second=PROGRESS_LINES_PER_SECOND)
    try:
        for event in trainer.run():
            if recorder is not None:
                recorder.observe(trainer, event)
            report = progress.observe(event)
            if report is not None and report.batches is not None and not as_json:
                bar.update(report.batches.batch, report.batches.batches_per_epoch, progress_text(report.batches))
            if isinstance(event, EpochEnd):
                if as_json:
                    _print_json(**epoch_line(event.epoch, event.loss, event.val_acc, event.seconds, event.lr))
                else:
                    bar.finish()
                    print(f"epoch {event.epoch:>3}/{event.epochs}  loss {event.loss:.4f}  "
                          f"val {event.val_acc:.2%}  {event.seconds:.2f} s", flush=True)
            elif isinstance(event, BackendChanged) and not as_json:
                bar.finish()
                print(f"the compiled kernels are ready: epoch {event.epoch} on trains with them", flush=True)
            elif isinstance(event, RunEnd):
                end = event
    except KeyboardInterrupt:
        trainer.stop()
        for event in trainer.run():  # finishes at once: evaluates and reports the run's end
            if recorder is not None:
                recorder.observe(trainer, event)
            if isinstance(event, RunEnd):
                end = event
    return end


def _load_model(path: str | None) -> Checkpoint:
    if path is None:
        from assets import pretrained_model_path

        bundled = pretrained_model_path()
        if bundled is None:
            raise ModelFileError("no --model given and the bundled pretrained model is missing")
        path = bundled
    return load_checkpoint(path)


def evaluate(args) -> int:
    checkpoint = _load_model(args.model)
    dataset = obtain_dataset(args.data_dir, quiet=args.json)
    if args.robustness:
        return _evaluate_robustness(checkpoint, dataset, args.json)
    predicted = checkpoint.model.predict(dataset.test_images)
    classes = len(dataset.class_names)
    matrix = confusion_matrix(dataset.test_labels, predicted, classes)
    test_acc = accuracy_from_confusion(matrix)
    if args.json:
        _print_json(event="evaluate", test_acc=test_acc, confusion=matrix.tolist(),
                    class_names=list(dataset.class_names), count=int(matrix.sum()))
        return 0
    print(f"{dataset.name} test set: {matrix.sum()} images, accuracy {test_acc:.2%}")
    print("confusion matrix (rows: true class, columns: predicted)")
    names = [name[:6] for name in dataset.class_names]
    width = max(6, max(len(str(int(matrix.max()))), 4) + 1)
    print(" " * 8 + "".join(f"{name:>{width}}" for name in names))
    for name, row in zip(names, matrix):
        print(f"{name:>8}" + "".join(f"{int(count):>{width}}" for count in row))
    return 0


def _evaluate_robustness(checkpoint: Checkpoint, dataset: Dataset, as_json: bool) -> int:
    from cli.robustness_report import print_robustness
    from core.analysis.robustness import SAMPLE, robustness_curves

    curves = robustness_curves(checkpoint.model, dataset.test_images, dataset.test_labels)
    print_robustness(curves, dataset.name, min(SAMPLE, len(dataset.test_images)), as_json)
    return 0


def predict(args) -> int:
    from core.analysis.explain import explain
    from core.data.preprocess import to_mnist
    from gui.image_file import read_grayscale

    if args.explain and not args.json:
        print("error: --explain writes its maps as JSON: add --json", file=sys.stderr)
        return 1
    checkpoint = _load_model(args.model)
    names = checkpoint.class_names
    for image_path in args.images:
        image = _model_input(read_grayscale(image_path), image_path) if args.no_preprocess else \
            to_mnist(read_grayscale(image_path))
        if image is None:
            if args.json:
                _print_json(image=image_path, empty=True)
            else:
                print(f"{image_path}: empty image, nothing to classify")
            continue
        probabilities = checkpoint.model.predict_proba(image[None])[0]
        best = int(probabilities.argmax())
        if args.json:
            fields = {"image": image_path, "prediction": best, "class_name": names[best],
                      "probabilities": [float(p) for p in probabilities]}
            if args.explain:
                explanation = explain(checkpoint.model, image)
                fields.update(input=_rounded(image.reshape(28, 28)), saliency_class=explanation.target,
                              activations=[_rounded(layer) for layer in explanation.activations],
                              saliency=_rounded(explanation.saliency.reshape(28, 28)))
            _print_json(**fields)
        else:
            ranked = "  ".join(f"{names[i]}:{probabilities[i]:.1%}" for i in probabilities.argsort()[::-1][:3])
            print(f"{image_path}: {names[best]}  ({ranked})")
    return 0


def _model_input(gray: np.ndarray, path: str) -> np.ndarray:
    """A picture already in MNIST's format (28x28, white ink on black) as the model's (28, 28) input."""
    if gray.shape != (28, 28):
        raise ImageFileError(f"{path}: {gray.shape[1]}x{gray.shape[0]} pixels; --no-preprocess takes 28x28 images "
                             "as MNIST's are")
    image = gray.astype(np.float32) / 255
    return 1 - image if np.median(image) > 0.5 else image  # dark ink on light paper (or a flattened transparency)


def _rounded(values: np.ndarray) -> list:
    """Nested lists of floats to 6 significant digits: JSON a person can read and a script parse."""
    return np.vectorize(lambda value: float(f"{value:.6g}"), otypes=[float])(values).tolist()


def download(args) -> int:
    folder = resolve_data_dir(args.data_dir) if args.data_dir else resolve_data_dir(None)
    fetch_mnist(folder)
    return 0
