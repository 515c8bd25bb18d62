"""Coordination of several hub processes on one store: engine heartbeats and source leases.

Mixed into :class:`hub.store.Store`. Everything goes through the database itself: lease rows
locked with ``SELECT ... FOR UPDATE`` and times read from the database server's clock, so hosts
with drifting clocks agree on who holds what.

* An **engine lease** (``hub_engine_lease``) is a process's heartbeat. Records claimed by an
  engine whose heartbeat is older than the lease time (or, on this host, whose process is gone)
  are given back to the inbox for another engine to claim.
* A **source lease** (``hub_source_lease``) makes one process the only reader of a flow's
  source. Its ``token`` grows at every change of holder; :meth:`LeaseQueries.check_source`
  runs inside the transaction that stores a batch and moves the checkpoint, so a holder that
  lost its lease cannot store anything.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

from ..errors import StoreError
from .models import PENDING, PROCESSING, EngineLease, SourceLease

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0


class LeaseLost(StoreError):
    """The store refused a write from a process that no longer owns what it writes: its source
    lease was taken over, or its claimed records were given to another engine."""


def process_alive(owner: str) -> bool:
    """Whether the process an owner string names may still run (``HOST:PID:NONCE``).

    On another host nothing can be known: its heartbeat decides."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class HeldSource:
    flow: str
    source: str
    holder: str | None
    token: int
    expires_at: float
    acquired_at: float | None


class LeaseQueries:
    """Engine heartbeats and source leases (the ``Store`` provides ``db``, ``owner``,
    ``transaction`` and ``lease_seconds``)."""

    def db_now(self) -> float:
        """The database server's clock (PostgreSQL) or this host's (SQLite), epoch seconds."""
        if self.is_sqlite:
            return time.time()
        row = self.db.execute_sql("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()
        return float(row[0])

    def _lock_suffix(self) -> str:
        return "" if self.is_sqlite else " FOR UPDATE"

    def _lease_row(self, flow: str, source: str) -> tuple | None:
        p = self.db.param
        return self.db.execute_sql(
            f"SELECT holder, token, expires_at FROM hub_source_lease"
            f" WHERE flow = {p} AND source = {p}{self._lock_suffix()}",
            (flow, source),
        ).fetchone()

    # -- source leases -----------------------------------------------------------------------
    def acquire_source(self, flow: str, source: str) -> int | None:
        """Take or renew the lease of a flow's source; its fencing token, or ``None`` when
        another live process holds it.

        A lease this process holds is renewed while unexpired. A lease is free when nobody
        holds it, when it expired, or when its holder's process is gone from this host; taking
        it increments the token, which fences off whoever held it before.
        """
        with self.transaction():
            now = self.db_now()
            SourceLease.insert(
                flow=flow, source=source, holder=None, token=0, expires_at=0
            ).on_conflict_ignore().execute()
            holder, token, expires = self._lease_row(flow, source)
            until = now + self.lease_seconds
            q = SourceLease.update(expires_at=until).where(
                SourceLease.flow == flow, SourceLease.source == source
            )
            if holder == self.owner and expires >= now:  # still ours: renewed
                q.execute()
                return token
            if holder not in (None, self.owner) and expires >= now and process_alive(holder):
                return None
            token += 1
            SourceLease.update(
                holder=self.owner, token=token, expires_at=until, acquired_at=now
            ).where(SourceLease.flow == flow, SourceLease.source == source).execute()
            return token

    def check_source(self, flow: str, source: str, token: int) -> None:
        """Inside a write transaction: ``LeaseLost`` unless this process holds the source's
        lease with ``token`` and it has not expired. Locks the lease row until the commit, so
        a takeover waits for the batch being stored."""
        row = self._lease_row(flow, source)
        now = self.db_now()
        if row is None or row[0] != self.owner or row[1] != token or row[2] < now:
            now_held = f"token {row[1]}, held by {row[0] or 'nobody'}" if row else "no lease"
            raise LeaseLost(
                f"flow {flow}: the lease of source {source} was lost (this process had token "
                f"{token}; the store has {now_held}); nothing was stored, the checkpoint did "
                "not move"
            )

    def release_source(self, flow: str, source: str, token: int) -> bool:
        """Hand a source over at once (graceful stop); ``False`` when it was no longer ours."""
        with self.transaction():
            n = (
                SourceLease.update(holder=None, expires_at=0)
                .where(
                    SourceLease.flow == flow,
                    SourceLease.source == source,
                    SourceLease.holder == self.owner,
                    SourceLease.token == token,
                )
                .execute()
            )
        return n == 1

    def source_leases(self) -> list[HeldSource]:
        return [
            HeldSource(r.flow, r.source, r.holder, r.token, r.expires_at, r.acquired_at)
            for r in SourceLease.select().order_by(SourceLease.flow, SourceLease.source)
        ]

    # -- engine heartbeats -------------------------------------------------------------------
    def heartbeat(self, now: float | None = None) -> None:
        with self.transaction():
            now = now or self.db_now()
            EngineLease.insert(
                owner=self.owner,
                heartbeat_at=now,
                host=socket.gethostname(),
                pid=os.getpid(),
                command=self.command,
                started_at=self.started_at,
            ).on_conflict(
                conflict_target=[EngineLease.owner], update={EngineLease.heartbeat_at: now}
            ).execute()

    def live_engines(self, now: float | None = None) -> list[EngineLease]:
        """Engines whose heartbeat is within the lease time and whose process may still run."""
        now = now or self.db_now()
        rows = EngineLease.select().where(EngineLease.heartbeat_at >= now - self.lease_seconds)
        return [e for e in rows.order_by(EngineLease.started_at) if process_alive(e.owner)]

    def recover_abandoned(self, now: float | None = None) -> int:
        """Release records claimed by engines that are gone.

        An engine is gone when its heartbeat is older than the lease time or, on this host,
        when its process no longer exists (a crash is then recovered at once). Its heartbeat
        row goes too, so ``hub status`` lists only live processes.
        """
        with self.transaction():
            now = now or self.db_now()
            alive = [e.owner for e in self.live_engines(now)]
            p = self.db.param
            # the status as a literal: it matches the partial index hub_inbox_in_flight
            sql = (
                f"UPDATE hub_inbox SET status = {p}, owner = NULL, updated_at = {p}"
                f" WHERE status = '{PROCESSING}'"
            )
            if alive:
                sql += f" AND (owner IS NULL OR owner NOT IN ({','.join([p] * len(alive))}))"
            released = self.db.execute_sql(sql, [PENDING, now, *alive]).rowcount
            gone = EngineLease.delete()
            if alive:
                gone = gone.where(EngineLease.owner.not_in(alive))
            gone.execute()
        if released:
            log.warning("released %d record(s) left in flight by a stopped engine", released)
        return released

    def end_lease(self) -> None:
        with self.transaction():
            EngineLease.delete().where(EngineLease.owner == self.owner).execute()
