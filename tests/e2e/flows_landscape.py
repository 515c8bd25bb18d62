"""A landscape for end-to-end tests: both emulators seeded, the example config, the hub CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hub.demo import seed as demo_seed
from hub.examples import render

TESTS = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout: float, what: str, every: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


class Landscape:
    def __init__(self, root: Path, sf_factory, sap_factory) -> None:
        self.root = root
        self.sf_factory, self.sap_factory = sf_factory, sap_factory
        self.config = root / "hub.toml"
        self.sf = self.sap = None
        self.hub_process: subprocess.Popen | None = None
        self.opp_ids: dict[str, str] = {}
        self._sf_token: str | None = None
        self.refdata = "false"  # the reference-data flows (tests/e2e/test_refdata_*) are off

    # -- set-up ----------------------------------------------------------------------------
    def start(self, *sf_args: str, sap_poll: float = 1, **config_edits: str) -> Landscape:
        self.sf = self.sf_factory("--multi-currency", *sf_args)
        self.sf.admin.seed(demo_seed.salesforce_seed())
        by_name = {o[2]: o[0] for o in demo_seed.OPPORTUNITIES}
        self.opp_ids = {
            by_name[r["Name"]]: r["Id"] for r in self.sf_rows("Opportunity") if r["Name"] in by_name
        }
        self.sap = self.sap_factory(seed=demo_seed.sap_seed(self.opp_ids))
        self.write_config(sap_poll, **config_edits)
        from cryptography.fernet import Fernet

        from hub.store import Store
        from hub.vault import Vault, write_key_file

        key_file = self.root / "data" / "vault.key"
        write_key_file(key_file, Fernet.generate_key())
        # in this process, as `hub creds set` would (its CLI is tested on its own): a
        # command less to start per test
        store = Store(f"sqlite:///{self.root / 'data' / 'hub.db'}")
        try:
            vault = Vault(store, key_file)
            vault.set("sap-password", "manager")
            vault.set("sf-client-secret", "demo-client-secret")
        finally:
            store.close()
        return self

    def write_config(self, sap_poll: float = 1, **replace: str) -> None:
        text = render(
            "sapb1-salesforce",
            str(self.root / "data"),
            sap_url=self.sap.base_url,
            sap_ca=f'ca_bundle = "{self.sap.ca_path}"',
            sf_url=self.sf.instance_url,
            sf_client_id="demo-client-id",
            sf_pubsub=self.sf.grpc_target,
            sf_ca=f'ca_bundle = "{self.sf.ca_path}"',
            service_item=demo_seed.SERVICE_ITEM,
            sap_poll=str(sap_poll),
            refdata_enabled=self.refdata,
        )
        for old, new in replace.items():
            assert old in text, old
            text = text.replace(old, new)
        self.config.write_text(text)

    # -- the hub ---------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("HUB_STORE_URL", "HUB_SECRET_KEY")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH")) if p)
        env["HUB_CONFIG"] = str(self.config)
        return env

    def hub(self, *args: str, input: str | None = None, timeout: float = 120):
        return subprocess.run(
            [sys.executable, "-m", "hub", *args],
            input=input,
            text=True,
            capture_output=True,
            timeout=timeout,
            env=self.env(),
            cwd=self.root,
        )

    def popen(self, *args: str) -> subprocess.Popen:
        log = open(self.root / f"hub-{args[0]}.log", "ab")  # noqa: SIM115
        p = subprocess.Popen(
            [sys.executable, "-m", "hub", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=self.root,
        )
        log.close()
        return p

    def start_hub(self) -> None:
        self.hub_process = self.popen("run")

    def stop_hub(self) -> None:
        p, self.hub_process = self.hub_process, None
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def hub_log(self, tail: int = 3000) -> str:
        path = self.root / "hub-run.log"
        return path.read_text()[-tail:] if path.exists() else ""

    def store_counts(self) -> dict:
        from hub.store import Store

        store = Store(f"sqlite:///{self.root / 'data' / 'hub.db'}", migrate=False)
        try:
            return store.counts()
        finally:
            store.close()

    def converged(self) -> bool:
        """Every won opportunity SAP can take has an order whose DocNum is back on it."""
        won = [
            r
            for r, *_ in demo_seed.OPPORTUNITIES
            if r.startswith(("w-", "h-")) and r not in ("w-sierra", "w-granite")
        ]
        opps = {r["Id"]: r for r in self.sf_rows("Opportunity")}
        return all(opps[self.opp_ids[r]].get("SAP_Order_DocNum__c") for r in won)

    def run_until_converged(self, timeout: float = 30) -> None:
        self.start_hub()
        try:
            wait_until(self.converged, timeout, "the flows to converge", every=0.2)
        except AssertionError:
            raise AssertionError("not converged; hub log:\n" + self.hub_log()) from None

    # -- Salesforce ------------------------------------------------------------------------
    def sf_rows(self, sobject: str) -> list[dict]:
        body = self.sf.admin.get(f"/emulator/records/{sobject}")
        return body.get("records", []) if isinstance(body, dict) else body

    def sf_record(self, sobject: str, rid: str) -> dict:
        return self.sf.admin.get(f"/emulator/records/{sobject}/{rid}")

    def sf_rest(self, method: str, path: str, body=None) -> httpx.Response:
        """A user's own REST call (not the hub's)."""
        if self._sf_token is None:
            self._sf_token = self.sf.access_token()
        with httpx.Client(verify=self.sf.ssl_context(), timeout=30) as c:
            r = c.request(
                method,
                f"{self.sf.instance_url}/services/data/v63.0/{path}",
                json=body,
                headers={"Authorization": f"Bearer {self._sf_token}"},
            )
        assert r.status_code < 300, r.text
        return r

    def account_id(self, number: str) -> str:
        return next(r["Id"] for r in self.sf_rows("Account") if r.get("AccountNumber") == number)

    def sf_calls(self) -> dict:
        return self.sf.admin.get("/emulator/stats")["api_calls"]

    # -- SAP B1 ----------------------------------------------------------------------------
    def sap_rows(self, entity_set: str) -> list[dict]:
        return self.sap.admin_json("GET", f"entities/{entity_set}?limit=100000")["value"]

    def orders_for(self, opp_id: str) -> list[dict]:
        return [o for o in self.sap_rows("Orders") if o.get("U_SFOpportunityId") == opp_id]

    def sap_requests(self) -> dict:
        return self.sap.admin_json("GET", "stats")["requests"]

    def sap_session(self) -> httpx.Client:
        return self.sap.session()


def sap_post(client: httpx.Client, path: str, body: dict) -> dict:
    r = client.post(path, content=json.dumps(body))
    assert r.status_code < 300, r.text
    return r.json() if r.content else {}
