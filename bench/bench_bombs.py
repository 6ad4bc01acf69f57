"""Decompression bombs against the readers: each must fail in seconds, with bounded memory.

    python bench/bench_bombs.py [--data-dir DIR] [--keep]

Builds, in a temp folder (about 15 MB on disk, a minute of compressing):
- a 4 MB gzipped IDX file inflating to 4 GiB, its header MNIST's training images' (60000, 28, 28);
- the same with a header declaring the whole 4 GiB (5,478,274 images);
- a model file (.npz) with an unused 3 GiB deflated member, and one whose "parameters" member is
  3 GiB of deflated zeros;
- a model file whose parameters' .npy header claims 4 TiB;
then runs `main.py evaluate` on each under `/usr/bin/time -v` and prints the exit code, the
seconds, the peak memory (maximum resident set size) and the last line of stderr. The target:
exit code 1, under 10 s, under 600 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.dataset import MNIST_FILE_NAMES, find_file, resolve_data_dir  # noqa: E402

GIB = 1 << 30
ZEROS = bytes(1 << 24)


def gzip_bomb(path: Path, header: bytes, inflated: int) -> None:
    """A gzip file of `header` followed by zeros, `inflated` bytes in all, written as a stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with open(path, "wb") as out:
        out.write(compressor.compress(header))
        left = inflated - len(header)
        while left > 0:
            out.write(compressor.compress(ZEROS[:min(left, len(ZEROS))]))
            left -= len(ZEROS)
        out.write(compressor.flush())


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (len(text) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin-1")


def deflated_model(path: Path, pretrained: Path, replace: dict[str, tuple[bytes, int]]) -> None:
    """The pretrained model's members, with `replace`: name -> (npy header, zero bytes after it),
    each deflated as a stream (ZipFile.open('w') takes the archive's compression)."""
    with zipfile.ZipFile(pretrained) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename.removesuffix(".npy") not in replace:
                target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_STORED)
        for name, (header, zeros) in replace.items():
            with target.open(f"{name}.npy", "w", force_zip64=True) as member:
                member.write(header)
                while zeros > 0:
                    member.write(ZEROS[:min(zeros, len(ZEROS))])
                    zeros -= len(ZEROS)


def tiny_npy_claiming(path: Path, pretrained: Path, shape: tuple[int, ...]) -> None:
    """The pretrained model with its parameters' header claiming `shape` (a few bytes of data)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(pretrained) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "parameters.npy":
                content = npy_header("<f4", shape) + bytes(64)
            target.writestr(info.filename, content)
    path.write_bytes(buffer.getvalue())


def measure(command: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak MB, last stderr line) of `command` under /usr/bin/time -v."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=env, cwd=ROOT)
    stderr = result.stderr
    seconds = _wall_seconds(re.search(r"Elapsed \(wall clock\) time.*: (\S+)", stderr).group(1))
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    message = next((line for line in stderr.splitlines() if line.startswith("error:")), stderr.splitlines()[0])
    code = int(re.search(r"Exit status: (\d+)", stderr).group(1))
    return code, seconds, peak_kb / 1024, message


def _wall_seconds(text: str) -> float:
    parts = [float(part) for part in text.split(":")]
    return sum(part * 60**power for power, part in enumerate(reversed(parts)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="a folder with the four MNIST files (default: as the app finds it)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and print its path")
    args = parser.parse_args()
    source = resolve_data_dir(args.data_dir)
    pretrained = ROOT / "assets" / "pretrained.npz"
    work = Path(tempfile.mkdtemp(prefix="bombs-"))
    env = {**os.environ, **{name: str(work / name.lower()) for name in
                            ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}}
    cases = []
    try:
        for label, header in [("gzip IDX, header (60000, 28, 28), inflates to 4 GiB",
                               bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (60000, 28, 28))),
                              ("gzip IDX, header declares 4 GiB",
                               bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (5478274, 28, 28)))]:
            folder = work / f"data-{len(cases)}"
            folder.mkdir()
            for role in ("train_labels", "test_images", "test_labels"):
                shutil.copy(find_file(source, role), folder / MNIST_FILE_NAMES[role])
            gzip_bomb(folder / MNIST_FILE_NAMES["train_images"], header, 4 * GIB)
            size = (folder / MNIST_FILE_NAMES["train_images"]).stat().st_size
            cases.append((f"{label} ({size / 1e6:.1f} MB)", ["evaluate", "--data-dir", str(folder)]))
        unused = work / "unused-member.npz"
        deflated_model(unused, pretrained, {"junk": (npy_header("<f4", (3 * GIB // 4,)), 3 * GIB)})
        cases.append((f"model with an unused 3 GiB member ({unused.stat().st_size / 1e6:.1f} MB)",
                      ["evaluate", "--model", str(unused), "--data-dir", str(source)]))
        oversized = work / "oversized-parameters.npz"
        deflated_model(oversized, pretrained, {"parameters": (npy_header("<f4", (3 * GIB // 4,)), 3 * GIB)})
        cases.append((f"model whose parameters are 3 GiB ({oversized.stat().st_size / 1e6:.1f} MB)",
                      ["evaluate", "--model", str(oversized), "--data-dir", str(source)]))
        claiming = work / "npy-claims-4TiB.npz"
        tiny_npy_claiming(claiming, pretrained, (1 << 40,))
        cases.append((f"model whose .npy header claims 4 TiB ({claiming.stat().st_size / 1e6:.1f} MB)",
                      ["evaluate", "--model", str(claiming), "--data-dir", str(source)]))
        print(json.dumps({"machine": os.uname().nodename, "cpus": os.cpu_count()}))
        for label, command in cases:
            code, seconds, peak_mb, message = measure([sys.executable, "main.py", *command], env)
            print(f"{label}: exit {code}, {seconds:.2f} s, peak {peak_mb:.0f} MB\n    {message[:160]}")
    finally:
        if args.keep:
            print(f"files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
