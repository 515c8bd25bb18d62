"""End-to-end attacks an operations admin would hit: a system failing at start-up, one killed
mid-run, awkward business-partner data."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import pytest
from flows_landscape import Landscape, wait_until


def _fault(land: Landscape, system: str, status: int) -> None:
    if system == "salesforce":
        land.sf.admin.add_fault(
            path="describe", method="GET", status=status, times=-1,
            error_code="INVALID_SESSION_ID" if status == 401 else "UNKNOWN_EXCEPTION",
            message="Session expired or invalid" if status == 401 else "An unexpected error",
        )  # fmt: skip
    else:
        land.sap.admin_json(
            "POST", "faults",
            {"kind": "status", "status": status, "route": "$metadata", "method": "GET",
             "times": None},
        )  # fmt: skip


@pytest.mark.parametrize(
    ("system", "status", "named"),
    [
        ("salesforce", 401, "Salesforce GET sobjects/Opportunity/describe"),
        ("salesforce", 500, "Salesforce GET sobjects/Opportunity/describe: HTTP 500"),
        ("sapb1", 401, "SAP B1 refused a fresh session for GET $metadata: Unauthorized"),
        ("sapb1", 500, "SAP B1 GET $metadata answered 500"),
    ],
)
def test_a_system_failing_at_start_up_is_named_with_its_flow(
    landscape: Landscape, system, status, named
):
    """Salesforce's describe or SAP B1's $metadata answering 401 or 500 when `hub run` and
    `hub ping` start: one line naming the system and the flow, exit 1 (run) or 4 (ping), no
    traceback, no secret."""
    land = landscape.start()
    _fault(land, system, status)
    ping = land.hub("ping", timeout=60)
    assert ping.returncode == 4, ping.stderr
    failed = [line for line in ping.stdout.splitlines() if line.startswith("FAIL")]
    label = "Salesforce" if system == "salesforce" else "SAP B1"
    assert failed and all(f" - {label} " in line for line in failed), ping.stdout
    run = land.hub("run", timeout=60)
    assert run.returncode == 1, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("error: flow ") and named in errors[0], errors[0]
    flow_name = errors[0].removeprefix("error: flow ").split(":")[0]
    assert flow_name in land.config.read_text()
    for out in (ping.stdout + ping.stderr, run.stderr):
        assert "Traceback" not in out
        assert "manager" not in out and "demo-client-secret" not in out


LISTEN = {"workers = 4": 'workers = 4\nlisten = "127.0.0.1:0"'}


def _scrape(url: str, path: str) -> httpx.Response:
    started = time.monotonic()
    answer = httpx.get(url + path, timeout=10)
    assert time.monotonic() - started < 2, f"{path} took {time.monotonic() - started:.1f}s"
    return answer


def test_sap_killed_mid_run_turns_readiness_down_naming_it_and_the_flows_resume(
    landscape: Landscape,
):
    """SAP B1 killed (SIGKILL) under a running hub: /readyz and /metrics answer at once,
    readiness is 503 naming SAP B1 and why; restarted on the same data dir and port, the hub
    is ready again and a new account reaches SAP."""
    land = landscape.start(**LISTEN)
    land.start_hub()
    found = wait_until(
        lambda: re.search(r"listening on (http://127\.0\.0\.1:\d+)", land.hub_log(10**6)),
        30, "the listener",
    )  # fmt: skip
    url = found.group(1)
    wait_until(land.converged, 60, "the flows to converge", every=0.2)
    assert _scrape(url, "/readyz").status_code == 200
    sap = land.sap
    sap.admin_json("POST", "save")  # a real SAP keeps its data in its database
    sap.process.kill()
    sap.process.wait()

    def down() -> list[str]:
        answer = _scrape(url, "/readyz")
        reasons = answer.json()["reasons"]
        return [r for r in reasons if "SAP B1" in r] if answer.status_code == 503 else []

    reasons = wait_until(down, 30, "readiness to name SAP B1", every=0.2)
    assert any(r.startswith("sapb1 reachable:") and "Connect" in r for r in reasons), reasons
    assert _scrape(url, "/metrics").status_code == 200

    sap.process = subprocess.Popen(
        [sys.executable, "-m", "mlc_sapb1_emulator", "--port", str(sap.port),
         "--data-dir", str(sap.data_dir), *sap.args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_until(lambda: _answers(sap), 30, "SAP B1 back on its port")
    records = [{"attributes": {"type": "Account"}, "Name": "After Kill Co",
                "AccountNumber": "K9001", "BillingCountry": "Germany"}]  # fmt: skip
    land.sf_rest("POST", "composite/sobjects", {"allOrNone": True, "records": records})
    try:
        wait_until(
            lambda: any(p["CardCode"] == "K9001" for p in land.sap_rows("BusinessPartners")),
            60, "the new account in SAP", every=0.2,
        )  # fmt: skip
    except AssertionError:
        raise AssertionError("not resumed; hub log:\n" + land.hub_log()) from None
    wait_until(lambda: _scrape(url, "/readyz").status_code == 200, 30, "ready again")


def _answers(sap) -> bool:
    try:
        return sap.admin("GET", "health").status_code == 200
    except httpx.HTTPError:
        return False


def test_a_partner_code_differing_only_in_letter_case_is_parked_with_a_reason_sales_ops_reads(
    landscape: Landscape,
):
    """An account numbered 'c1001' beside 'C1001': SAP B1 keeps two partners, Salesforce
    matches the number ignoring letter case. The partner coming back is parked with a reason
    naming both accounts and their numbers as written, not just '2 accounts have ...'."""
    land = landscape.start()
    land.run_until_converged()
    records = [{"attributes": {"type": "Account"}, "Name": "Lower Case Co",
                "AccountNumber": "c1001", "BillingCountry": "Germany"}]  # fmt: skip
    land.sf_rest("POST", "composite/sobjects", {"allOrNone": True, "records": records})
    line = re.compile(r"parked record partners-to-accounts/BusinessPartner/c1001 .*")
    found = wait_until(lambda: line.search(land.hub_log(10**6)), 30, "the partner parked")
    reason = found.group(0)
    acme, lower = land.account_id("C1001"), land.account_id("c1001")
    assert "ignoring letter case" in reason, reason
    assert f"{acme} 'Acme Analytics' (AccountNumber 'C1001')" in reason, reason
    assert f"{lower} 'Lower Case Co' (AccountNumber 'c1001')" in reason, reason
