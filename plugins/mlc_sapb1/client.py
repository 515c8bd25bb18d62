"""ServiceLayerClient: requests through the shared session, answers mapped to hub errors.

Components receive a client and never build HTTP themselves. Every method accepts data and
returns decoded JSON; failures raise what ``errors`` describes. A request refused because the
session ended is sent once more after a (shared) re-login; nothing else is retried here: a
write is never repeated blindly (``AmbiguousWrite`` tells the sink to look first).
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .batch import BatchWrite, PartResponse
from .batch import decode as batch_answer
from .batch import encode as batch_body
from .errors import (
    AmbiguousWrite,
    ServiceLayerError,
    TransientFailure,
    UntrustedServer,
    parse_error,
)
from .metrics import RETRIES, SYSTEM, count_call
from .odata import skip_from_link
from .session import ServiceLayerSession, SessionTicket, StateStore
from .settings import ServiceLayerSettings

log = logging.getLogger("hub.plugin.sapb1")

TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
_QUERY_SAFE = "$'(),:/@*"


def transport_error(exc: httpx.TransportError, base: Any, method: str, path: str) -> Exception:
    """A transport failure as a hub error: untrusted TLS is fatal, the rest transient."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(
        exc.__cause__, ssl.SSLCertVerificationError
    ):
        return UntrustedServer(
            f"the certificate of {base} is not trusted ({text}); set plugins.sapb1.ca_bundle "
            "to the PEM file of the CA that signed it"
        )
    ambiguous = method != "GET" and not isinstance(exc, httpx.ConnectError)
    kind = AmbiguousWrite if ambiguous else TransientFailure
    return kind(f"SAP B1 {method} {path}: {type(exc).__name__}: {text or 'no answer'}")


def query_string(params: dict[str, Any]) -> str:
    """``$filter=...&$select=...`` with spaces as %20 (never ``+``)."""
    return "&".join(f"{k}={quote(str(v), safe=_QUERY_SAFE)}" for k, v in params.items())


def tls_verify(ca_bundle: str | None) -> ssl.SSLContext:
    """The CA bundle if configured, else the system's trust store; never verification off."""
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    return ssl.create_default_context()


