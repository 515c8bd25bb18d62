"""Declared settings and their validation.

A plugin declares the keys of its ``[plugins.NAME]`` section, and a source, sink, matcher or
mapping declares the keys of its per-flow options, as a mapping of key to :class:`Setting`.
:func:`validate` checks a TOML table against such a schema and returns every problem found,
each naming the full key and what is expected, so the hub can stop at start-up with one clear
message instead of failing later in the middle of a flow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}
_PLURALS = {str: "strings", int: "integers", float: "numbers", bool: "booleans", dict: "tables"}


@dataclass(frozen=True)
class Setting:
    """One configuration key.

    ``type`` is one of ``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``. A ``secret``
    setting must be written as a reference (``{env = "VAR"}``, ``{file = "PATH"}`` or
    ``{vault = "NAME"}``), never as a literal; the core resolves it and registers the value
    for redaction.

    Numbers are checked against ``minimum`` and ``maximum`` when given; a ``float`` setting
    never accepts ``nan`` or an infinity. ``items`` is the type every element of a ``list``
    must have. With ``fold_case``, a string matches ``choices`` whatever its case and is
    stored as the choice spelt.
    """

    type: type = str
    required: bool = False
    default: Any = None
    help: str = ""
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    items: type | None = None
    fold_case: bool = False

    def describe(self) -> str:
        what = _TYPE_NAMES.get(self.type, self.type.__name__)
        if self.secret:
            what = 'a secret reference such as {env = "VAR"}, {file = "PATH"} or {vault = "NAME"}'
        if self.choices:
            what += " (one of " + ", ".join(repr(c) for c in self.choices) + ")"
        if self.items is not None:
            what += " of " + _PLURALS.get(self.items, f"{self.items.__name__} values")
        if self.minimum is not None and self.maximum is not None:
            what += f" (from {self.minimum:g} to {self.maximum:g})"
        elif self.minimum is not None:
            what += f" (at least {self.minimum:g})"
        elif self.maximum is not None:
            what += f" (at most {self.maximum:g})"
        return what


Schema = Mapping[str, Setting]

SECRET_REF_KINDS = ("env", "file", "vault")


@dataclass
class Problem:
    """One validation problem: the dotted key and what is wrong with it."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass
class Validated:
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def is_secret_ref(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) in SECRET_REF_KINDS
        and isinstance(next(iter(value.values())), str)
    )


def _type_ok(setting: Setting, value: Any) -> bool:
    if setting.type is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if setting.type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, setting.type)


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"{type(value).__name__} {value!r}"


def _out_of_bounds(setting: Setting, value: Any) -> str | None:
    """What ``value`` should have been, when it breaks a bound of ``setting``; else None."""
    if setting.type not in (int, float):
        return None
    low, high = setting.minimum, setting.maximum
    what = _TYPE_NAMES[setting.type]
    if isinstance(value, float) and not math.isfinite(value):
        if low is not None and high is not None:
            return f"a finite number (from {low:g} to {high:g})"
        return "a finite number"
    if low is not None and value < low:
        return f"{what} (at least {low:g})"
    if high is not None and value > high:
        return f"{what} (at most {high:g})"
    return None


def _show(value: Any) -> str:
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"{value} (about {value:.1e})"
    return repr(value)


def validate(
    table: Mapping[str, Any], schema: Schema, prefix: str, *, ignore: tuple[str, ...] = ()
) -> Validated:
    """Check ``table`` against ``schema``; keys are reported as ``prefix.key``.

    Unknown keys, wrong types, values outside ``choices`` and missing required keys are all
    problems. Secrets must be references; their resolution happens later (see ``hub.config``),
    so here a secret's value is the reference itself. Keys in ``ignore`` are skipped (the core's
    own keys such as ``enabled``).
    """
    out = Validated()
    for key, value in table.items():
        if key in ignore:
            continue
        full = f"{prefix}.{key}"
        setting = schema.get(key)
        if setting is None:
            known = ", ".join(sorted(k for k in schema if k not in ignore)) or "none"
            out.problems.append(Problem(full, f"unknown key (known keys: {known})"))
            continue
        if setting.secret:
            if not is_secret_ref(value):
                out.problems.append(
                    Problem(
                        full,
                        "secrets are never written in the config; expected " + setting.describe(),
                    )
                )
                continue
            out.values[key] = value
            continue
        if not _type_ok(setting, value):
            out.problems.append(
                Problem(full, f"expected {setting.describe()}, got {_describe_value(value)}")
            )
            continue
        if setting.fold_case and isinstance(value, str) and setting.choices:
            value = next((c for c in setting.choices if c.lower() == value.lower()), value)
        if setting.choices and value not in setting.choices:
            out.problems.append(Problem(full, f"expected {setting.describe()}, got {value!r}"))
            continue
        bound = _out_of_bounds(setting, value)
        if bound:
            out.problems.append(Problem(full, f"expected {bound}, got {_show(value)}"))
            continue
        if setting.items is not None:
            bad = [i for i, v in enumerate(value) if not _type_ok(Setting(setting.items), v)]
            if bad:
                out.problems.append(
                    Problem(
                        f"{full}[{bad[0]}]",
                        f"expected {setting.describe()}, got {_describe_value(value[bad[0]])}",
                    )
                )
                continue
        out.values[key] = float(value) if setting.type is float else value
    for key, setting in schema.items():
        if key in out.values or key in ignore:
            continue
        if any(p.key == f"{prefix}.{key}" for p in out.problems):
            continue
        if setting.required:
            hint = f" ({setting.help})" if setting.help else ""
            out.problems.append(
                Problem(
                    f"{prefix}.{key}",
                    f"required value missing: expected {setting.describe()}{hint}",
                )
            )
        else:
            out.values[key] = setting.default
    return out
