"""`export` and `import`: a model to and from the standard formats, its curves to CSV or JSON Lines."""

from __future__ import annotations

from pathlib import Path

from core.errors import EngineError
from core.files.curves_jsonl import ended_status, export_curves_jsonl
from core.files.model_file import load_checkpoint, save_checkpoint
from core.runs.run_history import export_curves_csv

SUFFIX_FORMATS = {".onnx": "onnx", ".npz": "state-dict", ".csv": "csv", ".jsonl": "jsonl"}
EXPORT_FORMATS = tuple(SUFFIX_FORMATS.values())


def _refuse_same_file(source: str, out: str) -> None:
    if Path(out).resolve() == Path(source).resolve():
        raise EngineError(f"{out}: would overwrite the file it is made from; choose another name")


def export_model(args) -> int:
    file_format = args.format or SUFFIX_FORMATS.get(Path(args.out).suffix.lower())
    if file_format is None:
        raise EngineError(f"{args.out}: say which format to write with --format ({', '.join(EXPORT_FORMATS)})")
    _refuse_same_file(args.model, args.out)
    checkpoint = load_checkpoint(args.model)
    if file_format == "onnx":
        from core.files.onnx_export import INPUT_NAME, LOGITS, OPSET, PROBABILITIES, export_onnx

        path = export_onnx(checkpoint, args.out)
        sizes = checkpoint.model.layer_sizes
        print(f"wrote {path}: ONNX opset {OPSET}, input {INPUT_NAME} (batch, {sizes[0]}) float32 in [0, 1], "
              f"outputs {PROBABILITIES} and {LOGITS} (batch, {sizes[-1]})")
    elif file_format == "state-dict":
        from core.files.state_dict import export_state_dict

        path = export_state_dict(checkpoint.model, args.out)
        print(f"wrote {path}: PyTorch-style state dict (0.weight, 0.bias, 2.weight, ...; weights (out, in))")
    elif file_format == "csv":
        print(f"wrote {export_curves_csv(checkpoint.history, args.out)}: one row per epoch")
    else:
        status = ended_status(checkpoint.history, checkpoint.config)
        print(f"wrote {export_curves_jsonl(checkpoint.history, status, args.out)}: the lines of train --json")
    return 0


def import_model(args) -> int:
    from core.files.model_import import import_model as read_foreign_model

    _refuse_same_file(args.source, args.out)
    imported = read_foreign_model(args.source)
    path = save_checkpoint(args.out, imported.checkpoint)
    print(f"imported {imported.describe()} from {args.source} into {path}")
    print(f"evaluate it with: main.py evaluate --model {path}; fine-tune it with: "
          f"main.py train --resume {path} --epochs N --save tuned.npz")
    return 0
