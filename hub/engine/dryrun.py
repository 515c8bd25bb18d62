"""``hub sync --dry-run``: sources, matchers and mappings run; sinks only say what they would do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..app import Hub
from ..components import Record
from ..errors import RecordError, SkipRecord
from ..secrets import redact
from .processor import UNCHANGED, BatchProcessor


def dry_run(hub: Hub, flow: str, *, full: bool = False) -> Iterator[dict[str, Any]]:
    """Yield one plan per change the source returns; nothing is written anywhere."""
    parts = hub.flow_parts(flow)
    src = parts.source
    processor = BatchProcessor(parts, hub.store, hub.host)
    for comp in parts.all():
        comp.open()
    try:
        checkpoint = None if full else hub.store.get_checkpoint(flow, src.name)
        for batch in src.read(checkpoint):
            links = hub.store.links_for(flow, [str(c.external_id) for c in batch.changes])
            records = [
                Record(0, flow, src.name, src.system, c.object_type or src.object_type or "record",
                       str(c.external_id), c.op, c.payload, c.hash(), "dry-run", 0)
                for c in batch.changes
            ]  # fmt: skip
            for r, found in zip(records, processor.match_all(records), strict=True):
                otype, ext = r.object_type, r.external_id
                plan: dict[str, Any] = {"flow": flow, "external_id": ext, "object_type": otype}
                try:
                    prep = processor.prepare(r, links.get(ext), found)
                except Exception as exc:
                    if isinstance(exc, SkipRecord):
                        plan.update(action="skip", reason=str(exc))
                    else:
                        action = "park" if isinstance(exc, RecordError) else "fail"
                        plan.update(action=action, error=str(exc))
                else:
                    if prep.unchanged:
                        plan.update(action="skip", reason=UNCHANGED, target_id=prep.item.target_id)
                    else:
                        plan.update(parts.sink.plan(prep.item))
                yield redact(plan)
            if hub.stopping.is_set():
                break
    finally:
        for comp in parts.all():
            comp.close()
