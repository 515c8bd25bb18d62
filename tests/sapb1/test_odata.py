"""Literals and filters: every value escaped, property names checked."""

from __future__ import annotations

import datetime as dt

import pytest
from mlc_sapb1 import odata


@pytest.mark.parametrize(
    "value, expected",
    [
        ("O'Brien", "'O''Brien'"),
        ("x' or 1 eq 1 or 'a", "'x'' or 1 eq 1 or ''a'"),
        (12, "12"),
        (2.5, "2.5"),
        (True, "true"),
        (None, "null"),
        (dt.date(2024, 5, 2), "'2024-05-02'"),
    ],
)
def test_literal(value, expected):
    assert odata.literal(value) == expected


def test_any_of_escapes_each_value_once():
    assert odata.any_of("CardCode", ["A", "O'B", "A"]) == "(CardCode eq 'A' or CardCode eq 'O''B')"


@pytest.mark.parametrize("bad", ["CardCode eq 'x' or 1", "a b", "", "U_X)"])
def test_property_names_are_never_expressions(bad):
    with pytest.raises(ValueError):
        odata.eq(bad, "x")


def test_key_paths():
    assert odata.key_path("Orders", 12) == "Orders(12)"
    assert odata.key_path("BusinessPartners", "O'B 1") == "BusinessPartners('O''B%201')"


def test_skip_from_link():
    assert odata.skip_from_link("BusinessPartners?$skip=40") == 40
    assert odata.skip_from_link("https://h/b1s/v2/Orders?$filter=x&$skip=20&$top=5") == 20
    assert odata.skip_from_link("Orders?$top=5") is None
