"""Running the demo: emulators up and seeded, a config written, the flows run to convergence."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

from ..config import load as load_config
from ..errors import HubError
from ..examples import render as render_example
from ..store import Store
from ..vault import Vault, write_key_file
from . import report
from . import seed as demo_seed
from .emulators import SalesforceEmulator, SapB1Emulator, free_port, stop_with_parent

LIVE = ("pending", "processing")


class DemoRun:
    """One demo in ``directory``: ``start()``, ``run_flows()``, then ``stop()``."""

    def __init__(
        self, directory: Path, say: Callable[[str], None] = print, keep_running: bool = False
    ) -> None:
        self.dir = directory.resolve()
        self.keep_running = keep_running  # False: the emulators die with this process
        self.say = say
        self.config = self.dir / "hub.toml"
        self.sap: SapB1Emulator | None = None
        self.sf: SalesforceEmulator | None = None
        self.hub_process: subprocess.Popen | None = None
        self._lock_fd: int | None = None

    # -- set-up --------------------------------------------------------------------------------
    def reusable(self) -> bool:
        """The directory is new, empty, or a demo's own (only then is it emptied)."""
        if not self.dir.exists():
            return True
        return not any(self.dir.iterdir()) or (self.dir / "salesforce-seed.json").exists()

    def lock(self) -> None:
        """Hold the directory for this demo: a second `hub demo` on it must not empty it.

        The lock file lies beside the directory (which is emptied and rebuilt) and is released
        when this process ends, whatever the way."""
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(
            self.dir.parent / f".{self.dir.name}.hub-demo.lock", os.O_RDWR | os.O_CREAT, 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HubError(
                f"another hub demo is running in {self.dir}; wait for it, or give this one "
                "another --dir"
            ) from None
        self._lock_fd = fd

    def start(self, timeout: float = 60.0) -> None:
        if self._lock_fd is None:
            self.lock()
        if not self.reusable():
            raise HubError(f"{self.dir} holds other files; give hub demo an empty or new --dir")
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        deadline = time.monotonic() + timeout
        sf_seed = self.dir / "salesforce-seed.json"
        sf_seed.write_text(json.dumps(demo_seed.salesforce_seed(), indent=1))
        self.sf = SalesforceEmulator(self.dir / "salesforce", free_port(), free_port(), sf_seed)
        self.sf.start(tied=not self.keep_running)
        self.sf.wait_ready(deadline)
        ids = self.opportunity_ids()
        sap_seed = self.dir / "sapb1-seed.json"
        sap_seed.write_text(json.dumps(demo_seed.sap_seed(ids), indent=1))
        self.sap = SapB1Emulator(self.dir / "sapb1", free_port(), sap_seed)
        self.sap.start(tied=not self.keep_running)
        self.sap.wait_ready(deadline)
        self.write_config()

    def opportunity_ids(self) -> dict[str, str]:
        by_name = {o[2]: o[0] for o in demo_seed.OPPORTUNITIES}
        with self.sf.admin() as c:
            rows = report._sf_rows(c, "Opportunity")
        return {by_name[r["Name"]]: r["Id"] for r in rows if r["Name"] in by_name}

    def write_config(self) -> None:
        data = self.dir / "data"
        text = render_example(
            "sapb1-salesforce",
            str(data),
            sap_url=self.sap.url,
            sap_ca=f'ca_bundle = "{self.sap.ca_path}"',
            sf_url=self.sf.instance_url,
            sf_client_id="demo-client-id",
            sf_pubsub=self.sf.grpc_target,
            sf_ca=f'ca_bundle = "{self.sf.ca_path}"',
            service_item=demo_seed.SERVICE_ITEM,
            sap_poll="1",
        )
        self.config.write_text(text, encoding="utf-8")
        cfg = load_config(self.config, required=True)
        if not os.environ.get("HUB_SECRET_KEY"):
            write_key_file(cfg.key_file, Fernet.generate_key())
        store = Store(cfg.store_url)
        try:
            vault = Vault(store, cfg.key_file)
            vault.set("sap-password", "manager")
            vault.set("sf-client-secret", "demo-client-secret")
        finally:
            store.close()

    # -- the flows -----------------------------------------------------------------------------
    def hub_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "hub", "--config", str(self.config), *args]

    def run_flows(self, timeout: float, progress: Callable[[str], None]) -> bool:
        """``hub run`` until every flow has read its source and nothing has moved for a few
        seconds with nothing pending; False when ``timeout`` passed first."""
        log = open(self.dir / "hub.log", "ab")  # noqa: SIM115 - the child keeps it
        env = {k: v for k, v in os.environ.items() if k not in ("HUB_STORE_URL", "HUB_CONFIG")}
        self.hub_process = subprocess.Popen(
            self.hub_command("run"),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=functools.partial(stop_with_parent, os.getpid()),  # hub run always is
        )
        log.close()
        cfg = load_config(self.config, required=True)
        flows = {name for name, flow in cfg.flows.items() if flow.enabled}
        t0 = time.monotonic()
        deadline = t0 + timeout
        store = None
        last, quiet_since = None, time.monotonic()
        try:
            while time.monotonic() < deadline:
                if self.hub_process.poll() is not None:
                    raise HubError(
                        f"hub run exited with code {self.hub_process.returncode}; "
                        f"see {self.dir / 'hub.log'}"
                    )
                self.sap.check_alive()
                self.sf.check_alive()
                if store is None and Path(cfg.store_url.removeprefix("sqlite:///")).exists():
                    store = Store(cfg.store_url, migrate=False)
                if store is not None:
                    counts = store.counts()
                    read = {c.flow for c in store.checkpoints()}
                    totals = {
                        s: sum(f.get(s, 0) for f in counts.values())
                        for s in ("pending", "processing", "done", "skipped", "parked")
                    }
                    progress(
                        f"[{time.monotonic() - t0:4.1f}s] flows reading {len(read & flows)}/"
                        f"{len(flows)}  written {totals['done']}  unchanged or not for this "
                        f"flow {totals['skipped']}  parked {totals['parked']}  pending "
                        f"{totals['pending'] + totals['processing']}"
                    )
                    now = (totals["done"], totals["skipped"], totals["parked"])
                    if now != last or totals["pending"] or totals["processing"]:
                        last, quiet_since = now, time.monotonic()
                    elif read >= flows and time.monotonic() - quiet_since >= 3.0:
                        return True
                time.sleep(0.25)
            return False
        finally:
            if store is not None:
                store.close()

    def stop_hub(self) -> None:
        p = self.hub_process
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    def stop(self) -> None:
        self.stop_hub()
        for emu in (self.sap, self.sf):
            if emu is not None:
                emu.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def parked(self) -> list[tuple[str, str]]:
        cfg = load_config(self.config, required=True)
        store = Store(cfg.store_url, migrate=False)
        try:
            out = []
            for r in store.find_records(status="parked"):
                found = store.get_record(r.id)
                reason = getattr(found[1], "last_error", "") if found else ""
                out.append((f"{r.flow} #{r.id}", reason or ""))
            return out
        finally:
            store.close()

    def restart_commands(self) -> list[str]:
        sap, sf = self.sap, self.sf
        return [
            f"hub emulate sapb1 --port {sap.port} --data-dir {sap.data_dir}",
            f"hub emulate salesforce --port {sf.port} --grpc-port {sf.grpc_port} "
            f"--multi-currency --data-dir {sf.data_dir}",
        ]
