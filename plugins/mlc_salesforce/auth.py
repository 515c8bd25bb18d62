"""Logging in to a Salesforce org with the OAuth 2.0 client-credentials flow.

The hub requests the token itself (simple-salesforce's own client-credentials login only knows
``*.salesforce.com`` token hosts) and hands simple-salesforce the instance URL and session id.
The token response has no ``expires_in``: the real expiry comes from token introspection, or
from ``session_timeout`` when the connected app may not introspect. :class:`OrgToken` refreshes
before the token lapses, and after a rejection (``INVALID_SESSION_ID``, gRPC
``UNAUTHENTICATED``) exactly once for all callers that saw the same stale token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from hub import Check, FatalError, RetriableError

from . import metrics

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300.0  # seconds before expiry at which a token is replaced
HTTP_TIMEOUT = 30.0


class CredentialsRejected(FatalError):
    """Salesforce refused the client credentials; the message is Salesforce's own text."""


class TlsRejected(FatalError):
    """The server's certificate is not trusted by ``ca_bundle`` (or the system store)."""


def make_http_session(ca_bundle: str | None) -> requests.Session:
    """A ``requests.Session`` that trusts ``ca_bundle`` (or the system store) and nothing else.

    ``trust_env`` is off: otherwise ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` in the environment
    would override ``verify`` and a wrong CA would pass or a right one fail by accident.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle or True
    return session


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    org_id: str
    user_id: str
    issued_at: float  # epoch seconds
    expires_at: float  # epoch seconds
    expiry_source: str  # "introspection" or "session_timeout"

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(org={self.org_id}, expires_at={self.expires_at:.0f})"


class OrgToken:
    """The current access token of one connected app, refreshed before it lapses."""

    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str,
        http: requests.Session,
        *,
        session_timeout: float = 7200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.http = http
        self.session_timeout = session_timeout
        self.clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.refreshes = 0  # tokens requested so far (tests and status read it)
        self.on_refresh: list[Callable[[Token], None]] = []
        self.last_error: str | None = None  # why the last token request failed; None once one works
        metrics.track_token(self)

    def current(self) -> Token:
        """The token to use now: the cached one unless it is about to lapse."""
        token = self._token
        if token is not None and token.expires_at - REFRESH_MARGIN > self.clock():
            return token
        with self._lock:
            token = self._token
            if token is None or token.expires_at - REFRESH_MARGIN <= self.clock():
                token = self._fetch("expiring" if token is not None else None)
            return token

    def refresh(self, stale: str | None) -> Token:
        """Replace a token the server rejected; ``stale`` is the access token that failed.

        Single flight: callers that saw the same stale token wait for one request and share
        its result; a caller whose token was already replaced gets the new one at once.
        """
        with self._lock:
            token = self._token
            if token is not None and token.access_token != stale:
                return token
            return self._fetch("rejected")

    # -- requests --------------------------------------------------------------------------------

    def _post(self, path: str, data: dict[str, str]) -> requests.Response:
        url = f"{self.instance_url}/services/oauth2/{path}"
        try:
            return self.http.post(url, data=data, timeout=HTTP_TIMEOUT)
        except requests.exceptions.SSLError as exc:
            raise TlsRejected(
                f"TLS verification of {self.instance_url} failed; check "
                f"plugins.salesforce.ca_bundle ({_reason(exc)})"
            ) from None
        except requests.RequestException as exc:
            raise RetriableError(f"POST {url}: {type(exc).__name__}") from None

    def _fetch(self, renewal: str | None = None) -> Token:
        """Request a token; ``renewal`` names why a held one is replaced (for the metrics)."""
        if renewal:
            metrics.RENEWALS.add(metrics.SYSTEM, renewal)
        try:
            token = self._request_token()
        except Exception as exc:
            metrics.LOGINS.add(metrics.SYSTEM, "failed")
            self.last_error = str(exc) or type(exc).__name__
            raise
        metrics.LOGINS.add(metrics.SYSTEM, "ok")
        self.last_error = None
        for callback in self.on_refresh:
            callback(token)
        return token

    # -- what /metrics and /readyz read (no network) --------------------------------------------
    def figures(self, now: float) -> dict[str, float] | None:
        token = self._token
        if token is None:
            return None
        return {"age": max(0.0, now - token.issued_at), "expires_in": token.expires_at - now}

    def readiness(self, now: float) -> Check:
        """Ready: the last token request worked (a token past its expiry is replaced at the
        next call, so only a failed request makes the hub not ready)."""
        if self.last_error:
            return Check("token", False, f"the last token request failed: {self.last_error}")
        token = self._token
        if token is None:  # a component that connects without a call (reference-data writes)
            return Check("token", True, "no token held yet; the next call requests one")
        left = token.expires_at - now
        if left <= 0:
            return Check("token", True, "expired; the next call requests a new one")
        return Check("token", True, f"held, valid {left / 60:.0f} more minutes")

    def _request_token(self) -> Token:
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        resp = self._post("token", data)
        body = _json(resp)
        if resp.status_code >= 500 or body.get("error") == "rate_limit_exceeded":
            raise RetriableError(
                f"token request: HTTP {resp.status_code} {body.get('error', '')}".strip()
            )
        if resp.status_code != 200 or "access_token" not in body:
            error = body.get("error") or f"HTTP {resp.status_code}"
            text = body.get("error_description") or resp.text[:200]
            raise CredentialsRejected(f"Salesforce refused the client credentials: {error}: {text}")
        issued = float(body.get("issued_at") or self.clock() * 1000) / 1000.0
        parts = (body.get("id") or "").rstrip("/").split("/")
        org_id, user_id = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
        exp, source = self._introspect(body["access_token"])
        if exp is None:
            exp, source = issued + self.session_timeout, "session_timeout"
        token = Token(
            access_token=body["access_token"],
            instance_url=(body.get("instance_url") or self.instance_url).rstrip("/"),
            org_id=org_id,
            user_id=user_id,
            issued_at=issued,
            expires_at=exp,
            expiry_source=source,
        )
        self._token = token
        self.refreshes += 1
        log.info("salesforce: new access token for org %s (expires from %s)", org_id, source)
        return token

    def _introspect(self, access_token: str) -> tuple[float | None, str]:
        data = {
            "token": access_token,
            "token_type_hint": "access_token",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        try:
            resp = self._post("introspect", data)
        except RetriableError:
            return None, "session_timeout"
        body = _json(resp)
        if resp.status_code == 200 and body.get("active") and body.get("exp"):
            return float(body["exp"]), "introspection"
        return None, "session_timeout"


def _json(resp: requests.Response) -> dict:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(exc: Exception) -> str:
    text = str(exc)
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in text else text[:120]
