"""The chaos test, short (part of the suite) and full (``tox -e chaos``: HUB_CHAOS_FULL=1)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from hubchaos import run_chaos  # noqa: E402

FULL = os.environ.get("HUB_CHAOS_FULL") == "1"


def test_processes_killed_at_random_lose_and_double_nothing(pg_database, tmp_path):
    records, kills = (5000, 20) if FULL else (1200, 6)
    figures = run_chaos(pg_database, tmp_path / "chaos", records=records, kills=kills)
    print(figures)  # the figures, shown with -s (and by tox -e chaos)
    assert figures["failures"] == []
    assert figures["kills"] == kills
