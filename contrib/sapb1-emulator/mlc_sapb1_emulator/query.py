"""Collection queries: ``$filter``, ``$select``, ``$orderby``, ``$top``, ``$skip``, ``$count``
and server-driven paging with relative ``@odata.nextLink``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from .errors import bad_request, invalid_filter, invalid_query_property
from .query_filter import compile_filter
from .schema import ENTITY_SETS, NAVIGATION, EntitySet
from .store import EntityStore

KNOWN_OPTIONS = {
    "$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand", "$inlinecount",
    "$format",
}
ORDER_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)
MAX_PAGE_SIZE = 10000


@dataclass
class QueryOptions:
    filter: str | None = None
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] | None = None
    orderby_text: str = ""
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: list[tuple[str, list[str] | None]] | None = None  # (property, its $select)


def _int_option(name: str, text: str) -> int:
    if not text.strip().isdigit():
        raise bad_request(f"Invalid value '{text}' for query option '{name}'")
    return int(text)


def _check_field(es: EntitySet, name: str, navigation: bool = False) -> None:
    if name not in es.by_name and not (navigation and name in NAVIGATION.get(es.name, {})):
        raise invalid_query_property(name)


EXPAND_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_expand(es: EntitySet, value: str, sets: dict[str, EntitySet]) -> list:
    """``BusinessPartner($select=CardName),...`` checked against the navigation properties."""
    out = []
    for part in _split_top_level(value):
        m = EXPAND_ITEM.match(part)
        if not m:
            raise bad_request(f"Invalid $expand expression '{value}'", "201")
        name, inner = m.group(1), m.group(2)
        nav = NAVIGATION.get(es.name, {}).get(name)
        if nav is None:
            raise bad_request(f"Cannot expand invalid navigation property '{name}' for entity "
                              f"type '{es.type_name}'", "201")
        select = None
        if inner:
            option, _, names = inner.partition("=")
            if option.strip() != "$select":
                raise bad_request(f"Invalid $expand expression '{value}'", "201")
            select = [n.strip() for n in names.split(",") if n.strip()]
            for n in select:
                _check_field(sets[nav[0]], n)
        out.append((name, select))
    return out


def parse_options(es: EntitySet, params: list[tuple[str, str]],
                  sets: dict[str, EntitySet] | None = None) -> QueryOptions:
    """The query options of a request; ``sets`` (the emulator's entity sets) are needed to
    check the ``$select`` of an expanded property."""
    opts = QueryOptions()
    seen = set()
    for name, value in params:
        if not name.startswith("$"):
            continue
        if name not in KNOWN_OPTIONS:
            raise bad_request(f"Unknown query option '{name}'")
        if name in seen:
            raise bad_request(f"Query option '{name}' is given more than once")
        seen.add(name)
        if name == "$filter":
            compile_filter(es, value)  # validates
            opts.filter = value
        elif name == "$select":
            names = [n.strip() for n in value.split(",") if n.strip()]
            if not names:
                raise bad_request("Invalid $select expression")
            for n in names:
                if n != "*":
                    _check_field(es, n, navigation=True)
            opts.select = None if "*" in names else names
        elif name == "$orderby":
            items = []
            for part in value.split(","):
                m = ORDER_ITEM.match(part)
                if not m:
                    raise bad_request(f"Invalid $orderby expression '{value}'")
                _check_field(es, m.group(1))
                f = es.by_name.get(m.group(1))
                if f is not None and f.kind == "lines":
                    raise bad_request(f"Cannot order by collection property '{f.name}'")
                items.append((m.group(1), (m.group(2) or "asc").lower() == "desc"))
            opts.orderby, opts.orderby_text = items, value
        elif name == "$top":
            opts.top = _int_option(name, value)
        elif name == "$skip":
            opts.skip = _int_option(name, value)
        elif name == "$count":
            if value not in ("true", "false"):
                raise bad_request(f"Invalid value '{value}' for query option '$count'")
            opts.count = value == "true"
        elif name == "$expand":
            opts.expand = parse_expand(es, value, sets or ENTITY_SETS)
        elif name == "$inlinecount":
            opts.count = value == "allpages"
    return opts


def _sort_key(name: str):
    def key(r):
        v = r.get(name)
        return (v is not None, v if not isinstance(v, str) else v.lower())
    return key


def matching_keys(store: EntityStore, es: EntitySet, opts: QueryOptions) -> list:
    """Keys of matching records in result order (cached until the entity set changes)."""
    if not opts.filter and not opts.orderby:
        return store.sorted_keys(es.name)

    def compute() -> list:
        table = store.tables[es.name]
        keys = store.sorted_keys(es.name)
        if opts.filter:
            pred = compile_filter(es, opts.filter)
            try:
                keys = [k for k in keys if pred(table[k])]
            except RecursionError:
                raise invalid_filter() from None
        if opts.orderby:
            for name, desc in reversed(opts.orderby):
                keyf = _sort_key(name)
                keys = sorted(keys, key=lambda k, f=keyf: f(table[k]), reverse=desc)
        return keys

    return store.cached_query(es.name, (opts.filter, opts.orderby_text), compute)


def page_size_from(headers, default: int) -> tuple[int | None, list]:
    """The page size asked for by ``Prefer: odata.maxpagesize`` or ``B1S-PageSize``;
    None when ``odata.maxpagesize=0`` turns paging off."""
    prefer = headers.get("Prefer", "")
    m = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", prefer)
    if m:
        if int(m.group(1)) == 0:
            return None, [("Preference-Applied", "odata.maxpagesize=0")]
        size = min(int(m.group(1)), MAX_PAGE_SIZE)
        return size, [("Preference-Applied", f"odata.maxpagesize={size}")]
    b1s = headers.get("B1S-PageSize")
    if b1s and b1s.strip().isdigit():
        return max(1, min(int(b1s), MAX_PAGE_SIZE)), []
    return default, []


def next_link(set_name: str, params: list[tuple[str, str]], skip: int, top: int | None) -> str:
    kept = [(k, v) for k, v in params if k not in ("$skip", "$top")]
    if top is not None:
        kept.append(("$top", str(top)))
    kept.append(("$skip", str(skip)))
    qs = "&".join(f"{k}={quote(v, safe=',()/:$')}" for k, v in kept)
    return f"{set_name}?{qs}"


def page(keys: list, opts: QueryOptions,
         page_size: int | None) -> tuple[list, int | None, int | None]:
    """(keys of this page, skip of the next page or None, $top left for the next page).

    As on a real server, a full page always carries a next link, even when nothing follows
    (the last page of an exact multiple is then empty); a ``$top`` that fits in one page
    never does. ``page_size`` None: no paging."""
    start = opts.skip
    available = max(0, len(keys) - start)
    limit = available if opts.top is None else min(opts.top, available)
    if page_size is None:
        return keys[start:start + limit], None, None
    selected = keys[start:start + min(limit, page_size)]
    full = len(selected) == page_size
    if full and (opts.top is None or opts.top > page_size):
        return selected, start + page_size, None if opts.top is None else opts.top - page_size
    return selected, None, None
