"""Fetching MNIST from the public mirrors into the application's data folder.

Each file is streamed into `<name>.part` beside its final place, checked (the SHA-256 of its
decompressed bytes), and only then renamed: an interrupted or corrupt download never looks like a
dataset. A `.part` left by an interrupted run is continued with an HTTP Range request when the
server supports it (answers 206); otherwise it starts over.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import socket
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from core.data.dataset import MNIST_FILE_NAMES, ROLES, find_file
from core.data.idx import MAX_IDX_BYTES
from core.errors import DownloadError

# torchvision's mirrors, tried in order (ECOSYSTEM.md).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# SHA-256 of the decompressed files (shared/data/mnist/README.md).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
CHUNK = 64 * 1024
CANCELLED_MESSAGE = "download cancelled; run it again to continue where it stopped"


@dataclass(frozen=True)
class DownloadProgress:
    file_name: str
    file_index: int  # 0-based
    file_count: int
    bytes_done: int
    bytes_total: int | None  # None when the server does not say


class Cancelled(DownloadError):
    """The caller asked the download to stop; what was fetched so far stays for next time."""


class Cancellation:
    """A cancel request that also breaks off a transfer blocked on the network.

    Pass it as `should_stop`. `cancel()` may be called from any thread: it sets the flag and shuts
    down the socket of the transfer in progress, so a mirror that connects and never answers holds
    neither the download nor the app that is closing it for the length of a timeout.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def __call__(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            sockets, self._sockets = self._sockets, []
        for connection in sockets:
            _shut(connection)

    def watch(self, connection: socket.socket) -> None:
        with self._lock:
            if not self._event.is_set():
                self._sockets.append(connection)
                return
        _shut(connection)

    def forget_all(self) -> None:
        with self._lock:
            self._sockets = []

    def opener(self) -> urllib.request.OpenerDirector:
        """A urllib opener whose connections report their sockets to this cancellation."""
        watch = self.watch

        class WatchedHTTP(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                watch(self.sock)

        class WatchedHTTPS(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                watch(self.sock)

        class HTTPHandler(urllib.request.HTTPHandler):
            def http_open(self, request):
                return self.do_open(WatchedHTTP, request)

        class HTTPSHandler(urllib.request.HTTPSHandler):
            def https_open(self, request):
                return self.do_open(WatchedHTTPS, request, context=self._context)

        return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def download_mnist(folder: str | os.PathLike, progress: Callable[[DownloadProgress], None] | None = None,
                   mirrors: Sequence[str] = MIRRORS, timeout: float = 30.0,
                   should_stop: Callable[[], bool] | None = None,
                   checksums: dict[str, str] | None = None) -> Path:
    """Put the four MNIST files into `folder`; files already there are kept.

    Only a complete, checked download is ever renamed into place, so a file found there is whole.
    """
    folder = Path(folder)
    checksums = MNIST_SHA256 if checksums is None else checksums
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create the data folder {folder}: {error.strerror or error}") from None
    names = [MNIST_FILE_NAMES[role] for role in ROLES]
    for index, name in enumerate(names):
        role = ROLES[index]
        if find_file(folder, role) is not None:
            continue
        report = (lambda done, total, n=name, i=index:
                  progress(DownloadProgress(n, i, len(names), done, total))) if progress else None
        _fetch_from_any_mirror(folder, name, mirrors, timeout, report, should_stop, checksums.get(name))
    return folder


def _fetch_from_any_mirror(folder: Path, name: str, mirrors: Sequence[str], timeout: float,
                           report, should_stop, sha256: str | None) -> None:
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _fetch(url, folder / name, timeout, report, should_stop, sha256)
            return
        except Cancelled:
            raise
        except DownloadError as error:
            if should_stop is not None and should_stop():  # the failure is the cancel breaking the socket
                raise Cancelled(CANCELLED_MESSAGE) from None
            failures.append(f"{url}: {error}")
        finally:
            if isinstance(should_stop, Cancellation):
                should_stop.forget_all()
    raise DownloadError(
        f"could not download {name} from any mirror ({'; '.join(failures)}). Connect to the internet "
        f"and try again, or point --data-dir (or the dataset folder in the window) at a folder holding "
        f"the four MNIST files: {', '.join(MNIST_FILE_NAMES.values())}")


def _fetch(url: str, target: Path, timeout: float, report, should_stop, sha256: str | None) -> None:
    partial = target.with_name(target.name + ".part")
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "mnist-mlp"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    open_url = should_stop.opener().open if isinstance(should_stop, Cancellation) else urllib.request.urlopen
    try:
        with open_url(request, timeout=timeout) as response:
            resumed = offset > 0 and response.status == 206
            if not resumed:
                offset = 0
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length is not None else None
            done = offset
            with open(partial, "ab" if resumed else "wb") as out:
                while True:
                    if should_stop is not None and should_stop():
                        raise Cancelled(CANCELLED_MESSAGE)
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    if report:
                        report(done, total)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            # Our .part is no prefix of the file (a stale one, as long as the file or longer): start
            # over now; failing instead would cost the user a run, and with one mirror a whole download.
            partial.unlink(missing_ok=True)
            return _fetch(url, target, timeout, report, should_stop, sha256)
        raise DownloadError(f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"{reason}") from None
    if should_stop is not None and should_stop():  # cut off by the cancel: keep the .part as it is
        raise Cancelled(CANCELLED_MESSAGE)
    if total is not None and done != total:
        raise DownloadError(f"the transfer stopped after {done} of {total} bytes")
    _verify(partial, sha256)
    os.replace(partial, target)


def _verify(partial: Path, sha256: str | None) -> None:
    """Check the received gzip file by streaming it through the hash: a bomb from a mirror costs
    a chunk of memory and stops at MAX_IDX_BYTES, instead of being inflated whole."""
    digest, inflated = hashlib.sha256(), 0
    try:
        with gzip.open(partial, "rb") as stream:
            while chunk := stream.read(16 * CHUNK):
                inflated += len(chunk)
                if inflated > MAX_IDX_BYTES:
                    raise DownloadError(f"the file received inflates past {MAX_IDX_BYTES:,} bytes")
                digest.update(chunk)
    except (OSError, EOFError, zlib.error, DownloadError) as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, DownloadError):
            raise
        raise DownloadError("the file received is not valid gzip data") from None
    if sha256 is not None and digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise DownloadError("the file received does not match MNIST's checksum")
