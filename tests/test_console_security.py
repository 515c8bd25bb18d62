"""The web console is secure by default: sign-in, roles, CSRF and origin checks, local only,
no secret rendered. (The browser test is test_console_browser.py.)"""

from __future__ import annotations

import httpx
import pytest
from ops_env import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    close_hubs,
    console_accounts,
    csrf_of,
    serving,
    sign_in,
    synced_engine,
    vault_key,
    write_ops_config,
)

SECRET = "Kq7-console-must-not-show-this"


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    close_hubs()


@pytest.fixture
def console(hubenv, monkeypatch):
    vault_key(hubenv)
    hubenv.write_changes([{"id": f"P{i}", "payload": {}} for i in range(4)])
    write_ops_config(
        hubenv,
        script={"P1": ["leak"], "P2": ["park:Amount"]},  # P1's error quotes the key
        plugin={"api_key": {"env": "HUBTEST_KEY"}},
        flow={"max_attempts": 1},
    )
    monkeypatch.setenv("HUBTEST_KEY", SECRET)
    hub, engine = synced_engine(hubenv)
    console_accounts(hub)
    with serving(hub, engine) as lst:
        yield hub, lst.url


def parked_ids(hub):
    return sorted(r.id for r in hub.store.find_records(status="parked"))


def test_every_page_needs_a_session(console):
    hub, base = console
    with httpx.Client() as c:
        assert c.get(base + "/").status_code == 303  # to the sign-in page
        assert c.get(base + "/").headers["location"] == "/login"
        assert c.get(base + "/api/overview").status_code == 401
        assert c.get(base + "/record?id=1").status_code == 303
        before = parked_ids(hub)
        r = c.post(base + "/replay", data={"id": [str(i) for i in before], "csrf": "x"})
        assert r.status_code == 401
        assert parked_ids(hub) == before and before  # nothing changed


def test_sign_in_sets_a_strict_http_only_cookie_and_wrong_passwords_fail(console):
    hub, base = console
    with httpx.Client() as c:
        bad = sign_in(c, base, "ada", "not the password")
        assert bad.status_code == 401 and "Wrong user or password" in bad.text
        assert "set-cookie" not in bad.headers
        ok = sign_in(c, base, "ada", ADMIN_PASSWORD)
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = c.get(base + "/")
        assert page.status_code == 200 and "Parked records" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"


def test_a_login_form_from_elsewhere_is_refused(console):
    hub, base = console
    with httpx.Client() as c:
        r = c.post(base + "/login", data={"user": "ada", "password": ADMIN_PASSWORD,
                                          "csrf": "forged.token"})  # fmt: skip
        assert r.status_code == 403 and "set-cookie" not in r.headers


def test_cross_site_or_tokenless_replay_changes_nothing(console):
    hub, base = console
    before = parked_ids(hub)
    ids = [str(i) for i in before]
    with httpx.Client() as c:
        sign_in(c, base, "ada", ADMIN_PASSWORD)
        token = csrf_of(c.get(base + "/").text)
        no_token = c.post(base + "/replay", data={"id": ids})
        wrong = c.post(base + "/replay", data={"id": ids, "csrf": token + "x"})
        foreign = c.post(base + "/replay", data={"id": ids, "csrf": token},
                         headers={"Origin": "https://evil.example"})  # fmt: skip
        assert (no_token.status_code, wrong.status_code, foreign.status_code) == (403, 403, 403)
        assert parked_ids(hub) == before
        ok = c.post(base + "/replay", data={"id": ids, "csrf": token},
                    headers={"Origin": base})  # fmt: skip
        assert ok.status_code == 303 and ok.headers["location"] == f"/?replayed={len(ids)}"
    assert parked_ids(hub) == []  # queued for replay (pending), no longer parked


def test_a_viewer_may_look_but_not_replay(console):
    hub, base = console
    before = parked_ids(hub)
    with httpx.Client() as c:
        sign_in(c, base, "vic", VIEWER_PASSWORD)
        page = c.get(base + "/").text
        assert "Replay needs the admin role" in page and 'id="replay-selected"' not in page
        r = c.post(base + "/replay", data={"id": [str(i) for i in before],
                                           "csrf": csrf_of(page)})  # fmt: skip
        assert r.status_code == 403
    assert parked_ids(hub) == before


def test_no_secret_is_rendered(console):
    hub, base = console
    leaked = [r for r in hub.store.find_records(status="parked") if r.external_id == "P1"][0]
    with httpx.Client() as c:
        sign_in(c, base, "ada", ADMIN_PASSWORD)
        texts = [c.get(base + "/").text, c.get(base + "/api/overview").text,
                 c.get(base + f"/record?id={leaked.id}").text]  # fmt: skip
    assert "***" in texts[2]  # the error quoted the key: shown masked
    assert all(SECRET not in t for t in texts)


def test_only_local_clients_unless_configured(console):
    hub, base = console
    from hub.listener import HttpRequest
    from hub.web.console import Console

    req = HttpRequest("GET", "/login", {}, {}, b"", remote="192.0.2.10")
    assert Console(hub, None, secure_cookies=False).login_get(req).status == 403
    hub.config.hub["console_remote"] = True
    remote_ok = Console(hub, None, secure_cookies=True)
    assert remote_ok.login_get(req).status == 200


def test_the_drift_report_page(console):
    import json

    hub, base = console
    with httpx.Client() as c:
        sign_in(c, base, "vic", VIEWER_PASSWORD)
        assert 'id="drift-none"' in c.get(base + "/drift").text
        report = {"at": 1.0e9, "calls": {"sapb1": 3}, "total_calls": 3, "drift": [
            {"flow": "orders", "kind": "missing_in_sapb1", "key": "006A1",
             "detail": f"won opportunity without an order <script>{SECRET}</script>"}]}  # fmt: skip
        hub.plugin_state("hub-console").set("drift/latest", json.dumps(report))
        page = c.get(base + "/drift").text
    assert "1 difference(s); 3 API call(s)" in page and "missing_in_sapb1" in page
    assert "&lt;script&gt;" in page and "<script>***" not in page and SECRET not in page
