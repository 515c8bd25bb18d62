"""Client-credentials login: token request, real expiry, refresh, single flight, bad secrets."""

import threading
import time
from urllib.parse import parse_qs

import pytest
import responses
from mlc_salesforce import org
from mlc_salesforce.auth import (
    REFRESH_MARGIN,
    CredentialsRejected,
    OrgToken,
    TlsRejected,
    make_http_session,
)
from sfplugin_support import (
    BASE,
    INTROSPECT_URL,
    ORG_ID,
    SECRET,
    TOKEN_URL,
    plugin_settings,
    token_body,
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _token(clock=None, timeout=7200):
    return OrgToken(
        BASE,
        "cid",
        SECRET,
        make_http_session(None),
        session_timeout=timeout,
        clock=clock or time.time,
    )


@responses.activate
def test_token_request_is_a_form_body_and_expiry_comes_from_introspection():
    now = 1_800_000_000
    responses.post(TOKEN_URL, json=token_body("00D!A", now * 1000))
    responses.post(INTROSPECT_URL, json={"active": True, "exp": now + 900, "iat": now})
    tok = _token(Clock(now)).current()
    form = parse_qs(responses.calls[0].request.body)
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["cid"],
        "client_secret": [SECRET],
    }
    assert (
        responses.calls[0]
        .request.headers["Content-Type"]
        .startswith("application/x-www-form-urlencoded")
    )
    assert parse_qs(responses.calls[1].request.body)["token_type_hint"] == ["access_token"]
    assert tok.access_token == "00D!A" and tok.org_id == ORG_ID
    assert tok.expires_at == now + 900 and tok.expiry_source == "introspection"


@responses.activate
def test_expiry_falls_back_to_session_timeout_when_introspection_is_refused():
    now = 1_800_000_000
    responses.post(TOKEN_URL, json=token_body("00D!A", now * 1000))
    responses.post(INTROSPECT_URL, status=403, json={"error": "insufficient_scope"})
    tok = _token(Clock(now), timeout=1800).current()
    assert tok.expires_at == now + 1800 and tok.expiry_source == "session_timeout"


@responses.activate
def test_token_is_replaced_before_it_lapses():
    clock = Clock(1_800_000_000)
    responses.post(TOKEN_URL, json=token_body("00D!A", int(clock.now * 1000)))
    responses.post(TOKEN_URL, json=token_body("00D!B", int(clock.now * 1000)))
    responses.post(INTROSPECT_URL, json={"active": True, "exp": clock.now + 3600})
    auth = _token(clock)
    assert auth.current().access_token == "00D!A"
    clock.now += 3600 - REFRESH_MARGIN - 1
    assert auth.current().access_token == "00D!A"
    clock.now += 2  # inside the margin: replaced without waiting for a rejection
    assert auth.current().access_token == "00D!B"
    assert auth.refreshes == 2


@responses.activate
def test_refresh_after_rejection_is_single_flight():
    responses.post(TOKEN_URL, json=token_body("00D!A"))
    responses.post(INTROSPECT_URL, json={"active": False})
    auth = _token()
    stale = auth.current().access_token
    responses.replace(responses.POST, TOKEN_URL, json=token_body("00D!B"))
    gate = threading.Barrier(8)
    seen = []

    def worker():
        gate.wait()
        seen.append(auth.refresh(stale).access_token)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    token_calls = [c for c in responses.calls if c.request.url == TOKEN_URL]
    assert len(token_calls) == 2  # the first login and ONE refresh for eight callers
    assert seen == ["00D!B"] * 8


@responses.activate
def test_bad_credentials_fail_fast_with_salesforces_text_and_no_secret():
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "error_description": "invalid client credentials"},
    )
    with pytest.raises(CredentialsRejected) as err:
        _token().current()
    assert "invalid_client: invalid client credentials" in str(err.value)
    assert SECRET not in str(err.value)
    assert len(responses.calls) == 1  # no retries


def test_session_ignores_the_environments_ca_bundle(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    session = make_http_session("/etc/corp-ca.pem")
    assert session.trust_env is False and session.verify == "/etc/corp-ca.pem"


# -- against the emulator --------------------------------------------------------------------


def test_login_against_the_emulator_trusts_only_ca_bundle(salesforce_emulator, monkeypatch):
    # the environment points at another bundle: only ca_bundle may decide
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    conn = org.build(plugin_settings(salesforce_emulator))
    tok = conn.token.current()
    assert tok.org_id == salesforce_emulator.org_id
    assert tok.expiry_source == "introspection"
    sf = conn.rest.client()
    assert sf.session_id == tok.access_token and sf.session is conn.http
    assert conn.rest.request("GET", "limits/")["DailyApiRequests"]["Max"] > 0


def test_unknown_ca_is_a_tls_failure(salesforce_emulator):
    settings = plugin_settings(salesforce_emulator, ca_bundle=None)  # system store only
    with pytest.raises(TlsRejected) as err:
        org.build(settings).token.current()
    assert "ca_bundle" in str(err.value)


def test_bad_secret_against_the_emulator(salesforce_emulator):
    settings = plugin_settings(salesforce_emulator, client_secret="wrong-secret-value")
    with pytest.raises(CredentialsRejected) as err:
        org.build(settings).token.current()
    assert "invalid_client" in str(err.value)
    assert "wrong-secret-value" not in str(err.value)
