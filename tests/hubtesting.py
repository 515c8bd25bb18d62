"""Helpers for the hub's own tests: a temporary installation driven through the CLI."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

TESTS = Path(__file__).parent


def pg_connect(url: str):
    """An autocommit connection to the database ``url`` names."""
    import psycopg2

    p = urlparse(url)
    conn = psycopg2.connect(
        host=p.hostname,
        port=p.port or 5432,
        user=p.username,
        password=p.password,
        dbname=p.path.lstrip("/"),
    )
    conn.autocommit = True
    return conn


def reset_pg(url: str) -> None:
    conn = pg_connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (t,) in cur.fetchall():
            cur.execute(f'DROP TABLE IF EXISTS "{t}" CASCADE')
    conn.close()


class HubEnv:
    """A temporary hub installation: config file, data dir, and a way to run the CLI."""

    def __init__(self, root: Path, store_url: str | None) -> None:
        self.root = root
        self.data = root / "data"
        self.config = root / "hub.toml"
        self.store_url = store_url
        self.sink_log = root / "writes.jsonl"
        self.source_file = root / "changes.jsonl"
        self.source_file.write_text("")

    def write_changes(self, changes: list[dict], append: bool = False) -> None:
        mode = "a" if append else "w"
        with open(self.source_file, mode) as fh:
            for c in changes:
                fh.write(json.dumps(c) + "\n")

    def write_config(
        self,
        text: str = "",
        *,
        flow: dict | None = None,
        plugin: dict | None = None,
        hub_extra: str = "",
    ) -> Path:
        plugin = {"endpoint": "https://right.example", **(plugin or {})}
        flow = {
            "poll_interval": 0.2,
            "max_attempts": 3,
            "retry_base": 0.01,
            "retry_cap": 0.05,
            **(flow or {}),
        }
        sink_opts = {"log": str(self.sink_log), **flow.pop("sink_options", {})}
        source_opts = {"path": str(self.source_file), **flow.pop("source_options", {})}
        body = [
            "[hub]",
            f'data_dir = "{self.data}"',
            'plugin_modules = ["hubtest_plugin"]',
            "workers = 4",
            hub_extra,
            "[plugins.hubtest_plugin]",
            "enabled = true",
        ]
        body += [f"{k} = {_toml(v)}" for k, v in plugin.items()]
        source = flow.pop("source", "hubtest.file")
        sink = flow.pop("sink", "hubtest.scripted")
        body += ["[flows.things]", f'source = "{source}"', f'sink = "{sink}"']
        body += [f"{k} = {_toml(v)}" for k, v in flow.items()]
        body += ["[flows.things.source_options]"]
        body += [f"{k} = {_toml(v)}" for k, v in source_opts.items()]
        body += ["[flows.things.sink_options]"]
        body += [f"{k} = {_toml(v)}" for k, v in sink_opts.items()]
        self.config.write_text(text or "\n".join(body) + "\n")
        return self.config

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH")) if p)
        env["HUB_CONFIG"] = str(self.config)
        if self.store_url:
            env["HUB_STORE_URL"] = self.store_url
        env.update(extra)
        return env

    def run(self, *args: str, input: str | None = None, timeout: float = 60, **extra: str):
        return subprocess.run(
            [sys.executable, "-m", "hub", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**extra),
            cwd=self.root,
        )

    def popen(self, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(**extra),
            cwd=self.root,
        )

    def writes(self) -> list[dict]:
        if not self.sink_log.exists():
            return []
        return [json.loads(line) for line in self.sink_log.read_text().splitlines() if line]

    def load_hub(self):
        from hub import config
        from hub.app import Hub

        hub = Hub(config.load(self.config, required=True))
        hub.load_plugins()
        return hub


def _toml(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f'"{k}" = {_toml(x)}' for k, x in v.items()) + "}"
    return json.dumps(v)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Wait until ``predicate()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class TcpProxy:
    """A loopback TCP proxy a test can cut (every connection dropped, new ones refused) and
    restore on the same port: a database outage without touching the database server."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        ls.settimeout(0.1)
        self.port = ls.getsockname()[1]
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()
        return self

    def _accept(self, ls: socket.socket) -> None:
        while self._listener is ls:
            try:
                client, _ = ls.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """The outage: refuse new connections and drop every open one."""
        ls, self._listener = self._listener, None
        if ls is not None:
            ls.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def url(self, database_url: str) -> str:
        p = urlparse(database_url)
        netloc = p.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return p._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host).geturl()


def metric_samples(text: str) -> dict[tuple, float]:
    """A Prometheus exposition as ``{(name, ((label, value), ...)): value}``."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out
