"""contrib/deploy: the systemd unit verifies and is hardened, the container runs as non-root,
the compose file wires the hub to PostgreSQL without a secret in it, the example config loads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "contrib" / "deploy"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze is not installed here")
def test_the_unit_verifies_and_its_exposure_is_low(tmp_path):
    hub = Path(sys.executable).with_name("hub")  # verify needs an executable ExecStart
    unit = tmp_path / "ml-connector.service"
    text = (DEPLOY / "ml-connector.service").read_text()
    assert "ExecStart=/opt/ml-connector/bin/hub run" in text
    unit.write_text(text.replace("/opt/ml-connector/bin/hub", str(hub)))
    verify = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    sec = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", str(unit)],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", sec.stdout)
    if m is None:
        pytest.skip(f"this systemd-analyze has no offline security report: {sec.stderr[:200]}")
    assert float(m.group(1)) <= 2.0, sec.stdout[-2000:]


def test_the_unit_names_its_user_and_paths():
    keys = dict(
        line.split("=", 1)
        for line in (DEPLOY / "ml-connector.service").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert keys["User"] == "ml-connector" and keys["ProtectSystem"] == "strict"
    assert keys["StateDirectory"] == "ml-connector"
    assert keys["ConfigurationDirectory"] == "ml-connector"
    assert keys["Environment"].startswith("HUB_")
    assert keys["RestartPreventExitStatus"] == "3"  # a configuration error is not retried


def test_the_container_runs_hub_as_a_non_root_user():
    lines = [x.strip() for x in (DEPLOY / "Containerfile").read_text().splitlines()]
    final = lines[max(i for i, x in enumerate(lines) if x.startswith("FROM ")) :]
    users = [x.split()[1] for x in final if x.startswith("USER ")]
    assert users and all(not u.startswith(("0", "root")) for u in users)
    assert 'ENTRYPOINT ["hub"]' in final and 'CMD ["run"]' in final
    assert any(x.startswith("HEALTHCHECK") for x in final)
    assert any("/healthz" in x for x in final)


def test_compose_runs_the_hub_with_postgresql_and_no_secret_in_the_file():
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    hub, pg = doc["services"]["hub"], doc["services"]["postgres"]
    assert hub["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert hub["environment"]["HUB_STORE_URL"].startswith("postgresql://hub:${HUB_DB_PASSWORD")
    for env in (hub["environment"], pg["environment"]):
        for key, value in env.items():
            if "PASSWORD" in key or "SECRET" in key:
                assert str(value).startswith("${"), f"{key} must come from the environment"
    assert all(p.startswith("127.0.0.1:") for p in hub["ports"])
    assert hub["read_only"] is True and hub["cap_drop"] == ["ALL"]


def test_the_example_config_loads(monkeypatch):
    from hub import config

    cfg = config.load(DEPLOY / "hub.example.toml", required=True)
    assert cfg.hub["listen"] == "0.0.0.0:8480" and cfg.hub["log_format"] == "json"
