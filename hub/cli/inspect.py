"""``hub status`` and ``hub audit``."""

from __future__ import annotations

import json
import time

import click

from ..store import STATUSES
from .common import (
    EPILOG_CODES,
    EXIT_NOT_FOUND,
    State,
    emit_json,
    fmt_age,
    fmt_time,
    pass_state,
)


@click.command(epilog=EPILOG_CODES)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def status(state: State, as_json: bool) -> None:
    """Per flow and source: checkpoint, lag and records by status."""
    hub = state.hub()
    store = hub.store
    now = time.time()
    counts = store.counts()
    oldest = store.oldest_live()
    checkpoints = {}
    for cp in store.checkpoints():
        checkpoints.setdefault(cp.flow, []).append(cp)
    names = sorted(set(hub.config.flows) | set(counts) | set(checkpoints))
    rows = []
    for name in names:
        flow_cfg = hub.config.flows.get(name)
        rows.append(
            {
                "flow": name,
                "configured": flow_cfg is not None,
                "enabled": bool(flow_cfg and flow_cfg.enabled),
                "records": {s: counts.get(name, {}).get(s, 0) for s in STATUSES},
                "lag_seconds": round(now - oldest[name], 1) if name in oldest else 0.0,
                "sources": [
                    {
                        "source": cp.source,
                        "checkpoint": cp.value,
                        "updated": fmt_time(cp.updated_at),
                        "age_seconds": round(now - cp.updated_at, 1),
                    }
                    for cp in checkpoints.get(name, [])
                ],
            }
        )
    warnings = hub.status_warnings()
    if as_json:
        emit_json(
            {
                "store": store.describe(),
                "schema_version": store.schema_version(),
                "flows": rows,
                "warnings": warnings,
            }
        )
        return
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"store: {store.describe()} (schema version {store.schema_version()})")
    if not rows:
        click.echo("no flows configured and nothing stored yet")
    for r in rows:
        flag = "" if r["configured"] else " (not in the config)"
        if r["configured"] and not r["enabled"]:
            flag = " (disabled)"
        click.echo(f"\n{r['flow']}{flag}")
        click.echo("  records: " + ", ".join(f"{s} {n}" for s, n in r["records"].items()))
        click.echo(f"  lag: {fmt_age(r['lag_seconds']) if r['lag_seconds'] else 'none'}")
        for s in r["sources"]:
            click.echo(
                f"  source {s['source']}: checkpoint {s['checkpoint']!r} "
                f"at {s['updated']} ({fmt_age(s['age_seconds'])} ago)"
            )
        if not r["sources"]:
            click.echo("  source: no checkpoint yet")


@click.command(epilog=EPILOG_CODES)
@click.argument("record")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def audit(state: State, record: str, as_json: bool) -> None:
    """Show the timeline of RECORD: an inbox id (#12 or 12) or an external id."""
    store = state.hub().store
    ids = store.record_ids(record)
    if not ids:
        click.echo(f"no record matches {record!r}", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    out = []
    for rid in ids:
        rec, row = store.get_record(rid)
        events = [
            {
                "at": fmt_time(e.at),
                "step": e.step,
                "attempt": e.attempt,
                "duration_ms": round(e.duration_ms, 2) if e.duration_ms is not None else None,
                "summary": json.loads(e.summary) if e.summary else None,
            }
            for e in store.timeline([rid])
        ]
        out.append(
            {
                "id": rec.id,
                "flow": rec.flow,
                "source": rec.source,
                "object_type": rec.object_type,
                "external_id": rec.external_id,
                "status": rec.status,
                "attempts": rec.attempts,
                "last_error": row.last_error,
                "received": fmt_time(row.created_at),
                "events": events,
            }
        )
    if as_json:
        emit_json(out)
        return
    for r in out:
        click.echo(
            f"#{r['id']} {r['flow']}/{r['object_type']}/{r['external_id']}: {r['status']} "
            f"after {r['attempts']} attempt(s)"
        )
        if r["last_error"]:
            click.echo(f"  last error: {r['last_error']}")
        for e in r["events"]:
            dur = f" {e['duration_ms']}ms" if e["duration_ms"] is not None else ""
            detail = ""
            if e["summary"]:
                detail = "  " + ", ".join(
                    f"{k}={v}" for k, v in e["summary"].items() if v is not None
                )
            click.echo(f"  {e['at']}  {e['step']:<9}{dur}{detail}")


COMMANDS = [status, audit]
