"""``hub sapb1 subscribe`` and ``hub sapb1 subscriptions``."""

from __future__ import annotations

import json

import click

from hub import ConfigError

EPILOG = "Exit codes: 0 done, 1 failure, 3 configuration error, 4 a subscription is not Active."


def _client_and_settings():
    """The plugin's resolved settings, through the hub the command line loaded."""
    from .client import ServiceLayerClient
    from .settings import ServiceLayerSettings

    state = click.get_current_context().find_root().obj
    hub = state.hub(required=True)
    hub.load_plugins(flows=False)
    settings = hub.settings.get("sapb1")
    if settings is None:
        raise ConfigError("plugins.sapb1: the plugin is not enabled (enabled = true)")
    sl = ServiceLayerSettings.from_settings(settings)
    return ServiceLayerClient(sl), sl, hub


@click.group(name="sapb1", epilog=EPILOG)
def sapb1_group() -> None:
    """SAP Business One: the hub's webhook subscription (FP 2602+)."""


@sapb1_group.command(epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def subscriptions(as_json: bool) -> None:
    """Show the company's event subscriptions and each one's State."""
    from .subscriptions import subscriptions as list_subs

    client, sl, hub = _client_and_settings()
    rows = [
        {
            "id": s.get("WebhookID"),
            "url": s.get("WebhookURL"),
            "state": s.get("State"),
            "events": len(s.get("EventCollection") or []),
            "hub": s.get("WebhookURL") == sl.webhook_url,
        }
        for s in list_subs(client)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            mark = "*" if r["hub"] else " "
            click.echo(f"{mark} {r['id']}  {r['state']:<12} {r['events']:>3} events  {r['url']}")
        if not rows:
            click.echo("no event subscriptions")
    from .subscriptions import find_subscription, record_state

    record_state(hub.plugin_state("sapb1"), find_subscription(client, sl.webhook_url))
    ours = [r for r in rows if r["hub"]]
    if ours and ours[0]["state"] not in ("Active", "A"):
        click.echo(f"warning: the hub's subscription is {ours[0]['state']}", err=True)
        raise SystemExit(4)


@sapb1_group.command(epilog=EPILOG)
def subscribe() -> None:
    """Create or update the hub's subscription: webhook_url, the HMAC webhook_key, and the
    events of the entities the enabled flows read; resume it if it stopped."""
    from .ping import SOURCES
    from .subscriptions import subscribe as do_subscribe

    client, sl, hub = _client_and_settings()
    entities = sorted(
        {
            SOURCES[f.source][0]
            for f in hub.config.flows.values()
            if f.enabled and f.source in SOURCES
        }
    )
    if not entities:
        raise ConfigError("no enabled flow reads from an sapb1 source: nothing to subscribe to")
    action, entry = do_subscribe(client, sl.webhook_url, sl.webhook_key, entities)
    from .subscriptions import record_state

    record_state(hub.plugin_state("sapb1"), entry)
    click.echo(
        f"{action} subscription {entry.get('WebhookID')} ({entry.get('State')}) for "
        f"{', '.join(entities)} -> {sl.webhook_url}"
    )
