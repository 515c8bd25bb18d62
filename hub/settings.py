"""Declared settings and their validation.

A plugin declares the keys of its ``[plugins.NAME]`` section, and a source, sink, matcher or
mapping declares the keys of its per-flow options, as a mapping of key to :class:`Setting`.
:func:`validate` checks a TOML table against such a schema and returns every problem found,
each naming the full key and what is expected, so the hub can stop at start-up with one clear
message instead of failing later in the middle of a flow.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Setting:
    """One configuration key.

    ``type`` is one of ``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``. A ``secret``
    setting must be written as a reference (``{env = "VAR"}``, ``{file = "PATH"}`` or
    ``{vault = "NAME"}``), never as a literal; the core resolves it and registers the value
    for redaction.
    """

    type: type = str
    required: bool = False
    default: Any = None
    help: str = ""
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None

    def describe(self) -> str:
        what = _TYPE_NAMES.get(self.type, self.type.__name__)
        if self.secret:
            what = 'a secret reference such as {env = "VAR"}, {file = "PATH"} or {vault = "NAME"}'
        if self.choices:
            what += " (one of " + ", ".join(repr(c) for c in self.choices) + ")"
        if self.minimum is not None:
            what += f" (at least {self.minimum:g})"
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
        if setting.choices and value not in setting.choices:
            out.problems.append(Problem(full, f"expected {setting.describe()}, got {value!r}"))
            continue
        if setting.minimum is not None and value < setting.minimum:
            out.problems.append(Problem(full, f"expected {setting.describe()}, got {value!r}"))
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
