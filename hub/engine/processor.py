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
from ..store import DONE, PARKED, PENDING, SKIPPED, Event, LinkWrite, Outcome, Store
from ..store.store import LinkInfo
from .backoff import retry_delay

log = logging.getLogger(__name__)


UNCHANGED = "unchanged since the last write"


@dataclass
class Prepared:
    """A record matched and mapped: the sink item, the hash of its payload, and whether that
    is what the hub last wrote (then the sink is not called)."""

    item: SinkItem
    digest: str
    unchanged: bool


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


class BatchProcessor:
    """Runs records through a flow's matcher, mapping and sink, and commits the outcomes."""

    def __init__(self, parts: FlowParts, store: Store, host: PluginHost) -> None:
        self.parts = parts
        self.cfg = parts.config
        self.store = store
        self.host = host

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

    def _refused(self, records: list[Record]) -> list[SkipRecord | None]:
        """Records the mapping would skip (``Mapping.accepts``) are not looked up at all."""
        accepts = getattr(self.parts.mapping, "accepts", None)
        out: list[SkipRecord | None] = []
        for r in records:
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
        ``process`` and by ``--dry-run``.
        """
        if isinstance(match, BaseException):
            raise match
        payload = self.parts.mapping.map(record, match)
        digest = content_hash(payload)
        unchanged = bool(link and link.last_hash == digest and record.op != "delete")
        item = SinkItem(record, payload, link.target_id if link else None, match)
        return Prepared(item, digest, unchanged)

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
            if prep.unchanged:
                summary = {"reason": UNCHANGED, "target_id": prep.item.target_id}
                events.append(Event("skipped", summary=summary))
                outcomes.append(Outcome(r, SKIPPED, r.attempts + 1, events=events))
                continue
            pending.append((prep.item, prep.digest, events))
        if pending:
            outcomes += self._write(pending)
        self.store.commit_outcomes(outcomes)
        return self._after_commit(outcomes)

    def _write(self, pending: list[tuple[SinkItem, str, list[Event]]]) -> list[Outcome]:
        sink = self.parts.sink
        t0 = time.perf_counter()
        try:
            results = sink.write([p[0] for p in pending])
            if len(results) != len(pending):
                raise RetriableError(
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
