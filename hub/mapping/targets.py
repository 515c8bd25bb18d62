"""Checking a mapping's target fields against what the target system says it has.

The interface a sink offers is :meth:`hub.Sink.target_fields`: the fields of the object it
writes, as ``{name: TargetField}`` (``length`` for text fields, ``fields`` for the members of
a collection such as document lines), or ``None`` when it cannot tell. A sink that does not
implement it is asked through an adapter here when one exists for its plugin (``sapb1``: the
entity type in ``$metadata``; ``salesforce``: the object's describe), so the check works with
today's plugins; once a plugin implements ``target_fields`` itself, its answer is used.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import Any

from ..components import Sink, TargetField
from .rules import MappingRules

log = logging.getLogger(__name__)

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
ALWAYS_WRITABLE = {"salesforce": {"Id"}}


def target_fields(sink: Sink) -> dict[str, TargetField] | None:
    """The sink's field catalogue: its own answer, else the adapter for its plugin."""
    if type(sink).target_fields is not Sink.target_fields:
        return sink.target_fields()
    adapter = ADAPTERS.get(sink.system)
    return adapter(sink) if adapter else None


def parse_metadata(xml_text: str, entity_set: str) -> dict[str, TargetField] | None:
    """The fields of ``entity_set``'s entity type in an OData v4 CSDL document; members of a
    ``Collection(...)`` of a complex type become the field's own ``fields``."""
    root = ET.fromstring(xml_text)
    types: dict[str, ET.Element] = {}
    type_name = None
    for schema in root.iter(f"{EDM}Schema"):
        ns = schema.get("Namespace", "")
        for kind in ("EntityType", "ComplexType"):
            for el in schema.findall(f"{EDM}{kind}"):
                types[f"{ns}.{el.get('Name')}"] = el
                types[el.get("Name", "")] = el
        for es in schema.iter(f"{EDM}EntitySet"):
            if es.get("Name") == entity_set:
                type_name = es.get("EntityType")
    if type_name is None or type_name not in types:
        return None

    def fields_of(el: ET.Element, depth: int = 0) -> dict[str, TargetField]:
        out: dict[str, TargetField] = {}
        for prop in el.findall(f"{EDM}Property"):
            name, typ = prop.get("Name", ""), prop.get("Type", "")
            length = prop.get("MaxLength")
            nested = None
            if typ.startswith("Collection(") and depth < 2:
                inner = types.get(typ[len("Collection(") : -1])
                nested = fields_of(inner, depth + 1) if inner is not None else None
            elif typ in types and depth < 2:
                nested = fields_of(types[typ], depth + 1)
            out[name] = TargetField(
                name, int(length) if length and length.isdigit() else None, nested
            )
        return out

    return fields_of(types[type_name])


def _sapb1_fields(sink: Any) -> dict[str, TargetField] | None:
    client = getattr(sink, "client", None)
    entity_set = getattr(sink, "entity_set", None)
    if client is None or not entity_set:
        return None
    return parse_metadata(client.request("GET", "$metadata").text, entity_set)


def _salesforce_fields(sink: Any) -> dict[str, TargetField] | None:
    conn = getattr(sink, "conn", None)
    sobject = getattr(sink, "sobject", None)
    if conn is None or not sobject:
        return None
    out = {}
    for f in conn.rest.describe(sobject).get("fields", []):
        length = f.get("length") if f.get("type") in ("string", "textarea", "phone", "url",
                                                      "email", "picklist") else None  # fmt: skip
        out[f["name"]] = TargetField(f["name"], length or None)
    return out


ADAPTERS = {"sapb1": _sapb1_fields, "salesforce": _salesforce_fields}


def check_targets(
    rules: MappingRules, catalogue: dict[str, TargetField] | None, system: str | None
) -> tuple[list[str], dict[str, int]]:
    """Problems (each naming the config key and the field) and the lengths ``truncate = true``
    resolves to, keyed ``Field`` or ``Lines.Field``."""
    problems: list[str] = []
    lengths: dict[str, int] = {}
    extra = ALWAYS_WRITABLE.get(system or "", set())

    def one(rule, fields: dict[str, TargetField] | None, key: str) -> None:
        if rule.owner and rule.owner == system:
            return  # never written to the target
        if fields is None:
            if rule.truncate is True:
                problems.append(f"{rule.key}: truncate = true, but the target does not report "
                                f"the length of {rule.target}: give it (truncate = N)")  # fmt: skip
            return
        info = fields.get(rule.target)
        if info is None and rule.target not in extra:
            problems.append(f"{rule.key}: no field {rule.target!r} on the target")
            return
        if rule.truncate is True:
            if info is None or not info.length:
                problems.append(f"{rule.key}: truncate = true, but the target reports no length "
                                f"for {rule.target}: give it (truncate = N)")  # fmt: skip
            else:
                lengths[key] = info.length

    for rule in rules.fields:
        one(rule, catalogue, rule.target)
    for group in rules.lines:
        info = catalogue.get(group.target) if catalogue is not None else None
        if catalogue is not None and info is None:
            problems.append(f"{group.key}: no field {group.target!r} on the target")
            continue
        members = info.fields if info is not None else None
        for rule in group.fields + (group.when_empty or []):
            one(rule, members, f"{group.target}.{rule.target}")
    return problems, lengths
