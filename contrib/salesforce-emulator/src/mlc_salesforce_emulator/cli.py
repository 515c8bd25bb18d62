"""The ``salesforce`` click command (mounted by the hub as ``hub emulate salesforce``)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from .org_profile import EDITIONS


def _objects(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@click.command("salesforce")
@click.option("--port", type=int, default=8443, show_default=True,
              help="HTTPS port for OAuth, REST and the admin API (0: any free port).")
@click.option("--grpc-port", type=int, default=7443, show_default=True,
              help="Pub/Sub API (gRPC over TLS) port (0: any free port).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="State, CA and endpoints.json live here.")
@click.option("--seed", "seed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seed file applied when the data directory holds no state yet.")
@click.option("--edition", type=click.Choice(sorted(EDITIONS)), default=None,
              help="Org edition (sets the default daily API limit).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--plain-http", is_flag=True, help="Serve HTTP and insecure gRPC (no TLS).")
@click.option("--orders/--no-orders", default=None, help="Orders enabled (default: yes).")
@click.option("--invoice/--no-invoice", default=None,
              help="Invoice object (Revenue Cloud) present (default: no).")
@click.option("--multi-currency/--single-currency", default=None,
              help="Multi-currency org: CurrencyIsoCode exists (default: single).")
@click.option("--cdc-objects", default=None,
              help="Comma-separated objects with Change Data Capture "
                   "(default: Account,Opportunity,Order).")
@click.option("--session-timeout", type=int, default=None,
              help="Session timeout in seconds (default: 7200).")
@click.option("--daily-api-limit", type=int, default=None, help="Daily API calls (15000).")
@click.option("--page-size", type=int, default=None, help="Query page size (2000).")
@click.option("--child-page-size", type=int, default=None,
              help="Rows of a child subquery in one result before it pages (200).")
@click.option("--keepalive", type=float, default=None,
              help="Seconds between Pub/Sub keepalive responses (270).")
@click.option("--retention-hours", type=float, default=None, help="Event retention (72).")
@click.option("--idle-stream-timeout", type=float, default=None,
              help="Seconds a stream may sit with nothing requested before it closes (60).")
@click.option("--log-level", default="INFO", show_default=True)
def salesforce(port, grpc_port, data_dir, seed_file, edition, host, plain_http, orders, invoice,
               multi_currency, cdc_objects, session_timeout, daily_api_limit, page_size,
               child_page_size, keepalive, retention_hours, idle_stream_timeout, log_level):
    """Run a local Salesforce org emulator: OAuth, REST and the Pub/Sub API with CDC."""
    from .server import EmulatorConfig, run  # imported here: mounting the command stays cheap

    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {}
    if edition:
        overrides.update(edition=edition, **EDITIONS[edition])
    options = {
        "orders_enabled": orders, "invoice_enabled": invoice, "multi_currency": multi_currency,
        "cdc_objects": _objects(cdc_objects), "session_timeout_seconds": session_timeout,
        "daily_api_limit": daily_api_limit, "query_page_size": page_size,
        "child_page_size": child_page_size,
        "keepalive_seconds": keepalive, "retention_hours": retention_hours,
        "idle_stream_timeout_seconds": idle_stream_timeout,
    }
    overrides.update({k: v for k, v in options.items() if v is not None})
    run(EmulatorConfig(data_dir=data_dir, host=host, port=port, grpc_port=grpc_port,
                       seed_file=seed_file, plain_http=plain_http, profile_overrides=overrides))


def main() -> None:
    salesforce()  # pylint: disable=no-value-for-parameter
