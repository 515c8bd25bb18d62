"""`hub ping` against a good emulator and misconfigured ones: exit 4 with a clear reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "UserFieldsMD": [
            {"TableName": "ORDR", "Name": "SFOpportunityId", "Type": "db_Alpha", "Size": 50}
        ]
    }
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-ping"), [], seed)
    yield e
    e.stop()


def ping(tmp_path, emu, *, password="manager", company=None, ca=None, key_field="NumAtCard"):
    cfg = tmp_path / "hub.toml"
    cfg.write_text(
        f"""
[hub]
data_dir = "{tmp_path / "data"}"

[plugins.sapb1]
enabled = true
service_layer_url = "{emu.base_url}"
company_db = "{company or emu.company}"
username = "{emu.user}"
password = {{env = "SAP_TEST_PASSWORD"}}
ca_bundle = "{ca or emu.ca_path}"

[flows.orders]
source = "sapb1.orders"
sink = "sapb1.sales_order"
matcher = "sapb1.business_partner_by_code"
[flows.orders.sink_options]
key_field = "{key_field}"
"""
    )
    env = dict(os.environ, HUB_CONFIG=str(cfg), SAP_TEST_PASSWORD=password)
    res = subprocess.run(
        [sys.executable, "-m", "hub", "ping", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    rows = json.loads(res.stdout) if res.stdout.strip().startswith("[") else []
    return res, {r["check"]: r for r in rows if r["plugin"] == "sapb1"}


def test_good_emulator_passes(tmp_path, emu):
    res, checks = ping(tmp_path, emu, key_field="U_SFOpportunityId")
    assert res.returncode == 0, res.stdout + res.stderr
    assert checks["login"]["ok"] and checks["$metadata"]["ok"]
    assert (
        checks["entity Orders"]["ok"] and "U_SFOpportunityId" in checks["entity Orders"]["detail"]
    )
    assert checks["entity BusinessPartners"]["ok"]
    assert checks["webhooks"]["ok"]


def test_wrong_password(tmp_path, emu):
    res, checks = ping(tmp_path, emu, password="not-the-password")
    assert res.returncode == 4
    assert not checks["login"]["ok"] and "login rejected" in checks["login"]["detail"]
    assert "not-the-password" not in res.stdout + res.stderr


def test_wrong_company(tmp_path, emu):
    res, checks = ping(tmp_path, emu, company="SBONOSUCH")
    assert res.returncode == 4
    assert not checks["login"]["ok"] and "company_db" in checks["login"]["detail"]


def test_missing_udf(tmp_path, emu):
    res, checks = ping(tmp_path, emu, key_field="U_NotDefinedHere")
    assert res.returncode == 4
    detail = checks["entity Orders"]["detail"]
    assert not checks["entity Orders"]["ok"] and "U_NotDefinedHere" in detail


def test_unknown_ca(tmp_path, emu):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    res, checks = ping(tmp_path, emu, ca=str(other))
    assert res.returncode == 4
    assert not checks["login"]["ok"] and "ca_bundle" in checks["login"]["detail"]