class ServiceLayerClient:
    """get / pages / post / patch / batch against one Service Layer, with one shared session."""

    def __init__(
        self,
        settings: ServiceLayerSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        state: StateStore | None = None,
        **session_options: Any,
    ) -> None:
        self.settings = settings
        verify: Any = True if transport is not None else tls_verify(settings.ca_bundle)
        self.http = httpx.Client(
            base_url=settings.url,
            timeout=settings.timeout,
            verify=verify,
            transport=transport,
            trust_env=False,  # the configured CA bundle is what is trusted, nothing from the env
            cookies=None,
            headers={"Accept": "application/json"},
        )
        self.http.cookies.jar.set_policy(_NoCookies())
        self.session = ServiceLayerSession(
            self.http,
            company_db=settings.company_db,
            username=settings.username,
            password=settings.password,
            state=state,
            **session_options,
        )
        self._count_lock = threading.Lock()
        self.requests = 0
        httpx_log = logging.getLogger("httpx")
        if httpx_log.level == logging.NOTSET:  # one INFO line per request would flood the log
            httpx_log.setLevel(logging.WARNING)

    def close(self) -> None:
        self.session.save()
        self.http.close()

    # -- the one way a request goes out -------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send through the session; re-login once on 401 / 403-301; map failures."""
        url = path + ("?" + query_string(params) if params else "")
        ticket = self.session.ticket()
        resp = self._send(method, url, ticket, json_body, content, headers)
        if _session_refused(resp):
            ticket = self.session.renew(ticket)
            RETRIES.add(SYSTEM, "session")
            resp = self._send(method, url, ticket, json_body, content, headers)
            if _session_refused(resp):
                code, message = parse_error(resp)
                detail = " ".join(part for part in (code, message) if part)
                raise TransientFailure(
                    f"SAP B1 refused a fresh session for {method} {path}: {detail}"
                )
        elif method == "GET" and _broken_node(resp):
            log.warning("SAP B1 node %s cannot read (%s); logging in again to reach another",
                        ticket.route_id or "?", " ".join(parse_error(resp)))  # fmt: skip
            ticket = self.session.renew(ticket, "node")
            RETRIES.add(SYSTEM, "node")
            resp = self._send(method, url, ticket, json_body, content, headers)
        self.session.touch(ticket)
        log.debug("SAP B1 %s %s -> %s", method, path, resp.status_code)
        return _checked(resp, method, path)

    def _send(self, method, url, ticket: SessionTicket, json_body, content, headers):
        h = {"Cookie": ticket.cookie_header(), **(headers or {})}
        if json_body is not None:
            content = json.dumps(json_body).encode()
            h.setdefault("Content-Type", "application/json")
        with self._count_lock:
            self.requests += 1
        path = url.split("?")[0]
        since = self.session.answers_so_far()
        try:
            resp = self.http.request(method, url, content=content, headers=h)
        except httpx.TimeoutException as exc:
            count_call(method, path, "timeout")
            kind = TransientFailure if method == "GET" else AmbiguousWrite
            reason = f"SAP B1 {method} {path} timed out ({exc})"
            self.session.no_answer(since, reason)  # /readyz says so until SAP answers again
            raise kind(reason) from None
        except httpx.TransportError as exc:
            count_call(method, path, "error")
            failure = transport_error(exc, self.http.base_url, method, path)
            self.session.no_answer(since, str(failure))
            raise failure from None
        count_call(method, path, resp.status_code)
        self.session.answered()
        return resp

    # -- verbs ---------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return _json(self.request("GET", path, params=params, **kw), "GET", path)

    def pages(
        self, entity_set: str, params: dict[str, Any] | None = None, page_size: int | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``entity_set``, following ``@odata.nextLink``.

        The original query is sent again with each page; only ``$skip`` is taken from the
        link (some servers drop ``$filter`` and ``$select`` from it).
        """
        query = dict(params or {})
        skip = int(query.pop("$skip", 0) or 0)
        size = page_size or self.settings.page_size
        headers = {"Prefer": f"odata.maxpagesize={size}"}
        while True:
            q = {**query, **({"$skip": skip} if skip else {})}
            body = self.get(entity_set, q, headers=headers)
            rows = body.get("value") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                raise TransientFailure(f"SAP B1 GET {entity_set}: the answer has no 'value' list")
            if rows:
                yield rows
            link = body.get("@odata.nextLink") or body.get("odata.nextLink")
            if not link or not rows:
                return
            nxt = skip_from_link(link)
            if nxt is None or nxt <= skip:
                raise TransientFailure(f"SAP B1 GET {entity_set}: next link {link!r} goes nowhere")
            skip = nxt

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        resp = self.request("POST", path, json_body=body, headers=headers)
        return _json(resp, "POST", path) if resp.content else None

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> None:
        self.request("PATCH", path, json_body=body, headers=headers)

    def batch(self, writes: list[BatchWrite]) -> list[list[PartResponse]]:
        """Send ``writes`` as one ``$batch``, one changeset each; the answers per changeset.

        Fewer answers than writes: the server stopped at a failing part. No answer at all
        raises ``AmbiguousWrite`` (some changesets may have committed)."""
        root = urlsplit(str(self.http.base_url)).path
        ctype, body = batch_body(writes, root)
        resp = self.request("POST", "$batch", content=body, headers={"Content-Type": ctype})
        try:
            return batch_answer(resp.headers.get("content-type", ""), resp.content)
        except ValueError as exc:
            raise AmbiguousWrite(f"SAP B1 $batch: the answer cannot be read ({exc})") from None


class _NoCookies:
    """A cookie policy that stores nothing: the session sends its own Cookie header."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False

    def domain_return_ok(self, domain, request) -> bool:
        return False

    def path_return_ok(self, path, request) -> bool:
        return False


def _session_refused(resp: httpx.Response) -> bool:
    if resp.status_code == 401:
        return True
    return resp.status_code == 403 and parse_error(resp)[0] == "301"


def _broken_node(resp: httpx.Response) -> bool:
    """500 code 407 "Table definition not found": the load-balancer node this session landed
    on cannot read, though logging in works; only a session on another node helps."""
    return resp.status_code == 500 and parse_error(resp)[0] == "407"


def _is_html(resp: httpx.Response) -> bool:
    return "html" in resp.headers.get("content-type", "").lower()


def _retry_after(resp: httpx.Response) -> float | None:
    try:
        return float(resp.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _checked(resp: httpx.Response, method: str, path: str) -> httpx.Response:
    status = resp.status_code
    if status < 300 and not _is_html(resp):
        return resp
    if status in TRANSIENT_STATUS or status >= 500 or _is_html(resp):
        code, message = ("", "an HTML error page") if _is_html(resp) else parse_error(resp)
        line = f"SAP B1 {method} {path} answered {status} {code} {message}".replace("  ", " ")
        log.warning("%s", line.strip())
        raise TransientFailure(line.strip(), retry_after=_retry_after(resp))
    code, message = parse_error(resp)
    raise ServiceLayerError(status, code, message, method, path)


def _json(resp: httpx.Response, method: str, path: str) -> Any:
    try:
        return resp.json()
    except (ValueError, json.JSONDecodeError):
        raise TransientFailure(f"SAP B1 {method} {path}: the answer is not whole JSON") from None
