"""Fixtures of the SAP B1 plugin's tests: a scripted Service Layer behind httpx.MockTransport,
and the emulator as a real process (``mlc_sapb1_emulator.testing``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from sapb1_fakes import FakeServiceLayer  # noqa: E402

pytest_plugins = ["mlc_sapb1_emulator.testing"]


@pytest.fixture
def fake_sl():
    return FakeServiceLayer()
