"""Through the hub command line, with the plugin installed by pip into a --target directory.

The plugin is not installed in the venv: the hub finds it only through the entry point of the
copy under ``installed`` (see conftest), which is what these tests prove.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

HUB = str(Path(sys.executable).with_name("hub"))
FLOW = "demo-orders"


def hub_env(tmp_path: Path, installed: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HUB_SECRET_KEY", "HUB_CONFIG", "HUB_STORE_URL", "PYTHONPATH")}
    env["HUB_DATA_DIR"] = str(tmp_path / "data")
    env["HUB_LOG_LEVEL"] = "INFO"
    if installed is not None:
        env["PYTHONPATH"] = str(installed)
    env.update(extra)
    return env


def run_hub(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([HUB, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def write_config(tmp_path: Path, url: str, ca_file: Path, *, extra: str = "") -> Path:
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f"""
[hub]
data_dir = "{tmp_path / 'data'}"
workers = 2

[plugins.demo]
enabled = true

[plugins.webhook-notify]
enabled = true
url = "{url}"
token = {{env = "HOOK_TOKEN"}}
ca_bundle = "{ca_file}"
timeout = 5.0
{extra}

[flows.{FLOW}]
source = "demo.generator"
matcher = "demo.customer_lookup"
mapping = "demo.order"
sink = "demo.noop"
max_attempts = 2

[flows.{FLOW}.source_options]
count = 20
unknown_every = 10
""", encoding="utf-8")
    return cfg


def test_discovered_through_the_entry_point_of_the_pip_installed_copy(installed, tmp_path):
    env = hub_env(tmp_path, installed)
    proc = run_hub(["plugins", "--json"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    row = rows["webhook-notify"]
    assert row["error"] is None
    assert row["distribution"] == "ml-connector-webhook-notify"
    assert row["version"] == "0.1.0"
    assert row["module"] == "mlc_webhook_notify.plugin"
    assert row["hooks"] == ["hub_alert", "hub_configure", "hub_flow_stopped", "hub_metrics",
                            "hub_ping", "hub_plugin_settings", "hub_record_parked"]

    # the copy found is the one pip put in the target directory ...
    where = subprocess.run(
        [sys.executable, "-c",
         "from importlib import metadata; import mlc_webhook_notify.plugin as p;"
         "d = metadata.distribution('ml-connector-webhook-notify');"
         "print(d.locate_file('')); print(p.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )
    assert where.returncode == 0, where.stderr
    dist_root, module_file = where.stdout.split()
    assert Path(dist_root).resolve() == installed.resolve()
    assert Path(module_file).resolve().is_relative_to(installed.resolve())

    # ... and without it on the path the hub knows no such plugin
    proc = run_hub(["plugins", "--json"], hub_env(tmp_path, None), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "webhook-notify" not in {r["name"] for r in json.loads(proc.stdout)}


def test_sync_posts_exactly_the_parked_records(installed, receiver, ca_file, tmp_path):
    token = "hook-" + uuid.uuid4().hex
    cfg = write_config(tmp_path, receiver.url, ca_file)
    env = hub_env(tmp_path, installed, HOOK_TOKEN=token)
    proc = run_hub(["--config", str(cfg), "sync", FLOW], env, tmp_path)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # records were parked
    assert "parked 2" in proc.stdout

    posts = sorted(receiver.wait_for_posts(2), key=lambda p: p.json()["external_id"])
    assert len(receiver.posts()) == 2  # the hub has exited: nothing more is coming
    bodies = [p.json() for p in posts]
    assert [b["external_id"] for b in bodies] == ["ORD-0000010", "ORD-0000020"]
    for post, body in zip(posts, bodies, strict=True):
        assert post.headers["authorization"] == f"Bearer {token}"
        assert body["event"] == "record.parked"
        assert body["flow"] == FLOW and body["source"] == "demo.generator"
        assert "C9999" in body["reason"] and "customer" in body["reason"]
        assert "payload" not in body
    assert token not in proc.stdout
    assert token not in proc.stderr


def test_ping_reports_the_webhook(installed, receiver, ca_file, tmp_path):
    token = "hook-" + uuid.uuid4().hex
    cfg = write_config(tmp_path, receiver.url, ca_file)
    env = hub_env(tmp_path, installed, HOOK_TOKEN=token)
    proc = run_hub(["--config", str(cfg), "ping", "--json"], env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = {(r["plugin"], r["check"]): r for r in json.loads(proc.stdout)}
    assert checks[("webhook-notify", "webhook")]["ok"] is True
    assert [r.method for r in receiver.requests] == ["HEAD"]
    assert token not in proc.stdout + proc.stderr


@pytest.mark.parametrize("url", ["http://hooks.example.com/parked", "http://127.0.0.1:9/parked"])
def test_plain_http_stops_the_hub_at_start_up(installed, ca_file, tmp_path, url):
    cfg = write_config(tmp_path, url, ca_file)
    env = hub_env(tmp_path, installed, HOOK_TOKEN="hook-" + uuid.uuid4().hex)
    proc = run_hub(["--config", str(cfg), "sync", FLOW], env, tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "plugins.webhook-notify.url: must be an https:// URL" in proc.stderr
    assert "received" not in proc.stdout  # no flow ran
