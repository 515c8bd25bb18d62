"""A real HTTPS receiver on a free loopback port, trusted through a throw-away trustme CA."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

PROJECT = Path(__file__).resolve().parents[1]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class Receiver:
    """Records every request; answers POSTs with queued statuses, then 200."""

    def __init__(self, cert: trustme.LeafCert) -> None:
        self.requests: list[Received] = []
        self.statuses: deque[int] = deque()
        self.head_status = 405
        self.retry_after: str | None = None  # sent with every answer that is not a 2xx
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._cond:
                    receiver.requests.append(
                        Received(self.command, self.path, {k.lower(): v for k, v in
                                                           self.headers.items()}, body)
                    )
                    receiver._cond.notify_all()

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                if receiver.retry_after is not None and not 200 <= status < 300:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

            def do_POST(self):
                with receiver._cond:
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                self._record()
                self._answer(status, b"{}")

            def do_HEAD(self):
                self._record()
                self._answer(receiver.head_status)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}/hooks/parked"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def posts(self) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if r.method == "POST"]

    def wait_for_posts(self, n: int, timeout: float = 10.0) -> list[Received]:
        """Wait (on a condition, with a deadline) until at least ``n`` POSTs arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(r.method == "POST" for r in self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = sum(r.method == "POST" for r in self.requests)
                    raise AssertionError(f"expected {n} POST(s) within {timeout}s, got {got}")
                self._cond.wait(left)
            return [r for r in self.requests if r.method == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture()
def receiver(ca):
    r = Receiver(ca.issue_cert("127.0.0.1", "localhost"))
    yield r
    r.close()


@pytest.fixture()
def untrusted_receiver():
    """A receiver whose certificate comes from a CA the client was not told about."""
    r = Receiver(trustme.CA().issue_cert("127.0.0.1", "localhost"))
    yield r
    r.close()


@pytest.fixture()
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """The distribution installed with pip into a fresh --target directory (not the venv).

    The project is copied first so the build leaves no build/ or egg-info in the source tree.
    """
    work = tmp_path_factory.mktemp("dist")
    src = work / "src"
    shutil.copytree(
        PROJECT, src,
        ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__",
                                      ".pytest_cache", ".ruff_cache"),
    )
    target = work / "target"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--no-input", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target
