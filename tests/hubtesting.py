"""Helpers for the hub's own tests: a temporary installation driven through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
