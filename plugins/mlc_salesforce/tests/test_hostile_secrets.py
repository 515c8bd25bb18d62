"""Secrets in odd places: with DEBUG logging on, no access token, session cookie or client
secret may reach the terminal, the log file or the store's files, whatever a command prints."""

import re
import tomllib

import tomli_w
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import HubCli, plugin_settings

TOKEN = re.compile(rb"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]{8,}")


class LoggingHubCli(HubCli):
    """The test hub with ``[hub] log_file`` set."""

    log_file = None

    def write(self) -> None:
        super().write()
        doc = tomllib.loads(self.config.read_text())
        doc["hub"]["log_file"] = str(self.log_file)
        self.config.write_text(tomli_w.dumps(doc))


def test_debug_logs_and_every_output_hold_no_token(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        emu.admin.seed({"records": {"Account": [{"Name": f"A{i}"} for i in range(3)]}})
        cli = LoggingHubCli(tmp_path, plugin_settings(emu))
        cli.log_file = tmp_path / "hub.log"
        cli.other_plugins = {"demo": {"enabled": True}}
        cli.flows = {"accounts": {"source": "salesforce.accounts", "sink": "demo.noop",
                                  "source_options": {"mode": "cdc"}}}  # fmt: skip
        outputs = []
        for args in (["sync", "accounts"], ["ping"], ["status"], ["status", "--json"],
                     ["audit", "--json"]):  # fmt: skip
            res = cli.run("--log-level", "DEBUG", *args)
            assert res.returncode in (0, 2), (args, res.stderr[-2000:])
            outputs.append((res.stdout + res.stderr).encode())
        assert b"DEBUG" in b"".join(outputs)  # the wire-level loggers did speak
        everything = b"".join(outputs) + cli.log_file.read_bytes()
        everything += b"".join(p.read_bytes() for p in (tmp_path / "data").glob("hub.db*"))
        found = TOKEN.search(everything)
        assert found is None, everything[max(0, found.start() - 200) : found.end()]
        assert emu.client_secret.encode() not in everything
