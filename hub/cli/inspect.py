"""``hub status`` and ``hub audit``."""

from __future__ import annotations

import json
import logging
import time

import click

from ..secrets import redact, redact_text
from ..store import STATUSES
from .common import (
    EPILOG_CODES,
    EXIT_NOT_FOUND,
    State,
    echo,
    emit_json,
    fmt_age,
    fmt_time,
    pass_state,
)

log = logging.getLogger(__name__)


@click.command(epilog=EPILOG_CODES)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def status(state: State, as_json: bool) -> None:
    """Per flow and source: checkpoint, lag and records by status; the live hub processes
    (host, pid, started, last heartbeat, sources each reads) and any source nobody reads."""
    hub = state.hub(mask_stored=True)
    store = hub.store
    now = time.time()
    processes, unread = _processes(hub, store)
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
    for cps in checkpoints.values():
        for cp in cps:
            if isinstance(cp.value, str) and redact_text(cp.value) != cp.value:
                log.warning(
                    "the checkpoint of flow %s, source %s holds a secret (masked here): "
                    "a source must never put secrets in its checkpoint",
                    cp.flow,
                    cp.source,
                )
    rows = redact(rows)  # masked before any formatting (a repr would escape a secret)
    if as_json:
        emit_json(
            {
                "store": store.describe(),
                "schema_version": store.schema_version(),
                "flows": rows,
                "processes": processes,
                "sources_not_read": unread,
                "warnings": warnings,
            }
        )
        return
    for w in warnings:
        echo(f"warning: {w}", err=True)
    echo(f"store: {store.describe()} (schema version {store.schema_version()})")
    if not rows:
        echo("no flows configured and nothing stored yet")
    for r in rows:
        flag = "" if r["configured"] else " (not in the config)"
        if r["configured"] and not r["enabled"]:
            flag = " (disabled)"
        echo(f"\n{r['flow']}{flag}")
        echo("  records: " + ", ".join(f"{s} {n}" for s, n in r["records"].items()))
        echo(f"  lag: {fmt_age(r['lag_seconds']) if r['lag_seconds'] else 'none'}")
        for s in r["sources"]:
            echo(
                f"  source {s['source']}: checkpoint {s['checkpoint']!r} "
                f"at {s['updated']} ({fmt_age(s['age_seconds'])} ago)"
            )
        if not r["sources"]:
            echo("  source: no checkpoint yet")
    _print_processes(processes, unread)


def _processes(hub, store) -> tuple[list[dict], list[dict]]:
    """The live processes on this store and the enabled flows' sources no process reads."""
    store.lease_seconds = float(hub.config.hub.get("lease_seconds") or 30.0)
    now = store.db_now()
    leases = store.source_leases()
    held: dict[str, list[str]] = {}
    for lease in leases:
        if lease.holder and lease.expires_at >= now:
            held.setdefault(lease.holder, []).append(f"{lease.flow}/{lease.source}")
    processes = [
        {
            "host": e.host,
            "pid": e.pid,
            "command": e.command,
            "started": fmt_time(e.started_at),
            "last_heartbeat": fmt_time(e.heartbeat_at),
            "heartbeat_age_seconds": round(max(0.0, now - e.heartbeat_at), 1),
            "sources": held.get(e.owner, []),
        }
        for e in store.live_engines(now)
    ]
    read = {s for sources in held.values() for s in sources}
    unread = [
        {"flow": name, "source": f.source}
        for name, f in sorted(hub.config.flows.items())
        if f.enabled and f"{name}/{f.source}" not in read
    ]
    return processes, unread


def _print_processes(processes: list[dict], unread: list[dict]) -> None:
    echo(f"\nprocesses: {len(processes) or 'none running'}")
    for p in processes:
        echo(
            f"  {p['host']} pid {p['pid']} ({p['command'] or '?'}): started {p['started']}, "
            f"last heartbeat {fmt_age(p['heartbeat_age_seconds'])} ago, reads "
            + (", ".join(p["sources"]) or "no source")
        )
    for u in unread:
        echo(f"  not read by any process: flow {u['flow']}, source {u['source']}")


@click.command(epilog=EPILOG_CODES)
@click.argument("record")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def audit(state: State, record: str, as_json: bool) -> None:
    """Show the timeline of RECORD: an inbox id (#12 or 12) or an external id."""
    store = state.hub(mask_stored=True).store
    ids = store.record_ids(record)
    if not ids:
        echo(f"no record matches {record!r}", err=True)
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
    out = redact(out)
    if as_json:
        emit_json(out)
        return
    for r in out:
        echo(
            f"#{r['id']} {r['flow']}/{r['object_type']}/{r['external_id']}: {r['status']} "
            f"after {r['attempts']} attempt(s)"
        )
        if r["last_error"]:
            echo(f"  last error: {r['last_error']}")
        for e in r["events"]:
            dur = f" {e['duration_ms']}ms" if e["duration_ms"] is not None else ""
            detail = ""
            if e["summary"]:
                detail = "  " + ", ".join(
                    f"{k}={v}" for k, v in e["summary"].items() if v is not None
                )
            echo(f"  {e['at']}  {e['step']:<9}{dur}{detail}")


COMMANDS = [status, audit]
