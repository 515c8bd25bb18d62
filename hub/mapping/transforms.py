"""The named transforms a declarative mapping rule may apply, and the values they work on.

Each transform takes the value found so far and returns the value to write; a value it cannot
work with raises :class:`ValueProblem`, which the mapping turns into a ``RecordError`` naming
the record and the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


class ValueProblem(ValueError):
    """A value a rule cannot map (not a date, not a number, not in a value map...)."""


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def get_path(data: Any, path: str) -> Any:
    """``a.b.c`` in nested dicts; a missing step gives ``None``. ``lines[0].x`` indexes a list."""
    value = data
    for part in path.split("."):
        index = None
        if part.endswith("]") and "[" in part:
            part, _, rest = part.partition("[")
            index = int(rest[:-1])
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
        if index is not None:
            value = (
                value[index]
                if isinstance(value, list) and -len(value) <= index < len(value)
                else None
            )
    return value


def to_number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueProblem(f"{value!r} is not a number") from None


def as_json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def round_to(value: Any, digits: int) -> int | float:
    """Half away from zero (commercial rounding), as invoices round."""
    quantum = Decimal(1).scaleb(-digits)
    return as_json_number(to_number(value).quantize(quantum, rounding=ROUND_HALF_UP))


def parse_date(value: Any) -> dt.datetime:
    """ISO dates and datetimes as both systems print them (``2026-05-01``,
    ``2026-05-01T00:00:00Z``, ``2026-05-01T10:20:30.000+0000``), or epoch milliseconds."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    if not isinstance(value, str):
        raise ValueProblem(f"{value!r} is not a date")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
        text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueProblem(f"{value!r} is not a date (expected ISO 8601)") from None


def format_date(value: Any, fmt: str) -> str:
    return parse_date(value).strftime(fmt)


def truncate(value: Any, length: int) -> Any:
    if isinstance(value, str) and len(value) > length:
        return value[:length]
    return value


def payment_status(total: Any, paid: Any, due: Any, today: dt.date) -> str:
    """``paid``, ``partially paid``, ``overdue`` (something is still open after the due date) or
    ``open``: what a sales-ops person asks about an invoice."""
    total_n = to_number(total or 0)
    paid_n = to_number(paid or 0)
    if total_n > 0 and paid_n >= total_n:
        return "paid"
    if not is_empty(due) and parse_date(due).date() < today:
        return "overdue"
    if paid_n > 0:
        return "partially paid"
    return "open"


def difference(values: list[Any]) -> int | float:
    """The first value minus the others (empty values count as 0)."""
    numbers = [to_number(0 if is_empty(v) else v) for v in values]
    result = numbers[0]
    for n in numbers[1:]:
        result -= n
    return as_json_number(result)
