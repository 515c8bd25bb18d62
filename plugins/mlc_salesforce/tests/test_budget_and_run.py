"""The daily API budget against the emulator, and a CDC flow streaming under ``hub run``."""

import json
import os
import signal
import subprocess
import sys

import pytest
import requests
from mlc_salesforce import limits
from mlc_salesforce.matchers import AccountByNumber
from mlc_salesforce.sinks import AccountFieldsSink
from mlc_salesforce.sources import AccountSource
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import HubCli, context, options_for, plugin_settings, wait_for

from hub import Record, RetriableError, SinkItem


def test_budget_pauses_work_past_the_fraction_and_resumes_on_a_new_day(tmp_path, monkeypatch):
    with run_salesforce_emulator(tmp_path / "sf", "--daily-api-limit", "40") as emu:
        emu.admin.seed({"records": {"Account": [{"Name": "A", "AccountNumber": "C1"}]}})
        settings = plugin_settings(emu, daily_api_budget=0.5)
        src = AccountSource(context(settings), options_for(AccountSource, mode="poll"))
        changes = [c for b in src.read(None) for c in b.changes]
        assert len(changes) == 1
        rest = src.conn.rest
        while rest.budget.usage.used < 20:  # another part of the hub spends calls
            rest.request("GET", "limits/", urgent=True)
        calls = emu.admin.stats()["api_calls"]["total"]
        with pytest.raises(RetriableError) as err:
            list(src.read(None))
        assert "daily_api_budget" in str(err.value) and err.value.retry_after
        sink = AccountFieldsSink(context(settings), options_for(AccountFieldsSink))
        sink.open()  # describe is urgent: start-up checks still run
        rec = Record(1, "f", "s", "sap", "BP", "C1", "upsert", {}, "h", "ready", 0)
        with pytest.raises(RetriableError):
            sink.write([SinkItem(rec, {"Id": changes[0].external_id, "Phone": "1"})])
        matcher = AccountByNumber(context(settings), options_for(AccountByNumber))
        (result,) = matcher.match_batch(
            [Record(2, "f", "s", "sap", "BP", "C1", "upsert", {"CardCode": "C1"}, "h", "ready", 0)]
        )
        assert isinstance(result, RetriableError)
        # one probe of /limits (after the describes) and nothing else was spent while paused
        assert emu.admin.stats()["api_calls"]["total"] - calls <= 4
        emu.admin.set_clock(advance_seconds=86400)  # the org's day rolls over
        monkeypatch.setattr(limits, "PROBE_EVERY", 0.0)
        changes = [c for b in src.read(None) for c in b.changes]
        assert len(changes) == 1 and not rest.budget.exhausted()


def test_cdc_flow_streams_under_hub_run(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        emu.admin.seed({"records": {"Account": [{"Name": f"A{i}"} for i in range(3)]}})
        cli = HubCli(tmp_path, plugin_settings(emu))
        cli.other_plugins = {"demo": {"enabled": True}}
        cli.flows = {
            "accounts": {
                "source": "salesforce.accounts",
                "sink": "demo.noop",
                "poll_interval": 0.2,
                "source_options": {"mode": "cdc", "catch_up_seconds": 1.0},
            }
        }
        cli.write()
        env = {**os.environ, "HUB_CONFIG": str(cli.config), "TEST_SF_SECRET": emu.client_secret}
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def done():
                out = subprocess.run(
                    [sys.executable, "-m", "hub", "status", "--json"],
                    env=env,
                    capture_output=True,
                    text=True,
                ).stdout
                flows = json.loads(out)["flows"] if out else []
                return flows[0]["records"]["done"] if flows else 0

            wait_for(lambda: done() == 3, 60, "the initial load under hub run")
            session = requests.Session()
            session.trust_env, session.verify = False, emu.ca_path
            session.post(
                emu.instance_url + "/services/data/v63.0/sobjects/Account",
                json={"Name": "While running"},
                headers={"Authorization": f"Bearer {emu.access_token()}"},
            ).raise_for_status()
            wait_for(lambda: done() == 4, 30, "the live change under hub run")
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
