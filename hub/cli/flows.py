"""``hub run``, ``hub sync`` and ``hub replay``."""

from __future__ import annotations

import sys
import threading

import click

from ..engine import Engine
from ..engine.dryrun import dry_run as plan_dry_run
from ..errors import ConfigError
from ..listener import start_listener
from ..ops.routes import core_routes
from ..ops.warnings_watch import WarningWatcher
from ..store import PARKED, STATUSES
from .common import (
    EPILOG_CODES,
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_NOT_FOUND,
    State,
    emit_json,
    parse_since,
    pass_state,
)
from .signals import graceful_stop


def _summary(engine: Engine) -> tuple[dict, int]:
    out, code = {}, 0
    for name, st in engine.flows.items():
        ready, waiting = engine.store.live_count(name)
        out[name] = {
            "received": st.ingested,
            "echoes_dropped": st.echoes,
            "written": st.stats.written,
            "unchanged": st.stats.skipped,
            "retrying": st.stats.retrying,
            "parked": st.stats.parked,
            "pending": ready + waiting,
            "parked_reasons": st.stats.parked_reasons,
            "stopped": st.stopped,
        }
        if st.stopped:
            code = max(code, EXIT_FAILURE)
        elif st.stats.parked or ready + waiting:
            code = code or EXIT_INCOMPLETE
    return out, code


def _print_summary(summary: dict) -> None:
    for name, s in summary.items():
        click.echo(
            f"{name}: received {s['received']}, written {s['written']}, "
            f"unchanged {s['unchanged']}, parked {s['parked']}, still pending {s['pending']}"
        )
        for reason in s["parked_reasons"][:10]:
            click.echo(f"  parked: {reason}")
        if s["stopped"]:
            click.echo(f"  STOPPED: {s['stopped']}")


@click.command(epilog=EPILOG_CODES)
@pass_state
def run(state: State) -> None:
    """Run every enabled flow until SIGINT or SIGTERM.

    The first signal stops taking new work and finishes what is in flight; a second one
    exits at once (exit 130).
    """
    hub = state.hub(required=True)
    hub.load_plugins()
    names = [n for n, f in hub.config.flows.items() if f.enabled]
    if not names:
        raise ConfigError(
            f"configuration error in {hub.config.path}: no enabled flow to run "
            "(add a [flows.NAME] table, or set enabled = true in one)"
        )
    engine = Engine(hub, names)
    routes, on_response = core_routes(hub, engine)
    listener = start_listener(hub, routes, on_response)
    WarningWatcher(hub).start()  # plugins' status warnings reach notifiers as alerts
    click.echo(f"running {', '.join(names)}; Ctrl-C to stop", err=True)
    try:
        with graceful_stop(hub.stopping):
            engine.run_forever()
    finally:
        if listener is not None:
            listener.stop()
    summary, code = _summary(engine)
    _print_summary(summary)
    raise SystemExit(EXIT_FAILURE if code == EXIT_FAILURE else 0)


@click.command(epilog=EPILOG_CODES)
@click.argument("flow")
@click.option(
    "--full", is_flag=True, help="Read the source from the beginning, not the checkpoint."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Run source, matcher and mapping; show what the sink would write; write nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def sync(state: State, flow: str, full: bool, dry_run: bool, as_json: bool) -> None:
    """One pass of FLOW: read its source, then process every ready record.

    Exit 0 when everything was written, 4 when records were parked or wait for a retry.
    """
    hub = state.hub(required=True)
    hub.load_plugins()
    if dry_run:
        plans = plan_dry_run(hub, flow, full=full)
        if as_json:
            emit_json(list(plans))
            return
        n = 0
        for p in plans:
            n += 1
            click.echo(
                f"{p.get('action', '?'):<7} {p['external_id']}: "
                + (p.get("error") or p.get("reason") or str(p.get("payload", "")))
            )
        click.echo(f"dry run: {n} change(s); nothing written", err=True)
        return
    engine = Engine(hub, [flow])
    show = not as_json and sys.stderr.isatty()
    with graceful_stop(hub.stopping):
        if show:
            waiting = sum(engine.store.live_count(flow))  # left over from earlier passes
            state = engine.flows[flow]
            with click.progressbar(
                length=max(1, waiting), label=f"{flow}", file=sys.stderr, show_pos=True
            ) as bar:
                lock = threading.Lock()  # workers report from several threads

                def progress(n: int) -> None:
                    with lock:
                        # the source is still being read: the total grows with what it stored
                        bar.length = max(waiting + state.ingested - state.echoes, bar.pos + n, 1)
                        bar.update(n)

                engine.on_progress = progress
                engine.sync_once(full=full)
        else:
            engine.sync_once(full=full)
    summary, code = _summary(engine)
    if as_json:
        emit_json(summary[flow])
    else:
        _print_summary(summary)
    raise SystemExit(code)


@click.command(epilog=EPILOG_CODES)
@click.argument("records", nargs=-1)
@click.option("--flow", help="Replay records of this flow (with --status / --since).")
@click.option(
    "--status",
    type=click.Choice([s for s in STATUSES if s != "processing"]),
    help=f"Only records with this status (default with --flow: {PARKED}).",
)
@click.option("--since", help="Only records changed since: 2h, 30m, 1d or an ISO time.")
@click.option("--dry-run", is_flag=True, help="List what would be replayed; change nothing.")
@click.option(
    "--queue-only", is_flag=True, help="Put them back in the inbox; `hub run` will process them."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def replay(
    state: State,
    records: tuple[str, ...],
    flow: str | None,
    status: str | None,
    since: str | None,
    dry_run: bool,
    queue_only: bool,
    as_json: bool,
) -> None:
    """Process records again from their stored payload.

    RECORDS are inbox ids (#12 or 12) or external ids. Or select with --flow, --status
    (default parked) and --since. Exit 6 when nothing matches, 4 when some end parked again.
    """
    if not records and not flow:
        raise click.UsageError("name RECORDS or select them with --flow")
    hub = state.hub(required=True)
    store = hub.store
    chosen = []
    for ref in records:
        ids = store.record_ids(ref)
        if not ids:
            click.echo(f"no record matches {ref!r}", err=True)
            raise SystemExit(EXIT_NOT_FOUND)
        chosen += [store.get_record(i)[0] for i in ids]
    if flow:
        chosen += store.find_records(
            flow=flow, status=status or PARKED, since=parse_since(since) if since else None
        )
    if not chosen:
        click.echo("nothing to replay", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    chosen = list({r.id: r for r in chosen}.values())
    if dry_run:
        rows = [
            {"id": r.id, "flow": r.flow, "external_id": r.external_id, "status": r.status}
            for r in chosen
        ]
        if as_json:
            emit_json(rows)
        else:
            for r in rows:
                click.echo(
                    f"would replay #{r['id']} {r['flow']}/{r['external_id']} ({r['status']})"
                )
        return
    hub.load_plugins()
    flows = sorted({r.flow for r in chosen})
    for name in flows:
        hub.flow_parts(name)  # the flow must still exist before anything changes
    queued = store.mark_for_replay([r.id for r in chosen], note="hub replay")
    if not as_json:
        click.echo(f"replaying {len(queued)} record(s)", err=True)
    if queue_only:
        return
    engine = Engine(hub, flows)
    with graceful_stop(hub.stopping):
        engine.sync_once(ingest=False)
    summary, code = _summary(engine)
    if as_json:
        emit_json(summary)
    else:
        _print_summary(summary)
    raise SystemExit(code)


COMMANDS = [run, sync, replay]
