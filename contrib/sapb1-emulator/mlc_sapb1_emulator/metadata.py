"""``$metadata``: the CSDL document describing the entity sets and their properties."""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import quoteattr

from .schema import ENTITIES_NS, ENTITY_SETS, ENUMS, NAVIGATION, EntitySet, Field

EDM = {"str": "Edm.String", "int": "Edm.Int32", "float": "Edm.Double", "date": "Edm.DateTimeOffset",
       "time": "Edm.TimeOfDay"}


def _type(f: Field) -> str:
    if f.kind == "enum":
        return f"{ENTITIES_NS}.{f.enum}"
    if f.kind == "lines":
        return f"Collection({ENTITIES_NS}.{f.line_type})"
    return EDM[f.kind]


def _property(f: Field, indent: str) -> str:
    nullable = "" if f.kind == "lines" else ' Nullable="true"'
    return f'{indent}<Property Name={quoteattr(f.name)} Type="{_type(f)}"{nullable}/>'


@lru_cache(maxsize=4)
def metadata_xml(entity_sets: tuple[EntitySet, ...] = tuple(ENTITY_SETS.values())) -> str:
    """The document for these entity sets (those of an emulator, with its user fields)."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{ENTITIES_NS}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for name, members in ENUMS.items():
        out.append(f'  <EnumType Name="{name}">')
        for i, member in enumerate(members):
            out.append(f'    <Member Name={quoteattr(member)} Value="{i}"/>')
        out.append("  </EnumType>")
    complex_types: dict[str, tuple[Field, ...]] = {}
    entity_types: dict[str, list] = {}
    for es in entity_sets:
        key = es.key_parts or (es.key,)
        known = entity_types.setdefault(es.type_name, [key, []])[1]
        known.extend(f for f in es.fields if f.name not in {k.name for k in known})
        for f in es.fields:
            if f.kind == "lines":
                complex_types.setdefault(f.line_type, f.lines)
    for type_name, lines in complex_types.items():
        out.append(f'  <ComplexType Name="{type_name}">')
        out.extend(_property(f, "    ") for f in lines)
        out.append("  </ComplexType>")
    navigation: dict[str, dict] = {}
    for es in entity_sets:
        for name, (target, _) in NAVIGATION.get(es.name, {}).items():
            navigation.setdefault(es.type_name, {})[name] = ENTITY_SETS[target].type_name
    for type_name, (key, fields) in entity_types.items():
        out.append(f'  <EntityType Name="{type_name}">')
        refs = "".join(f'<PropertyRef Name="{k}"/>' for k in key)
        out.append(f"    <Key>{refs}</Key>")
        out.extend(_property(f, "    ") for f in fields)
        for name, target in navigation.get(type_name, {}).items():
            out.append(f'    <NavigationProperty Name="{name}" Type="{ENTITIES_NS}.{target}"/>')
        out.append("  </EntityType>")
    out.append('  <EntityContainer Name="ServiceLayer">')
    for es in entity_sets:
        out.append(f'    <EntitySet Name="{es.name}" EntityType="{ENTITIES_NS}.{es.type_name}"/>')
    out += ["  </EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(out) + "\n"
