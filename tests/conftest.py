"""Shared fixtures: a store on SQLite and (when configured) PostgreSQL, configs, the CLI."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

TESTS = Path(__file__).parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from hubtesting import HubEnv, pg_connect, reset_pg  # noqa: E402

PG_URL = os.environ.get("HUB_TEST_PG_URL")  # e.g. postgresql://postgres@127.0.0.1:5432/test
REQUIRE_PG = os.environ.get("HUB_TEST_REQUIRE_PG") == "1"


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of its own for this test run, dropped at the end."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("HUB_TEST_REQUIRE_PG=1 but HUB_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL tests need HUB_TEST_PG_URL (see README, Quick start)")
    name = f"hub_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = pg_connect(PG_URL)
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


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, monkeypatch):
    """A store URL, once per backend; also exported as HUB_STORE_URL for the CLI."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store' / 'hub.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        reset_pg(url)
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


@pytest.fixture
def hubenv(tmp_path, store_url):
    return HubEnv(tmp_path, store_url)
