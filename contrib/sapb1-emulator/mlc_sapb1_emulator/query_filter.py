"""OData ``$filter`` expressions: a lark grammar and a compiler to Python predicates.

Supported: ``eq ne gt ge lt le``, ``and or not``, parentheses, ``startswith``, ``endswith``,
``contains``, ``substringof`` (v3 argument order), ``tolower``, ``toupper``; string literals
with doubled quotes, numbers, ``true``/``false``/``null``, date, date-time and time literals,
quoted or not (also the v3 form ``datetime'...'``). Comparisons are typed by the field: dates
compare by day, times by hour and minute, enumerations accept the long (``'cCustomer'``) and the
short (``'C'``) form.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache

from lark import Lark, Token, v_args
from lark.exceptions import LarkError
from lark.visitors import Transformer_NonRecursive

from .errors import invalid_filter, invalid_query_property
from .schema import EntitySet, Field, enum_long
from .values import parse_date, parse_time

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr | or_expr OR and_expr -> or_
?and_expr: unary | and_expr AND unary -> and_
?unary: NOT unary -> not_ | atom
?atom: comparison | call | "(" or_expr ")"
comparison: value COMPOP value
call: FUNC "(" [value ("," value)*] ")"
?value: STRING -> string
      | LITERAL -> literal
      | CONST -> const
      | FIELD -> field
      | call

OR.3: /or\b/i
AND.3: /and\b/i
NOT.3: /not\b/i
COMPOP.3: /(eq|ne|gt|ge|lt|le)\b/i
CONST.3: /(true|false|null)\b/
FUNC.2: /(startswith|endswith|contains|substringof|tolower|toupper|trim|length)(?=\s*\()/
STRING.2: /(?:datetime|datetimeoffset|date|time)?'(?:[^']|'')*'/
LITERAL: /LITERAL_RE/
FIELD: /[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*/
%ignore /[ \t\r\n]+/
"""

# dates and date-times, times of day, numbers: one terminal, typed against the field later
LITERAL_RE = "|".join((
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?",
    r"\d{2}:\d{2}(:\d{2})?",
    r"-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?",
))
_PARSER = Lark(GRAMMAR.replace("LITERAL_RE", LITERAL_RE), parser="lalr", lexer="contextual")

Predicate = Callable[[dict], bool]
_OPS = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt,
    "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?$")


MAX_FILTER_LENGTH = 32768


