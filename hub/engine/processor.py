"""Processing one batch of claimed records of one flow: match, map, write, commit."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ..app import FlowParts
from ..components import Record, SinkItem, WriteResult, content_hash
from ..errors import FatalError, RecordError, RetriableError, SkipRecord
from ..plugins import PluginHost
from ..secrets import redact_text
from ..store import DONE, PARKED, PENDING, SKIPPED, Event, LeaseLost, LinkWrite, Outcome, Store
from ..store.checks import INVALID_OP, id_problem
from ..store.store import LinkInfo
from .backoff import retry_delay

log = logging.getLogger(__name__)


UNCHANGED = "unchanged since the last write"
SUPERSEDED = "superseded: a newer change of this id was already written"


class MalformedResult(Exception):
    """A sink returned something other than one valid ``WriteResult`` per item."""


class CommitFailed(Exception):
    """The store refused a batch's outcomes; the batch's records count a failed attempt."""


@dataclass
class Prepared:
    """A record matched and mapped: the sink item, the hash of its payload, and whether that
    is what the hub last wrote (then the sink is not called)."""

    item: SinkItem
    digest: str
    unchanged: bool
    superseded: bool = False


@dataclass
class BatchStats:
    written: int = 0
    skipped: int = 0
    retrying: int = 0
    parked: int = 0
    parked_reasons: list[str] = field(default_factory=list)

    def add(self, other: BatchStats) -> None:
        self.written += other.written
        self.skipped += other.skipped
        self.retrying += other.retrying
        self.parked += other.parked
        self.parked_reasons += other.parked_reasons[: max(0, 20 - len(self.parked_reasons))]

    @property
    def total(self) -> int:
        return self.written + self.skipped + self.retrying + self.parked


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, RecordError | RetriableError | FatalError):
        return redact_text(str(exc))
    return redact_text(f"{type(exc).__name__}: {exc}")


def _result_problem(sink: str, res: object) -> str | None:
    """Why a sink's result for one item cannot be taken as it is (``None`` when it can)."""
    if not isinstance(res, WriteResult):
        return f"sink {sink!r} returned {type(res).__name__} instead of a WriteResult"
    if res.error is not None:
        if isinstance(res.error, BaseException):
            return None
        return f"sink {sink!r} returned an error that is not an exception: {res.error!r:.80}"
    tid = res.target_id
    if isinstance(tid, int) and not isinstance(tid, bool):
        tid = str(tid)  # numeric ids (SAP DocEntry) are stored as text
    if tid is not None and (problem := id_problem(tid, "target id")):
        return f"sink {sink!r} returned a bad result: {problem}"
    if res.summary is not None and not isinstance(res.summary, dict):
        return f"sink {sink!r} returned a summary that is not a dict"
    return None


