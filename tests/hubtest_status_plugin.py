"""A test plugin that warns in ``hub status`` from what it keeps in its state."""

from __future__ import annotations

from hub import hookimpl


@hookimpl
def hub_status_warnings(settings, state):
    value = state.get("warn")
    if value == "boom":
        raise RuntimeError("a bug in the plugin")
    return [value] if value else []
