"""``hub sync`` with a CDC source: reads until caught up, returns, resumes from the replay id."""

import json

import requests
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import HubCli, plugin_settings


def test_hub_sync_with_cdc_returns_once_caught_up_and_resumes(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        emu.admin.seed({"records": {"Account": [{"Name": f"A{i}"} for i in range(5)]}})
        cli = HubCli(tmp_path, plugin_settings(emu))
        cli.other_plugins = {"demo": {"enabled": True}}
        cli.flows = {
            "accounts": {
                "source": "salesforce.accounts",
                "sink": "demo.noop",
                "source_options": {"mode": "cdc"},
            }
        }
        first = cli.run("sync", "accounts", "--json", timeout=120)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["received"] == 5  # the initial load

        session = requests.Session()
        session.trust_env, session.verify = False, emu.ca_path
        session.post(
            emu.instance_url + "/services/data/v63.0/sobjects/Account",
            json={"Name": "After first sync"},
            headers={"Authorization": f"Bearer {emu.access_token()}"},
        ).raise_for_status()
        second = cli.run("sync", "accounts", "--json", timeout=120)
        assert second.returncode == 0, second.stderr
        summary = json.loads(second.stdout)
        assert summary["received"] == 1 and summary["written"] == 1  # only the live change
        (flow,) = cli.json("status")["flows"]
        assert flow["records"]["done"] == 6  # five by the initial load, one live
        checkpoint = json.loads(flow["sources"][0]["checkpoint"])
        assert checkpoint["mode"] == "cdc" and checkpoint["replay_id"]
        assert "calls today" in checkpoint["api_usage"]  # usage and budget in hub status
