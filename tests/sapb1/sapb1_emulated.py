"""Helpers for tests against the emulator process: settings, components, clock."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sapb1_fakes import MemoryState

from hub import ComponentContext


def plugin_settings(emu, **over) -> dict[str, Any]:
    return {
        "service_layer_url": emu.base_url,
        "company_db": emu.company,
        "username": emu.user,
        "password": emu.password,
        "ca_bundle": str(emu.ca_path),
        "timeout": 30.0,
        "page_size": 500,
        "webhook_key": None,
        **over,
    }


def component(cls, emu, options: dict | None = None, state=None, **settings_over):
    """An opened component of ``cls`` with validated default options."""
    from hub.settings import validate

    ctx = ComponentContext(
        flow="test",
        plugin="sapb1",
        settings=plugin_settings(emu, **settings_over),
        stopping=threading.Event(),
        logger=logging.getLogger("test.sapb1"),
        state=state if state is not None else MemoryState(),
    )
    values = validate(options or {}, cls.options, "test").values
    comp = cls(ctx, values)
    comp.open()
    return comp


def set_clock(emu, now: str) -> None:
    emu.admin_json("POST", "clock", {"now": now, "frozen": True})


def poll(source, checkpoint):
    """One pass: (external ids read, final checkpoint)."""
    ids: list[str] = []
    for batch in source.read(checkpoint):
        ids += [c.external_id for c in batch.changes]
        if batch.checkpoint is not None:
            checkpoint = batch.checkpoint
    return ids, checkpoint


def item(external_id: str, payload: dict, target_id: str | None = None):
    from hub import Record, SinkItem

    rec = Record(1, "test", "sf", "salesforce", "Opportunity", external_id, "upsert", payload,
                 "h", "claimed", 0)  # fmt: skip
    return SinkItem(rec, payload, target_id)


def requests_total(emu) -> int:
    return emu.admin_json("GET", "stats")["requests_total"]
