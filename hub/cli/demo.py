"""``hub demo``: SAP Business One and Salesforce kept aligned, on local emulators."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from ..errors import HubError
from .common import EPILOG_CODES, EXIT_FAILURE


@click.command(epilog=EPILOG_CODES)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hub-demo"),
    show_default=True,
    help="Where the config, the store and both emulators' data go (emptied first).",
)
@click.option(
    "--keep-running", is_flag=True, help="Leave both emulators running and say how to query them."
)
@click.option(
    "--timeout", type=float, default=55.0, show_default=True, help="Seconds to wait for the flows."
)
def demo(directory: Path, keep_running: bool, timeout: float) -> None:
    """Run the three flows between SAP Business One and Salesforce on local emulators.

    Starts both emulators (HTTPS, each with its own CA) seeded with a software-services firm,
    writes the sapb1-salesforce example config, runs `hub run` until the flows converge and
    prints what changed in both systems. Everything stays in --dir for `hub status`,
    `hub audit` and `hub replay`.
    """
    from ..demo import refdata_report, report
    from ..demo import seed as demo_seed
    from ..demo.runner import DemoRun

    t0 = time.monotonic()
    say = click.echo
    run = DemoRun(directory, keep_running=keep_running)
    if not run.reusable():
        raise click.BadParameter(
            f"{run.dir} holds other files; hub demo empties its directory, so give it an "
            "empty or new one",
            param_hint="--dir",
        )
    tty = sys.stdout.isatty()
    last_line = [0.0]

    def progress(text: str) -> None:
        if tty:
            click.echo("\r" + text.ljust(100), nl=False)
        elif time.monotonic() - last_line[0] >= 2:
            last_line[0] = time.monotonic()
            click.echo(text)

    # a stop signal unwinds through the clean-up below: emulators and hub run are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    ok = False
    try:
        say(f"Starting the SAP B1 and Salesforce emulators in {run.dir} ...")
        run.start()
        n_opps = len(demo_seed.OPPORTUNITIES)
        n_bps = sum(1 for a in demo_seed.ACCOUNTS if a[5]) + 1  # and SAP_ONLY_PARTNER
        say(f"  Salesforce {run.sf.instance_url}: {len(demo_seed.ACCOUNTS)} accounts, "
            f"{len(demo_seed.PRODUCTS)} products, {n_opps} opportunities")  # fmt: skip
        say(f"  SAP B1 {run.sap.url}: {n_bps} business partners, items, "
            f"{len(demo_seed.HISTORY)} invoiced orders with payments")  # fmt: skip
        say(
            f"  config {run.config} (hub init --example sapb1-salesforce), credentials in the vault"
        )
        before = report.take(run.sf, run.sap)
        before_ref = refdata_report.take(run.sf, run.sap)
        say("Running the flows (hub run) until they converge ...")
        ok = run.run_flows(timeout, progress)
        if tty:
            click.echo()
        run.stop_hub()
        after = report.take(run.sf, run.sap)
        say("")
        say(report.render(before, after, run.parked()))
        say("")
        say(refdata_report.render(before_ref, refdata_report.take(run.sf, run.sap)))
        say("")
        state = "converged" if ok else f"did NOT converge within {timeout:.0f}s"
        say(f"Flows {state}; {time.monotonic() - t0:.1f}s in all.")
        say(f"Explore: export HUB_CONFIG={run.config}; then hub status, hub audit RECORD, "
            "hub replay --flow opportunities-to-orders")  # fmt: skip
        if keep_running:
            say("The emulators keep running:")
            say(f"  SAP B1 Service Layer {run.sap.url} (CompanyDB SBODEMOUS, manager/manager), "
                f"CA {run.sap.ca_path}, pid {run.sap.process.pid}")  # fmt: skip
            say(f"    curl --cacert {run.sap.ca_path} https://localhost:{run.sap.port}"
                "/emulator/entities/Orders")  # fmt: skip
            say(f"  Salesforce {run.sf.instance_url} (client demo-client-id / demo-client-secret), "
                f"CA {run.sf.ca_path}, pid {run.sf.process.pid}")  # fmt: skip
            say(f"    curl --cacert {run.sf.ca_path} {run.sf.instance_url}"
                "/emulator/records/Opportunity")  # fmt: skip
            say(f"  keep them aligned: HUB_CONFIG={run.config} hub run; stop the emulators: "
                f"kill {run.sap.process.pid} {run.sf.process.pid}")  # fmt: skip
        else:
            say("Both emulators are stopped with their state saved; start them again with:")
        for cmd in run.restart_commands():
            say(f"  {cmd}")
    except HubError:
        run.stop()
        raise
    except BaseException:
        run.stop()
        raise
    if not keep_running:
        run.stop()
    if not ok:
        raise SystemExit(EXIT_FAILURE)


COMMANDS = [demo]
