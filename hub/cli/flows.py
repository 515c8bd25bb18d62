"""``hub run``, ``hub sync`` and ``hub replay``."""

from __future__ import annotations

import logging
import sys

import click

from ..engine import Engine
from ..engine.dryrun import dry_run as plan_dry_run
from ..errors import ConfigError
from ..store import PARKED, STATUSES
from ..store.database import claim_sqlite_runner
from .common import (
    EPILOG_CODES,
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    State,
    emit_json,
    parse_since,
    pass_state,
)
from .progress import SyncProgress
from .signals import graceful_stop

log = logging.getLogger("hub")


def _summary(engine: Engine) -> tuple[dict, int]:
    """Per-flow counts and the exit code: 1 when a flow stopped, a source failed or a thread
    died; 130 when a stop signal interrupted the pass; 4 when records are parked or pending."""
    out, code = {}, 0
    for name, st in engine.flows.items():
        try:
            ready, waiting = engine.store.live_count(name)
        except Exception as exc:  # the store is down: say so rather than guess
            log.error("cannot count pending records of flow %s: %s", name, exc)
            ready, waiting, code = 0, engine.unreleased, EXIT_FAILURE
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
            "source_error": st.source_error,
            "source_read": st.read_complete,
            "source_busy": st.source_busy,
        }
        if st.stopped or st.source_error:
            code = max(code, EXIT_FAILURE)
        elif st.stats.parked or ready + waiting:
            code = code or EXIT_INCOMPLETE
    if engine.failure or engine.unreleased:
        code = EXIT_FAILURE
    elif engine.interrupted and code != EXIT_FAILURE:
        code = EXIT_INTERRUPTED
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
        if s["source_error"]:
            click.echo(f"  SOURCE FAILED: {s['source_error']}")
        if s["source_busy"]:
            click.echo(
                f"  source not read: another process reads it ({s['source_busy']}); "
                "ready records were processed"
            )


def _report(engine: Engine, what: str) -> None:
    """The errors behind a non-zero exit, on stderr (the summary went to stdout)."""
    if engine.failure:
        click.echo(f"error: {engine.failure}", err=True)
    for st in engine.flows.values():
        if st.source_error:
            click.echo(f"error: {st.source_error}", err=True)
    if engine.unreleased:
        click.echo(
            f"error: {engine.unreleased} record(s) stay claimed because the store is unavailable;"
            " the next `hub sync` or `hub run` releases them",
            err=True,
        )
    if engine.interrupted:
        unread = [n for n, st in engine.flows.items() if not st.read_complete]
        unread = unread if what == "sync" else []  # a replay reads no source
        left = f"; source not read to the end: {', '.join(unread)}" if unread else ""
        click.echo(f"{what} interrupted before it was done{left}", err=True)


