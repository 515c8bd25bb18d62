"""Calling the operations hooks (``hub_metrics``, ``hub_readiness``, ``hub_alert``,
``hub_register_reconcilers``) on the loaded plugins."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def impls(host: Any, hook_name: str) -> list[tuple[str, Any]]:
    """``(plugin, function)`` for each loaded plugin implementing ``hook_name``."""
    caller = getattr(host.pm.hook, hook_name)
    return [(impl.plugin_name, impl.function) for impl in caller.get_hookimpls()]


def plugin_args(hub: Any, plugin: str) -> dict[str, Any]:
    """The arguments of the per-plugin operations hooks: resolved settings and state."""
    return {"settings": hub.settings.get(plugin, {}), "state": hub.plugin_state(plugin)}


def broadcast(host: Any, hook_name: str, **kwargs: Any) -> None:
    """Call ``hook_name`` on every plugin; an exception in one is logged, never raised."""
    for plugin, fn in impls(host, hook_name):
        try:
            fn(**kwargs)
        except Exception:
            log.exception("plugin %r failed in %s", plugin, hook_name)
