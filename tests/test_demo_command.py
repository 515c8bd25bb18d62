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


def test_a_second_demo_on_the_same_directory_is_refused_and_empties_nothing(tmp_path):
    import pytest

    from hub.demo.runner import DemoRun
    from hub.errors import HubError

    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    (demo_dir / "salesforce-seed.json").write_text("{}")  # a demo's own directory
    first = DemoRun(demo_dir)
    first.lock()
    try:
        with pytest.raises(HubError, match="another hub demo is running"):
            DemoRun(demo_dir).start()
        assert (demo_dir / "salesforce-seed.json").exists()  # not emptied under the first
    finally:
        first.stop()
    again = DemoRun(demo_dir)
    again.lock()  # released by stop()
    again.stop()