@click.command(epilog=EPILOG_CODES)
@pass_state
def run(state: State) -> None:
    """Run every enabled flow until SIGINT or SIGTERM.

    The first signal stops taking new work, finishes what is in flight and hands the flows'
    sources to another running process at once; a second one exits at once (exit 130).
    Several `hub run` processes may share one PostgreSQL store (see README, Store); a SQLite
    store serves one (a second stops with exit 3).
    """
    hub = state.hub(required=True)
    runner_lock = claim_sqlite_runner(hub.store.url) if hub.store.is_sqlite else None
    hub.load_plugins()
    names = [n for n, f in hub.config.flows.items() if f.enabled]
    if not names:
        raise ConfigError(
            f"configuration error in {hub.config.path}: no enabled flow to run "
            "(add a [flows.NAME] table, or set enabled = true in one)"
        )
    # the listener (aiohttp) only for `hub run`: every other command starts faster without it
    from ..listener import start_listener
    from ..ops.routes import core_routes
    from ..ops.warnings_watch import WarningWatcher

    engine = Engine(hub, names, command="run")
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
        if runner_lock is not None:
            runner_lock.close()
    summary, code = _summary(engine)
    _print_summary(summary)
    engine.interrupted = False  # a stop signal is how `hub run` ends
    _report(engine, "run")
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
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Seconds to wait for the source when another process reads it (else read nothing).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def sync(state: State, flow: str, full: bool, dry_run: bool, wait: float, as_json: bool) -> None:
    """One pass of FLOW: read its source, then process every ready record.

    When another process (a `hub run`, another `hub sync`) reads the source, this pass waits
    up to --wait seconds for it, then reads nothing from it and says so; ready records are
    still processed. Exit 0 when everything was
    written, 4 when records were parked or wait for a retry.
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
    engine.source_wait = wait
    show = not as_json and sys.stderr.isatty()
    with graceful_stop(hub.stopping):
        if show:
            st = engine.flows[flow]
            progress = SyncProgress(flow, engine.store.live_count(flow)[0])

            def remaining() -> int:
                return st.ingested - st.echoes - st.refused

            def on_progress(n: int) -> None:
                progress.update(n, stored=remaining(), reading=engine.reading)

            engine.on_progress = on_progress
            try:
                engine.sync_once(full=full)
            finally:
                progress.update(0, stored=remaining(), reading=False)
                progress.finish()
        else:
            engine.sync_once(full=full)
    summary, code = _summary(engine)
    if as_json:
        emit_json({**summary[flow], "interrupted": engine.interrupted, "error": engine.failure})
    else:
        _print_summary(summary)
    _report(engine, "sync")
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
@click.option(
    "--force",
    is_flag=True,
    help="Write even when the target holds what the hub last wrote (repairs a target changed "
    "or deleted on the other side) or a newer change of the same id was written since.",
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
    force: bool,
    as_json: bool,
) -> None:
    """Process records again from their stored payload.

    RECORDS are inbox ids (#12 or 12) or external ids. Or select with --flow, --status
    (default parked) and --since. A record is skipped as superseded when a newer change of
    the same id was already written, unless --force. Exit 6 when nothing matches, 4 when
    some end parked again.
    """
    if not records and not flow:
        raise click.UsageError("name RECORDS or select them with --flow")
    if force and queue_only:
        raise click.UsageError("--force applies to this command's own pass; drop --queue-only")
    hub = state.hub(required=True)
    store = hub.store
    chosen: dict[int, None] = {}  # ids only, in order: payloads are read in engine batches
    for ref in records:
        ids = store.record_ids(ref)
        if not ids:
            click.echo(f"no record matches {ref!r}", err=True)
            raise SystemExit(EXIT_NOT_FOUND)
        chosen.update(dict.fromkeys(ids))
    if flow:
        selected = store.iter_record_ids(
            flow=flow, status=status or PARKED, since=parse_since(since) if since else None
        )
        chosen.update(dict.fromkeys(selected))
    if not chosen:
        click.echo("nothing to replay", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    if dry_run:
        rows = [
            {"id": r.id, "flow": r.flow, "external_id": r.external_id, "status": r.status}
            for r in store.describe_records(list(chosen))
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
    flows = sorted({r.flow for r in store.describe_records(list(chosen))})
    for name in flows:
        hub.flow_parts(name)  # the flow must still exist before anything changes
    note = "hub replay --force" if force else "hub replay"
    queued = store.mark_for_replay(list(chosen), note=note)
    if not as_json:
        click.echo(f"replaying {len(queued)} record(s)", err=True)
    if queue_only:
        return
    engine = Engine(hub, flows, force=[r.id for r in queued] if force else (), command="replay")
    with graceful_stop(hub.stopping):
        engine.sync_once(ingest=False)
    summary, code = _summary(engine)
    if as_json:
        emit_json(summary)
    else:
        _print_summary(summary)
    _report(engine, "replay")
    raise SystemExit(code)


COMMANDS = [run, sync, replay]
