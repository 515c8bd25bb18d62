"""Default locations of the config file and the data directory; checks of configured paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import HubConfig
    from .settings import Problem

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


NAME_MAX = 255  # bytes in one path component (Linux, macOS, Windows)
PATH_MAX = 4096  # bytes in a whole path (Linux)


def path_problem(path: Path, *, directory: bool, writable: bool) -> str | None:
    """What makes ``path`` unusable as a directory (or a file) to create or write, if anything.

    Checked without creating anything, so a bad configuration is reported at start-up rather
    than in the middle of a run.
    """
    raw = os.fsencode(str(path))
    if len(raw) >= PATH_MAX:
        return f"the path is {len(raw)} bytes long; the limit is {PATH_MAX - 1}"
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            return f"the name {part[:24]!r}… is longer than {NAME_MAX} bytes"
    kind = "a directory" if directory else "a file"
    try:
        if path.exists():
            if directory and not path.is_dir():
                return f"{path} exists and is not a directory"
            if not directory and path.is_dir():
                return f"{path} is a directory; expected {kind}"
            if writable and not os.access(path, os.W_OK):
                return f"{path} is not writable"
            return None
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"{parent} is not a directory, so {kind} cannot be created at {path}"
        if writable and not os.access(parent, os.W_OK | os.X_OK):
            return f"{parent} is not writable, so {kind} cannot be created at {path}"
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None


def check_paths(cfg: HubConfig, table: dict) -> list[Problem]:
    """Problems with the data directory, key file and log file a config names."""
    from .settings import Problem

    problems = []
    checks = []
    if table.get("data_dir"):
        checks.append(("hub.data_dir", cfg.data_dir, True, True))
    elif os.environ.get("HUB_DATA_DIR"):
        checks.append(("$HUB_DATA_DIR", cfg.data_dir, True, True))
    if table.get("key_file"):
        checks.append(("hub.key_file", cfg.key_file, False, False))
    if table.get("log_file"):
        checks.append(("hub.log_file", Path(cfg.hub["log_file"]).expanduser(), False, True))
    for key, path, directory, writable in checks:
        problem = path_problem(path, directory=directory, writable=writable)
        if problem:
            problems.append(Problem(key, problem))
    return problems
