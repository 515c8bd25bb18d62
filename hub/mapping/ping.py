"""``hub ping``: each flow's declarative mapping checked against its target's fields."""

from __future__ import annotations

import logging
from typing import Any

from ..components import Check
from ..errors import HubError

log = logging.getLogger(__name__)


def one_line(text: str) -> str:
    return text.replace(":\n  - ", ": ").replace("\n  - ", "; ")


def mapping_checks(hub: Any) -> list[Check]:
    """One check per enabled flow using a mapping that can check its target: the rules are
    read, the flow's sink is opened (it logs in) and asked for its fields, then closed."""
    checks: list[Check] = []
    for name, flow in sorted(hub.config.flows.items()):
        if not flow.enabled or flow.mapping is None:
            continue
        if flow.mapping not in hub.components.mappings:
            continue  # reported by the flow check
        cls = hub.components.mappings[flow.mapping][1]
        if not hasattr(cls, "bind_sink"):
            continue
        label = f"flow {name}"
        try:
            parts = hub.flow_parts(name)
        except HubError as exc:
            checks.append(Check(label, False, one_line(str(exc))))
            continue
        sink, mapping = parts.sink, parts.mapping
        try:
            sink.open()
            mapping.open()
            checks.append(
                Check(label, True, f"every mapped field exists on the target ({sink.name})")
            )
        except HubError as exc:
            checks.append(Check(label, False, one_line(str(exc))))
        except Exception as exc:  # a plugin's bug is a failed check, not a crash
            checks.append(Check(label, False, f"{type(exc).__name__}: {exc}"))
        finally:
            for comp in (mapping, sink):
                try:
                    comp.close()
                except Exception:
                    log.debug("closing %s after the check failed", comp.name, exc_info=True)
    return checks
