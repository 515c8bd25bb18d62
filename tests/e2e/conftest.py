"""End-to-end tests: the hub, both plugins and both emulators as real processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mlc_salesforce_emulator.testing import salesforce_emulator_factory  # noqa: F401
from mlc_sapb1_emulator.testing import sapb1_emulator_factory  # noqa: F401

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from flows_landscape import Landscape  # noqa: E402


@pytest.fixture
def landscape(tmp_path, salesforce_emulator_factory, sapb1_emulator_factory):  # noqa: F811
    """Both emulators seeded with the demo's firm and the example config written; call
    ``landscape.start(...)`` to choose the Salesforce profile first if a test needs to."""
    land = Landscape(tmp_path, salesforce_emulator_factory, sapb1_emulator_factory)
    yield land
    land.stop_hub()
