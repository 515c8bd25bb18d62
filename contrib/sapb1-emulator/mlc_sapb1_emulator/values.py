"""Converting JSON input into stored values, and stored records into JSON output."""

from __future__ import annotations

import math
import re

from .errors import bad_request, invalid_property, invalid_value
from .schema import COLLECTION_KEYS, EntitySet, Field, enum_long

DATE_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_date(value: object) -> str | None:
    """``YYYY-MM-DD`` from a date or date-time string (the time of day is dropped)."""
    if not isinstance(value, str):
        return None
    m = DATE_RE.match(value.strip())
    return m.group(1) if m else None


def parse_time(value: object) -> str | None:
    """``HH:MM:SS`` from ``HH:MM`` or ``HH:MM:SS``."""
    if not isinstance(value, str):
        return None
    m = TIME_RE.match(value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return f"{int(m.group(1)):02d}:{m.group(2)}:{m.group(3) or '00'}"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def coerce(f: Field, value: object, type_name: str) -> object:
    """Check one input value against its field and return the stored form."""
    if value is None:
        return None
    out = _coerce_kind(f, value, type_name)
    if f.size is not None and isinstance(out, str) and len(out) > f.size:
        raise bad_request(f"Value too long in property '{f.name}' of '{type_name}'")
    if f.valid_values and str(value) not in {v for v, _ in f.valid_values}:
        listed = ", ".join(f"'{v}' - '{d}'" for v, d in f.valid_values)
        raise bad_request(f"'{value}' is not a valid value for property '{f.name}'. "
                          f"The valid values are: {listed}", "-1004")
    return out


def _coerce_kind(f: Field, value: object, type_name: str) -> object:
    kind = f.kind
    if kind == "str" and isinstance(value, str) and _encodable(value):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        try:  # 1e400 parses as infinity, 1 and 400 zeros overflows: no column holds them
            if math.isfinite(value):
                return float(value)
        except OverflowError:
            pass
    if kind == "date" and (d := parse_date(value)):
        return d
    if kind == "time" and (t := parse_time(value)):
        return t
    if kind == "enum" and isinstance(value, str) and (e := enum_long(f.enum, value)):
        return e
    raise invalid_value(f.name, type_name)


def coerce_fields(
    fields: dict[str, Field], body: object, type_name: str, lines_type: dict[str, str] | None = None
) -> dict:
    """Validate an input object (entity or line): known fields, UDFs, types.

    Read-only fields are dropped silently, unknown fields are rejected.
    """
    if not isinstance(body, dict):
        raise invalid_value(type_name, type_name)
    out: dict = {}
    for name, value in body.items():
        if name.startswith("@odata.") or name.startswith("odata."):
            continue
        f = fields.get(name)
        if f is None:  # user fields too: only those declared in UserFieldsMD exist
            raise invalid_property(name, type_name)
        if f.read_only:
            continue
        if f.kind == "lines":
            if value is None:
                continue
            if not isinstance(value, list):
                raise invalid_value(name, type_name)
            line_fields = {lf.name: lf for lf in f.lines}
            keep = set(COLLECTION_KEYS.get(name, ())) & set(line_fields)
            out[name] = [_coerce_line(line_fields, item, f.line_type, keep) for item in value]
            continue
        out[name] = coerce(f, value, type_name)
    return out


def _coerce_line(fields: dict[str, Field], item: object, type_name: str, keep: set) -> dict:
    if not isinstance(item, dict):
        raise invalid_value(type_name, type_name)
    line = coerce_fields(fields, item, type_name)
    for name in keep:  # the member's key selects the member to update in a PATCH
        if item.get(name) is not None:
            line[name] = coerce(fields[name], item[name], type_name)
    return line


def defaults(entity_set: EntitySet) -> dict:
    return {f.name: ([] if f.kind == "lines" else f.default) for f in entity_set.fields}


def line_defaults(f: Field) -> dict:
    return {lf.name: lf.default for lf in f.lines}


def render_value(f: Field | None, value: object) -> object:
    if value is None or f is None:
        return value
    if f.kind == "date":
        return f"{value}T00:00:00Z"
    if f.kind == "lines":
        return [_render_line(f, line) for line in value]
    return value


def _render_line(f: Field, line: dict) -> dict:
    out = {k: render_value(_line_field(f, k), v) for k, v in line.items() if _shown(f, k)}
    for lf in f.lines:  # user fields declared after the line was written: null
        if lf.name.startswith("U_") and lf.name not in line:
            out[lf.name] = None
    return out


def _shown(f: Field, name: str) -> bool:
    """Stored user fields no longer declared are not served."""
    return not name.startswith("U_") or _line_field(f, name) is not None


def _line_field(f: Field, name: str) -> Field | None:
    for lf in f.lines:
        if lf.name == name:
            return lf
    return None


def render(entity_set: EntitySet, record: dict, select: list[str] | None = None) -> dict:
    """The JSON form of a stored record (without annotations)."""
    by_name = entity_set.by_name
    if select is not None:
        names = select
    else:
        names = [k for k in record if not k.startswith("__")
                 and (not k.startswith("U_") or k in by_name)]
        # every declared field is served, null when the record predates it
        names += [f.name for f in entity_set.fields
                  if f.name.startswith("U_") and f.name not in record]
    return {n: render_value(by_name.get(n), record.get(n)) for n in names}
