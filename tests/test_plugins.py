"""The plugin system: documented hooks, loud failures, lazy loading, discovery, CLI hooks."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types

import pytest

import hub
from hub import ConfigError, hookimpl, hookspecs
from hub.plugins import PluginHost, PluginInfo


def spec_functions():
    return [
        (name, fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("hub_")
    ]


def test_every_hook_is_documented_and_typed():
    specs = spec_functions()
    assert len(specs) >= 12
    for name, fn in specs:
        doc = inspect.getdoc(fn) or ""
        assert len(doc) > 60, f"{name} lacks documentation"
        assert "Return" in doc or "return" in doc, f"{name}: the docstring must say what to return"
        assert "alled" in doc, f"{name}: the docstring must say when the core calls it"
        sig = inspect.signature(fn)
        assert sig.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
        for p in sig.parameters.values():
            assert p.annotation is not inspect.Parameter.empty, f"{name}({p.name}) is untyped"


def test_the_readme_documents_every_hook():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for name, _ in spec_functions():
        assert f"`{name}`" in readme, f"README.md does not document {name}"


def test_a_misspelt_hook_fails_loudly():
    plugin = types.ModuleType("typo_plugin")

    @hookimpl
    def hub_record_parkd(record, reason):  # noqa: ARG001
        pass

    plugin.hub_record_parkd = hub_record_parkd
    host = PluginHost()
    with pytest.raises(ConfigError, match="hub_record_parkd"):
        host.register(plugin, PluginInfo("typo", "typo_plugin"))
    assert "typo" not in host.plugins


def test_a_wrong_argument_name_fails_loudly():
    plugin = types.ModuleType("bad_args")

    @hookimpl
    def hub_record_parked(rec, why):  # noqa: ARG001
        pass

    plugin.hub_record_parked = hub_record_parked
    with pytest.raises(Exception, match="rec"):
        PluginHost().register(plugin, PluginInfo("bad", "bad_args"))


def test_registering_something_else_than_a_component_is_refused():
    plugin = types.ModuleType("wrong_kind")

    @hookimpl
    def hub_register_sinks(registry):
        registry.add(dict)

    plugin.hub_register_sinks = hub_register_sinks
    host = PluginHost()
    host.register(plugin, PluginInfo("wrong", "wrong_kind"))
    with pytest.raises(ConfigError, match="not a hub.Sink subclass"):
        host.components()


def test_a_component_module_failing_to_import_at_registration_names_the_plugin():
    """Plugins import their components in the registration hooks (fast `hub --help`): a
    module that fails there is a configuration error naming the plugin, as at load time."""
    plugin = types.ModuleType("lazy_plugin")

    @hookimpl
    def hub_register_sources(registry):
        import mlc_no_such_module  # noqa: F401

    plugin.hub_register_sources = hub_register_sources
    host = PluginHost()
    host.register(plugin, PluginInfo("lazy", "lazy_plugin"))
    with pytest.raises(ConfigError) as caught:
        host.components()
    assert str(caught.value) == (
        "plugin 'lazy' failed to register its sources (hub_register_sources): "
        "ModuleNotFoundError: No module named 'mlc_no_such_module'"
    )


def test_nothing_is_loaded_at_import_time():
    code = (
        "import sys, hub, hub.cli, hub.plugins, hub.app\n"
        "print(sorted(m for m in sys.modules if m.startswith(('mlc_', 'hubtest'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_builtin_plugins_use_only_the_public_api():
    import ast
    from pathlib import Path

    root = Path(__file__).parent.parent / "plugins"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hub"):
                assert node.module == "hub", f"{path}: imports {node.module}"
                for alias in node.names:
                    assert alias.name in hub.__all__, f"{path}: {alias.name} is not public"


def test_hub_plugins_lists_builtin_and_local_plugins(hubenv):
    hubenv.write_config()
    res = hubenv.run("plugins", "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["demo"]["distribution"] == "ml-connector" and rows["demo"]["version"]
    assert "hub_register_sources" in rows["demo"]["hooks"] and not rows["demo"]["enabled"]
    assert rows["hubtest_plugin"]["enabled"] and "hub_ping" in rows["hubtest_plugin"]["hooks"]


def test_plugins_add_cli_commands(hubenv):
    hubenv.write_config()
    assert hubenv.run("hubtest-hello").stdout.strip() == "hello from hubtest"
    assert "hubtest-hello" in hubenv.run("--help").stdout


def test_a_disabled_plugin_adds_no_command(hubenv):
    hubenv.write_config()
    hubenv.config.write_text(hubenv.config.read_text().replace("enabled = true", "enabled = false"))
    assert hubenv.run("hubtest-hello").returncode == 2


def test_ping_reports_each_check_and_exits_4_on_failure(hubenv):
    hubenv.write_config(plugin={"ping_ok": False})
    res = hubenv.run("ping")
    assert res.returncode == 4
    assert "FAIL  hubtest_plugin: endpoint - https://right.example" in res.stdout
    hubenv.write_config()
    ok = hubenv.run("ping", "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout) == [
        {
            "plugin": "hubtest_plugin",
            "check": "endpoint",
            "ok": True,
            "detail": "https://right.example",
        }
    ]
