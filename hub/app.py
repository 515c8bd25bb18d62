"""The running hub: configuration, store, vault and plugins, checked together at start-up."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from . import secrets
from .components import Component, ComponentContext, IdentityMapping, Mapping, Matcher, Sink, Source
from .config import PLUGIN_CORE_KEYS, FlowConfig, HubConfig, fail
from .errors import ConfigError, HubError
from .ops import alerts
from .plugin_state import PluginState
from .plugins import Components, PluginHost, PluginInfo, discover
from .settings import Problem, validate
from .store import Store
from .vault import Vault

log = logging.getLogger(__name__)


@dataclass
class FlowParts:
    """A flow's instantiated components."""

    config: FlowConfig
    source: Source
    sink: Sink
    matcher: Matcher | None
    mapping: Mapping

    def all(self) -> list[Component]:
        """In opening order: the sink opens before the mapping, which may check it."""
        return [c for c in (self.source, self.matcher, self.sink, self.mapping) if c is not None]


class Hub:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self._store: Store | None = None
        self._vault: Vault | None = None
        self.host = PluginHost()
        self.installed: dict[str, PluginInfo] = {}
        self.components = Components()
        self.settings: dict[str, dict[str, Any]] = {}
        self.stopping = threading.Event()

    # -- store and vault -----------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.store_url)
        return self._store

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = Vault(self.store, self.config.key_file)
        return self._vault

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    # -- secrets -------------------------------------------------------------------------------
    def resolve_secret(self, ref: dict[str, str]) -> str:
        """The value a reference names, registered for masking; ConfigError says what is wrong."""
        return secrets.resolve_reference(
            ref, base_dir=self.config.path.parent, vault_get=lambda name: self.vault.get(name)
        )

    # -- plugins -------------------------------------------------------------------------------
    def discover(self) -> dict[str, PluginInfo]:
        self.installed = discover(self.config.hub.get("plugin_modules") or [])
        return self.installed

    def load_plugins(self, *, flows: bool = True) -> None:
        """Load enabled plugins and check every plugin section and flow; stop on any problem."""
        cfg = self.config
        installed = self.discover()
        problems: list[Problem] = []
        for name in cfg.plugins:
            if name not in installed:
                known = ", ".join(sorted(installed)) or "none"
                problems.append(
                    Problem(
                        f"plugins.{name}", f"no installed plugin of that name (installed: {known})"
                    )
                )
        if problems:
            raise fail(cfg.path, problems)
        for name in cfg.enabled_plugins():
            self.host.load(installed[name])
        schemas = self.host.settings_schemas()
        for name in cfg.enabled_plugins():
            table = cfg.plugins[name]
            v = validate(table, schemas.get(name, {}), f"plugins.{name}", ignore=PLUGIN_CORE_KEYS)
            problems += v.problems
            resolved = {}
            for key, value in v.values.items():
                if value is not None and schemas[name][key].secret:  # validated: a reference
                    try:
                        value = self.resolve_secret(value)
                    except ConfigError as exc:
                        problems.append(Problem(f"plugins.{name}.{key}", str(exc)))
                        continue
                resolved[key] = value
            self.settings[name] = resolved
        if problems:
            raise fail(cfg.path, problems)
        try:
            self.host.configure(self.settings)
        except ConfigError as exc:
            raise ConfigError(f"configuration error in {cfg.path}:\n  - {exc}") from None
        self.components = self.host.with_builtins(self.host.components())
        alerts.bind(self.host)  # record events become alerts for notifier plugins
        if flows:
            self._check_flows()

    def _check_flows(self) -> None:
        problems: list[Problem] = []
        comps = self.components
        for flow in self.config.flows.values():
            for kind, name, registry, opts in (
                ("source", flow.source, comps.sources, flow.source_options),
                ("sink", flow.sink, comps.sinks, flow.sink_options),
                ("matcher", flow.matcher, comps.matchers, flow.matcher_options),
                ("mapping", flow.mapping, comps.mappings, flow.mapping_options),
            ):
                key = f"flows.{flow.name}"
                if name is None:
                    if opts:
                        problems.append(
                            Problem(f"{key}.{kind}_options", f"given but no {kind} is set")
                        )
                    continue
                if name not in registry:
                    known = (
                        ", ".join(sorted(registry)) or "none: enable the plugin that provides it"
                    )
                    problems.append(
                        Problem(f"{key}.{kind}", f"no {kind} named {name!r} (available: {known})")
                    )
                    continue
                cls = registry[name][1]
                problems += validate(opts, cls.options, f"{key}.{kind}_options").problems
        if problems:
            raise fail(self.config.path, problems)

    def flows_by_plugin(self) -> dict[str, list[dict[str, Any]]]:
        """For ``hub ping``: per plugin, the enabled flows using its components, with their
        validated options."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        c = self.components
        for flow in self.config.flows.values():
            if not flow.enabled:
                continue
            for kind, name, registry, opts in (
                ("source", flow.source, c.sources, flow.source_options),
                ("sink", flow.sink, c.sinks, flow.sink_options),
                ("matcher", flow.matcher, c.matchers, flow.matcher_options),
                ("mapping", flow.mapping, c.mappings, flow.mapping_options),
            ):
                if name is None or name not in registry:
                    continue
                plugin, cls = registry[name]
                entry = out.setdefault(plugin, {}).setdefault(flow.name, {"name": flow.name})
                entry[kind] = name
                entry[f"{kind}_options"] = validate(opts, cls.options, f"flows.{flow.name}").values
            # the matchers hub.all_of lists, each as a flow entry of its own plugin
            for i, spec in enumerate((flow.matcher_options or {}).get("matchers") or []):
                sub = spec.get("name") if isinstance(spec, dict) else None
                if flow.matcher != "hub.all_of" or sub not in c.matchers:
                    continue
                plugin, cls = c.matchers[sub]
                opts = validate(spec.get("options") or {}, cls.options, "").values
                entry = {"name": flow.name, "matcher": sub, "matcher_options": opts}
                out.setdefault(plugin, {})[f"{flow.name}#{i}"] = entry
        return {plugin: list(flows.values()) for plugin, flows in out.items()}

    def _make(self, registry: dict, name: str, flow: FlowConfig, opts: dict[str, Any]):
        plugin, cls = registry[name]
        values = validate(opts, cls.options, f"flows.{flow.name}").values
        ctx = ComponentContext(
            flow=flow.name,
            plugin=plugin,
            settings=self.settings.get(plugin, {}),
            stopping=self.stopping,
            logger=logging.getLogger(f"hub.flow.{flow.name}"),
            state=self.plugin_state(plugin),
        )
        return cls(ctx, values)

    def status_warnings(self) -> list[str]:
        """What enabled plugins warn about for ``hub status``; nothing if they cannot load."""
        try:
            if not self.host.plugins:
                self.load_plugins(flows=False)
            pairs = self.host.status_warnings(self.settings, self.plugin_state)
        except HubError as exc:
            log.debug("no plugin warnings for hub status: %s", exc)
            return []
        return [f"{plugin}: {text}" for plugin, text in pairs]

    def plugin_state(self, plugin: str) -> PluginState:
        """``plugin``'s state kept across restarts (see ``hub.plugin_state``)."""
        return PluginState(lambda: self.vault, plugin)

    def flow_parts(self, name: str) -> FlowParts:
        flow = self.config.flows.get(name)
        if flow is None:
            known = ", ".join(sorted(self.config.flows)) or "none"
            raise ConfigError(f"no flow named {name!r} in {self.config.path} (flows: {known})")
        c = self.components
        if flow.mapping:
            mapping = self._make(c.mappings, flow.mapping, flow, flow.mapping_options)
        else:
            ctx = ComponentContext(flow.name, "hub", {}, self.stopping, logging.getLogger("hub"))
            mapping = IdentityMapping(ctx, {})
        parts = FlowParts(
            config=flow,
            source=self._make(c.sources, flow.source, flow, flow.source_options),
            sink=self._make(c.sinks, flow.sink, flow, flow.sink_options),
            matcher=self._make(c.matchers, flow.matcher, flow, flow.matcher_options)
            if flow.matcher
            else None,
            mapping=mapping,
        )
        if hasattr(mapping, "bind_sink"):  # a mapping that checks the target (hub.declarative)
            mapping.bind_sink(parts.sink)
        if hasattr(parts.matcher, "bind_components"):  # a matcher of matchers (hub.all_of)
            parts.matcher.bind_components(lambda n, o, k: self._sub_matcher(flow, n, o, k))
        return parts

    def _sub_matcher(self, flow: FlowConfig, name: str, opts: dict[str, Any], key: str):
        """A registered matcher built for ``flow`` with ``opts`` (checked against its schema)."""
        c = self.components
        if name not in c.matchers:
            known = ", ".join(sorted(c.matchers)) or "none"
            raise ConfigError(f"{key}.name: no matcher named {name!r} (available: {known})")
        problems = validate(opts, c.matchers[name][1].options, f"{key}.options").problems
        if problems:
            raise ConfigError("; ".join(str(p) for p in problems))
        return self._make(c.matchers, name, flow, opts)
