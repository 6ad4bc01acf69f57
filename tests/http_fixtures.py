"""Local HTTP servers on 127.0.0.1 that stand in for the MNIST mirrors (tests never reach the network)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class MirrorHandler(BaseHTTPRequestHandler):
    """Serves `server.files` as a mirror does; `server.mode` picks how it behaves.

    plain: 200 with the whole file, Range ignored. range: 206 for a Range request (416 past the
    end). cut: announces the whole length, sends half and hangs up. no-length: no Content-Length.
    slow: the whole file in 4 KB pieces 20 ms apart, so a download is still going when a test acts.
    """

    def do_GET(self):
        server = self.server
        name = self.path.rsplit("/", 1)[-1]
        wanted = self.headers.get("Range")
        content = server.files.get(name)
        if content is None:
            server.log.append((name, wanted, 404))
            self.send_error(404)
            return
        start, status = 0, 200
        if server.mode == "range" and wanted:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            status = 206 if start < len(content) else 416
        server.log.append((name, wanted, status))
        if status == 416:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(content)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = content[start:]
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
        if server.mode != "no-length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.mode == "slow":
            self._send_slowly(body)
        else:
            self.wfile.write(body[:len(body) // 2] if server.mode == "cut" else body)

    def _send_slowly(self, body: bytes) -> None:
        try:
            for offset in range(0, len(body), 4096):
                if self.server.closing.is_set():
                    return
                self.wfile.write(body[offset:offset + 4096])
                self.wfile.flush()
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (cancelled)

    def log_message(self, *args):
        pass


def start_mirror(files: dict[str, bytes], mode: str = "plain") -> ThreadingHTTPServer:
    """A mirror serving `files` (name -> bytes) in a daemon thread: .url, .log [(file, Range, status)].

    Call stop_mirror(server) when done.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
    server.daemon_threads = True
    server.files, server.mode, server.log = files, mode, []
    server.closing = threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    server.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    server.thread.start()
    return server


def stop_mirror(server: ThreadingHTTPServer) -> None:
    server.closing.set()
    server.shutdown()
    server.server_close()
    server.thread.join(5)


def closed_port_url() -> str:
    """A URL on a port where nothing listens: the OS picked it free, and it is closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


class SilentServer:
    """Accepts connections and never answers, as a mirror behind a dropping firewall can.

    A client's request hangs until its timeout, or until close() hangs up on it.
    """

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/mnist/"
        self.accepted = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._connections.append(connection)
            self.accepted.set()

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in the thread
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)
