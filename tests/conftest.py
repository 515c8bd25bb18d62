"""Shared fixtures: a store on SQLite and (when configured) PostgreSQL, configs, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

PG_URL = os.environ.get("HUB_TEST_PG_URL")  # e.g. postgresql://postgres@127.0.0.1:5432/test
REQUIRE_PG = os.environ.get("HUB_TEST_REQUIRE_PG") == "1"


def _pg_admin():
    import psycopg2

    p = urlparse(PG_URL)
    conn = psycopg2.connect(host=p.hostname, port=p.port or 5432, user=p.username,
                            password=p.password, dbname=p.path.lstrip("/"))
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of its own for this test run, dropped at the end."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("HUB_TEST_REQUIRE_PG=1 but HUB_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL tests need HUB_TEST_PG_URL (see README, Testing)")
    name = f"hub_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = _pg_admin()
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_URL} is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable: {exc}")
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    p = urlparse(PG_URL)
    yield p._replace(path=f"/{name}").geturl()
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def _reset_pg(url: str) -> None:
    import psycopg2

    p = urlparse(url)
    conn = psycopg2.connect(host=p.hostname, port=p.port or 5432, user=p.username,
                            password=p.password, dbname=p.path.lstrip("/"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (t,) in cur.fetchall():
            cur.execute(f'DROP TABLE IF EXISTS "{t}" CASCADE')
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, monkeypatch):
    """A store URL, once per backend; also exported as HUB_STORE_URL for the CLI."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store' / 'hub.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        _reset_pg(url)
    monkeypatch.setenv("HUB_STORE_URL", url)
    yield url
    from hub.store.models import database_proxy

    if database_proxy.obj is not None and not database_proxy.obj.is_closed():
        database_proxy.obj.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    from hub import secrets

    for var in ("HUB_CONFIG", "HUB_SECRET_KEY", "HUB_DATA_DIR", "HUB_LOG_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    secrets.registry.clear()
    yield
    secrets.registry.clear()


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

    def write_config(self, text: str = "", *, flow: dict | None = None, plugin: dict | None = None,
                     hub_extra: str = "") -> Path:
        plugin = {"endpoint": "https://right.example", **(plugin or {})}
        flow = {"poll_interval": 0.2, "max_attempts": 3, "retry_base": 0.01, "retry_cap": 0.05,
                **(flow or {})}
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
            [sys.executable, "-m", "hub", *args], input=input, capture_output=True, text=True,
            timeout=timeout, env=self.env(**extra), cwd=self.root,
        )

    def popen(self, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=self.env(**extra), cwd=self.root,
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


@pytest.fixture
def hubenv(tmp_path, store_url):
    return HubEnv(tmp_path, store_url)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Wait until ``predicate()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
