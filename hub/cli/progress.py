"""The progress line of ``hub sync`` on a terminal.

It counts the records handled in this pass against those known to remain: the records that were
ready when the pass began plus what the source has stored so far (echoes and changes refused at
ingest need no processing). While the source is still being read the total is open, shown as
``600/600+``, so the line never claims to be complete before the source is.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class SyncProgress:
    """A single status line, redrawn at most ``every`` seconds; callable from worker threads."""

    def __init__(self, flow: str, ready_at_start: int, *, out: TextIO | None = None) -> None:
        self.flow = flow
        self.ready_at_start = ready_at_start
        self.stored = 0  # new records the source stored in this pass that need processing
        self.handled = 0
        self.reading = True
        self.out = out or sys.stderr
        self.every = 0.1
        self._drawn_at = 0.0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return max(self.ready_at_start + self.stored, self.handled)

    def render(self) -> str:
        total = self.total
        if self.reading:
            return f"{self.flow}: {self.handled}/{total}+ records (reading the source)"
        pct = 100 * self.handled // total if total else 100
        return f"{self.flow}: {self.handled}/{total} records ({pct}%)"

    def update(self, handled: int = 0, *, stored: int | None = None, reading: bool = True) -> None:
        with self._lock:
            self.handled += handled
            if stored is not None:
                self.stored = stored
            self.reading = reading
            now = time.monotonic()
            if now - self._drawn_at >= self.every:
                self._drawn_at = now
                self._draw()

    def finish(self) -> None:
        with self._lock:
            self._draw()
            self.out.write("\n")
            self.out.flush()

    def _draw(self) -> None:
        self.out.write("\r" + self.render() + "\033[K")
        self.out.flush()
