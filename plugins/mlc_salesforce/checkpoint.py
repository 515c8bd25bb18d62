"""The sources' checkpoints: a JSON object stored by the core with the changes it covers.

Polling keeps ``watermark`` (the highest ``SystemModstamp`` read, as a SOQL literal) and
``seen`` (id -> ``SystemModstamp`` of records read inside the overlap window, to drop repeats).
CDC keeps ``replay_id`` (hex of the opaque bytes) and ``commit_ts`` (epoch ms of the last
event, where a backfill starts when the replay id has expired). Either kind may be present.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class SourceCheckpoint:
    watermark: str | None = None
    seen: dict[str, str] = field(default_factory=dict)
    replay_id: str | None = None
    commit_ts: int | None = None
    mode: str | None = None

    @classmethod
    def load(cls, text: str | None) -> SourceCheckpoint:
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls(watermark=text)  # a bare watermark written by hand
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @property
    def replay_bytes(self) -> bytes | None:
        return bytes.fromhex(self.replay_id) if self.replay_id else None
