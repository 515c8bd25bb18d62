"""Talking to the REST API through simple-salesforce: retries, limits, collections, queries.

:class:`SalesforceRest` hands simple-salesforce the hub's own token and ``requests.Session``,
sends ``Sforce-Call-Options: client=<name>`` on every call (so change events of the hub's own
writes carry ``;client=<name>`` in ``changeOrigin``), reads ``Sforce-Limit-Info`` from every
response (success or error) into the :class:`~mlc_salesforce.limits.ApiBudget`, refreshes the
token once on ``INVALID_SESSION_ID``, and backs off with full jitter on
``REQUEST_LIMIT_EXCEEDED``, ``UNABLE_TO_LOCK_ROW`` and 503.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from hub import HubError, RetriableError

from .auth import OrgToken, TlsRejected, Token, _reason
from .limits import ApiBudget
from .metrics import API_CALLS, RETRIES, SYSTEM, count_call

log = logging.getLogger(__name__)

T = TypeVar("T")
CLIENT_NAME = "ml-connector"
COLLECTION_SIZE = 200  # records per sObject Collections call (Salesforce's maximum)
TRANSIENT_CODES = {"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"}
# 503 from the org; 502 and 504 (often an HTML page) from a proxy or load balancer on the way
TRANSIENT_STATUS = {502, 503, 504}
HTTP_TIMEOUT = 120.0


class SalesforceApiError(HubError):
    """A REST call Salesforce refused for a reason no retry fixes (bad query, unknown field)."""

    def __init__(self, what: str, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{what}: HTTP {status} {code}: {message}")


def error_of(exc: SalesforceError) -> tuple[str, str]:
    """Salesforce's ``errorCode`` and message from a top-level error array (or best effort)."""
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return str(first.get("errorCode") or ""), str(first.get("message") or "")
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or ""), str(content)[:300]
    return "", str(content)[:300]


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    return rng() * min(cap, base * 2 ** (attempt - 1))


