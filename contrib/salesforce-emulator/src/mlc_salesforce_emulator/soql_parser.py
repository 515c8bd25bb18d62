"""Parsing SOQL text into a small syntax tree (lark, LALR)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedInput


class SoqlError(Exception):
    """A query error; ``at`` (anything with ``line`` and ``column``) places the caret."""

    def __init__(self, code: str, message: str, at=None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.at = at

    def located(self, text: str) -> SoqlError:
        """This error worded as a real org words it: the query line, a caret under the
        offending spot, ``ERROR at Row:r:Column:c`` and the reason."""
        line, column = getattr(self.at, "line", None), getattr(self.at, "column", None)
        if not line or not column or "ERROR at Row:" in self.message:
            return self
        self.message = caret_message(text, line, column, self.message.lstrip("\n"))
        self.args = (self.message,)
        return self


def caret_message(text: str, line: int, column: int, reason: str) -> str:
    rows = text.splitlines() or [text]
    row = rows[min(line, len(rows)) - 1]
    return f"\n{row}\n{' ' * (column - 1)}^\nERROR at Row:{line}:Column:{column}\n{reason}"


class FieldPath(list):
    """A field path as written (``["Account", "Name"]``) with where it was written."""

    line: int = 0
    column: int = 0


@dataclass
class Literal:
    kind: str  # string, number, datetime, date, null, boolean, date_literal
    value: object
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)
    raw: str = field(default="", compare=False)


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


ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b",
           "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\"}
LIKE_ESCAPES = {"%", "_"}  # kept escaped for the LIKE pattern; refused anywhere else


def escapes_in(token: str) -> list[str]:
    """The backslash sequences of a string literal token, in order."""
    body, i, found = token[1:-1], 0, []
    while i < len(body):
        if body[i] == "\\":
            found.append("\\" + body[i + 1:i + 2])
            i += 2
            continue
        i += 1
    return found


def illegal_escape(token: str, in_like: bool = True) -> str | None:
    """The first backslash sequence SOQL refuses in this literal (``\\%``/``\\_`` are allowed
    only in a LIKE pattern), if any."""
    for esc in escapes_in(token):
        if esc[1:] not in ESCAPES and not (in_like and esc[1:] in LIKE_ESCAPES):
            return esc
    return None


def unescape(token: str) -> str:
    body = token[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _bad_literal(tok: Token, reason: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", reason, at=tok)


@v_args(inline=True)
class _ToSyntax(Transformer):
    def start(self, q):
        return q

    def field_path(self, *names):
        path = FieldPath(str(n) for n in names)
        path.line, path.column = names[0].line, names[0].column
        return path

    def count_all(self):
        return "COUNT()"

    def select_list(self, *items):
        return list(items)

    def field_list(self, *items):
        return list(items)

    def string(self, tok):
        bad = illegal_escape(str(tok))
        if bad:
            raise _bad_literal(tok, f"Invalid string literal {tok}. Illegal character sequence "
                                    f"'{bad}' in string literal.")
        return Literal("string", unescape(str(tok)), tok.line, tok.column, str(tok))

    def bad_datetime(self, tok):
        raise _bad_literal(tok, f"Invalid datetime literal '{tok}': a datetime literal ends "
                                "with Z or an offset +hh:mm / -hh:mm")

    def number(self, tok):
        text = str(tok)
        return Literal("number", float(text) if any(c in text for c in ".eE") else int(text),
                       tok.line, tok.column, text)

    def datetime(self, tok):
        return Literal("datetime", str(tok), tok.line, tok.column, str(tok))

    def date(self, tok):
        return Literal("date", str(tok), tok.line, tok.column, str(tok))

    def null(self):
        return Literal("null", None)

    def true(self):
        return Literal("boolean", True)

    def false(self):
        return Literal("boolean", False)

    def date_literal(self, tok):
        return Literal("date_literal", str(tok).upper().replace(" ", ""), tok.line, tok.column,
                       str(tok))

    def value_list(self, *values):
        return list(values)

    @staticmethod
    def _outside_like(values: list) -> None:
        for lit in values:
            bad = illegal_escape(lit.raw, in_like=False) if lit.kind == "string" else None
            if bad:
                raise SoqlError("MALFORMED_QUERY", f"Invalid string literal {lit.raw}. "
                                f"Illegal character sequence '{bad}' in string literal.", at=lit)

    def compare(self, path, op, value):
        op = "!=" if str(op) == "<>" else str(op)
        self._outside_like([value])
        return Compare(path, op, [value])

    def in_list(self, path, values):
        self._outside_like(values)
        return Compare(path, "IN", values)

    def not_in_list(self, path, values):
        self._outside_like(values)
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
        token = getattr(exc, "token", None)
        line, col = getattr(exc, "line", 1), getattr(exc, "column", 1)
        at_end = token is not None and token.type == "$END"
        if at_end or not isinstance(line, int) or line < 1 or not isinstance(col, int) \
                or col < 1:
            rows = text.splitlines() or [text]
            line, col = len(rows), len(rows[-1]) + 1  # at the end of the input
        near = ("unexpected token: <EOF>" if at_end else f"unexpected token: '{token}'"
                if token is not None else "unexpected character")
        raise SoqlError("MALFORMED_QUERY", caret_message(text, line, col, near)) from None
    except SoqlError as exc:
        raise exc.located(text) from None
    except RecursionError:
        raise SoqlError("MALFORMED_QUERY", "\nthe query is too deeply nested") from None
    except LarkError as exc:
        cause = exc.__context__ if isinstance(exc.__context__, SoqlError) else None
        if cause:
            raise cause.located(text) from None
        raise SoqlError("MALFORMED_QUERY", f"\n{text}\nunable to parse query") from None
