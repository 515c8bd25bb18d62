"""Parsing SOQL text into a small syntax tree (lark, LALR)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedInput


class SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Literal:
    kind: str  # string, number, datetime, date, null, boolean, date_literal
    value: object


@dataclass
class Compare:
    path: list[str]
    op: str
    values: list[Literal]


@dataclass
class BoolOp:
    op: str  # and, or, not
    items: list


@dataclass
class OrderItem:
    path: list[str]
    descending: bool = False
    nulls_first: bool | None = None


@dataclass
class SubQuerySyntax:
    relationship: str
    fields: list[list[str]]
    where: object = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None


@dataclass
class QuerySyntax:
    obj: str
    fields: list = field(default_factory=list)  # list[str] paths or SubQuerySyntax
    count_only: bool = False
    where: object = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def unescape(token: str) -> str:
    body = token[1:-1]
    out, i = [], 0
    escapes = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(escapes.get(nxt, nxt) if nxt not in "%_" else "\\" + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@v_args(inline=True)
class _ToSyntax(Transformer):
    def start(self, q):
        return q

    def field_path(self, *names):
        return [str(n) for n in names]

    def count_all(self):
        return "COUNT()"

    def select_list(self, *items):
        return list(items)

    def field_list(self, *items):
        return list(items)

    def string(self, tok):
        return Literal("string", unescape(str(tok)))

    def number(self, tok):
        text = str(tok)
        return Literal("number", float(text) if any(c in text for c in ".eE") else int(text))

    def datetime(self, tok):
        return Literal("datetime", str(tok))

    def date(self, tok):
        return Literal("date", str(tok))

    def null(self):
        return Literal("null", None)

    def true(self):
        return Literal("boolean", True)

    def false(self):
        return Literal("boolean", False)

    def date_literal(self, tok):
        return Literal("date_literal", str(tok).upper().replace(" ", ""))

    def value_list(self, *values):
        return list(values)

    def compare(self, path, op, value):
        op = "!=" if str(op) == "<>" else str(op)
        return Compare(path, op, [value])

    def in_list(self, path, values):
        return Compare(path, "IN", values)

    def not_in_list(self, path, values):
        return Compare(path, "NOT IN", values)

    def like(self, path, value):
        return Compare(path, "LIKE", [value])

    def and_expr(self, *items):
        return BoolOp("and", list(items))

    def or_expr(self, *items):
        return BoolOp("or", list(items))

    def not_expr(self, item):
        return BoolOp("not", [item])

    def where_clause(self, cond):
        return ("where", cond)

    def nulls(self, pos):
        return str(pos).upper() == "FIRST"

    def order_item(self, path, *rest):
        item = OrderItem(path)
        for r in rest:
            if isinstance(r, Token):
                item.descending = str(r).upper() == "DESC"
            else:
                item.nulls_first = r
        return item

    def order_clause(self, *items):
        return ("order", list(items))

    def limit_clause(self, n):
        return ("limit", int(n))

    def offset_clause(self, n):
        return ("offset", int(n))

    def subquery(self, fields, rel, *clauses):
        sub = SubQuerySyntax(str(rel), fields)
        for kind, value in clauses:
            setattr(sub, kind, value)
        return sub

    def query(self, items, obj, *clauses):
        q = QuerySyntax(str(obj))
        for item in items:
            if item == "COUNT()":
                q.count_only = True
            else:
                q.fields.append(item)
        if q.count_only and q.fields:
            raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
        for kind, value in clauses:
            setattr(q, kind, value)
        return q


_GRAMMAR = resources.files(__package__).joinpath("soql.lark").read_text(encoding="utf-8")
_PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


def parse_soql(text: str) -> QuerySyntax:
    """Parse ``text``; raise SoqlError. Results are cached: treat them as read-only."""
    if not isinstance(text, str):
        raise SoqlError("MALFORMED_QUERY", "SOQL statement cannot be empty")
    return _parse_cached(text)


@lru_cache(maxsize=512)
def _parse_cached(text: str) -> QuerySyntax:
    if not text.strip():
        raise SoqlError("MALFORMED_QUERY", "SOQL statement cannot be empty")
    try:
        tree = _PARSER.parse(text)
        return _ToSyntax().transform(tree)
    except UnexpectedInput as exc:
        col = getattr(exc, "column", "?")
        token = getattr(exc, "token", None)
        near = f"unexpected token: '{token}'" if token is not None else "unexpected character"
        raise SoqlError("MALFORMED_QUERY",
                        f"\n{text}\nERROR at Row:1:Column:{col}\n{near}") from None
    except SoqlError:
        raise
    except RecursionError:
        raise SoqlError("MALFORMED_QUERY", "\nthe query is too deeply nested") from None
    except LarkError as exc:
        cause = exc.__context__ if isinstance(exc.__context__, SoqlError) else None
        if cause:
            raise cause from None
        raise SoqlError("MALFORMED_QUERY", f"\n{text}\nunable to parse query") from None
