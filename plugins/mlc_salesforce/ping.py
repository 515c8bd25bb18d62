"""``hub ping`` for the Salesforce plugin: what an operator needs to know before a first run.

Checks, each a PASS or FAIL line: the token (credentials, TLS trust, expiry), the API version,
which objects exist (Order, Invoice), multi-currency or not, that the fields the flows read,
write and match on exist (describe), whether Change Data Capture is on for the objects the flows
stream, and the day's API usage against ``daily_api_budget``. Without flows, the objects and
fields of the plugin's own sources are checked.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hub import Check

from .org import OrgConnection, build
from .records import LINE_FIELDS, OBJECTS
from .sources import cdc_available

SOURCES = {"salesforce.opportunities": "Opportunity", "salesforce.accounts": "Account"}
SINKS = {"salesforce.opportunity_fields": "Opportunity", "salesforce.account_fields": "Account"}
MATCHERS = {
    "salesforce.account_by_number": ("Account", "account_field"),
    "salesforce.opportunity_by_key": ("Opportunity", "opportunity_field"),
}
INVOICE_OBJECTS = {"invoice": "Invoice", "order": "Order", "opportunity": "Opportunity"}
RELATIONSHIPS = {"Account": "Account"}


class Needs:
    """What the flows need from the org: fields by object, external ids, CDC objects."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.external_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.cdc: dict[str, dict[str, str]] = defaultdict(dict)  # object -> flow -> mode

    def field(self, sobject: str, name: str, flow: str) -> None:
        if "." in name:
            rel, name = name.split(".", 1)
            sobject = RELATIONSHIPS.get(rel, rel)
        self.fields[sobject][name].add(flow)

    def source(self, sobject: str, opts: dict[str, Any], flow: str) -> None:
        for f in (*OBJECTS[sobject].fields, *(opts.get("fields") or [])):
            self.field(sobject, f, flow)
        if OBJECTS[sobject].lines:
            for f in LINE_FIELDS:
                self.field("OpportunityLineItem", f, flow)
        if opts.get("mode", "auto") != "poll":
            self.cdc[sobject][flow] = opts.get("mode", "auto")


def needs_of(flows: list[dict[str, Any]]) -> Needs:
    needs = Needs()
    if not flows:
        for name, sobject in SOURCES.items():
            needs.source(sobject, {"mode": "auto"}, f"({name})")
    for flow in flows:
        fname = flow["name"]
        if flow.get("source") in SOURCES:
            needs.source(SOURCES[flow["source"]], flow.get("source_options") or {}, fname)
        sink, opts = flow.get("sink"), flow.get("sink_options") or {}
        if sink in SINKS or sink == "salesforce.invoice":
            if sink == "salesforce.invoice":
                sobject = INVOICE_OBJECTS[opts.get("target") or "invoice"]
                ext = None if sobject == "Opportunity" else opts.get("external_id_field")
            else:
                sobject, ext = SINKS[sink], opts.get("external_id_field")
            needs.fields[sobject]  # the object itself must exist
            for f in opts.get("fields") or []:
                needs.field(sobject, f, fname)
            if ext:
                needs.field(sobject, ext, fname)
                needs.external_ids[(sobject, ext)].add(fname)
        if flow.get("matcher") in MATCHERS:
            sobject, option = MATCHERS[flow["matcher"]]
            field = (flow.get("matcher_options") or {}).get(option)
            if field:
                needs.field(sobject, field, fname)
    return needs


def ping(settings: dict[str, Any], flows: list[dict[str, Any]]) -> list[Check]:
    conn = build(settings)
    try:
        tok = conn.token.current()
    except Exception as exc:  # noqa: BLE001 - every failure is a check result
        return [Check("token", False, str(exc))]
    minutes = max(0, int((tok.expires_at - conn.token.clock()) / 60))
    checks = [
        Check(
            "token",
            True,
            f"org {tok.org_id}, expires in {minutes} min (from {tok.expiry_source})",
        )
    ]
    for step in (_api_version, _objects_and_fields, _cdc, _usage):
        try:
            checks += step(conn, settings, needs_of(flows))
        except Exception as exc:  # noqa: BLE001
            checks.append(Check(step.__name__.strip("_").replace("_", " "), False, str(exc)))
    return checks


def _api_version(conn: OrgConnection, settings: dict, needs: Needs) -> list[Check]:
    tok = conn.token.current()
    resp = conn.http.get(
        f"{tok.instance_url}/services/data/",
        headers={"Authorization": f"Bearer {tok.access_token}"},
        timeout=30,
    )
    versions = [v.get("version") for v in resp.json()] if resp.ok else []
    wanted = settings.get("api_version") or "63.0"
    if wanted in versions:
        return [Check("api version", True, f"{wanted} (newest {versions[-1]})")]
    return [Check("api version", False, f"{wanted} not offered (offered: {', '.join(versions)})")]


def _objects_and_fields(conn: OrgConnection, settings: dict, needs: Needs) -> list[Check]:
    rest = conn.rest
    present = {o.get("name") for o in rest.describe_global().get("sobjects", [])}
    checks = [
        Check(
            "objects",
            all(o in present for o in needs.fields),
            f"Order: {'yes' if 'Order' in present else 'no'}; "
            f"Invoice: {'yes' if 'Invoice' in present else 'no'}"
            + "".join(f"; {o} missing" for o in needs.fields if o not in present),
        )
    ]
    opp_fields = rest.field_names("Opportunity") if "Opportunity" in present else set()
    multi = "CurrencyIsoCode" in opp_fields
    checks.append(Check("currency", True, "multi-currency" if multi else "single currency"))
    missing, total = [], 0
    for sobject, fields in sorted(needs.fields.items()):
        if sobject not in present:
            continue
        described = {f["name"]: f for f in rest.describe(sobject).get("fields", [])}
        for name, flows in sorted(fields.items()):
            total += 1
            if name not in described:
                missing.append(f"{sobject}.{name} ({', '.join(sorted(flows))})")
            elif (sobject, name) in needs.external_ids and not described[name].get("externalId"):
                missing.append(f"{sobject}.{name} is not an external id")
    detail = "missing: " + "; ".join(missing) if missing else f"{total} fields present"
    checks.append(Check("fields", not missing, detail))
    return checks


def _cdc(conn: OrgConnection, settings: dict, needs: Needs) -> list[Check]:
    checks = []
    for sobject, modes in sorted(needs.cdc.items()):
        topic = f"/data/{sobject}ChangeEvent"
        ok, why = cdc_available(conn, topic)
        if ok:
            checks.append(Check(f"cdc {sobject}", True, f"change events on {topic}"))
            continue
        strict = sorted(f for f, m in modes.items() if m == "cdc")
        effect = (
            f"flows in mode cdc cannot start: {', '.join(strict)}"
            if strict
            else "mode auto polls instead"
        )
        checks.append(Check(f"cdc {sobject}", False, f"not enabled ({why}); {effect}"))
    return checks


def _usage(conn: OrgConnection, settings: dict, needs: Needs) -> list[Check]:
    limits = conn.rest.request("GET", "limits/", urgent=True)
    daily = limits.get("DailyApiRequests") or {}
    if conn.budget.usage is None and daily.get("Max"):
        used = daily["Max"] - daily.get("Remaining", daily["Max"])
        conn.budget.observe(f"api-usage={used}/{daily['Max']}")
    return [Check("api usage", not conn.budget.exhausted(), conn.budget.describe())]
