"""Shared pieces of the command line: exit codes, the lazily built hub, output helpers."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import peewee as pw

from .. import config as config_mod
from .. import secrets
from ..app import Hub
from ..errors import ConfigError, HubError
from ..ops import logjson
from ..ops.logjson import JsonLogFormatter
from ..paths import default_config_path
from ..secrets import RedactingFilter, redact, redact_text
from ..settings import is_secret_ref

log = logging.getLogger(__name__)

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
        self._masked = False

    @property
    def path(self) -> Path:
        return self.config_path or default_config_path()

    def config(self, *, required: bool = False) -> config_mod.HubConfig:
        """The checked config. A path given with --config or $HUB_CONFIG must exist."""
        required = required or self.config_path is not None
        if self._config is None or (required and not self._config.exists):
            cfg = config_mod.load(self.path, required=required)
            setup_logging(
                self.log_level or cfg.hub.get("log_level") or "INFO",
                cfg.hub.get("log_file"),
                cfg.hub.get("log_format") or "text",
            )
            self._config = cfg
        return self._config

    def hub(self, *, required: bool = False, mask_stored: bool = False) -> Hub:
        """The hub; ``mask_stored`` for commands that print what the store holds."""
        if self._hub is None:
            self._hub = Hub(self.config(required=required))
        if mask_stored and not self._masked:
            self._masked = True
            mask_known_secrets(self._hub)
        return self._hub

    def close(self) -> None:
        if self._hub is not None:
            self._hub.close()


def mask_known_secrets(hub: Hub) -> None:
    """Register every secret the hub can know of for masking, without needing any of them.

    Commands that never resolve the plugins' settings (``status``, ``audit``) still print
    stored text a plugin wrote (checkpoints, summaries, errors): every secret reference in the
    config and every vault entry the key opens is resolved here for masking only. Anything
    unresolvable (an unset variable, no vault key) is skipped: the commands that need it
    report it.
    """
    for table in hub.config.plugins.values():
        for value in table.values():
            if is_secret_ref(value):
                try:
                    hub.resolve_secret(value)
                except (HubError, ValueError):
                    continue
    try:
        secrets.registry.extend(hub.vault.values())
    except (HubError, pw.PeeweeException, OSError) as exc:
        log.debug("vault entries not masked: %s", exc)


def setup_logging(level: str, log_file: str | None = None, log_format: str = "text") -> None:
    root = logging.getLogger()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        path = Path(log_file).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"hub.log_file: cannot write {path}: {exc.strerror}") from None
    for h in list(root.handlers):
        if getattr(h, "_hub_handler", False):
            root.removeHandler(h)
    for h in handlers:
        json_lines = logjson.active = log_format.lower() == "json"
        h.setFormatter(JsonLogFormatter() if json_lines else logging.Formatter(LOG_FORMAT))
        h.addFilter(RedactingFilter())
        h._hub_handler = True  # type: ignore[attr-defined]
        root.addHandler(h)
    root.setLevel(level.upper())


def echo(text: str = "", *, err: bool = False) -> None:
    """``click.echo`` with every known secret masked."""
    click.echo(redact_text(text), err=err)


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
