"""``hub sync --dry-run``: sources, matchers and mappings run; sinks only say what they would do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..app import Hub
from ..components import Record, SinkItem, content_hash
from ..errors import RecordError
from ..secrets import redact
from ..store.models import Link


def dry_run(hub: Hub, flow: str, *, full: bool = False) -> Iterator[dict[str, Any]]:
    """Yield one plan per change the source returns; nothing is written anywhere."""
    parts = hub.flow_parts(flow)
    src = parts.source
    for comp in parts.all():
        comp.open()
    try:
        checkpoint = None if full else hub.store.get_checkpoint(flow, src.name)
        for batch in src.read(checkpoint):
            for c in batch.changes:
                r = Record(
                    0,
                    flow,
                    src.name,
                    src.system,
                    c.object_type or src.object_type or "record",
                    str(c.external_id),
                    c.op,
                    c.payload,
                    c.hash(),
                    "dry-run",
                    0,
                )
                plan: dict[str, Any] = {
                    "flow": flow,
                    "external_id": r.external_id,
                    "object_type": r.object_type,
                }
                try:
                    match = parts.matcher.match(r) if parts.matcher else {}
                    payload = parts.mapping.map(r, match)
                except Exception as exc:
                    plan.update(
                        action="park" if isinstance(exc, RecordError) else "fail", error=str(exc)
                    )
                    yield redact(plan)
                    continue
                link = Link.get_or_none(Link.flow == flow, Link.source_id == r.external_id)
                if link and link.last_hash == content_hash(payload):
                    plan.update(
                        action="skip",
                        reason="unchanged since the last write",
                        target_id=link.target_id,
                    )
                else:
                    item = SinkItem(r, payload, link.target_id if link else None, match)
                    plan.update(parts.sink.plan(item))
                yield redact(plan)
            if hub.stopping.is_set():
                break
    finally:
        for comp in parts.all():
            comp.close()
