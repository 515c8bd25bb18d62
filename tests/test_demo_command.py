"""``hub demo``'s own checks (the full run is in tests/e2e)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time


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


def _processes_naming(text: str) -> list[int]:
    from pathlib import Path

    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if text in cmdline and proc.name.isdigit():
            pids.append(int(proc.name))
    return pids


@contextlib.contextmanager
def _demo_running(tmp_path):
    """`hub demo` as a process, once its flows run (emulators and `hub run` up); whatever of
    it is still running afterwards is killed."""
    demo_dir = tmp_path / "demo"
    with (tmp_path / "demo.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "hub", "demo", "--dir", str(demo_dir)],
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "Running the flows" not in (tmp_path / "demo.log").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, "the demo did not start"
            time.sleep(0.1)
        yield proc, demo_dir
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _processes_naming(str(demo_dir)):
            os.kill(pid, signal.SIGKILL)


def _wait_all_gone(demo_dir) -> None:
    deadline = time.monotonic() + 30
    while _processes_naming(str(demo_dir)):
        assert time.monotonic() < deadline, _processes_naming(str(demo_dir))
        time.sleep(0.1)


def test_a_stop_signal_stops_the_emulators_and_the_hub_it_started(tmp_path):
    with _demo_running(tmp_path) as (proc, demo_dir):
        assert _processes_naming(str(demo_dir)) != [proc.pid]  # emulators and hub run are up
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 128 + signal.SIGTERM
        _wait_all_gone(demo_dir)


def test_a_killed_demo_leaves_no_emulator_or_hub_running(tmp_path):
    """SIGKILL cannot be handled by the demo: its children stop because they are tied to it."""
    with _demo_running(tmp_path) as (proc, demo_dir):
        children = [pid for pid in _processes_naming(str(demo_dir)) if pid != proc.pid]
        assert len(children) == 3, children  # two emulators and hub run
        proc.kill()
        proc.wait(10)
        _wait_all_gone(demo_dir)
