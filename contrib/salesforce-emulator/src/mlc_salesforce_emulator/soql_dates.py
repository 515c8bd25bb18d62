"""SOQL date literals (TODAY, LAST_N_DAYS:n...) as half-open day ranges."""

from __future__ import annotations

from datetime import date, timedelta

from .soql_parser import SoqlError


def _month_start(d: date, shift: int = 0) -> date:
    m = d.month - 1 + shift
    return date(d.year + m // 12, m % 12 + 1, 1)


def _quarter_start(d: date, shift: int = 0) -> date:
    return _month_start(date(d.year, (d.month - 1) // 3 * 3 + 1, 1), shift * 3)


def date_literal_range(literal: str, today: date) -> tuple[date, date]:
    """The [start, end) range of days ``literal`` covers, relative to ``today`` (UTC)."""
    lit = literal.upper()
    one = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday
    fixed = {
        "TODAY": (today, today + one),
        "YESTERDAY": (today - one, today),
        "TOMORROW": (today + one, today + 2 * one),
        "THIS_WEEK": (week_start, week_start + 7 * one),
        "LAST_WEEK": (week_start - 7 * one, week_start),
        "NEXT_WEEK": (week_start + 7 * one, week_start + 14 * one),
        "THIS_MONTH": (_month_start(today), _month_start(today, 1)),
        "LAST_MONTH": (_month_start(today, -1), _month_start(today)),
        "NEXT_MONTH": (_month_start(today, 1), _month_start(today, 2)),
        "THIS_QUARTER": (_quarter_start(today), _quarter_start(today, 1)),
        "LAST_QUARTER": (_quarter_start(today, -1), _quarter_start(today)),
        "NEXT_QUARTER": (_quarter_start(today, 1), _quarter_start(today, 2)),
        "LAST_90_DAYS": (today - 90 * one, today + one),
        "NEXT_90_DAYS": (today + one, today + 91 * one),
        "THIS_YEAR": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
    }
    if lit in fixed:
        return fixed[lit]
    name, _, num = lit.partition(":")
    n = int(num) if num.isdigit() else -1
    if n < 0:
        raise SoqlError("MALFORMED_QUERY", f"unknown date literal: {literal}")
    ranges = {
        "LAST_N_DAYS": (today - n * one, today + one),
        "NEXT_N_DAYS": (today + one, today + (n + 1) * one),
        "N_DAYS_AGO": (today - n * one, today - (n - 1) * one),
        "LAST_N_WEEKS": (week_start - 7 * n * one, week_start),
        "NEXT_N_WEEKS": (week_start + 7 * one, week_start + 7 * (n + 1) * one),
        "LAST_N_MONTHS": (_month_start(today, -n), _month_start(today)),
        "NEXT_N_MONTHS": (_month_start(today, 1), _month_start(today, n + 1)),
    }
    if name not in ranges:
        raise SoqlError("MALFORMED_QUERY", f"unknown date literal: {literal}")
    return ranges[name]
