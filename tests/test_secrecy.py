"""No secret reaches a log line, an audit event, a stored error, the terminal or --help."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlparse

from hub.cli import cli

VAULT_SECRET = "vault-Zq8#secret-7731"
ENV_SECRET = "env-Xy4-secret-9902"


def _store_dump(url: str, tmp: Path) -> bytes:
    """Everything the store holds, as bytes: the SQLite files, or a pg_dump of the database."""
    p = urlparse(url)
    if p.scheme == "sqlite":
        base = Path(p.path)
        return b"".join(f.read_bytes() for f in base.parent.glob(base.name + "*"))
    out = subprocess.run(
        [
            "pg_dump",
            "-h",
            p.hostname,
            "-p",
            str(p.port or 5432),
            "-U",
            p.username or "postgres",
            "--data-only",
            p.path.lstrip("/"),
        ],
        capture_output=True,
        check=True,
    )
    return out.stdout


def test_secrets_never_reach_anything_the_hub_writes(hubenv, tmp_path):
    log_file = tmp_path / "hub.log"
    changes = [{"id": f"S{i}", "payload": {"n": i}} for i in range(6)]
    hubenv.write_changes(changes)
    script = {"S1": ["leak", "leak", "leak"], "S2": ["leak", "ok"]}
    hubenv.write_config(
        plugin={"api_key": {"vault": "hubtest-key"}, "token": {"env": "HUBTEST_ENV"}},
        flow={"sink_options": {"script": script}, "max_attempts": 3},
        hub_extra=f'log_file = "{log_file}"\nlog_level = "DEBUG"',
    )
    outputs = []
    r = hubenv.run("init", "--force", "--data-dir", str(hubenv.data))
    outputs.append(r)
    hubenv.write_config(  # init wrote its example; put ours back
        plugin={"api_key": {"vault": "hubtest-key"}, "token": {"env": "HUBTEST_ENV"}},
        flow={"sink_options": {"script": script}, "max_attempts": 3},
        hub_extra=f'log_file = "{log_file}"\nlog_level = "DEBUG"',
    )
    outputs.append(hubenv.run("creds", "set", "hubtest-key", input=VAULT_SECRET + "\n"))
    for _ in range(4):  # enough passes for S1 to be parked after three attempts
        outputs.append(hubenv.run("sync", "things", HUBTEST_ENV=ENV_SECRET))
    outputs.append(hubenv.run("status", "--json"))
    outputs.append(hubenv.run("audit", "S1"))
    outputs.append(hubenv.run("audit", "S0", "--json"))
    outputs.append(hubenv.run("creds", "list", "--json"))
    outputs.append(hubenv.run("replay", "--flow", "things", "--dry-run"))
    outputs.append(hubenv.run("ping", HUBTEST_ENV=ENV_SECRET))

    text = "".join(o.stdout + o.stderr for o in outputs)
    assert "gave up after 3 attempts" in text  # the leaking record really was processed
    assert "login failed with api key *** and token ***" in log_file.read_text()
    assert "***" in hubenv.run("audit", "S0").stdout  # the summary's secret was masked
    everything = text.encode() + log_file.read_bytes() + _store_dump(hubenv.store_url, tmp_path)
    for secret in (VAULT_SECRET, ENV_SECRET):
        assert secret.encode() not in everything
    for o in outputs:
        assert "Traceback" not in o.stderr


def test_help_shows_no_secret(monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("HUB_SECRET_KEY", "not-a-real-key-but-secret-3381")
    runner = CliRunner()
    texts = []

    def walk(cmd, path):
        res = runner.invoke(cli, [*path, "--help"])
        assert res.exit_code == 0, (path, res.output)
        texts.append(res.output)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, [])
    assert len(texts) >= 14
    assert not any("not-a-real-key-but-secret-3381" in t for t in texts)


def test_an_unexpected_error_is_reported_masked_without_a_traceback(hubenv):
    secret = "leaky-Qw3-secret-5521"
    hubenv.write_config(
        plugin={"api_key": {"env": "HUBTEST_KEY"}},
        flow={"source_options": {"explode": True}},
    )
    res = hubenv.run("sync", "things", HUBTEST_KEY=secret)
    assert res.returncode == 1
    assert (
        "source hubtest.file failed: RuntimeError: cannot reach the source with key ***"
        in res.stderr
    )
    assert "Traceback" not in res.stderr
    assert secret not in res.stdout + res.stderr
