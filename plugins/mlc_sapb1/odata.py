"""OData literals and filters for the Service Layer, every value escaped.

Nothing read from data is ever pasted into a query: values go through :func:`literal`, which
quotes strings and doubles every quote inside (``O'Brien`` -> ``'O''Brien'``), and property
names must be plain identifiers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def name(prop: str) -> str:
    """A property name, checked: never a fragment of an expression."""
    if not isinstance(prop, str) or not _NAME.match(prop):
        raise ValueError(f"not an OData property name: {prop!r}")
    return prop


def option_names(component: Any, kind: str, option: str, props: Iterable[Any]) -> list[str]:
    """The field names of a component option, checked at start-up: one that is not a plain
    identifier stops the hub (exit 3) naming ``flows.FLOW.<kind>_options.<option>``."""
    from hub import ConfigError

    out = []
    for prop in props:
        try:
            out.append(name(prop))
        except ValueError:
            raise ConfigError(
                f"flows.{component.context.flow}.{kind}_options.{option}: {prop!r} is not a "
                "field name (letters, digits and _, e.g. CardName or U_SFOpportunityId)"
            ) from None
    return out


def literal(value: Any) -> str:
    """``value`` as an OData literal: strings quoted with inner quotes doubled."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        value = value.strftime("%Y-%m-%dT%H:%M:%S")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def eq(prop: str, value: Any) -> str:
    return f"{name(prop)} eq {literal(value)}"


def any_of(prop: str, values: Iterable[Any]) -> str:
    """``(p eq 'a' or p eq 'b')`` for the distinct values, in order."""
    seen = list(dict.fromkeys(values))
    if not seen:
        raise ValueError("any_of needs at least one value")
    return "(" + " or ".join(eq(prop, v) for v in seen) + ")"


def key_path(entity_set: str, key: Any) -> str:
    """``BusinessPartners('C1')`` or ``Orders(12)``, URL-safe."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{name(entity_set)}({key})"
    return f"{name(entity_set)}(" + quote(literal(str(key)), safe="'") + ")"


def skip_from_link(link: str) -> int | None:
    """The ``$skip`` of an ``@odata.nextLink`` (relative or absolute), or ``None``."""
    values = parse_qs(urlparse(link).query).get("$skip")
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None
