"""Stop signals: the first asks the engine to finish what is in flight, the second exits."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .common import EXIT_INTERRUPTED

log = logging.getLogger("hub")


@contextmanager
def graceful_stop(stopping: threading.Event) -> Iterator[None]:
    def handler(signum, frame):  # noqa: ARG001
        if stopping.is_set():
            os.write(2, b"second stop signal: exiting at once\n")
            os._exit(EXIT_INTERRUPTED)
        log.warning(
            "%s received: finishing records in flight (send it again to exit at once)",
            signal.Signals(signum).name,
        )
        stopping.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
