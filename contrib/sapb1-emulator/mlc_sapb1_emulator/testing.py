"""pytest fixtures running the emulator as a real subprocess on a free loopback port (picked by
the emulator itself and reported through ``--port-file``).

Use from another test suite with ``pytest_plugins = ["mlc_sapb1_emulator.testing"]``:

- ``sapb1_emulator``: one emulator for the test session (HTTPS, fast webhook retries);
- ``sapb1_emulator_factory``: ``factory(*extra_cli_args, seed=dict_or_None)`` starts more,
  each stopped at the end of the test.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

READY_TIMEOUT = 60.0


def unique_code(prefix: str = "T") -> str:
    """A key no other test uses (``prefix`` + 10 hex digits)."""
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


@dataclass
class SapB1Emulator:
    """A running emulator: URLs, CA, credentials, and helpers for the admin API."""

    data_dir: Path
    args: list[str]
    plain_http: bool = False
    port: int = 0
    process: subprocess.Popen | None = None
    company: str = "SBODEMOUS"
    user: str = "manager"
    password: str = "manager"
    _clients: list = field(default_factory=list)

    @property
    def root_url(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/b1s/v2/"

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "ca.pem"

    def ssl_context(self) -> ssl.SSLContext | bool:
        return False if self.plain_http else ssl.create_default_context(cafile=str(self.ca_path))

    def client(self, **kwargs) -> httpx.Client:
        """An httpx client for ``/b1s/v2/`` trusting the emulator's CA (not logged in)."""
        kwargs.setdefault("timeout", 30.0)
        c = httpx.Client(base_url=self.base_url, verify=self.ssl_context(), **kwargs)
        self._clients.append(c)
        return c

    def session(self, **kwargs) -> httpx.Client:
        """A logged-in client."""
        c = self.client(**kwargs)
        r = c.post("Login", json={"CompanyDB": self.company, "UserName": self.user,
                                  "Password": self.password})
        r.raise_for_status()
        return c

    def admin(self, method: str, path: str, payload: object = None) -> httpx.Response:
        """Call ``/emulator/<path>`` and return the response."""
        with httpx.Client(verify=self.ssl_context(), timeout=60.0) as c:
            return c.request(method, f"{self.root_url}/emulator/{path}",
                             content=None if payload is None else json.dumps(payload))

    def admin_json(self, method: str, path: str, payload: object = None) -> dict:
        r = self.admin(method, path, payload)
        assert r.status_code < 300, r.text
        return r.json()

    # process control ---------------------------------------------------------
    def start(self, timeout: float = READY_TIMEOUT) -> None:
        """Start on a port the emulator picks itself (``--port 0``, reported through
        ``--port-file``: no race with other processes), then poll the admin API until ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / "port"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "mlc_sapb1_emulator", "--port", "0", "--port-file",
               str(port_file), "--data-dir", str(self.data_dir), *self.args]
        out = open(self.data_dir / "emulator.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                        env=os.environ | {"PYTHONUNBUFFERED": "1"})
        out.close()
        if not self._wait_ready(port_file, timeout):
            self.stop()
            log = (self.data_dir / "emulator.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"SAP B1 emulator did not become ready:\n{log}")

    def _wait_ready(self, port_file: Path, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if not port_file.exists():
                time.sleep(0.05)
                continue
            self.port = int(port_file.read_text())
            try:
                if self.admin("GET", "health").status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (the emulator saves its state), then wait for the exit."""
        for c in self._clients:
            c.close()
        self._clients.clear()
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def launch_emulator(data_dir: Path, args: list[str], seed: dict | None = None) -> SapB1Emulator:
    """Start an emulator with extra CLI arguments (and a seed document) and wait until ready."""
    args = list(args)
    if seed is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        seed_path = data_dir / "seed.json"
        seed_path.write_text(json.dumps(seed))
        args += ["--seed", str(seed_path)]
    emu = SapB1Emulator(data_dir, args, plain_http="--plain-http" in args)
    emu.start()
    return emu


@pytest.fixture(scope="session")
def sapb1_emulator(tmp_path_factory):
    emu = launch_emulator(tmp_path_factory.mktemp("sapb1"),
                          ["--webhook-retry-scale", "0.01", "--seed", "demo"], None)
    yield emu
    emu.stop()


@pytest.fixture
def sapb1_emulator_factory(tmp_path):
    started: list[SapB1Emulator] = []

    def factory(*args: str, seed: dict | None = None, data_dir: Path | None = None):
        emu = launch_emulator(data_dir or tmp_path / f"sapb1-{len(started)}", list(args), seed)
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        emu.stop()