@lru_cache(maxsize=512)
def parse_filter(text: str):
    """The parse tree of a ``$filter`` expression (cached)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid_filter()
    try:
        return _PARSER.parse(text)
    except RecursionError:
        raise invalid_filter() from None
    except LarkError:
        raise invalid_filter() from None


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200]


class _Operand:
    """A compiled operand: a getter plus, for fields, the field definition."""

    __slots__ = ("get", "field", "const", "value", "junction", "parts")

    def __init__(self, get, field=None, const=False, value=None):
        self.get, self.field, self.const, self.value = get, field, const, value
        self.junction: str | None = None  # "and" / "or": parts are flattened predicates
        self.parts: list = []


@v_args(inline=True)
class _Compiler(Transformer_NonRecursive):
    def __init__(self, entity_set: EntitySet):
        super().__init__()
        self.es = entity_set

    # values -------------------------------------------------------------
    def string(self, tok: Token) -> _Operand:
        text = str(tok)
        s = text[text.index("'") + 1:-1].replace("''", "'")  # v3 prefixes: datetime'...'

        return _Operand(lambda r: s, const=True, value=s)

    def literal(self, tok: Token) -> _Operand:
        text = str(tok)
        if _NUMBER_RE.match(text):
            raw = text.rstrip("mMdDfFlL")
            v: object = float(raw) if any(c in raw for c in ".eE") else int(raw)
        else:
            v = text  # date, date-time or time: typed against the field later
        return _Operand(lambda r: v, const=True, value=v)

    def const(self, tok: Token) -> _Operand:
        v = {"true": True, "false": False, "null": None}[str(tok)]
        return _Operand(lambda r: v, const=True, value=v)

    def field(self, tok: Token) -> _Operand:
        name = str(tok)
        f = self.es.by_name.get(name)
        if f is None or f.kind == "lines":
            raise invalid_query_property(name)
        if f is not None and f.kind == "time":
            return _Operand(lambda r: _minute(r.get(name)), field=f)
        return _Operand(lambda r: r.get(name), field=f)

    def call(self, func: Token, *args) -> _Operand:
        name = str(func)
        args = [a for a in args if a is not None]
        arity = {"tolower": 1, "toupper": 1, "trim": 1, "length": 1}.get(name, 2)
        if len(args) != arity:
            raise invalid_filter()
        if arity == 1:
            (a,) = args
            fn = {"tolower": str.lower, "toupper": str.upper, "trim": str.strip, "length": len}
            f = fn[name]
            return _Operand(lambda r: _apply(f, a.get(r)), field=None)
        a, b = args
        if name == "substringof":
            a, b = b, a
        test = {
            "startswith": str.startswith, "endswith": str.endswith,
            "contains": str.__contains__, "substringof": str.__contains__,
        }[name]

        def pred(r, a=a.get, b=b.get, test=test):
            x, y = a(r), b(r)
            return isinstance(x, str) and isinstance(y, str) and test(x, y)

        return _Operand(pred)

    # boolean structure ----------------------------------------------------
    def comparison(self, left: _Operand, op: Token, right: _Operand) -> _Operand:
        fn = _OPS[str(op).lower()]
        if left.const and right.field is not None:
            left, right = right, left
            fn = {operator.gt: operator.lt, operator.lt: operator.gt,
                  operator.ge: operator.le, operator.le: operator.ge}.get(fn, fn)
        if right.const and left.field is not None:
            value = _typed_constant(left.field, right.value, self.es)
            right = _Operand(lambda r: value, const=True, value=value)
        lg, rg = left.get, right.get

        if fn in (operator.eq, operator.ne):
            return _Operand(lambda r: fn(lg(r), rg(r)))

        def ordered(r):
            x, y = lg(r), rg(r)
            if x is None or y is None:
                return False
            try:
                return fn(x, y)
            except TypeError:
                return False

        return _Operand(ordered)

    def and_(self, a: _Operand, _tok, b: _Operand) -> _Operand:
        return _junction("and", a, b)

    def or_(self, a: _Operand, _tok, b: _Operand) -> _Operand:
        return _junction("or", a, b)

    def not_(self, _tok, a: _Operand) -> _Operand:
        x = _pred(a)
        return _Operand(lambda r: not x(r))


def _junction(kind: str, a: _Operand, b: _Operand) -> _Operand:
    """``a and b`` / ``a or b`` with chains flattened, so long chains nest no calls."""
    parts = a.parts if a.junction == kind else [_pred(a)]
    parts = parts + (b.parts if b.junction == kind else [_pred(b)])
    if kind == "and":
        op = _Operand(lambda r: all(p(r) for p in parts))
    else:
        op = _Operand(lambda r: any(p(r) for p in parts))
    op.junction, op.parts = kind, parts
    return op


def _pred(op: _Operand) -> Predicate:
    get = op.get
    return lambda r: get(r) is True


def _apply(fn, value):
    return fn(value) if isinstance(value, str) else None


def _minute(value: object) -> str | None:
    return value[:5] if isinstance(value, str) else None


def _typed_constant(f: Field, value: object, es: EntitySet) -> object:
    """Convert a literal to the stored form of the field it is compared with."""
    if value is None:
        return None
    bad = invalid_filter()
    if f.kind == "date":
        d = parse_date(value)
        if d is None:
            raise bad
        return d
    if f.kind == "time":
        t = parse_time(value)
        if t is None:
            raise bad
        return t[:5]
    if f.kind == "enum":
        long = enum_long(f.enum, str(value)) if isinstance(value, str | int) else None
        if long is None:
            raise bad
        return long
    if f.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return value
    if f.kind == "str" and not isinstance(value, str):
        raise bad
    return value


@lru_cache(maxsize=512)
def compile_filter(entity_set: EntitySet, text: str) -> Predicate:
    """A predicate over stored records for a ``$filter`` expression."""
    tree = parse_filter(text)
    try:
        op = _Compiler(entity_set).transform(tree)
    except RecursionError:
        raise invalid_filter() from None
    except LarkError as exc:  # errors raised inside the transformer are wrapped by lark
        orig = getattr(exc, "orig_exc", None)
        if orig is not None and hasattr(orig, "status"):
            raise orig from None
        raise invalid_filter() from None
    if isinstance(op, Token):
        raise invalid_filter()
    return _pred(op)
