"""Fixtures: a real SMTP server on a free loopback port (see smtp_testing)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trustme

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from smtp_testing import _server  # noqa: E402


@pytest.fixture(scope="session")
def ca():
    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path):
    path = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def smtp(ca):
    controller, inbox = _server(ca, implicit=False)
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def smtps(ca):
    controller, inbox = _server(ca, implicit=True)
    inbox.port = controller.port
    yield inbox
    controller.stop()
