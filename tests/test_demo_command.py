"""``hub demo``'s own checks (the full run is in tests/e2e)."""

from __future__ import annotations

import subprocess
import sys


def test_demo_refuses_a_directory_that_is_not_its_own(tmp_path):
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    res = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--dir", str(precious)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert "--dir" in res.stderr and "holds other files" in res.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_demo_help_names_its_options():
    res = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--help"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0
    assert "--keep-running" in res.stdout and "--dir" in res.stdout
