"""Per-topic event logs with replay ids, retention and subscriber wake-ups."""

from __future__ import annotations

import asyncio
import base64
import bisect
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .org_state import OrgState

REPLAY_ID_LEN = 10


def encode_replay_id(n: int) -> bytes:
    """Replay ids as observed on the wire: an 8-byte big-endian counter plus two zero bytes."""
    return n.to_bytes(8, "big") + b"\x00\x00"


def decode_replay_id(raw: bytes) -> int | None:
    if len(raw) != REPLAY_ID_LEN or raw[8:] != b"\x00\x00":
        return None
    return int.from_bytes(raw[:8], "big")


@dataclass(slots=True)
class StoredEvent:
    replay: int
    event_id: str
    schema_id: str
    payload: bytes
    ts_ms: int


class TopicLog:
    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.replays: list[int] = []
        self.purged_upto = 0

    def latest(self) -> int:
        return self.replays[-1] if self.replays else self.purged_upto

    def after(self, replay: int, limit: int) -> list[StoredEvent]:
        i = bisect.bisect_right(self.replays, replay)
        return self.events[i:i + limit]

    def purge_before(self, cutoff_ms: int) -> None:
        n = 0
        while n < len(self.events) and self.events[n].ts_ms < cutoff_ms:
            n += 1
        if n:
            self.purged_upto = self.events[n - 1].replay
            del self.events[:n]
            del self.replays[:n]


class EventBus:
    def __init__(self, org: OrgState) -> None:
        self.org = org
        self.topics: dict[str, TopicLog] = {}
        self.last_replay = 0
        self.published: Counter[str] = Counter()
        self.listeners: dict[str, set[asyncio.Event]] = {}
        self.drop_generation = 0

    def wake_all(self) -> None:
        """Wake every subscriber so it re-checks its token, faults and demand."""
        for waiters in self.listeners.values():
            for waiter in waiters:
                waiter.set()

    def drop_streams(self) -> int:
        self.drop_generation += 1
        count = sum(len(w) for w in self.listeners.values())
        self.wake_all()
        return count

    def log(self, topic: str) -> TopicLog:
        found = self.topics.get(topic)
        if found is None:
            found = self.topics[topic] = TopicLog()
        return found

    def cutoff_ms(self) -> int:
        return self.org.clock.now_ms() - int(self.org.profile.retention_hours * 3600 * 1000)

    def purge(self) -> None:
        cutoff = self.cutoff_ms()
        for log in self.topics.values():
            log.purge_before(cutoff)

    def append(self, topic: str, event_id: str, schema_id: str, payload: bytes,
               ts_ms: int) -> int:
        self.last_replay += 1
        log = self.log(topic)
        log.events.append(StoredEvent(self.last_replay, event_id, schema_id, payload, ts_ms))
        log.replays.append(self.last_replay)
        self.published[topic] += 1
        for waiter in self.listeners.get(topic, ()):
            waiter.set()
        return self.last_replay

    def subscribe(self, topic: str, waiter: asyncio.Event) -> None:
        self.listeners.setdefault(topic, set()).add(waiter)

    def unsubscribe(self, topic: str, waiter: asyncio.Event) -> None:
        self.listeners.get(topic, set()).discard(waiter)

    def check_replay(self, topic: str, replay: int) -> str | None:
        """None if a subscriber may resume after ``replay``, else the error kind."""
        self.purge()
        log = self.log(topic)
        if replay > self.last_replay:
            return "validation"
        if replay < log.purged_upto:
            return "corrupted"
        return None

    def to_dict(self) -> dict:
        self.purge()
        return {
            "last_replay": self.last_replay, "published": dict(self.published),
            "topics": {
                name: {"purged_upto": log.purged_upto,
                       "events": [[e.replay, e.event_id, e.schema_id,
                                   base64.b64encode(e.payload).decode(), e.ts_ms]
                                  for e in log.events]}
                for name, log in self.topics.items()
            },
        }

    def load_dict(self, data: dict) -> None:
        self.last_replay = data.get("last_replay", 0)
        self.published = Counter(data.get("published", {}))
        for name, tdata in data.get("topics", {}).items():
            log = self.log(name)
            log.purged_upto = tdata.get("purged_upto", 0)
            for replay, eid, sid, payload, ts in tdata.get("events", []):
                log.events.append(StoredEvent(replay, eid, sid, base64.b64decode(payload), ts))
                log.replays.append(replay)
