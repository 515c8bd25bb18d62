"""Start-up against an org the hub cannot use: a CA bundle that does not sign the org's
certificate, or a client secret Salesforce refuses. `hub sync` and `hub run` stop at once with
exit 3 naming the setting, instead of starting, stopping the flow and exiting 1."""

import pytest
import trustme
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import HubCli, plugin_settings

WRONG_SECRET = "wrong-secret-Zx81"


@pytest.mark.parametrize("command", [["sync", "accounts"], ["run"]])
@pytest.mark.parametrize("problem", ["unknown_ca", "wrong_secret"])
def test_an_unusable_org_stops_the_hub_at_start_with_exit_3(tmp_path, command, problem):
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        over = {"ca_bundle": str(other)} if problem == "unknown_ca" else {
            "client_secret": WRONG_SECRET}  # fmt: skip
        cli = HubCli(tmp_path, plugin_settings(emu, **over))
        cli.other_plugins = {"demo": {"enabled": True}}
        cli.flows = {"accounts": {"source": "salesforce.accounts", "sink": "demo.noop",
                                  "source_options": {"mode": "poll"}}}  # fmt: skip
        res = cli.run(*command, timeout=120)
    assert res.returncode == 3, (res.returncode, res.stderr[-3000:])
    if problem == "unknown_ca":
        assert "plugins.salesforce.ca_bundle" in res.stderr
    else:
        assert "invalid_client" in res.stderr and "plugins.salesforce" in res.stderr
        assert WRONG_SECRET not in res.stderr + res.stdout