class SalesforceRest:
    """REST calls to one org, shared by every component of the plugin (thread-safe)."""

    def __init__(
        self,
        token: OrgToken,
        http: requests.Session,
        api_version: str,
        budget: ApiBudget,
        *,
        client_name: str = CLIENT_NAME,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.token = token
        self.http = http
        self.api_version = api_version
        self.budget = budget
        self.client_name = client_name
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.sleep, self.rng = sleep, rng
        self.calls = 0  # REST API calls made (each one counts against the daily limit)
        self.retries = 0
        self._lock = threading.Lock()
        self._clients: dict[str, Salesforce] = {}
        self._describes: dict[str, dict] = {}
        self._describe_lock = threading.Lock()
        http.hooks["response"].append(self._observe)

    def _observe(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/services/data/" in resp.url:
            with self._lock:
                self.calls += 1
            count_call(resp.request.method or "", urlsplit(resp.url).path, resp.status_code)
            self.budget.observe(resp.headers.get("Sforce-Limit-Info"))

    def client(self, token: Token | None = None) -> Salesforce:
        """A simple-salesforce client for ``token`` (the current one by default)."""
        token = token or self.token.current()
        with self._lock:
            sf = self._clients.get(token.access_token)
            if sf is None:
                sf = Salesforce(
                    instance_url=token.instance_url,
                    session_id=token.access_token,
                    session=self.http,
                    version=self.api_version,
                )
                sf.headers["Sforce-Call-Options"] = f"client={self.client_name}"
                self._clients = {token.access_token: sf}  # older tokens are done with
            return sf

    # -- the retry loop ----------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[Salesforce], T], *, urgent: bool = False) -> T:
        """Run ``fn(client)``; refresh a rejected token once; back off on transient errors.

        Non-urgent calls first check the daily API budget (see ``limits``). Every error names
        Salesforce: it may reach an operator with no other context (``hub run`` at start-up).
        """
        what = f"Salesforce {what}"
        if not urgent:
            self._check_budget(what)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = self.token.current()
            try:
                return fn(self.client(token))
            except SalesforceExpiredSession:
                if refreshed:
                    raise RetriableError(f"{what}: session rejected after a refresh") from None
                refreshed = True
                attempt -= 1
                self.token.refresh(token.access_token)
                RETRIES.add(SYSTEM, "session")
                continue
            except SalesforceError as exc:
                code, message = error_of(exc)
                transient = code in TRANSIENT_CODES or exc.status in TRANSIENT_STATUS
                if not transient:
                    raise SalesforceApiError(what, exc.status, code, message) from None
                failure = f"{what}: HTTP {exc.status} {code}: {message}"
            except requests.exceptions.SSLError as exc:
                raise TlsRejected(f"{what}: TLS verification failed ({_reason(exc)})") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = f"{what}: {type(exc).__name__}"
                API_CALLS.add(SYSTEM, "other", "error")
            if attempt >= self.max_attempts:
                raise RetriableError(failure)
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap, self.rng)
            with self._lock:
                self.retries += 1
            RETRIES.add(SYSTEM, "transient")
            log.warning("%s; retry %d in %.1fs", failure, attempt, delay)
            self.sleep(delay)

    def _check_budget(self, what: str) -> None:
        if self.budget.exhausted() and self.budget.should_probe():
            self.call("GET limits", lambda sf: sf.restful("limits/"), urgent=True)
        self.budget.check(what)

    # -- resources ----------------------------------------------------------------------------

    def request(self, method: str, path: str, *, urgent: bool = False, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.call(
            f"{method} {path.split('?')[0]}",
            lambda sf: sf.restful(path, method=method, **kwargs),
            urgent=urgent,
        )

    def query_pages(
        self, soql: str, *, urgent: bool = False, include_deleted: bool = False
    ) -> Iterator[dict]:
        """Every page of a query (``nextRecordsUrl`` followed), lazily; ``queryAll`` with
        ``include_deleted``."""
        page = self.call(
            "query",
            lambda sf: sf.query(soql, include_deleted=include_deleted, timeout=HTTP_TIMEOUT),
            urgent=urgent,
        )
        yield page
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.next_page(page["nextRecordsUrl"], urgent=urgent)
            yield page

    def next_page(self, next_url: str, *, urgent: bool = False) -> dict:
        return self.call(
            "query more",
            lambda sf: sf.query_more(next_url, identifier_is_url=True, timeout=HTTP_TIMEOUT),
            urgent=urgent,
        )

    def query_records(self, soql: str, *, urgent: bool = False) -> Iterator[dict]:
        for page in self.query_pages(soql, urgent=urgent):
            yield from page.get("records", [])

    def update_collection(self, records: list[dict]) -> list[dict]:
        """``PATCH composite/sobjects`` in calls of at most 200; results in input order."""
        out: list[dict] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = records[start : start + COLLECTION_SIZE]
            body = {"allOrNone": False, "records": chunk}
            out += self.request("PATCH", "composite/sobjects", json=body) or []
        return out

    def upsert_collection(self, sobject: str, field: str, records: list[dict]) -> list[dict]:
        """``PATCH composite/sobjects/<sobject>/<field>``: upsert by external id, 200 a call."""
        out: list[dict] = []
        path = f"composite/sobjects/{sobject}/{field}"
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = records[start : start + COLLECTION_SIZE]
            out += self.request("PATCH", path, json={"allOrNone": False, "records": chunk}) or []
        return out

    def describe_global(self) -> dict:
        return self._described("", "sobjects/")

    def describe(self, sobject: str) -> dict:
        """The object's describe, read once per connection (every flow's sink shares it)."""
        return self._described(sobject, f"sobjects/{sobject}/describe")

    def _described(self, key: str, path: str) -> dict:
        with self._describe_lock:  # flows opening at once wait for one request
            if key not in self._describes:
                self._describes[key] = self.request("GET", path, urgent=True)
            return self._describes[key]

    def has_object(self, sobject: str) -> bool:
        return any(o.get("name") == sobject for o in self.describe_global().get("sobjects", []))

    def field_names(self, sobject: str) -> set[str]:
        return {f["name"] for f in self.describe(sobject).get("fields", [])}
