"""The console's admin token: made by `hub console admin-token`, only its hash kept; the
sign-in page accepts it (an admin session), refuses a wrong one and counts it against the same
limit as passwords; the token shows in no page, cookie or log line."""

from __future__ import annotations

import logging

import httpx
import pytest
from ops_env import close_hubs, csrf_of, serving, synced_engine, vault_key, write_ops_config

from hub.web.accounts import STATE_OWNER, Accounts
from hub.web.sessions import FAILURES_ALLOWED


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    close_hubs()


@pytest.fixture
def console(hubenv):
    vault_key(hubenv)
    hubenv.write_changes([{"id": f"T{i}", "payload": {}} for i in range(3)])
    write_ops_config(hubenv, script={"T1": ["park:Amount"]}, flow={"max_attempts": 1})
    hub, engine = synced_engine(hubenv)
    token = Accounts(hub.plugin_state(STATE_OWNER)).new_admin_token()
    with serving(hub, engine) as lst:
        yield hub, lst.url, token


def token_sign_in(client: httpx.Client, base: str, token: str) -> httpx.Response:
    csrf = csrf_of(client.get(base + "/login").text)
    return client.post(base + "/login", data={"admin_token": token, "csrf": csrf})


def test_the_command_keeps_only_a_hash_and_a_new_token_replaces_the_old(hubenv):
    vault_key(hubenv)
    hubenv.write_config()
    first = hubenv.run("console", "admin-token")
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert token.startswith("mlc_") and len(token) > 40
    assert "shown once" in first.stderr
    second = hubenv.run("console", "admin-token")
    assert "the earlier token no longer works" in second.stderr
    new = second.stdout.strip()
    hub = hubenv.load_hub()
    try:
        state = hub.plugin_state(STATE_OWNER)
        raw = state.get("admin-token")
        assert new not in raw and token not in raw and raw.count("scrypt$") == 1
        accounts = Accounts(state)
        assert accounts.check_admin_token(token) is None
        assert accounts.check_admin_token(new).role == "admin"
        assert accounts.check_admin_token("") is None
    finally:
        hub.close()
    assert hubenv.run("console", "admin-token", "--revoke").returncode == 0
    assert hubenv.run("console", "admin-token", "--revoke").returncode == 6
    hub = hubenv.load_hub()
    try:
        assert Accounts(hub.plugin_state(STATE_OWNER)).check_admin_token(new) is None
    finally:
        hub.close()


def test_the_token_signs_in_as_admin_and_may_replay(console, caplog):
    caplog.set_level(logging.DEBUG)
    hub, base, token = console
    parked = [r.id for r in hub.store.find_records(status="parked")]
    assert parked
    seen = []
    with httpx.Client() as c:
        ok = token_sign_in(c, base, token)
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and token not in cookie
        page = c.get(base + "/")
        assert page.status_code == 200 and "admin-token (admin)" in page.text
        r = c.post(base + "/replay", data={"id": [str(i) for i in parked],
                                           "csrf": csrf_of(page.text)})  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == f"/?replayed={len(parked)}"
        seen += [ok, page, r, c.get(base + "/api/overview"), c.get(base + "/login")]
    assert hub.store.find_records(status="parked") == []
    for resp in seen:
        assert token not in resp.text and token not in str(resp.headers)
    assert "signed in" in caplog.text and token not in caplog.text


def test_a_wrong_token_is_refused_and_counted_against_the_limit(console, caplog):
    hub, base, token = console
    wrong = token[:-3] + "xyz"
    with httpx.Client() as c:
        for _ in range(FAILURES_ALLOWED):
            bad = token_sign_in(c, base, wrong)
            assert bad.status_code == 401 and "Wrong admin token" in bad.text
            assert "set-cookie" not in bad.headers and wrong not in bad.text
        # the limit is reached: even the right token waits, as a right password would
        held = token_sign_in(c, base, token)
        assert held.status_code == 429 and "set-cookie" not in held.headers
        assert c.get(base + "/").status_code == 303  # no session
    assert "failed sign-in with an admin token" in caplog.text
    assert wrong not in caplog.text and token not in caplog.text


def test_passwords_and_tokens_share_one_limit(console, hubenv):
    from ops_env import ADMIN_PASSWORD, console_accounts, sign_in

    hub, base, token = console
    console_accounts(hub)
    with httpx.Client() as c:
        for i in range(FAILURES_ALLOWED):
            r = sign_in(c, base, "ada", "wrong password") if i % 2 else token_sign_in(c, base, "no")
            assert r.status_code == 401
        assert sign_in(c, base, "ada", ADMIN_PASSWORD).status_code == 429


def test_parallel_wrong_tokens_get_no_more_tries_than_the_limit(console):
    """Sign-ins sent at once must not all pass the limit check before any failure is counted:
    however many arrive together, only FAILURES_ALLOWED are tried."""
    from concurrent.futures import ThreadPoolExecutor

    hub, base, token = console
    with httpx.Client() as c:
        csrf = csrf_of(c.get(base + "/login").text)

    def attempt(i: int) -> int:
        with httpx.Client() as c:
            data = {"admin_token": f"{token[:-6]}wrong{i % 10}", "csrf": csrf}
            return c.post(base + "/login", data=data).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(attempt, range(32)))
    assert codes.count(401) == FAILURES_ALLOWED, codes
    assert codes.count(429) == 32 - FAILURES_ALLOWED


def test_a_revoked_or_replaced_token_ends_the_sessions_it_opened(console, hubenv):
    hub, base, token = console
    accounts = Accounts(hub.plugin_state(STATE_OWNER))
    with httpx.Client() as c, httpx.Client() as d:
        assert token_sign_in(c, base, token).status_code == 303
        assert c.get(base + "/").status_code == 200
        assert c.get(base + "/api/overview").status_code == 200
        assert hubenv.run("console", "admin-token", "--revoke").returncode == 0
        assert c.get(base + "/").status_code == 303  # back to the sign-in page
        assert c.get(base + "/api/overview").status_code == 401
        # a new token ends the sessions of the one it replaces
        new = accounts.new_admin_token()
        assert token_sign_in(d, base, new).status_code == 303
        assert d.get(base + "/").status_code == 200
        accounts.new_admin_token()
        assert d.get(base + "/api/overview").status_code == 401


def test_a_deleted_user_or_a_changed_password_ends_that_users_sessions(console):
    from ops_env import ADMIN_PASSWORD, console_accounts, sign_in

    hub, base, token = console
    accounts = console_accounts(hub)
    with httpx.Client() as c, httpx.Client() as v:
        assert sign_in(c, base, "ada", ADMIN_PASSWORD).status_code == 303
        assert sign_in(v, base, "vic", "viewer only, no replay").status_code == 303
        assert c.get(base + "/api/overview").status_code == 200
        accounts.set("ada", "a brand new password", "admin")
        assert c.get(base + "/api/overview").status_code == 401
        assert v.get(base + "/api/overview").status_code == 200  # others keep theirs
        assert accounts.delete("vic")
        assert v.get(base + "/api/overview").status_code == 401
