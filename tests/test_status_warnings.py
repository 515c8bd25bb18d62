"""`hub status` shows what enabled plugins warn about (hub_status_warnings), never failing."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet

from hub.vault import write_key_file


def configure(hubenv):
    hubenv.write_config()
    text = hubenv.config.read_text().replace(
        'plugin_modules = ["hubtest_plugin"]',
        'plugin_modules = ["hubtest_plugin", "hubtest_status_plugin"]',
    )
    hubenv.config.write_text(text + "[plugins.hubtest_status_plugin]\nenabled = true\n")
    write_key_file(hubenv.data / "vault.key", Fernet.generate_key())


def set_warning(hubenv, value):
    hub = hubenv.load_hub()
    try:
        hub.plugin_state("hubtest_status_plugin").set("warn", value)
    finally:
        hub.close()


def test_status_lists_plugin_warnings(hubenv):
    configure(hubenv)
    res = hubenv.run("status", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["warnings"] == []
    set_warning(hubenv, "the subscription stopped")
    res = hubenv.run("status", "--json")
    assert json.loads(res.stdout)["warnings"] == ["hubtest_status_plugin: the subscription stopped"]
    res = hubenv.run("status")
    assert res.returncode == 0
    assert "warning: hubtest_status_plugin: the subscription stopped" in res.stderr


def test_a_failing_plugin_does_not_fail_status(hubenv):
    configure(hubenv)
    set_warning(hubenv, "boom")
    res = hubenv.run("status", "--json")
    assert res.returncode == 0
    assert json.loads(res.stdout)["warnings"] == []
    assert "a bug in the plugin" in res.stderr
