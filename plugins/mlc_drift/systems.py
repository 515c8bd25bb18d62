"""Both systems read in batches through the plugins' own clients, every call paid for from
the report's budget before it is made; the flows found by what they read and write."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from mlc_salesforce.org import build as build_org
from mlc_salesforce.records import clean
from mlc_salesforce.soql import quote_list
from mlc_sapb1 import odata
from mlc_sapb1.connection import shared_client

from hub import ConfigError, Record

IDS_PER_QUERY = 200  # Salesforce ids in one SOQL IN (...)
CODES_PER_FILTER = 40  # SAP keys in one $filter


class Systems:
    """The two clients of one report."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.budget = context.budget
        settings = context.settings
        missing = [p for p in ("sapb1", "salesforce") if p not in settings]
        if missing:
            raise ConfigError(
                f"the drift report needs the {' and '.join(missing)} plugin(s) enabled"
            )
        self.sap = shared_client(settings["sapb1"])
        self._org = build_org(settings["salesforce"])
        self.sf = self._org.rest

    def close(self) -> None:
        try:
            self._org.http.close()
        except Exception:  # closing is best effort
            pass

    # -- SAP B1 --------------------------------------------------------------------------------
    def sap_rows(self, entity_set: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every row of a query, page by page; each page is paid for before it is read."""
        pages = self.sap.pages(entity_set, params)
        while True:
            self.budget.spend("sapb1")
            page = next(pages, None)
            if page is None:
                return
            yield from page

    def sap_by_keys(self, entity_set: str, key: str, keys: list[Any], select: list[str]):
        out: dict[str, dict[str, Any]] = {}
        fields = ",".join(odata.name(f) for f in dict.fromkeys([key, *select]))
        for start in range(0, len(keys), CODES_PER_FILTER):
            chunk = keys[start : start + CODES_PER_FILTER]
            params = {"$filter": odata.any_of(key, chunk), "$select": fields}
            for row in self.sap_rows(entity_set, params):
                out[str(row[key])] = row
        return out

    # -- Salesforce ----------------------------------------------------------------------------
    def sf_rows(self, soql: str) -> Iterator[dict[str, Any]]:
        pages = self.sf.query_pages(soql)
        while True:
            self.budget.spend("salesforce")
            page = next(pages, None)
            if page is None:
                return
            for r in page.get("records", []):
                yield clean(r)

    def sf_by_ids(self, sobject: str, fields: list[str], ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        cols = ", ".join(dict.fromkeys(["Id", *fields]))
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            for r in self.sf_rows(f"SELECT {cols} FROM {sobject} WHERE Id IN {quote_list(chunk)}"):
                out[r["Id"]] = r
        return out


def find_flow(context: Any, source: str, sink: str) -> Any | None:
    """The enabled flow reading ``source`` into ``sink`` (the first by name), if any."""
    for name in sorted(context.flows):
        f = context.flows[name]
        if f.source == source and f.sink == sink:
            return f
    return None


def record(flow: Any, system: str, object_type: str, key: str, payload: dict) -> Record:
    """A stand-in of the inbox record the flow's source would have stored, for its mapping."""
    return Record(0, flow.name, flow.source, system, object_type, key, "upsert", payload, "",
                  "pending", 0)  # fmt: skip


def mapping_paths(mapping: Any) -> set[str]:
    """The top-level source fields a declarative mapping reads."""
    out: set[str] = set()
    for rule in getattr(getattr(mapping, "rules", None), "fields", []):
        args: list[Any] = []
        if rule.source in ("path", "record"):
            args = [rule.arg]
        elif rule.source == "subtract":
            args = list(rule.arg)
        elif rule.source == "payment_status":
            args = [v for v in rule.arg.values() if v]
        out |= {str(a).split(".")[0] for a in args}
    for cond in getattr(getattr(mapping, "rules", None), "when", []):
        out.add(str(cond.path).split(".")[0])
    return out


def same(a: Any, b: Any) -> bool:
    """Equal as the systems mean it: empty equals empty, numbers to a cent, text exactly."""
    empty = (None, "")
    if a in empty or b in empty:
        return (a in empty) == (b in empty) or (a in empty and b == 0) or (b in empty and a == 0)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), abs_tol=0.005)
    try:
        if isinstance(a, int | float) or isinstance(b, int | float):
            return math.isclose(float(a), float(b), abs_tol=0.005)
    except (TypeError, ValueError):
        return False
    return str(a) == str(b)


def field_diffs(want: dict[str, Any], have: dict[str, Any], skip=("Id",)) -> list[str]:
    """What SAP gives against what Salesforce has, for each field of ``want`` (a mapping's
    output) that ``have`` (the Salesforce record) holds and that differs; ``skip`` is left out."""
    return [
        f"{k}: SAP gives {shown(v)}, Salesforce has {shown(have.get(k))}"
        for k, v in sorted(want.items())
        if k not in skip and k in have and not same(v, have.get(k))
    ]


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
