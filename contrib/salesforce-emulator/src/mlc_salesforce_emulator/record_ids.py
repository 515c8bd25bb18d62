"""Salesforce record ids: 15-character case-sensitive ids plus the 3-character checksum."""

from __future__ import annotations

import re
from functools import lru_cache

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
POD = "RO0"
ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def checksum_suffix(id15: str) -> str:
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += SUFFIX_CHARS[bits]
    return suffix


def make_id(prefix: str, number: int) -> str:
    """Return the 18-character id for counter ``number`` of the object with ``prefix``."""
    digits = ""
    n = number
    while n:
        n, r = divmod(n, 62)
        digits = BASE62[r] + digits
    body = prefix + POD + digits.rjust(9, "0")
    if len(body) != 15:
        raise ValueError("id counter overflow")
    return body + checksum_suffix(body)


@lru_cache(maxsize=65536)
def normalize_id(value: str) -> str | None:
    """Return the 18-character form of a 15- or 18-character id, or None if malformed."""
    if not isinstance(value, str) or not ID_RE.match(value):
        return None
    if len(value) == 15:
        return value + checksum_suffix(value)
    if checksum_suffix(value[:15]) != value[15:].upper():
        return None
    return value[:15] + checksum_suffix(value[:15])
