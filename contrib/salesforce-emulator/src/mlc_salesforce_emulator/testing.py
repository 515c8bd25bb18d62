"""Pytest support: run the emulator as a real subprocess on free loopback ports.

Use it from any suite with ``pytest_plugins = ["mlc_salesforce_emulator.testing"]``; the
``salesforce_emulator`` fixture (one per session) and ``salesforce_emulator_factory`` (start
extra emulators with their own options) yield :class:`SalesforceEmulatorHandle` objects.
Only the standard library is used here, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_CLIENT_ID = "demo-client-id"
DEFAULT_CLIENT_SECRET = "demo-client-secret"
START_TIMEOUT = 30.0
TEST_ARGS = ("--keepalive", "0.3", "--idle-stream-timeout", "30")


class AdminClient:
    """Calls the emulator's ``/emulator/...`` admin API."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext | None) -> None:
        self.base_url = base_url
        self.ssl_context = ssl_context

    def request(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ssl_context, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, body=None):
        return self.request("POST", path, body if body is not None else {})

    def seed(self, doc: dict) -> dict:
        return self.post("/emulator/seed", doc)

    def stats(self) -> dict:
        return self.get("/emulator/stats")

    def set_clock(self, now: str | None = None, advance_seconds: float | None = None) -> dict:
        body = {}
        if now is not None:
            body["now"] = now
        if advance_seconds is not None:
            body["advance_seconds"] = advance_seconds
        return self.post("/emulator/clock", body)

    def profile(self, **changes) -> dict:
        return self.request("PATCH", "/emulator/profile", changes)

    def add_fault(self, **rule) -> dict:
        return self.post("/emulator/faults", rule)

    def clear_faults(self) -> dict:
        return self.request("DELETE", "/emulator/faults")

    def inject_gap(self, obj: str, change_type: str, record_ids=(), **extra) -> dict:
        return self.post("/emulator/faults/gap", {"object": obj, "changeType": change_type,
                                                  "recordIds": list(record_ids), **extra})

    def drop_streams(self) -> dict:
        return self.post("/emulator/faults/drop-streams")

    def revoke_tokens(self, token: str | None = None) -> dict:
        return self.post("/emulator/faults/revoke-tokens", {"token": token} if token else {})


@dataclass
class SalesforceEmulatorHandle:
    instance_url: str
    grpc_target: str
    ca_path: str | None
    org_id: str
    data_dir: Path
    process: subprocess.Popen
    admin: AdminClient
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.ca_path) if self.ca_path else None

    def token(self, client_id: str | None = None, client_secret: str | None = None) -> dict:
        """A client-credentials token response from the emulator."""
        data = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": client_id or self.client_id,
            "client_secret": client_secret or self.client_secret}).encode()
        req = urllib.request.Request(self.instance_url + "/services/oauth2/token", data=data,
                                     method="POST")
        with urllib.request.urlopen(req, context=self.ssl_context(), timeout=30) as resp:
            return json.loads(resp.read())

    def access_token(self) -> str:
        return self.token()["access_token"]


def _free_port_file(data_dir: Path, process: subprocess.Popen, deadline: float) -> dict:
    path = data_dir / "endpoints.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited early with code {process.returncode}")
        if path.exists():
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                pass
        time.sleep(0.05)
    raise TimeoutError("emulator did not write endpoints.json in time")


def _wait_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not accept connections in time")


def stop_emulator(process: subprocess.Popen, timeout: float = 15.0) -> int:
    """SIGTERM the emulator and wait for it to save its state."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


@contextlib.contextmanager
def run_salesforce_emulator(data_dir: Path, *args: str, timeout: float = START_TIMEOUT,
                            test_defaults: bool = True) -> Iterator[SalesforceEmulatorHandle]:
    """Start the emulator on free ports in ``data_dir``; stop it (state saved) on exit."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "endpoints.json").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "mlc_salesforce_emulator", "--data-dir", str(data_dir),
           "--port", "0", "--grpc-port", "0", "--log-level", "WARNING",
           *(TEST_ARGS if test_defaults else ()), *args]
    log_file = open(data_dir / "emulator.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + timeout
        info = _free_port_file(data_dir, process, deadline)
        _wait_port(info["http_port"], deadline)
        _wait_port(info["grpc_port"], deadline)
        ctx = ssl.create_default_context(cafile=info["ca_path"]) if info["ca_path"] else None
        handle = SalesforceEmulatorHandle(
            instance_url=info["instance_url"], grpc_target=info["grpc_target"],
            ca_path=info["ca_path"], org_id=info["org_id"], data_dir=data_dir, process=process,
            admin=AdminClient(info["instance_url"], ctx))
        yield handle
    finally:
        stop_emulator(process)
        log_file.close()


@pytest.fixture(scope="session")
def salesforce_emulator(tmp_path_factory) -> Iterator[SalesforceEmulatorHandle]:
    """One emulator (default org profile) shared by the test session."""
    with run_salesforce_emulator(tmp_path_factory.mktemp("salesforce-emulator")) as handle:
        yield handle


@pytest.fixture
def salesforce_emulator_factory(tmp_path):
    """Start emulators with extra command-line options: ``factory("--multi-currency")``."""
    with contextlib.ExitStack() as stack:
        counter = iter(range(1000))

        def start(*args: str, data_dir: Path | None = None, **kw) -> SalesforceEmulatorHandle:
            directory = data_dir or tmp_path / f"sf-{next(counter)}"
            return stack.enter_context(run_salesforce_emulator(directory, *args, **kw))

        yield start
