"""The console's routes: login, overview, record timeline, replay, drift report, live JSON.

Secure by default: only loopback clients unless ``[hub] console_remote = true``; every page
but the login needs a session (HttpOnly, SameSite=Strict cookie, ``Secure`` whenever the
console can be reached over HTTPS); every POST needs the session's CSRF token and, when the
browser sends one, an ``Origin`` equal to the console's own; replay needs the admin role.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from ..listener import HttpRequest, HttpResponse, Route
from ..ops.store_queries import last_errors, parked_records
from ..secrets import redact
from ..store import STATUSES
from .accounts import DRIFT_STATE_KEY, STATE_OWNER, Accounts
from .assets import CSS, JS
from .pages import drift_page, login_page, overview_page, record_page
from .sessions import COOKIE, Sessions, cookie_value, csrf_ok, set_cookie

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make Chrome send Origin: null
    "Cache-Control": "no-store",
}
REFUSED_CROSS_SITE = "<p>Refused: the request did not come from this console's own page.</p>"


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _form(req: HttpRequest) -> dict[str, list[str]]:
    if not req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)


def _html(status: int, text: str, extra: dict[str, str] | None = None) -> HttpResponse:
    headers = {**SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", **(extra or {})}
    return HttpResponse(status, text.encode(), headers)


def _redirect(location: str, extra: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(303, b"", {**SECURITY_HEADERS, "Location": location, **(extra or {})})


def _local_path(value: str | None) -> str:
    """A redirect target inside the console (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


class Console:
    def __init__(self, hub: Any, engine: Any | None, *, secure_cookies: bool) -> None:
        self.hub = hub
        self.engine = engine
        self.secure = secure_cookies
        self.remote_allowed = bool(hub.config.hub.get("console_remote"))
        self.sessions = Sessions()
        self.state = hub.plugin_state(STATE_OWNER)
        self.accounts = Accounts(self.state)

    # -- wrappers ------------------------------------------------------------------------------
    def _gate(self, req: HttpRequest) -> HttpResponse | None:
        if not self.remote_allowed and not _is_loopback(req.remote):
            return _html(403, "<p>The console answers local clients only "
                              "(see [hub] console_remote).</p>")  # fmt: skip
        return None

    def _session(self, req: HttpRequest):
        session = self.sessions.get(cookie_value(req.headers))
        if session is not None and not self.accounts.still_valid(session.account):
            # the user was deleted, its password or role changed, the token revoked or replaced
            log.info("console: session of %s ended: its sign-in no longer holds",
                     session.account.name)  # fmt: skip
            self.sessions.close(session.id)
            return None
        return session

    def _same_origin(self, req: HttpRequest) -> bool:
        origin = req.headers.get("origin")
        if origin is None:
            referer = req.headers.get("referer")
            if referer is None:
                return True  # non-browser clients; the CSRF token still applies
            p = urlparse(referer)
            origin = f"{p.scheme}://{p.netloc}"
        if origin == "null":
            return False
        return urlparse(origin).netloc == req.headers.get("host", "")

    def page(self, handler, *, admin: bool = False, api: bool = False):
        def wrapped(req: HttpRequest) -> HttpResponse:
            denied = self._gate(req)
            if denied:
                return denied
            session = self._session(req)
            if session is None:
                if api or req.method != "GET":
                    return HttpResponse(401, {"error": "sign in first"}, SECURITY_HEADERS)
                return _redirect("/login")
            if req.method == "POST":
                form = _form(req)
                token = (form.get("csrf") or [req.headers.get("x-csrf-token", "")])[0]
                if not self._same_origin(req) or not csrf_ok(session, token):
                    who = session.account.name
                    log.warning("console: %s %s by %s refused: cross-site or no valid CSRF token",
                                req.method, req.path, who)  # fmt: skip
                    return _html(403, REFUSED_CROSS_SITE)
                if admin and not session.account.is_admin:
                    return _html(403, "<p>Refused: this action needs the admin role.</p>")
                return handler(req, session, form)
            return handler(req, session)

        return wrapped

    # -- login ---------------------------------------------------------------------------------
    def login_get(self, req: HttpRequest) -> HttpResponse:
        return self._gate(req) or _html(200, login_page(self.sessions.login_token()))

    def login_post(self, req: HttpRequest) -> HttpResponse:
        denied = self._gate(req)
        if denied:
            return denied
        form = _form(req)
        client = req.remote or "?"
        token = (form.get("csrf") or [""])[0]
        if not self._same_origin(req) or not self.sessions.login_token_ok(token):
            return _html(403, login_page(self.sessions.login_token(), "Refused: reload the "
                                         "sign-in page and try again."))  # fmt: skip
        stamp = self.sessions.attempt(client)  # counted as failed until it proves right
        if stamp is None:
            text = "Too many failed sign-ins; wait a few minutes."
            return _html(429, login_page(self.sessions.login_token(), text))
        admin_token = (form.get("admin_token") or [""])[0]
        if admin_token:
            account = self.accounts.check_admin_token(admin_token)
            if account is None:  # counted against the same limit as passwords
                log.warning("console: failed sign-in with an admin token from %s", client)
                return _html(401, login_page(self.sessions.login_token(), "Wrong admin token."))
        else:
            user = (form.get("user") or [""])[0]
            account = self.accounts.check(user, (form.get("password") or [""])[0])
            if account is None:
                log.warning("console: failed sign-in for %r from %s", user[:64], client)
                return _html(
                    401, login_page(self.sessions.login_token(), "Wrong user or password.")
                )
        self.sessions.succeeded(client, stamp)
        session = self.sessions.open(account)
        log.info("console: %s signed in from %s", account.name, client)
        return _redirect("/", {"Set-Cookie": set_cookie(session.id, secure=self.secure)})

    def logout(self, req, session, form) -> HttpResponse:
        self.sessions.close(session.id)
        return _redirect("/login", {"Set-Cookie": set_cookie("", secure=self.secure, max_age=0)})

    # -- data ----------------------------------------------------------------------------------
    def overview_data(self, q: str = "", flow: str = "") -> dict[str, Any]:
        store = self.hub.store
        now = time.time()
        counts = store.counts()
        oldest = store.oldest_live()
        running = self.engine.flows if self.engine else {}
        names = sorted(set(self.hub.config.flows) | set(counts))
        flows = []
        for name in names:
            cfg = self.hub.config.flows.get(name)
            st = running.get(name)
            if st is not None:
                state = "stopped" if st.stopped else "running"
            else:
                state = "disabled" if cfg is None or not cfg.enabled else "not running"
            flows.append({
                "flow": name, "state": state,
                "lag_seconds": round(now - oldest[name], 1) if name in oldest else 0.0,
                "records": {s: counts.get(name, {}).get(s, 0) for s in STATUSES},
                "stopped_reason": st.stopped if st is not None else None,
            })  # fmt: skip
        errors = [{"flow": f, **row} for f, rows in sorted(last_errors().items()) for row in rows]
        return redact({
            "flows": flows, "statuses": list(STATUSES),
            "parked": parked_records(flow=flow or None, search=q or None),
            "errors": errors,
        })  # fmt: skip

    def record_data(self, rid: int) -> dict[str, Any] | None:
        got = self.hub.store.get_record(rid)
        if got is None:
            return None
        rec, row = got
        events = [
            {"at": ev.at, "step": ev.step, "attempt": ev.attempt,
             "summary": ", ".join(f"{k}={v}" for k, v in json.loads(ev.summary).items()
                                  if v is not None) if ev.summary else ""}
            for ev in self.hub.store.timeline([rid])
        ]  # fmt: skip
        return redact({
            "id": rec.id, "flow": rec.flow, "object_type": rec.object_type,
            "external_id": rec.external_id, "status": rec.status, "attempts": rec.attempts,
            "last_error": row.last_error, "received": row.created_at, "events": events,
        })  # fmt: skip

    # -- pages ---------------------------------------------------------------------------------
    def overview(self, req, session) -> HttpResponse:
        q, flow = req.query.get("q", "")[:200], req.query.get("flow", "")[:100]
        flash = ""
        if req.query.get("replayed", "").isdigit():
            flash = f"{req.query['replayed']} record(s) queued for replay"
        return _html(200, overview_page(self.overview_data(q, flow), session, q=q, flow=flow,
                                        flash=flash))  # fmt: skip

    def api_overview(self, req, session) -> HttpResponse:
        data = self.overview_data(req.query.get("q", "")[:200], req.query.get("flow", "")[:100])
        data["admin"] = session.account.is_admin
        return HttpResponse(200, data, SECURITY_HEADERS)

    def record(self, req, session) -> HttpResponse:
        rid = req.query.get("id", "").lstrip("#")
        rec = self.record_data(int(rid)) if rid.isdigit() else None
        if rec is None:
            return _html(404, "<p>No such record.</p>")
        return _html(200, record_page(rec, session))

    def api_record(self, req, session) -> HttpResponse:
        rid = req.query.get("id", "")
        rec = self.record_data(int(rid)) if rid.isdigit() else None
        if rec is None:
            return HttpResponse(404, {"error": "no such record"}, SECURITY_HEADERS)
        return HttpResponse(200, rec, SECURITY_HEADERS)

    def replay(self, req, session, form) -> HttpResponse:
        ids = sorted({int(x) for x in form.get("id", []) if x.strip().isdigit()})[:1000]
        queued = self.hub.store.mark_for_replay(ids, note=f"console: {session.account.name}")
        log.info("console: %s queued %d record(s) for replay", session.account.name, len(queued))
        if self.engine is not None:
            self.engine.wake.set()
        back = _local_path((form.get("back") or ["/"])[0])
        if back == "/":
            return _redirect("/?" + urlencode({"replayed": len(queued)}))
        return _redirect(back)

    def drift(self, req, session) -> HttpResponse:
        raw = self.state.get(DRIFT_STATE_KEY)
        return _html(200, drift_page(json.loads(raw) if raw else None, session))

    def routes(self) -> list[Route]:
        def static(body: str, ctype: str):
            data = body.encode()
            headers = {"Content-Type": ctype, "Cache-Control": "no-cache",
                       "X-Content-Type-Options": "nosniff"}  # fmt: skip
            return lambda req: HttpResponse(200, data, headers)

        return [
            Route("hub", "GET", "/console.css", static(CSS, "text/css; charset=utf-8")),
            Route("hub", "GET", "/console.js", static(JS, "text/javascript; charset=utf-8")),
            Route("hub", "GET", "/login", self.login_get),
            Route("hub", "POST", "/login", self.login_post),
            Route("hub", "POST", "/logout", self.page(self.logout)),
            Route("hub", "GET", "/", self.page(self.overview)),
            Route("hub", "GET", "/record", self.page(self.record)),
            Route("hub", "GET", "/drift", self.page(self.drift)),
            Route("hub", "GET", "/api/overview", self.page(self.api_overview, api=True)),
            Route("hub", "GET", "/api/record", self.page(self.api_record, api=True)),
            Route("hub", "POST", "/replay", self.page(self.replay, admin=True)),
        ]


__all__ = ["Console", "COOKIE", "DRIFT_STATE_KEY"]
