"""The command line and the hub plugin entry point."""

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from click.testing import CliRunner

import mlc_sapb1_emulator
from mlc_sapb1_emulator.cli import sapb1


def test_click_command_and_module_entry():
    result = CliRunner().invoke(sapb1, ["--help"])
    assert result.exit_code == 0
    for flag in ("--port", "--data-dir", "--seed", "--company", "--plain-http", "--generate",
                 "--host", "--session-timeout-seconds", "--login-delay", "--page-size",
                 "--webhook-retry-scale", "--webhook-ca-bundle"):
        assert flag in result.output
    r = subprocess.run([sys.executable, "-m", "mlc_sapb1_emulator", "--help"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--data-dir" in r.stdout


def test_hub_plugin_entry_point_is_declared():
    eps = entry_points(group="ml_connector.plugins")
    (ep,) = [e for e in eps if e.name == "sapb1-emulator"]
    assert ep.value == "mlc_sapb1_emulator.plugin"
    source = (Path(mlc_sapb1_emulator.__file__).parent / "plugin.py").read_text()
    assert "def hub_emulator_commands():" in source and "return [sapb1]" in source


def test_seed_names_a_file_or_a_bundled_seed(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mlc_sapb1_emulator", "--data-dir", str(tmp_path),
                        "--seed", "no-such-seed"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no-such-seed" in r.stderr and "demo" in r.stderr
