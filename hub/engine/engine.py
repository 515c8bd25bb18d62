"""The sync engine: sources fill the inbox, a dispatcher hands ready records to workers.

One dispatcher thread claims ready records (in order per external id, different ids in
parallel) and submits them in sink-sized batches to a pool of worker threads; each worker runs
a :class:`BatchProcessor` and commits the batch's outcomes in one transaction. Sources run in
their own threads under ``hub run``, or once under ``hub sync``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import peewee as pw

from ..app import FlowParts, Hub
from ..components import Record
from ..errors import ConfigError, FatalError, HubError, RetriableError, StoreError
from ..secrets import redact_text
from ..store import LeaseLost
from .leases import SourceLeases
from .processor import BatchProcessor, BatchStats

log = logging.getLogger(__name__)
HEARTBEAT_EVERY = 10.0
SOURCE_GRACE = 1.0  # seconds a stopping `hub sync` waits for a source still inside read()
STORE_RETRY = 5.0  # seconds `hub run` waits before claiming again after the store failed


@dataclass
class FlowState:
    parts: FlowParts
    processor: BatchProcessor
    stopped: str | None = None  # why the flow stopped, once it has
    ingested: int = 0
    echoes: int = 0
    stats: BatchStats = field(default_factory=BatchStats)
    refused: int = 0  # changes parked at ingest (see hub.store.checks)
    read_complete: bool = False  # the source was read to its end in this pass
    source_error: str | None = None  # why the source failed under `hub sync`
    source_busy: str | None = None  # another process holds the source's lease (`hub sync`)


def _describe(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")


def _in_flow(name: str, exc: HubError) -> HubError:
    """``exc`` naming the flow whose component failed to open; its kind (and so ``hub``'s exit
    code) kept: a configuration error stays one."""
    kind = next(k for k in (ConfigError, StoreError, FatalError, HubError) if isinstance(exc, k))
    return kind(f"flow {name}: {exc}")


class Engine(SourceLeases):
    def __init__(
        self,
        hub: Hub,
        flows: Iterable[str],
        *,
        workers: int | None = None,
        on_progress: Callable[[int], None] | None = None,
        force: Iterable[int] = (),
        command: str = "sync",
    ) -> None:
        self.hub = hub
        self.store = hub.store
        self.workers = workers or hub.config.hub.get("workers") or 4
        self.store.lease_seconds = float(hub.config.hub.get("lease_seconds") or 30.0)
        self.store.command = command
        self.on_progress = on_progress
        self.stopping = hub.stopping
        self.wake = threading.Event()
        self.flows: dict[str, FlowState] = {}
        for name in flows:
            parts = hub.flow_parts(name)
            self.flows[name] = FlowState(parts, BatchProcessor(parts, self.store, hub.host))
            self.flows[name].processor.forced = set(force)
        self._lock = threading.Lock()
        self._held: set[int] = set()  # claimed records whose release failed (store down)
        self.unreleased = 0  # records still held when the engine stopped
        self.failure: str | None = None  # a thread of the engine died: `hub run` exits 1
        self.interrupted = False  # `hub sync` stopped by a signal before it was done
        self._sources_done = threading.Event()
        self._sources_done.set()
        self._heartbeat_thread: threading.Thread | None = None
        self._stopped = threading.Event()  # the engine stopped: its heartbeat ends too
        self._init_leases()

    @property
    def reading(self) -> bool:
        """A source of this ``hub sync`` pass is still being read."""
        return not self._sources_done.is_set()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.store.heartbeat()
            self.store.recover_abandoned()
            self.store.refresh_statistics()
        except pw.PeeweeException as exc:  # the store went away after it was opened
            raise StoreError(
                f"the store at {self.store.describe()} failed as the engine started: {exc}"
            ) from None
        for name, st in self.flows.items():
            for comp in st.parts.all():
                try:
                    comp.open()
                except HubError as exc:
                    raise _in_flow(name, exc) from exc
            self.hub.host.flow_started(name, st.parts.config.source, st.parts.config.sink)
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat, name="hub-heartbeat", daemon=True
        )
        self._heartbeat_thread.start()

    def stop(self, reason: str = "completed") -> None:
        self._stopped.set()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(5)
        self._hand_over_sources()
        self._release_held()
        with self._lock:
            self.unreleased = len(self._held)
        if self.unreleased:
            log.error(
                "%d claimed record(s) could not be released (the store is unavailable); "
                "the next engine releases them",
                self.unreleased,
            )
        for name, st in self.flows.items():
            for comp in st.parts.all():
                try:
                    comp.close()
                except Exception:
                    log.exception("flow %s: closing %s failed", name, type(comp).__name__)
            self.hub.host.flow_stopped(name, st.stopped or reason)
        try:
            self.store.end_lease()
        except Exception as exc:
            log.error("could not end the engine's lease: %s", exc)

    def _guarded(self, what: str, target: Callable[..., None], *args) -> Callable[[], None]:
        """``target`` for a thread: if it dies, the engine stops and says why."""

        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                self._died(what, exc)

        return run

    def _died(self, what: str, exc: BaseException) -> None:
        message = f"{what} died: {_describe(exc)}"
        log.error("%s; stopping", message)
        log.debug("%s", what, exc_info=(type(exc), exc, exc.__traceback__))
        with self._lock:
            self.failure = self.failure or message
        self.stopping.set()
        self.wake.set()

    # -- records the store could not take back ------------------------------------------------
    def _release(self, ids: list[int]) -> None:
        """Give records back; if the store is down, hold them and retry until it is back."""
        try:
            self.store.release(ids)
        except Exception as exc:
            with self._lock:
                self._held.update(ids)
            log.error(
                "could not release %d record(s) (%s); retrying once the store is back",
                len(ids),
                exc,
            )

    def _release_held(self) -> None:
        with self._lock:
            ids = sorted(self._held)
        if not ids:
            return
        try:
            self.store.release(ids)
        except Exception:
            return
        with self._lock:
            self._held.difference_update(ids)
        log.warning("released %d record(s) held while the store was unavailable", len(ids))

    def _release_strays(self, inflight: dict[Future, tuple[str, list[int]]]) -> bool:
        """After an unconfirmed claim: give back what this engine claimed but does not work
        on. False while the store is still unavailable (tried again on the next round)."""
        busy = {rid for _, ids in inflight.values() for rid in ids}
        try:
            released = self.store.release_strays(busy)
        except Exception as exc:
            log.debug("records of an unconfirmed claim not released yet: %s", exc)
            return False
        if released:
            log.warning(
                "released %d record(s) of a claim the store committed but could not confirm",
                released,
            )
        return True

    @property
    def heartbeat_every(self) -> float:
        return min(HEARTBEAT_EVERY, self.store.lease_seconds / 3)

    def _heartbeat(self) -> None:
        """Every third of the lease time: the engine's heartbeat, its source leases renewed,
        and records left claimed by engines that are gone given back to the inbox."""
        while not self._stopped.wait(self.heartbeat_every) and not self.stopping.is_set():
            try:
                self.store.heartbeat()
                self._renew_sources()
                self.store.recover_abandoned()
            except Exception:
                log.exception("store heartbeat failed")
        self.store.close_quietly()  # this thread's own connection

    def _stop_flow(self, name: str, why: str) -> None:
        st = self.flows[name]
        if st.stopped is None:
            st.stopped = why
            log.error("flow %s stopped: %s", name, why)

    # -- sources -------------------------------------------------------------------------------
    def ingest(self, name: str, *, full: bool = False, lease: int | None = None) -> int:
        """Run the flow's source once from its checkpoint; every batch is committed with it
        (and, with ``lease``, only while this process holds the source's lease)."""
        st = self.flows[name]
        src = st.parts.source
        checkpoint = None if full else self.store.get_checkpoint(name, src.name)
        count = 0
        st.read_complete = False
        for batch in src.read(checkpoint):
            invalid: list[tuple[Record, str]] = []
            stored, echoes = self.store.ingest(
                name, src.name, src.system or "?", src.object_type or "record", batch,
                invalid=invalid, lease=lease,
            )  # fmt: skip
            count += stored
            reasons = [reason for _, reason in invalid]
            with self._lock:
                st.ingested += stored
                st.echoes += echoes
                st.refused += len(invalid)
                if invalid:
                    st.stats.add(BatchStats(parked=len(invalid), parked_reasons=reasons))
            for rec, reason in invalid:
                log.warning("parked at ingest: %s", reason)
                self.hub.host.record_parked(rec, reason)
            if stored:
                self.wake.set()
            if self.stopping.is_set():
                return count
        st.read_complete = True
        return count

    def _source_loop(self, name: str) -> None:
        st = self.flows[name]
        failures = 0
        while not self.stopping.is_set() and st.stopped is None:
            try:
                token = self._hold_source(name)
                if token is None:  # another process reads this source
                    self.stopping.wait(self._lease_poll())
                    continue
                self.ingest(name, lease=token)
                failures = 0
                delay = st.parts.config.poll_interval
            except LeaseLost as exc:
                log.warning("%s; letting go", exc)
                with self._lock:
                    self._leases.pop(name, None)
                delay = self._lease_poll()
            except FatalError as exc:
                self._stop_flow(name, f"source failed: {exc}")
                return
            except Exception as exc:
                failures += 1
                after = exc.retry_after if isinstance(exc, RetriableError) else None
                # the store coming back should resume reading soon; a failing system less so
                cap = 30.0 if isinstance(exc, pw.PeeweeException | StoreError) else 300.0
                delay = max(after or 0, min(cap, 2.0**failures))
                log.warning("flow %s: source failed (%s); next try in %.0fs", name, exc, delay)
            self.stopping.wait(delay)

    # -- dispatch ------------------------------------------------------------------------------
    def _run_batch(self, name: str, records: list) -> BatchStats:
        st = self.flows[name]
        try:
            stats = st.processor.process(records)
        except LeaseLost as exc:
            # paused past the lease: another engine has these records now; let go of any
            # still ours (the store gives back only those)
            log.warning("flow %s: %s; letting go", name, exc)
            self._release([r.id for r in records])
            return BatchStats()
        except FatalError as exc:
            self._release([r.id for r in records])
            self._stop_flow(name, str(exc))
            return BatchStats()
        except BaseException:
            # neither the results nor a failed attempt could be committed (the store is
            # down): give the records back, or hold them until the store is back
            self._release([r.id for r in records])
            raise
        with self._lock:
            st.stats.add(stats)
        if self.on_progress:
            self.on_progress(stats.total)
        return stats

    def dispatch(self, *, until_idle: bool) -> None:
        """Process ready records until stopped (or, with ``until_idle``, until none is ready)."""
        max_inflight = self.workers * 2
        inflight: dict[Future, tuple[str, list[int]]] = {}
        # a claim failed: the database may have committed it all the same, leaving records
        # claimed by this engine that no worker holds; they are given back once the store is
        # reachable again (see Store.release_strays)
        claim_unconfirmed = False
        with ThreadPoolExecutor(self.workers, thread_name_prefix="hub-worker") as pool:
            while True:
                claimed = 0
                # read before claiming: a source that finishes between an empty claim and
                # this check must not end the pass with its last records unclaimed
                sources_done = self._sources_done.is_set()
                if self._held:
                    self._release_held()
                if claim_unconfirmed:
                    claim_unconfirmed = not self._release_strays(inflight)
                if not self.stopping.is_set():
                    for name, st in self.flows.items():
                        if st.stopped or len(inflight) >= max_inflight:
                            continue
                        size = st.processor.batch_size
                        room = max_inflight - len(inflight)
                        try:
                            records = self.store.claim_ready(name, size * room)
                        except pw.PeeweeException as exc:
                            if until_idle:
                                raise StoreError(f"the store failed: {exc}") from exc
                            log.error("the store failed (%s); trying again shortly", exc)
                            claim_unconfirmed = True
                            self.stopping.wait(STORE_RETRY)
                            records = []
                        claimed += len(records)
                        for i in range(0, len(records), size):
                            batch = records[i : i + size]
                            fut = pool.submit(self._run_batch, name, batch)
                            inflight[fut] = (name, [r.id for r in batch])
                if not inflight:
                    if self.stopping.is_set():
                        break
                    if all(st.stopped for st in self.flows.values()):
                        log.error("every flow has stopped; nothing left to run")
                        break
                    if until_idle and not claimed and sources_done:
                        break
                    if not claimed:
                        self.wake.wait(0.5)
                        self.wake.clear()
                    continue
                done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    name, _ = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        log.error("flow %s: a batch failed to commit: %s", name, exc)
                        if isinstance(exc, HubError) and until_idle:
                            self._stop_flow(name, f"store error: {exc}")

    # -- entry points --------------------------------------------------------------------------
    def sync_once(self, *, full: bool = False, ingest: bool = True) -> None:
        """``hub sync``: one source pass per flow while processing, until nothing is ready.

        The sources run in a thread of their own so records are processed while later
        batches are still being read. A source that fails is recorded on its flow
        (``source_error``) and what it stored is still processed. After a stop signal a source
        still inside ``read()`` gets ``SOURCE_GRACE`` seconds, then is left behind; the pass is
        ``interrupted`` when it did not read or process everything.
        """
        self.start()
        reason = "completed"

        def read_sources() -> None:
            try:
                for name, st in self.flows.items():
                    if self.stopping.is_set():
                        break
                    try:
                        token = self._take_source_once(name)
                        if token is None:
                            continue
                        self.ingest(name, full=full, lease=token)
                    except FatalError as exc:
                        self._stop_flow(name, f"source failed: {exc}")
                    except BaseException as exc:
                        src = st.parts.source.name
                        if isinstance(exc, StoreError):  # e.g. a full disk, not the source
                            what = f"storing what source {src} read failed: {exc}"
                        else:
                            what = f"source {src} failed: {_describe(exc)}"
                        st.source_error = f"flow {name}: {what}"
                        log.error("%s", st.source_error)
            finally:
                self._sources_done.set()
                self.wake.set()

        reader: threading.Thread | None = None
        try:
            if ingest:
                self._sources_done.clear()
                reader = threading.Thread(target=read_sources, name="hub-sources", daemon=True)
                reader.start()
            try:
                self.dispatch(until_idle=True)
            except HubError:
                raise  # the store failed: reported with its own exit code
            except Exception as exc:
                self._died("the dispatcher", exc)
            if reader is not None:
                while reader.is_alive() and not self.stopping.is_set():
                    reader.join(0.2)
                reader.join(SOURCE_GRACE)
                if reader.is_alive():
                    log.warning("stopped while a source was still reading; it is left behind")
            if self.stopping.is_set():
                reason = "shutdown"
                unread = ingest and any(
                    not st.read_complete and not st.source_busy for st in self.flows.values()
                )
                try:
                    ready = any(self.store.live_count(n)[0] for n in self.flows)
                except Exception:  # the store is down: what remains is unknown
                    ready = True
                self.interrupted = self.failure is None and bool(unread or ready)
        finally:
            self.stop(reason)

    def run_forever(self) -> None:
        """``hub run``: sources poll on their intervals; records flow until a stop signal."""
        self.start()
        threads = [
            threading.Thread(
                target=self._guarded(f"the source thread of flow {name}", self._source_loop, name),
                name=f"hub-source-{name}",
                daemon=True,
            )
            for name in self.flows
        ]
        for t in threads:
            t.start()
        try:
            self.dispatch(until_idle=False)
        except Exception as exc:
            self._died("the dispatcher", exc)
        finally:
            deadline = time.monotonic() + 10
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
            self.stop("shutdown")
