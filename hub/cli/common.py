"""Shared pieces of the command line: exit codes, the lazily built hub, output helpers."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from .. import config as config_mod
from ..app import Hub
from ..paths import default_config_path
from ..secrets import RedactingFilter, redact

# Exit codes (documented in README.md, "Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1  # unexpected error, or a flow stopped by a fatal error
EXIT_USAGE = 2  # click's own: bad arguments
EXIT_CONFIG = 3  # bad configuration, missing secret, unusable vault key
EXIT_INCOMPLETE = 4  # records parked or waiting for a retry; a ping check failed
EXIT_STORE = 5  # the store cannot be opened or upgraded
EXIT_NOT_FOUND = 6  # no record / credential / flow of that name
EXIT_INTERRUPTED = 130  # a second stop signal

EPILOG_CODES = """\b
Exit codes: 0 ok; 1 failure; 2 usage error; 3 configuration error;
4 records parked or waiting for a retry, or a ping check failed;
5 store unavailable; 6 not found; 130 interrupted.
"""

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class State:
    """What every command receives (``ctx.obj``)."""

    def __init__(self, config_path: Path | None, log_level: str | None) -> None:
        self.config_path = config_path
        self.log_level = log_level
        self._hub: Hub | None = None
        self._config: config_mod.HubConfig | None = None

    @property
    def path(self) -> Path:
        return self.config_path or default_config_path()

    def config(self, *, required: bool = False) -> config_mod.HubConfig:
        if self._config is None or (required and not self._config.exists):
            self._config = config_mod.load(self.path, required=required)
            setup_logging(
                self.log_level or self._config.hub.get("log_level") or "INFO",
                self._config.hub.get("log_file"),
            )
        return self._config

    def hub(self, *, required: bool = False) -> Hub:
        if self._hub is None:
            self._hub = Hub(self.config(required=required))
        return self._hub

    def close(self) -> None:
        if self._hub is not None:
            self._hub.close()


def setup_logging(level: str, log_file: str | None = None) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_hub_handler", False):
            root.removeHandler(h)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).expanduser().parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(Path(log_file).expanduser(), encoding="utf-8"))
    for h in handlers:
        h.setFormatter(logging.Formatter(LOG_FORMAT))
        h.addFilter(RedactingFilter())
        h._hub_handler = True  # type: ignore[attr-defined]
        root.addHandler(h)
    root.setLevel(level.upper())


def emit_json(data: Any) -> None:
    click.echo(json.dumps(redact(data), indent=2, sort_keys=True, default=str))


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def parse_since(text: str) -> float:
    """``2h``, ``30m``, ``1d``, ``45s`` ago, or an ISO-8601 time (UTC when no offset)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    t = text.strip()
    if t and t[-1] in units and t[:-1].replace(".", "", 1).isdigit():
        return (datetime.now(UTC) - timedelta(seconds=float(t[:-1]) * units[t[-1]])).timestamp()
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected a duration such as 2h, 30m, 1d or a time such as 2026-11-26T08:00"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


pass_state = click.make_pass_decorator(State)
