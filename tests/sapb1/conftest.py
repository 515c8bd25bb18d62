"""Fixtures of the SAP B1 plugin's tests: a scripted Service Layer behind httpx.MockTransport,
and the emulator as a real process (``mlc_sapb1_emulator.testing``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from mlc_sapb1_emulator.testing import (  # noqa: E402,F401 - the emulator's fixtures
    sapb1_emulator,
    sapb1_emulator_factory,
)
from sapb1_fakes import FakeServiceLayer  # noqa: E402


@pytest.fixture
def fake_sl():
    return FakeServiceLayer()
