"""/metrics and /readyz of `hub run` with both plugins against both emulators: the plugins'
series exist with sane values, their label sets stay bounded as records flow, readiness turns
503 when SAP refuses the password or Salesforce the token, and no secret shows."""

from __future__ import annotations

import json
import re

import httpx
from flows_landscape import wait_until
from hubtesting import metric_samples as samples

LISTEN = {
    "workers = 4": 'workers = 4\nlisten = "127.0.0.1:0"\nplugin_modules = ["hubtest_alert_file"]'
}
PLUGIN_SERIES = (
    "mlc_api_calls_total", "mlc_logins_total", "mlc_session_renewals_total",
    "mlc_api_retries_total", "mlc_session_age_seconds", "mlc_session_idle_seconds",
    "mlc_session_expires_in_seconds", "mlc_api_usage", "mlc_api_limit", "mlc_api_budget_ratio",
    "mlc_api_paused", "mlc_cdc_lag_seconds",
)  # fmt: skip


def plugin_series(m: dict) -> set[tuple]:
    return {k for k in m if k[0] in PLUGIN_SERIES}


SAP_PASSWORD = "Pq3-sap-e2e-password"


def start(land, tmp_path, monkeypatch) -> str:
    # a password that shows nowhere else (the demo's equals its user name)
    land.sap.admin_json("POST", "config", {"password": SAP_PASSWORD})
    res = land.hub("creds", "set", "sap-password", "--stdin", input=SAP_PASSWORD)
    assert res.returncode == 0, res.stderr
    monkeypatch.setenv("HUBTEST_ALERT_FILE", str(tmp_path / "alerts.jsonl"))
    land.config.write_text(
        land.config.read_text() + "\n[plugins.hubtest_alert_file]\nenabled = true\n"
    )
    land.start_hub()
    address = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
    found = wait_until(lambda: address.search(land.hub_log(10**6)), 30, "the listener")
    return found.group(1)


def alerts(tmp_path) -> list[dict]:
    path = tmp_path / "alerts.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def new_accounts(land, start: int, n: int) -> list[str]:
    numbers = [f"M{start + i:05d}" for i in range(n)]
    for i in range(0, n, 200):
        chunk = numbers[i : i + 200]
        records = [{"attributes": {"type": "Account"}, "Name": f"Metrics {x}", "AccountNumber": x,
                    "BillingCountry": "Germany"} for x in chunk]  # fmt: skip
        res = land.sf_rest("POST", "composite/sobjects", {"allOrNone": True, "records": records})
        assert all(r["success"] for r in res.json())
    return numbers


def partners_written(land, numbers) -> bool:
    have = {p["CardCode"] for p in land.sap_rows("BusinessPartners")}
    return set(numbers) <= have


def test_metrics_series_are_sane_and_bounded_and_readiness_follows_both_systems(
    landscape, tmp_path, monkeypatch
):
    land = landscape.start(**LISTEN)
    url = start(land, tmp_path, monkeypatch)
    wait_until(land.converged, 60, "the flows to converge", every=0.2)
    first = new_accounts(land, 0, 20)
    wait_until(lambda: partners_written(land, first), 60, "20 partners in SAP", every=0.2)
    m1 = samples(httpx.get(url + "/metrics").text)

    sap = (("system", "sapb1"),)
    sf = (("system", "salesforce"),)
    assert m1[("mlc_logins_total", (("result", "ok"), *sap))] >= 1
    assert m1[("mlc_logins_total", (("result", "ok"), *sf))] >= 1
    batches = ("mlc_api_calls_total", (("operation", "batch"), ("status", "200"), *sap))
    assert m1[batches] >= 1  # partners are written in $batch requests of up to 50
    assert m1[("mlc_api_calls_total", (("operation", "read"), ("status", "200"), *sap))] >= 1
    assert m1[("mlc_api_calls_total", (("operation", "query"), ("status", "200"), *sf))] >= 1
    assert 0 <= m1[("mlc_session_age_seconds", sap)] < 600
    assert 0 <= m1[("mlc_session_age_seconds", sf)] < 600
    assert m1[("mlc_api_limit", sf)] == 15000 and 0 < m1[("mlc_api_usage", sf)] < 15000
    assert m1[("mlc_api_budget_ratio", sf)] == 0.8 and m1[("mlc_api_paused", sf)] == 0
    lag = ("mlc_cdc_lag_seconds", (("channel", "/data/AccountChangeEvent"),))
    assert 0 <= m1[lag] < 60
    assert httpx.get(url + "/readyz").json() == {"ready": True, "reasons": []}

    more = new_accounts(land, 100, 200)
    wait_until(lambda: partners_written(land, more), 120, "200 more partners", every=0.2)
    m2 = samples(httpx.get(url + "/metrics").text)
    assert m2[batches] >= m1[batches] + 4  # 200 partners: at least 4 batches of 50
    assert plugin_series(m2) == plugin_series(m1)  # 200 records more: no new series
    for _name, labels in plugin_series(m2):
        assert not any(v.startswith("M0") or "BusinessPartners" in v for _k, v in labels)

    # the Salesforce daily budget: 80 % reached -> one alert, readiness 503 while paused
    used = int(m2[("mlc_api_usage", sf)])
    land.sf.admin.profile(daily_api_limit=int(used / 0.85))
    new_accounts(land, 400, 1)  # any call now shows usage past the budget
    wait_until(lambda: [a for a in alerts(tmp_path) if a["kind"] == "salesforce.budget_crossed"],
               30, "the budget alert")  # fmt: skip
    ready = httpx.get(url + "/readyz")
    assert ready.status_code == 503
    assert any(
        r.startswith("salesforce api_budget: daily API budget reached")
        for r in ready.json()["reasons"]
    )
    land.sf.admin.profile(daily_api_limit=15000)

    # SAP refuses the hub's password from now on: the next login fails, readiness says so
    land.sap.admin_json("POST", "config", {"password": "changed-by-an-admin"})
    land.sap.admin_json("POST", "sessions/expire", {})
    new_accounts(land, 500, 1)

    def sap_not_ready():
        r = httpx.get(url + "/readyz")
        return r.status_code == 503 and [
            x for x in r.json()["reasons"] if x.startswith("sapb1 session")
        ]

    (reason,) = wait_until(sap_not_ready, 60, "readiness to report the refused SAP login")
    assert "the last login failed: SAP B1 login rejected" in reason
    assert SAP_PASSWORD not in reason and "changed-by-an-admin" not in reason

    # Salesforce: every token revoked and the connected app refuses new ones
    land.sf.admin.add_fault(path="/services/oauth2/token", method="POST", status=400,
                            oauth_error="invalid_client", times=-1)  # fmt: skip
    land.sf.admin.revoke_tokens()  # open CDC streams end UNAUTHENTICATED: the hub asks anew

    def sf_not_ready():
        r = httpx.get(url + "/readyz")
        return [x for x in r.json()["reasons"] if x.startswith("salesforce token")]

    (reason,) = wait_until(sf_not_ready, 60, "readiness to report the refused token")
    assert "the last token request failed" in reason

    text = httpx.get(url + "/metrics").text + httpx.get(url + "/readyz").text
    log = land.hub_log(10**7)
    for secret in (SAP_PASSWORD, "demo-client-secret", "changed-by-an-admin"):
        assert secret not in text and secret not in log
    budget_alerts = [a for a in alerts(tmp_path) if a["kind"] == "salesforce.budget_crossed"]
    assert len(budget_alerts) == 1
