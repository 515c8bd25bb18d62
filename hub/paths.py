"""Default locations of the config file and the data directory."""

from __future__ import annotations

import os
from pathlib import Path

APP = "ml-connector"


def default_config_path() -> Path:
    """``$HUB_CONFIG``, else ``./hub.toml`` when it exists, else the user config directory."""
    env = os.environ.get("HUB_CONFIG")
    if env:
        return Path(env).expanduser()
    local = Path("hub.toml")
    if local.exists():
        return local
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP / "hub.toml"


def default_data_dir() -> Path:
    env = os.environ.get("HUB_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP
