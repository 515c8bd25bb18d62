"""``hub sync --dry-run``: sources, matchers and mappings run; sinks only say what they would do.

A dry run creates nothing: a store that does not exist yet is not created (the source reads
from the beginning, nothing is linked), and the sink is never opened (``Sink.plan`` must not
need a connection or create anything).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..app import Hub
from ..components import Record
from ..errors import RecordError, SkipRecord
from ..secrets import redact
from ..store import Store
from ..store.checks import check_change
from ..store.store import LinkInfo
from .processor import SUPERSEDED, UNCHANGED, BatchProcessor


def existing_store(hub: Hub) -> Store | None:
    """The hub's store if it already exists, else ``None`` (and nothing is created)."""
    if hub._store is not None:  # already opened (the vault resolved a secret)
        return hub.store
    url = hub.config.store_url
    parsed = urlparse(url)
    if parsed.scheme.lower() == "sqlite":
        path = Path(unquote(parsed.path))
        if not path.is_file() or path.stat().st_size == 0:
            return None
        return hub.store
    store = Store(url, migrate=False)
    if store.schema_version() == 0:
        store.close()
        return None
    store.close()
    return hub.store


def dry_run(hub: Hub, flow: str, *, full: bool = False) -> Iterator[dict[str, Any]]:
    """Yield one plan per change the source returns; nothing is written anywhere."""
    parts = hub.flow_parts(flow)
    src = parts.source
    store = existing_store(hub)
    processor = BatchProcessor(parts, store, hub.host)  # type: ignore[arg-type]
    opened = [c for c in parts.all() if c is not parts.sink]
    for comp in opened:
        comp.open()
    try:
        checkpoint = None if full or store is None else store.get_checkpoint(flow, src.name)
        for batch in src.read(checkpoint):
            default_type = src.object_type or "record"
            problems = [check_change(c, i, default_type) for i, c in enumerate(batch.changes)]
            ids = [c.external_id for c, p in zip(batch.changes, problems, strict=True) if not p]
            links: dict[str, LinkInfo] = store.links_for(flow, ids) if store else {}
            records: dict[int, Record] = {
                i: Record(0, flow, src.name, src.system, c.object_type or default_type,
                          c.external_id, c.op, c.payload, c.hash(), "dry-run", 0)
                for i, (c, p) in enumerate(zip(batch.changes, problems, strict=True)) if not p
            }  # fmt: skip
            found = dict(zip(records, processor.match_all(list(records.values())), strict=True))
            for i, (c, problem) in enumerate(zip(batch.changes, problems, strict=True)):
                ext = c.external_id if isinstance(c.external_id, str) else repr(c.external_id)
                if problem is not None:
                    error = f"flow {flow}, source {src.name}, change {i} of its batch: {problem}"
                    yield redact({"flow": flow, "external_id": ext, "action": "park",
                                  "error": error})  # fmt: skip
                    continue
                r = records[i]
                otype = r.object_type
                plan: dict[str, Any] = {"flow": flow, "external_id": ext, "object_type": otype}
                try:
                    prep = processor.prepare(r, links.get(ext), found[i])
                except Exception as exc:
                    if isinstance(exc, SkipRecord):
                        plan.update(action="skip", reason=str(exc))
                    else:
                        action = "park" if isinstance(exc, RecordError) else "fail"
                        plan.update(action=action, error=str(exc))
                else:
                    if prep.superseded or prep.unchanged:
                        reason = SUPERSEDED if prep.superseded else UNCHANGED
                        plan.update(action="skip", reason=reason, target_id=prep.item.target_id)
                    else:
                        plan.update(parts.sink.plan(prep.item))
                yield redact(plan)
            if hub.stopping.is_set():
                break
    finally:
        for comp in opened:
            comp.close()
