"""``$metadata``: the Service Layer's CSDL document, read once per client and parsed once.

:func:`metadata_of` fetches the document the first time a component of this client asks and
keeps the parsed form on the client, so every flow writing to one Service Layer costs one
request (concurrent first askers wait for the one fetch). :class:`ServiceLayerMetadata`
answers the properties of an entity set as :class:`hub.TargetField`: ``MaxLength`` where the
document gives one (SAP's samples and recorded documents usually give none), members of a
``Collection(...)`` or complex type (``DocumentLines``, ``ContactEmployees``, ``BPAddresses``)
as the field's own ``fields``. A user-defined field is a property like any other once the
company has it (a new one appears after a Service Layer restart, and in the hub's catalogue
after the hub's restart).
"""

from __future__ import annotations

import threading
import weakref
import xml.etree.ElementTree as ET
from typing import Any

from hub import FatalError, TargetField

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NESTING = 2  # members of members (document lines' batch numbers ...) are not followed further


class ServiceLayerMetadata:
    """The entity types, complex types and entity sets of one ``$metadata`` document."""

    def __init__(self, xml_text: str) -> None:
        try:
            root = ET.fromstring(xml_text)
        except ET.ParseError as exc:  # a proxy's error page, a cut-off answer
            raise FatalError(f"SAP B1 $metadata is not an XML document ({exc}): "
                             "check service_layer_url") from None  # fmt: skip
        if root.find(f".//{EDM}Schema") is None:  # e.g. a proxy's XHTML page answered 200
            raise FatalError("SAP B1 $metadata holds no OData v4 schema: check that "
                             "service_layer_url reaches the Service Layer")  # fmt: skip
        self.types: dict[str, ET.Element] = {}
        self.entity_sets: dict[str, str] = {}
        for schema in root.iter(f"{EDM}Schema"):
            ns = schema.get("Namespace", "")
            for kind in ("EntityType", "ComplexType"):
                for el in schema.findall(f"{EDM}{kind}"):
                    self.types[f"{ns}.{el.get('Name')}"] = el
                    self.types.setdefault(el.get("Name", ""), el)
            for es in schema.iter(f"{EDM}EntitySet"):
                self.entity_sets[es.get("Name", "")] = es.get("EntityType", "")
        self._fields: dict[str, dict[str, TargetField] | None] = {}

    def has_entity_set(self, name: str) -> bool:
        return name in self.entity_sets

    def entity_fields(self, entity_set: str) -> dict[str, TargetField] | None:
        """The properties of ``entity_set``'s entity type, or ``None`` if the set is unknown."""
        if entity_set not in self._fields:
            el = self.types.get(self.entity_sets.get(entity_set, ""))
            self._fields[entity_set] = self._fields_of(el, 0) if el is not None else None
        return self._fields[entity_set]

    def _fields_of(self, el: ET.Element, depth: int) -> dict[str, TargetField]:
        out: dict[str, TargetField] = {}
        for prop in el.findall(f"{EDM}Property"):
            name, typ = prop.get("Name", ""), prop.get("Type", "")
            length = prop.get("MaxLength") or ""
            inner = typ[len("Collection(") : -1] if typ.startswith("Collection(") else typ
            nested = None
            if inner in self.types and depth < NESTING:
                nested = self._fields_of(self.types[inner], depth + 1)
            out[name] = TargetField(name, int(length) if length.isdigit() else None, nested)
        return out


_cache: weakref.WeakKeyDictionary[Any, ServiceLayerMetadata] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def metadata_of(client: Any) -> ServiceLayerMetadata:
    """The parsed ``$metadata`` of ``client``'s Service Layer: one request per client."""
    with _lock:  # one fetch even when several flows open at once
        found = _cache.get(client)
        if found is None:
            found = _cache[client] = ServiceLayerMetadata(client.request("GET", "$metadata").text)
        return found
