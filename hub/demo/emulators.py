"""Starting the two emulators as processes of their own, on fixed loopback ports, so the demo
directory's config keeps working when they are started again from there."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..errors import HubError

START_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1


def stop_with_parent(parent: int) -> None:
    """In a child before exec (``preexec_fn``): SIGTERM when the process that started it dies,
    even by SIGKILL, so a killed ``hub demo`` leaves no emulator or ``hub run`` behind
    (Linux's ``prctl(PR_SET_PDEATHSIG)``; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the call above: nobody will signal
        os._exit(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


@dataclass
class Emulator:
    name: str
    command: list[str]
    data_dir: Path
    process: subprocess.Popen | None = None

    def start(self, tied: bool = True) -> None:
        """``tied``: the emulator stops when this process dies (``--keep-running`` unties it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "emulator.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            self.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # Ctrl-C on the demo is handled by the demo, not passed on
            preexec_fn=functools.partial(stop_with_parent, os.getpid()) if tied else None,
        )
        log.close()

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise HubError(
                f"the {self.name} emulator exited with code {self.process.returncode}; "
                f"see {self.data_dir / 'emulator.log'}"
            )

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM: the emulator saves its state, so it can be started again from its dir."""
        p = self.process
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


class SapB1Emulator(Emulator):
    def __init__(self, data_dir: Path, port: int, seed: Path | None = None) -> None:
        cmd = [sys.executable, "-m", "mlc_sapb1_emulator", "--port", str(port),
               "--data-dir", str(data_dir), "--log-level", "WARNING"]  # fmt: skip
        if seed is not None:
            cmd += ["--seed", str(seed)]
        super().__init__("SAP B1", cmd, data_dir)
        self.port = port

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/b1s/v2/"

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "ca.pem"

    def admin(self) -> httpx.Client:
        tls = ssl.create_default_context(cafile=str(self.ca_path))
        return httpx.Client(base_url=f"https://localhost:{self.port}", verify=tls, timeout=30)

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self.check_alive()
            if self.ca_path.exists() and _accepts(self.port):
                try:
                    with self.admin() as c:
                        if c.get("/emulator/health").status_code == 200:
                            return
                except (httpx.HTTPError, ssl.SSLError):
                    pass
            time.sleep(0.1)
        raise HubError("the SAP B1 emulator did not become ready in time")


class SalesforceEmulator(Emulator):
    def __init__(self, data_dir: Path, port: int, grpc_port: int, seed: Path | None = None):
        cmd = [sys.executable, "-m", "mlc_salesforce_emulator", "--data-dir", str(data_dir),
               "--port", str(port), "--grpc-port", str(grpc_port), "--multi-currency",
               "--keepalive", "5", "--log-level", "WARNING"]  # fmt: skip
        if seed is not None:
            cmd += ["--seed", str(seed)]
        super().__init__("Salesforce", cmd, data_dir)
        self.port, self.grpc_port = port, grpc_port
        self.endpoints: dict = {}

    @property
    def instance_url(self) -> str:
        return self.endpoints.get("instance_url") or f"https://127.0.0.1:{self.port}"

    @property
    def grpc_target(self) -> str:
        return self.endpoints.get("grpc_target") or f"127.0.0.1:{self.grpc_port}"

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "ca.pem"

    def admin(self) -> httpx.Client:
        tls = ssl.create_default_context(cafile=str(self.ca_path))
        return httpx.Client(base_url=self.instance_url, verify=tls, timeout=30)

    def start(self, tied: bool = True) -> None:
        (self.data_dir / "endpoints.json").unlink(missing_ok=True)
        super().start(tied)

    def wait_ready(self, deadline: float) -> None:
        path = self.data_dir / "endpoints.json"
        while time.monotonic() < deadline:
            self.check_alive()
            if path.exists():
                try:
                    self.endpoints = json.loads(path.read_text())
                except json.JSONDecodeError:
                    self.endpoints = {}
                if self.endpoints and _accepts(self.port) and _accepts(self.grpc_port):
                    return
            time.sleep(0.1)
        raise HubError("the Salesforce emulator did not become ready in time")
