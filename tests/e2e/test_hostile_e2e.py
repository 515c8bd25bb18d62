"""End-to-end attacks an operations admin would hit: a system failing at start-up, one killed
mid-run, awkward business-partner data."""

from __future__ import annotations

import pytest
from flows_landscape import Landscape


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
