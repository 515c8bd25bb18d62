"""Converting field values between JSON, the internal form, and REST output.

Internal forms: datetimes are epoch milliseconds (int), dates ISO strings, numbers float/int,
booleans bool, everything else str.
"""

from __future__ import annotations

from .catalog import FieldDef, ObjectDef
from .emulator_clock import ms_to_sf, parse_date, parse_datetime
from .record_ids import normalize_id

API_PATH = "/services/data/v{version}/sobjects/{obj}/{id}"


class FieldValueError(ValueError):
    def __init__(self, code: str, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields


def coerce(fdef: FieldDef, value):
    """Validate and convert a JSON value for ``fdef``; raise FieldValueError."""
    if value is None:
        return None
    name = fdef.name
    t = fdef.type
    try:
        if t == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError
        if t in ("double", "currency", "percent", "int"):
            if isinstance(value, bool):
                raise ValueError
            num = float(value) if not isinstance(value, int | float) else value
            return int(num) if t == "int" else num
        if t == "date":
            return parse_date(str(value))
        if t == "datetime":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return int(value)
            return parse_datetime(str(value))
        if t in ("reference", "id"):
            rid = normalize_id(str(value)) if isinstance(value, str) else None
            if rid is None:
                raise FieldValueError(
                    "MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}", [name])
            return rid
    except FieldValueError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise FieldValueError(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{fdef.label}: value not of required type: {value}", [name]) from exc
    if isinstance(value, dict | list):
        raise FieldValueError(
            "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{fdef.label}: value not of required type", [name])
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
        else str(value)
    if fdef.length and len(text) > fdef.length:
        raise FieldValueError(
            "STRING_TOO_LONG",
            f"{fdef.label}: data value too large: {text[:60]} (max length={fdef.length})", [name])
    return text


def render_value(fdef: FieldDef, rec: dict):
    if fdef.type == "address":
        parts = [rec.get(c) for c in fdef.components]
        if all(p is None for p in parts):
            return None
        keys = [n[0].lower() + n[1:] for n in fdef.component_names]
        return dict(zip(keys, parts, strict=True))
    value = rec.get(fdef.name)
    if value is None:
        return None
    if fdef.type == "datetime":
        return ms_to_sf(value)
    return value


def attributes(obj: str, rid: str, version: str) -> dict:
    return {"type": obj, "url": API_PATH.format(version=version, obj=obj, id=rid)}


def render_record(odef: ObjectDef, rec: dict, version: str, names=None) -> dict:
    out = {"attributes": attributes(odef.name, rec["Id"], version)}
    for fname in names if names is not None else odef.fields:
        fdef = odef.fields[fname]
        out[fdef.name] = render_value(fdef, rec)
    return out
