"""Delivering notifications from one background thread, so a flow never waits for the webhook.

Events wait in a bounded queue; when it is full new ones are dropped with a warning. Each
delivery is retried on network errors, 429 and 5xx answers with exponential backoff and full
jitter, within a fixed time budget. Nothing here raises into the caller, and nothing logs the
token or the URL's path (webhook URLs often carry a secret in their path).
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from . import __version__
from .config import WebhookConfig

log = logging.getLogger(__name__)

USER_AGENT = f"ml-connector-webhook-notify/{__version__}"


@dataclass
class Stats:
    """What the notifier did so far (read by tests and in the closing log line)."""

    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dropped: int = 0


class UrlMask(logging.Filter):
    """Shows only the origin of webhook URLs in httpx's own request log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: dict[str, str] = {}

    def add(self, config: WebhookConfig) -> None:
        if config.url.rstrip("/") != config.origin:
            self.urls[config.url] = f"{config.origin}/***"

    def filter(self, record: logging.LogRecord) -> bool:
        if self.urls:
            text = record.getMessage()
            masked = text
            for url, shown in self.urls.items():
                masked = masked.replace(url, shown)
            if masked != text:
                record.msg, record.args = masked, None
        return True


url_mask = UrlMask()
logging.getLogger("httpx").addFilter(url_mask)


def headers(config: WebhookConfig) -> dict[str, str]:
    out = {"User-Agent": USER_AGENT, "Accept": "application/json, */*"}
    if config.token:
        out["Authorization"] = f"Bearer {config.token}"
    return out


def make_client(config: WebhookConfig) -> httpx.Client:
    url_mask.add(config)
    return httpx.Client(
        verify=config.verify(),
        timeout=httpx.Timeout(config.timeout),
        headers=headers(config),
        follow_redirects=False,  # a redirect would carry the token elsewhere
    )


def cert_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind ``exc``, if that is what it is."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def describe(exc: BaseException) -> str:
    """A short, secret-free description of a transport error."""
    cert = cert_failure(exc)
    if cert is not None:
        return f"TLS certificate not trusted: {cert.verify_message or cert}"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Notifier:
    """A bounded queue of events and the thread that posts them.

    ``max_attempts`` posts per event at most, waiting ``uniform(0, min(backoff_cap,
    backoff_base * 2**(n-1)))`` between them (never less than a ``Retry-After``), and giving
    up once ``delivery_budget`` seconds have passed since the first try.
    """

    def __init__(
        self,
        config: WebhookConfig,
        *,
        max_queue: int = 1000,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        delivery_budget: float = 60.0,
        client: httpx.Client | None = None,
        start: bool = True,
    ) -> None:
        self.config = config
        self.max_queue = max_queue
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.delivery_budget = delivery_budget
        self.stats = Stats()
        self._client = client or make_client(config)
        self._items: deque[dict[str, Any]] = deque()
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._abort = threading.Event()  # set when closing gives up on what is left
        self._rng = random.Random()
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="webhook-notify", daemon=True
            )
            self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, event: dict[str, Any]) -> bool:
        """Queue ``event`` for delivery; never blocks. False when it was dropped."""
        with self._cond:
            if self._closed:
                self.stats.dropped += 1
                log.warning("webhook notifier is closed; dropped the notification for %s",
                            _ref(event))
                return False
            if len(self._items) >= self.max_queue:
                self.stats.dropped += 1
                if self.stats.dropped == 1 or self.stats.dropped % 100 == 0:
                    log.warning(
                        "webhook queue is full (%d waiting); dropped the notification for %s "
                        "(%d dropped so far)", len(self._items), _ref(event), self.stats.dropped
                    )
                return False
            self._items.append(event)
            self.stats.queued += 1
            self._cond.notify_all()
            return True

    def flush(self, timeout: float) -> bool:
        """Wait until every queued event was delivered or given up on; False on timeout."""
        with self._cond:
            if not self.alive:
                return not self._items and not self._busy
            return self._cond.wait_for(lambda: not self._items and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Deliver what is queued (for at most ``timeout`` seconds), then stop the thread."""
        deadline = time.monotonic() + timeout
        drained = self.flush(timeout)
        with self._cond:
            self._closed = True
            left = len(self._items) + self._busy
            self._cond.notify_all()
        if not drained:
            self._abort.set()
            log.warning("webhook %s: gave up on %d notification(s) at shutdown",
                        self.config.origin, left)
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic()))
        if not self.alive:
            self._client.close()
        return drained

    # -- the thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._items or self._closed)
                if self._abort.is_set() or (self._closed and not self._items):
                    self._items.clear()
                    self._cond.notify_all()
                    return
                event = self._items.popleft()
                self._busy = True
            try:
                ok = self.deliver(event)
            except Exception:  # never let one event kill the thread
                log.exception("webhook %s: unexpected error delivering the notification for %s",
                              self.config.origin, _ref(event))
                ok = False
            with self._cond:
                if ok:
                    self.stats.delivered += 1
                else:
                    self.stats.failed += 1
                self._busy = False
                self._cond.notify_all()

    def deliver(self, event: dict[str, Any]) -> bool:
        """POST one event, retrying transient failures; True once the webhook accepted it."""
        body = json.dumps(event, default=str).encode()
        request_headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),  # the same on every retry of this event
        }
        started = time.monotonic()
        error = "not tried"
        attempt = 0
        for attempt in range(1, self.max_attempts + 1):
            retry_after = None
            try:
                response = self._client.post(self.config.url, content=body,
                                             headers=request_headers)
            except httpx.TransportError as exc:
                error = describe(exc)
                if cert_failure(exc) is not None:
                    break  # retrying cannot fix an untrusted certificate
            else:
                status = response.status_code
                if 200 <= status < 300:
                    log.debug("webhook %s: delivered %s (HTTP %d)", self.config.origin,
                              _ref(event), status)
                    return True
                error = f"HTTP {status}"
                if status != 429 and status < 500:
                    log.error(
                        "webhook %s: rejected the notification for %s with HTTP %d; not retried",
                        self.config.origin, _ref(event), status,
                    )
                    return False
                retry_after = _retry_after(response)
            if attempt == self.max_attempts:
                break
            ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            delay = self._rng.uniform(0, ceiling)
            if retry_after is not None:
                delay = max(delay, retry_after)
            if time.monotonic() + delay - started > self.delivery_budget:
                break
            log.info("webhook %s: %s for %s; retrying in %.1fs", self.config.origin, error,
                     _ref(event), delay)
            if self._abort.wait(delay):
                break
        log.error("webhook %s: notification for %s not delivered after %d attempt(s): %s",
                  self.config.origin, _ref(event), attempt, error)
        return False


def _ref(event: dict[str, Any]) -> str:
    return f"{event.get('flow')}/{event.get('object_type')}/{event.get('external_id')} " \
           f"(#{event.get('record_id')})"
