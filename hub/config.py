"""Reading and checking the TOML configuration file.

The file has three kinds of table: ``[hub]`` (the core's own settings), ``[plugins.NAME]`` (one
per plugin: ``enabled`` plus the plugin's declared settings) and ``[flows.NAME]`` (what to move
where). See README.md, "Configuration reference".
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .paths import check_paths, default_data_dir
from .settings import Problem, Setting, validate

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

DAY = 86400.0

HUB_SCHEMA: dict[str, Setting] = {
    "data_dir": Setting(str, help="where the store and the vault key live"),
    "store": Setting(str, help="store URL: sqlite:///PATH or postgresql://USER@HOST:PORT/DB"),
    "key_file": Setting(str, help="vault key file (default DATA_DIR/vault.key)"),
    "log_level": Setting(str, default="INFO", choices=LOG_LEVELS, fold_case=True),
    "log_file": Setting(str, help="also write logs to this file"),
    "log_format": Setting(
        str,
        default="text",
        choices=("text", "json"),
        fold_case=True,
        help="text, or json: one JSON object a line",
    ),  # fmt: skip
    "workers": Setting(int, default=4, minimum=1, maximum=256, help="threads writing to sinks"),
    "lease_seconds": Setting(
        float,
        default=30.0,
        minimum=1.0,
        maximum=3600.0,
        help="how long a silent process keeps its sources and claimed records (scale-out)",
    ),
    "plugin_modules": Setting(
        list, default=[], items=str, help="local plugin modules to load by name"
    ),
    "listen": Setting(
        str, help="HOST:PORT of the hub's HTTP listener (hub run), e.g. 127.0.0.1:8480"
    ),
    "tls_cert": Setting(str, help="PEM certificate (chain) of the listener; with tls_key"),
    "tls_key": Setting(str, help="PEM private key of the listener"),
    "console": Setting(bool, default=True, help="serve the web console on the listener"),
    "console_remote": Setting(
        bool, default=False, help="let the console answer clients other than loopback"
    ),
    "max_body": Setting(
        int, default=1048576, minimum=1, maximum=1 << 30, help="largest request body, bytes (413)"
    ),
}

FLOW_SCHEMA: dict[str, Setting] = {
    "source": Setting(str, required=True, help="name of a registered source"),
    "sink": Setting(str, required=True, help="name of a registered sink"),
    "matcher": Setting(str, help="name of a registered matcher"),
    "mapping": Setting(str, help="name of a registered mapping"),
    "enabled": Setting(bool, default=True),
    "poll_interval": Setting(
        float, default=60.0, minimum=0, maximum=DAY, help="seconds between source passes"
    ),
    "max_attempts": Setting(
        int, default=8, minimum=1, maximum=1000, help="attempts before a record is parked"
    ),
    "retry_base": Setting(
        float, default=1.0, minimum=0, maximum=DAY, help="first retry delay, seconds"
    ),
    "retry_cap": Setting(
        float, default=600.0, minimum=0, maximum=7 * DAY, help="longest retry delay, seconds"
    ),
    "batch_size": Setting(int, minimum=1, maximum=10000, help="override the sink's batch size"),
    "source_options": Setting(dict, default={}),
    "sink_options": Setting(dict, default={}),
    "matcher_options": Setting(dict, default={}),
    "mapping_options": Setting(dict, default={}),
}

PLUGIN_CORE_KEYS = ("enabled",)


@dataclass
class FlowConfig:
    name: str
    source: str
    sink: str
    matcher: str | None
    mapping: str | None
    enabled: bool
    poll_interval: float
    max_attempts: int
    retry_base: float
    retry_cap: float
    batch_size: int | None
    source_options: dict[str, Any]
    sink_options: dict[str, Any]
    matcher_options: dict[str, Any]
    mapping_options: dict[str, Any]


@dataclass
class HubConfig:
    path: Path
    exists: bool
    hub: dict[str, Any]
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: dict[str, FlowConfig] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        if self.hub.get("data_dir"):
            return self._rel(self.hub["data_dir"])
        return default_data_dir()

    @property
    def store_url(self) -> str:
        env = os.environ.get("HUB_STORE_URL")
        if env:
            return env
        if self.hub.get("store"):
            return self.hub["store"]
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def key_file(self) -> Path:
        if self.hub.get("key_file"):
            return self._rel(self.hub["key_file"])
        return self.data_dir / "vault.key"

    def _rel(self, value: str) -> Path:
        p = Path(os.path.expandvars(value)).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)

    def enabled_plugins(self) -> list[str]:
        return [n for n, t in self.plugins.items() if t.get("enabled") is True]

    def disabled_plugins(self) -> list[str]:
        return [n for n, t in self.plugins.items() if t.get("enabled") is False]


def fail(path: Path, problems: list[Problem]) -> ConfigError:
    lines = "\n".join(f"  - {p}" for p in problems)
    return ConfigError(f"configuration error in {path}:\n{lines}")


def load(path: Path, *, required: bool = False) -> HubConfig:
    """Parse and check the file's own structure (plugins' sections are checked on load)."""
    path = Path(path)
    try:
        exists = path.exists()
    except OSError as exc:  # a name too long, a loop of links
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    if not exists:
        if required:
            raise ConfigError(
                f"configuration file {path} does not exist; create one with `hub init`"
            )
        return HubConfig(path=path, exists=False, hub=validate({}, HUB_SCHEMA, "hub").values)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"configuration error in {path}: not UTF-8 text (byte {exc.start}); "
            "save the file as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration error in {path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None

    problems: list[Problem] = []
    for key in raw:
        if key not in ("hub", "plugins", "flows"):
            problems.append(
                Problem(key, "unknown table (expected [hub], [plugins.NAME], [flows.NAME])")
            )
    hub_table = _table(raw, "hub", "[hub]", problems)
    hub = validate(hub_table, HUB_SCHEMA, "hub")
    problems += hub.problems

    plugins: dict[str, dict[str, Any]] = {}
    for name, table in _table(raw, "plugins", "[plugins.NAME] tables", problems).items():
        if not isinstance(table, dict):
            problems.append(Problem(f"plugins.{name}", "expected a table [plugins.NAME]"))
            continue
        if "enabled" in table and not isinstance(table["enabled"], bool):
            problems.append(Problem(f"plugins.{name}.enabled", "expected true or false"))
        plugins[name] = table

    flows: dict[str, FlowConfig] = {}
    for name, table in _table(raw, "flows", "[flows.NAME] tables", problems).items():
        if not isinstance(table, dict):
            problems.append(Problem(f"flows.{name}", "expected a table [flows.NAME]"))
            continue
        v = validate(table, FLOW_SCHEMA, f"flows.{name}")
        if not v.problems and v.values["retry_base"] > v.values["retry_cap"]:
            v.problems.append(
                Problem(
                    f"flows.{name}.retry_base",
                    f"{v.values['retry_base']:g} is more than retry_cap "
                    f"({v.values['retry_cap']:g}); the first delay cannot exceed the longest",
                )
            )
        problems += v.problems
        if not v.problems:
            flows[name] = FlowConfig(name=name, **v.values)
    cfg = HubConfig(path=path, exists=True, hub=hub.values, plugins=plugins, flows=flows)
    if not hub.problems:
        problems += check_paths(cfg, hub_table)
    if problems:
        raise fail(path, problems)
    return cfg


def _table(raw: dict[str, Any], key: str, expected: str, problems: list[Problem]) -> dict:
    value = raw.get(key, {})
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        got = f"an array of tables [[{key}]]"
    else:
        got = _describe(value)
    problems.append(Problem(key, f"expected {expected}, got {got}"))
    return {}


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    return f"{type(value).__name__} {value!r}"