class BatchProcessor:
    """Runs records through a flow's matcher, mapping and sink, and commits the outcomes."""

    def __init__(self, parts: FlowParts, store: Store, host: PluginHost) -> None:
        self.parts = parts
        self.cfg = parts.config
        self.store = store
        self.host = host
        # records written even when unchanged or superseded (``hub replay --force``)
        self.forced: set[int] = set()

    @property
    def batch_size(self) -> int:
        """The flow's override, else what the sink declares (read after the sink opened)."""
        return self.cfg.batch_size or max(1, self.parts.sink.batch_size)

    def _failure(self, r: Record, exc: BaseException, events: list[Event], step: str) -> Outcome:
        attempts = r.attempts + 1
        if isinstance(exc, FatalError):
            raise exc
        if isinstance(exc, SkipRecord):
            events.append(Event("skipped", summary={"step": step, "reason": _error_text(exc)}))
            return Outcome(r, SKIPPED, attempts, events=events)
        if isinstance(exc, RecordError):
            explain = getattr(self.parts.mapping, "explain", None)
            if explain is not None:  # the mapping names the record as its users know it
                exc = explain(r, exc)
            exc.for_record(r.ref)
            reason = _error_text(exc)
            events.append(
                Event("parked", summary={"step": step, "reason": reason, "field": exc.field})
            )
            return Outcome(r, PARKED, attempts, last_error=reason, events=events)
        error = _error_text(exc)
        if attempts >= self.cfg.max_attempts:
            reason = f"record {r.ref}: gave up after {attempts} attempts: {error}"
            events.append(Event("failed", summary={"step": step, "error": error}))
            events.append(Event("parked", summary={"step": step, "reason": reason}))
            return Outcome(r, PARKED, attempts, last_error=reason, events=events)
        retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
        delay = retry_delay(
            attempts, base=self.cfg.retry_base, cap=self.cfg.retry_cap, retry_after=retry_after
        )
        events.append(
            Event("failed", summary={"step": step, "error": error, "retry_in_s": round(delay, 3)})
        )
        return Outcome(
            r,
            PENDING,
            attempts,
            next_attempt_at=time.time() + delay,
            last_error=error,
            events=events,
        )

    def match_all(self, records: list[Record]) -> list[dict | BaseException]:
        """The matcher's results for ``records`` (one ``match_batch`` call), one per record."""
        matcher = self.parts.matcher
        if matcher is None or not records:
            return [{} for _ in records]
        refused = self._refused(records)
        wanted = [r for r, why in zip(records, refused, strict=True) if why is None]
        try:
            results = list(matcher.match_batch(wanted)) if wanted else []
        except Exception as exc:
            results = [exc for _ in wanted]
        if len(results) != len(wanted):
            error = RetriableError(
                f"matcher {matcher.name!r} returned {len(results)} results for {len(wanted)}"
            )
            results = [error for _ in wanted]
        found = iter(results)
        return [why if why is not None else next(found) for why in refused]

    def _refused(self, records: list[Record]) -> list[SkipRecord | dict | None]:
        """Records the mapping would skip (``Mapping.accepts``) are not looked up at all, nor
        changes refused at ingest (``prepare`` parks them)."""
        accepts = getattr(self.parts.mapping, "accepts", None)
        out: list[SkipRecord | dict | None] = []
        for r in records:
            if r.op == INVALID_OP:
                out.append({})
                continue
            try:
                out.append(None if accepts is None else accepts(r))
            except SkipRecord as exc:
                out.append(exc)
        return out

    def prepare(
        self, record: Record, link: LinkInfo | None, match: dict | BaseException
    ) -> Prepared:
        """Take the matcher's result and run the mapping; say whether the sink would be called.

        Raises what the matcher (``match`` is an exception) or the mapping raised. Used by
        ``process`` and by ``--dry-run``. A record is superseded when its link was last written
        from a newer record of the same id (a replayed old version must not overwrite it); a
        forced record is neither superseded nor unchanged.
        """
        if record.op == INVALID_OP:
            raise RecordError("refused at ingest; the source must send it again")
        if isinstance(match, BaseException):
            raise match
        payload = self.parts.mapping.map(record, match)
        digest = content_hash(payload)
        forced = record.id in self.forced
        unchanged = bool(link and link.last_hash == digest and record.op != "delete")
        # (a dry run's changes are not stored yet, id 0: newer than anything written)
        superseded = bool(link and link.record_id and 0 < record.id < link.record_id)
        item = SinkItem(record, payload, link.target_id if link else None, match)
        return Prepared(item, digest, unchanged and not forced, superseded and not forced)

    def process(self, records: list[Record]) -> BatchStats:
        """Process and commit ``records`` (distinct external ids). FatalError propagates."""
        links = self.store.links_for(self.cfg.name, [r.external_id for r in records])
        outcomes: list[Outcome] = []
        pending: list[tuple[SinkItem, str, list[Event]]] = []
        t0 = time.perf_counter()
        matches = self.match_all(records)
        match_ms = (time.perf_counter() - t0) * 1000 / max(1, len(records))
        for r, found in zip(records, matches, strict=True):
            events: list[Event] = []
            t0 = time.perf_counter()
            try:
                prep = self.prepare(r, links.get(r.external_id), found)
            except Exception as exc:
                outcomes.append(self._failure(r, exc, events, "match"))
                continue
            match = prep.item.match
            events.append(
                Event(
                    "matched",
                    match_ms + (time.perf_counter() - t0) * 1000,
                    {"match": match} if match else None,
                )
            )
            if prep.superseded or prep.unchanged:
                reason = SUPERSEDED if prep.superseded else UNCHANGED
                summary = {"reason": reason, "target_id": prep.item.target_id}
                if prep.superseded:
                    summary["by_record"] = links[r.external_id].record_id
                events.append(Event("skipped", summary=summary))
                outcomes.append(Outcome(r, SKIPPED, r.attempts + 1, events=events))
                continue
            pending.append((prep.item, prep.digest, events))
        if pending:
            outcomes += self._write(pending)
        try:
            self.store.commit_outcomes(outcomes)
        except LeaseLost:
            raise  # the records are another engine's now: nothing of this batch is ours to commit
        except Exception as exc:
            # e.g. a value the database refused: count a failed attempt for every record of the
            # batch (with backoff, parked at max_attempts) instead of sending it again at once.
            # If the store is down this fails too and the engine holds the records.
            log.warning("flow %s: committing a batch failed: %s", self.cfg.name, exc)
            error = CommitFailed(f"the store refused the batch's results: {exc}")
            outcomes = [self._failure(o.record, error, [], "commit") for o in outcomes]
            self.store.commit_outcomes(outcomes)
        return self._after_commit(outcomes)

    def _write(self, pending: list[tuple[SinkItem, str, list[Event]]]) -> list[Outcome]:
        sink = self.parts.sink
        t0 = time.perf_counter()
        try:
            results = sink.write([p[0] for p in pending])
            if not isinstance(results, list | tuple):
                raise MalformedResult(
                    f"sink {sink.name!r} returned {type(results).__name__}, not a list of results"
                )
            if len(results) != len(pending):
                raise MalformedResult(
                    f"sink {sink.name!r} returned {len(results)} results for {len(pending)} records"
                )
        except FatalError:
            raise
        except Exception as exc:
            results = [WriteResult(error=exc) for _ in pending]
        per_item = (time.perf_counter() - t0) * 1000 / len(pending)
        outcomes = []
        for (item, digest, events), res in zip(pending, results, strict=True):
            r = item.record
            problem = _result_problem(sink.name, res)
            if problem is not None:
                outcomes.append(self._failure(r, MalformedResult(problem), events, "write"))
                continue
            if res.error is not None:
                outcomes.append(self._failure(r, res.error, events, "write"))
                continue
            target_id = res.target_id or item.target_id
            events.append(
                Event("written", per_item, {"target_id": target_id, **(res.summary or {})})
            )
            link = (
                LinkWrite(
                    sink.system or "?", sink.object_type or r.object_type, str(target_id), digest
                )
                if target_id
                else None
            )
            outcomes.append(Outcome(r, DONE, r.attempts + 1, link=link, events=events))
        return outcomes

    def _after_commit(self, outcomes: list[Outcome]) -> BatchStats:
        stats = BatchStats()
        for o in outcomes:
            o.record.status, o.record.attempts = o.status, o.attempts  # as committed
            if o.status == DONE:
                stats.written += 1
                target_id = o.link.target_id if o.link else None
                self.host.record_synced(o.record, target_id, o.events[-1].summary or {})
            elif o.status == SKIPPED:
                stats.skipped += 1
            elif o.status == PARKED:
                stats.parked += 1
                stats.parked_reasons.append(o.last_error or "")
                log.warning("parked %s", o.last_error)
                self.host.record_parked(o.record, o.last_error or "")
            else:
                stats.retrying += 1
                log.info("will retry %s: %s", o.record.ref, o.last_error)
        return stats
