"""``hub reconcile``: the drift report between the two systems."""

from __future__ import annotations

import json
import logging

import click

from ..errors import HubError
from ..ops.alerts import publish_alert
from ..ops.reconcile import Report, run_reconcilers
from ..ops.store_queries import forget_written_hash
from ..secrets import redact
from ..web.accounts import DRIFT_STATE_KEY, STATE_OWNER
from .common import EPILOG_CODES, EXIT_INCOMPLETE, State, echo, emit_json, pass_state

log = logging.getLogger(__name__)


def queue_repairs(hub, report: Report) -> list[dict]:
    """Put the stored records whose replay repairs a drift back in the inbox."""
    out = []
    for d in report.drift:
        if not d.replay_flow or not d.replay_id:
            continue
        ids = [
            i for i in hub.store.record_ids(d.replay_id)
            if hub.store.get_record(i)[0].flow == d.replay_flow
        ]  # fmt: skip
        if not ids:
            note = f"not in the store: hub sync {d.replay_flow} --full reads it"
            out.append({"flow": d.replay_flow, "external_id": d.replay_id, "queued": 0,
                        "note": note})  # fmt: skip
            continue
        latest = max(ids)
        # the target may have been edited there: the replay must write even what is unchanged
        forget_written_hash(d.replay_flow, d.replay_id)
        queued = hub.store.mark_for_replay([latest], note="hub reconcile --fix")
        out.append({"flow": d.replay_flow, "external_id": d.replay_id, "queued": len(queued),
                    "note": "queued" if queued else "already waiting in the inbox"})  # fmt: skip
    return out


@click.command(epilog=EPILOG_CODES)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--fix", is_flag=True,
              help="Queue replays of the stored records that repair a difference.")  # fmt: skip
@click.option("--max-calls", type=click.IntRange(1, 100000), default=500, show_default=True,
              help="Most API calls the report may make, all systems together.")  # fmt: skip
@click.option("--only", multiple=True, help="Run only this reconciler (repeatable).")
@pass_state
def reconcile(state: State, as_json: bool, fix: bool, max_calls: int, only: tuple[str, ...]):
    """Compare the two systems directly for every enabled flow and report what differs.

    Exit 0 when everything agrees, 4 when something drifts (or the budget ran out first).
    """
    hub = state.hub(required=True)
    hub.load_plugins()
    report = run_reconcilers(hub, max_calls=max_calls, only=list(only) or None)
    data = redact(report.as_dict())
    if fix:
        data["fixed"] = queue_repairs(hub, report)
    try:
        hub.plugin_state(STATE_OWNER).set(DRIFT_STATE_KEY, json.dumps(data))
    except HubError as exc:  # e.g. no vault key: the report is still printed
        log.warning("the report is not kept for the console and /metrics: %s", exc)
    if report.drift:
        publish_alert(
            "drift.found",
            f"drift: {len(report.drift)} difference(s) between the systems",
            "\n".join(f"{d.flow}: {d.kind} {d.key}: {d.detail}" for d in report.drift[:50]),
            details={"differences": len(report.drift), "calls": data["total_calls"]},
        )
    if as_json:
        emit_json(data)
    else:
        _print(data)
    raise SystemExit(EXIT_INCOMPLETE if report.drift or report.incomplete else 0)


def _print(data: dict) -> None:
    rows = data["drift"]
    if rows:
        head = ("flow", "kind", "key")
        widths = [max([len(k)] + [len(str(r[k])) for r in rows]) for k in head]
        echo("  ".join(h.upper().ljust(w) for h, w in zip(head, widths, strict=True)) + "  DETAIL")
        for r in rows:
            cells = [str(r[k]).ljust(w) for k, w in zip(head, widths, strict=True)]
            echo("  ".join(cells) + "  " + r["detail"])
    else:
        echo("no drift: the systems agree" if data["checked"] else "nothing to compare")
    for note in data.get("fixed", []):
        echo(f"fix {note['flow']}/{note['external_id']}: {note['note']}")
    for note in data["incomplete"]:
        echo(f"incomplete: {note}", err=True)
    calls = ", ".join(f"{k} {v}" for k, v in sorted(data["calls"].items())) or "none"
    echo(f"{len(rows)} difference(s); API calls: {calls} "
         f"({data['total_calls']} of at most {data['max_calls']}); "
         f"checked: {', '.join(data['checked']) or 'nothing'}")  # fmt: skip


COMMANDS = [reconcile]
