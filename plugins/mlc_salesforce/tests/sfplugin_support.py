"""Helpers of the Salesforce plugin's tests (a distinctive module name: importlib mode)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import tomli_w

from hub import ComponentContext

BASE = "https://acme.my.salesforce.com"
DATA = BASE + "/services/data/v63.0/"
TOKEN_URL = BASE + "/services/oauth2/token"
INTROSPECT_URL = BASE + "/services/oauth2/introspect"
ORG_ID = "00D000000000001EAA"
USER_ID = "005000000000001AAA"
SECRET = "s3cr3t-never-shown"


def plugin_settings(emu, **overrides: Any) -> dict[str, Any]:
    """Resolved ``[plugins.salesforce]`` settings for an emulator handle."""
    host, port = emu.grpc_target.rsplit(":", 1)
    values = {
        "instance_url": emu.instance_url,
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "api_version": "63.0",
        "pubsub_endpoint": f"{host}:{port}",
        "ca_bundle": emu.ca_path,
        "session_timeout": 7200,
        "daily_api_budget": 0.8,
    }
    values.update(overrides)
    return values


def unit_settings(**overrides: Any) -> dict[str, Any]:
    values = {
        "instance_url": BASE,
        "client_id": "cid",
        "client_secret": SECRET,
        "api_version": "63.0",
        "pubsub_endpoint": "api.pubsub.salesforce.com:7443",
        "ca_bundle": None,
        "session_timeout": 7200,
        "daily_api_budget": 0.8,
    }
    values.update(overrides)
    return values


def token_body(token: str = "00D!AT1", issued_ms: int | None = None) -> dict:
    issued = issued_ms if issued_ms is not None else int(time.time() * 1000)
    return {
        "access_token": token,
        "signature": "sig",
        "scope": "api",
        "instance_url": BASE,
        "id": f"https://login.salesforce.com/id/{ORG_ID}/{USER_ID}",
        "token_type": "Bearer",
        "issued_at": str(issued),
    }


def context(settings: dict, flow: str = "f") -> ComponentContext:

    return ComponentContext(
        flow, "salesforce", settings, threading.Event(), logging.getLogger(flow)
    )


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class HubCli:
    """A temporary hub configuration using the Salesforce plugin, driven through ``hub``."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.root = root
        self.config = root / "hub.toml"
        self.settings = dict(settings)
        self.flows: dict[str, dict] = {}
        self.other_plugins: dict[str, dict] = {}

    def write(self) -> None:
        plugin = {k: v for k, v in self.settings.items() if v is not None}
        plugin["client_secret"] = {"env": "TEST_SF_SECRET"}
        doc = {
            "hub": {"data_dir": str(self.root / "data"), "workers": 2},
            "plugins": {"salesforce": {"enabled": True, **plugin}, **self.other_plugins},
            "flows": self.flows,
        }
        self.config.write_text(tomli_w.dumps(doc))

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        self.write()
        full_env = {
            **os.environ,
            "HUB_CONFIG": str(self.config),
            "TEST_SF_SECRET": self.settings["client_secret"],
            **env,
        }
        full_env.pop("HUB_STORE_URL", None)
        return subprocess.run(
            [sys.executable, "-m", "hub", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )

    def json(self, *args: str, **env: str) -> Any:
        result = self.run(*args, "--json", **env)
        assert result.returncode in (0, 4), result.stderr
        return json.loads(result.stdout)


def options_for(cls, **values: Any) -> dict[str, Any]:
    """A component's options as the core hands them: declared defaults, then ``values``."""
    opts = {key: setting.default for key, setting in cls.options.items()}
    opts.update(values)
    return opts
