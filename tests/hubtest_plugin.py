"""A plugin for the hub's own tests: scripted sources and sinks whose behaviour tests control.

Loaded through ``[hub] plugin_modules = ["hubtest_plugin"]`` with this folder on the path.
Sources read changes from a JSON-lines file; sinks follow a per-record script (fail N times,
park, stop the flow, leak a secret) and log every write to a JSON-lines file, so tests can
check order, parallelism and idempotency across processes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from hub import (
    Change,
    ChangeBatch,
    Check,
    FatalError,
    Matcher,
    RecordError,
    RetriableError,
    Setting,
    Sink,
    Source,
    WriteResult,
    hookimpl,
)

log = logging.getLogger("hubtest")
CALLS: list[tuple[str, tuple]] = []  # broadcast hook calls, for in-process tests
SETTINGS: dict = {}


class FileSource(Source):
    """Changes from ``path`` (one JSON object per line: id, payload, [type, op])."""

    name = "hubtest.file"
    system = "left"
    object_type = "Thing"
    options = {
        "path": Setting(str, required=True),
        "batch": Setting(int, default=100, minimum=1),
        "fail_after": Setting(int, default=0, help="raise after this many batches (crash test)"),
        "explode": Setting(bool, default=False, help="fail at once, quoting the secret"),
        "raw_ids": Setting(bool, default=False, help="pass ids as read, not as strings"),
        "slow": Setting(float, default=0.0, help="seconds each batch takes, ignoring stops"),
        "exit_after": Setting(int, default=0, help="raise SystemExit after this many batches"),
    }

    def _change(self, obj) -> Change:
        """A change as the line says; ``bad`` makes it one the store must refuse."""
        ext = obj["id"] if self.opts["raw_ids"] else str(obj["id"])
        payload = obj["payload"]
        bad = obj.get("bad")
        if bad == "surrogate-id":
            ext = "S-\ud800"
        elif bad == "nul-id":
            ext = "N-\x00-1"
        elif bad == "not-json":
            payload = {**payload, "when": datetime(2026, 1, 1, tzinfo=UTC)}
        elif bad == "nan":
            payload = {**payload, "amount": float("nan")}
        elif bad == "op":
            return Change(ext, payload, obj.get("type"), "merge-and-destroy")
        return Change(ext, payload, obj.get("type"), obj.get("op", "upsert"))

    def read(self, checkpoint):
        if self.opts["explode"]:
            raise RuntimeError(f"cannot reach the source with key {SETTINGS.get('api_key')}")
        start = int(checkpoint or 0)
        lines = Path(self.opts["path"]).read_text().splitlines()
        batch, n = [], 0
        for i, line in enumerate(lines[start:], start=start + 1):
            obj = json.loads(line)
            batch.append(self._change(obj))
            if len(batch) >= self.opts["batch"]:
                n += 1
                if self.opts["fail_after"] and n > self.opts["fail_after"]:
                    raise RuntimeError("source crashed mid-read")
                if self.opts["exit_after"] and n > self.opts["exit_after"]:
                    raise SystemExit("a source library called sys.exit()")
                if self.opts["slow"]:
                    time.sleep(self.opts["slow"])  # a slow system that ignores `stopping`
                yield ChangeBatch(batch, checkpoint=str(i))
                batch = []
        if batch:
            yield ChangeBatch(batch, checkpoint=str(len(lines)))


class ScriptedSink(Sink):
    """Writes to a JSON-lines log; ``script`` maps external id -> list of actions per attempt.

    Actions: ``ok``, ``retry`` (RetriableError), ``retry-after:N``, ``park:FIELD``, ``fatal``,
    ``crash`` (a plain exception), ``leak`` (an error quoting the plugin's secret), and
    malformed results: ``none`` (None instead of a WriteResult), ``long-id`` (a 300-character
    target id), ``nul-id`` (a target id with NUL), ``error-text`` (an error that is a string).
    ``results`` breaks the whole answer: ``none`` returns None, ``short`` one result too few.
    """

    name = "hubtest.scripted"
    system = "right"
    object_type = "Item"
    batch_size = 10
    options = {
        "log": Setting(str, required=True),
        "script": Setting(dict, default={}),
        "delay": Setting(float, default=0.0),
        "batch_size": Setting(int, default=10),
        "results": Setting(str, default="", help="none | short: a malformed answer"),
        "make_dir": Setting(bool, default=False, help="create the log's folder on open"),
        "broken_batch_size": Setting(bool, default=False, help="declare a batch size of 'ten'"),
    }

    def open(self):
        self._lock = threading.Lock()
        self._active = 0
        self.batch_size = "ten" if self.opts["broken_batch_size"] else self.opts["batch_size"]
        if self.opts["make_dir"]:
            Path(self.opts["log"]).parent.mkdir(parents=True, exist_ok=True)

    def _action(self, record) -> str:
        steps = self.opts["script"].get(record.external_id, [])
        n = record.attempts  # attempts made before this one, as stored
        return steps[n] if n < len(steps) else "ok"

    def write(self, items):
        with self._lock:
            self._active += 1
            active = self._active
        try:
            results = self._write(items, active)
            if self.opts["results"] == "none":
                return None
            if self.opts["results"] == "short":
                return results[:-1]
            return results
        finally:
            with self._lock:
                self._active -= 1

    def _write(self, items, active):
        if self.opts["delay"]:
            time.sleep(self.opts["delay"])  # a slow target system
        results = []
        for item in items:
            ext = item.record.external_id
            action = self._action(item.record)
            if action == "fatal":
                raise FatalError("the target rejected our credentials")
            if action.startswith("retry"):
                after = float(action.split(":")[1]) if ":" in action else None
                results.append(
                    WriteResult(error=RetriableError("503 Service Unavailable", retry_after=after))
                )
                continue
            if action.startswith("park"):
                field = action.split(":")[1] if ":" in action else None
                results.append(
                    WriteResult(error=RecordError("value rejected by the target", field=field))
                )
                continue
            if action == "crash":
                results.append(WriteResult(error=ValueError("unexpected answer")))
                continue
            if action == "none":
                results.append(None)
                continue
            if action == "error-text":
                results.append(WriteResult(error="it went wrong"))
                continue
            secret = SETTINGS.get("api_key", "")
            token = SETTINGS.get("token", "")
            if action == "leak":
                log.error("login failed with api key %s and token %s", secret, token)
                results.append(WriteResult(error=RetriableError(f"401 for key {secret}/{token}")))
                continue
            with self._lock, open(self.opts["log"], "a") as fh:
                fh.write(
                    json.dumps(
                        {
                            "id": ext,
                            "payload": item.payload,
                            "t": time.time(),
                            "thread": threading.get_ident(),
                            "target": item.target_id,
                            "active": active,
                        }
                    )
                    + "\n"
                )
            summary = {
                "status": 201,
                "authorization": f"Bearer {secret}",
                "echo": secret,
                "note": f"sent with {token}",
            }
            target = f"T-{ext}"
            if action == "long-id":
                target = "T" * 300
            elif action == "nul-id":
                target = "T-\x00"
            results.append(WriteResult(target_id=target, summary=summary))
        return results


class RefusingMatcher(Matcher):
    """Parks records whose payload has ``"match": false``."""

    name = "hubtest.match"

    def match(self, record):
        if record.payload.get("match") is False:
            raise RecordError("no counterpart in the target", field="code")
        return {"code": record.payload.get("code", "X")}


@hookimpl
def hub_plugin_settings():
    return {
        "api_key": Setting(secret=True, help="a credential to prove redaction"),
        "token": Setting(secret=True, help="a second credential"),
        "retries": Setting(int, default=3),
        "endpoint": Setting(str, required=True, help="where the system lives"),
        "ping_ok": Setting(bool, default=True),
    }


@hookimpl
def hub_configure(settings):
    SETTINGS.clear()
    SETTINGS.update(settings)


@hookimpl
def hub_register_sources(registry):
    registry.add(FileSource)


@hookimpl
def hub_register_sinks(registry):
    registry.add(ScriptedSink)


@hookimpl
def hub_register_matchers(registry):
    registry.add(RefusingMatcher)


@hookimpl
def hub_record_synced(record, target_id, summary):
    CALLS.append(("synced", (record.external_id, target_id, summary)))


@hookimpl
def hub_record_parked(record, reason):
    CALLS.append(("parked", (record.external_id, reason)))
    out = os.environ.get("HUBTEST_PARKED_LOG")
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps({"id": record.external_id, "reason": reason}) + "\n")


@hookimpl
def hub_flow_started(flow, source, sink):
    CALLS.append(("started", (flow, source, sink)))


@hookimpl
def hub_flow_stopped(flow, reason):
    CALLS.append(("stopped", (flow, reason)))


@hookimpl
def hub_ping(settings):
    return [Check("endpoint", settings.get("ping_ok", True), settings.get("endpoint", ""))]


@hookimpl
def hub_add_commands(cli):
    @cli.command("hubtest-hello")
    def hello():
        """Say hello (added by the test plugin)."""
        click.echo("hello from hubtest")
