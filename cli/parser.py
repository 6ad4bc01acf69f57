"""The command line's arguments: the train settings' flags are made from TrainConfig (cli/train_flags.py)."""

from __future__ import annotations

import argparse

from cli.interchange import EXPORT_FORMATS
from cli.train_flags import add_train_flags
from core.runs.run_history import BUDGET_ENV


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnist-mlp",
        description="Train a 784-256-128-64-10 perceptron on MNIST. Without a command, opens the window.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a model headless",
                                description="Train a model. Defaults are the seed project's, per optimizer.")
    add_train_flags(train)
    train.add_argument("--extra-data", nargs="?", const="", metavar="DIR",
                       help="add a personal set (IDX files, as File > My handwriting exports them) to the training "
                            "images; without DIR: your own, from the window")
    train.add_argument("--data-dir", help="folder with the four MNIST IDX files")
    train.add_argument("--save", help="write the trained model to this .npz file")
    train.add_argument("--resume", help="continue training the model saved in this .npz file")
    train.add_argument("--json", action="store_true", help="print one JSON object per line instead of text")
    train.add_argument("--no-history", action="store_true",
                       help="do not record the run in the history folder the window lists")
    _add_history_budget(train)

    evaluate = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a saved model")
    evaluate.add_argument("--model", help="model .npz file (default: the bundled pretrained model)")
    evaluate.add_argument("--data-dir", help="folder with the four MNIST IDX files")
    evaluate.add_argument("--robustness", action="store_true",
                          help="instead, accuracy as the test digits are shifted, rotated, scaled, thickened, noised")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    predict = commands.add_parser("predict", help="classify digit images (PNG or JPEG)")
    predict.add_argument("--model", help="model .npz file (default: the bundled pretrained model)")
    predict.add_argument("--json", action="store_true", help="print one JSON object per image")
    predict.add_argument("--explain", action="store_true",
                         help="with --json: add the 28x28 input the model saw, each layer's activations and the "
                              "saliency map of the predicted class (integrated gradients)")
    predict.add_argument("--no-preprocess", action="store_true",
                         help="feed 28x28 images as they are (already in MNIST's format: white ink on black)")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files: a digit, any size")

    export = commands.add_parser("export", help="write a saved model as ONNX or a PyTorch-style state dict, "
                                                "or its curves as CSV or JSON Lines")
    export.add_argument("--format", choices=EXPORT_FORMATS,
                        help="onnx, state-dict (.npz), csv or jsonl (default: from OUT's extension)")
    export.add_argument("model", metavar="MODEL", help="model .npz file (assets/pretrained.npz: the bundled one)")
    export.add_argument("out", metavar="OUT", help="file to write")

    import_ = commands.add_parser("import", help="make a model file of an ONNX MLP or a PyTorch-style state dict",
                                  description="Import dense layers with ReLU (784 inputs, 10 classes) from an ONNX "
                                              "file or a PyTorch-style state dict saved as .npz (0.weight, 0.bias, "
                                              "2.weight, ...) into a model file for evaluate, predict, the window "
                                              "and train --resume.")
    import_.add_argument("source", metavar="IN", help="the .onnx file or the state dict .npz")
    import_.add_argument("out", metavar="OUT", help="the model .npz file to write")

    download = commands.add_parser("download", help="download MNIST into the data folder")
    download.add_argument("--data-dir", help="where to put the files (default: the application's data folder)")
    _add_runs_command(commands)
    return parser


def _add_history_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history-budget", metavar="SIZE",
                        help=f"size of the history folder past which the oldest runs' models are removed, "
                             f"like 2G or 500M (default ${BUDGET_ENV}, else 2G)")


def _add_runs_command(commands) -> None:
    runs = commands.add_parser("runs", help="list, show, export, delete or prune the runs in the history",
                               description="The runs the window and `train` keep in the history folder.")
    actions = runs.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every run, newest first, and the files that are not runs")
    show = actions.add_parser("show", help="one run's settings, results and curves")
    show.add_argument("run", metavar="RUN", help="a run id, or the start of one")
    export = actions.add_parser("export", help="write a run's model (.npz) or curves (.csv) to PATH")
    export.add_argument("run", metavar="RUN", help="a run id, or the start of one")
    export.add_argument("path", metavar="PATH", help="a .npz file for the model, a .csv file for the curves")
    delete = actions.add_parser("delete", help="delete a run and its model")
    delete.add_argument("run", metavar="RUN", help="a run id, or the start of one")
    prune = actions.add_parser("prune", help="remove the oldest unpinned runs' models until the folder fits")
    _add_history_budget(prune)
    for action in (listing, show, export, delete, prune):
        action.add_argument("--json", action="store_true", help="print JSON")
