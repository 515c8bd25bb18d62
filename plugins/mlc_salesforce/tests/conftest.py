"""Fixtures of the Salesforce plugin's tests: the emulator as a real process, settings, CLI."""

import sys
from pathlib import Path

import pytest

# Imported rather than listed in pytest_plugins so this conftest works from the repository root
# too; the test directory goes on sys.path so the helper module imports under importlib mode.
from mlc_salesforce_emulator import testing as emulator_testing

salesforce_emulator = emulator_testing.salesforce_emulator
salesforce_emulator_factory = emulator_testing.salesforce_emulator_factory

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from sfplugin_support import plugin_settings  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_connections(monkeypatch):
    """Components share one connection per org; tests must not share them across tests."""
    from mlc_salesforce import org

    monkeypatch.setattr(org, "_connections", {})
    for var in ("HUB_CONFIG", "HUB_SECRET_KEY", "HUB_DATA_DIR", "HUB_LOG_LEVEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def settings(salesforce_emulator):
    return plugin_settings(salesforce_emulator)
