"""End to end: the emulator delivers signed webhooks to `hub run`'s listener over HTTPS; the
hub answers the handshake, stores hints, and the poller reads the entity again at once."""

from __future__ import annotations

import json
import signal
import socket

import pytest
import trustme
from hubtesting import wait_for
from sapb1_hub import SapHub


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tls(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    paths = {n: tmp_path / f"{n}.pem" for n in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    return paths


def test_webhook_delivery_reaches_the_sink_without_polling(tmp_path, tls, sapb1_emulator_factory):
    seed = {"BusinessPartners": [{"CardCode": "WH-0", "CardName": "Zero", "CardType": "cCustomer"}]}
    emu = sapb1_emulator_factory(
        "--webhook-ca-bundle", str(tls["ca"]), "--webhook-retry-scale", "0.01", seed=seed
    )
    sl = emu.session()
    assert sl.post("CompanyService_UpdateAdminInfo",
                   json={"AdminInfo": {"EnableWebhook": "tYES"}}).status_code == 204  # fmt: skip
    port = free_port()
    out = tmp_path / "out"
    hub = SapHub(
        tmp_path,
        emu,
        flows=f"""
[flows.partners]
source = "sapb1.business_partners"
sink = "demo.directory"
poll_interval = 0.2
[flows.partners.source_options]
reconcile_every = 3600.0
[flows.partners.sink_options]
path = "{out}"
""",
        hub_extra=f'listen = "127.0.0.1:{port}"\n'
        f'tls_cert = "{tls["cert"]}"\ntls_key = "{tls["key"]}"',
        plugin_extra=f'webhook_key = {{env = "SAP_WH_KEY"}}\n'
        f'webhook_url = "https://127.0.0.1:{port}/webhooks/sapb1"',
    )
    env = {"SAP_WH_KEY": "hook-key-0123456789"}
    proc = hub.popen("run", **env)
    try:
        wait_for(lambda: (out / "WH-0.json").exists(), timeout=30, what="the first pass")
        res = hub.run("sapb1", "subscribe", **env)
        assert res.returncode == 0, res.stderr
        assert "created subscription" in res.stdout
        subs = hub.run("sapb1", "subscriptions", "--json", **env)
        assert subs.returncode == 0, subs.stderr
        (ours,) = [s for s in json.loads(subs.stdout) if s["hub"]]
        assert ours["state"] == "Active"

        new = {"CardCode": "WH-1", "CardName": "One from SAP", "CardType": "cCustomer"}
        assert sl.post("BusinessPartners", json=new).status_code == 201
        wait_for(lambda: (out / "WH-1.json").exists(), timeout=30, what="WH-1 through the webhook")
        assert "One from SAP" in (out / "WH-1.json").read_text()

        # a second subscribe updates the same entry
        res = hub.run("sapb1", "subscribe", **env)
        assert res.returncode == 0 and "updated subscription" in res.stdout
        ping = hub.run("ping", "--json", **env)
        checks = {c["check"]: c for c in json.loads(ping.stdout) if c["plugin"] == "sapb1"}
        assert checks["webhook subscription"]["ok"], checks
        status = hub.run("status", "--json", **env)
        assert json.loads(status.stdout)["warnings"] == []

        # SAP stops delivering: ping fails, subscriptions exits 4, status warns
        assert sl.post(f"EventSubscriptions('{ours['id']}')/Pause").status_code in (200, 204)
        ping = hub.run("ping", "--json", **env)
        assert ping.returncode == 4
        checks = {c["check"]: c for c in json.loads(ping.stdout) if c["plugin"] == "sapb1"}
        assert "Inactive" in checks["webhook subscription"]["detail"]
        assert hub.run("sapb1", "subscriptions", **env).returncode == 4
        status = hub.run("status", **env)
        assert status.returncode == 0 and "warning: sapb1: webhook subscription" in status.stderr
        assert "Inactive" in status.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
