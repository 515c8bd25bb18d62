"""Unit tests of the $filter grammar and compiler."""

import dataclasses

import pytest

from mlc_sapb1_emulator.errors import ServiceLayerError
from mlc_sapb1_emulator.query_filter import compile_filter
from mlc_sapb1_emulator.schema import BUSINESS_PARTNERS, ORDERS, Field

# business partners of a company that declared two user fields
BP_SET = dataclasses.replace(BUSINESS_PARTNERS, fields=(
    *BUSINESS_PARTNERS.fields, Field("U_SFId", "str"), Field("U_datetime", "str")))

BP = {"CardCode": "C1", "CardName": "O'Brien & Co", "CardType": "cCustomer",
      "UpdateDate": "2024-05-02", "UpdateTime": "14:03:11", "CreditLimit": 500.0,
      "U_SFId": "001xx", "EmailAddress": None}


@pytest.mark.parametrize("expr,expected", [
    ("CardType eq 'C'", True),
    ("CardType eq 'cCustomer'", True),
    ("CardType eq 'S'", False),
    ("CardType ne 'cSupplier'", True),
    ("CardName eq 'O''Brien & Co'", True),
    ("CardName eq 'O''Brien'", False),
    ("startswith(CardName, 'O''B')", True),
    ("endswith(CardName,'Co')", True),
    ("contains(CardName,'Brien')", True),
    ("substringof('Brien', CardName)", True),
    ("contains(tolower(CardName), 'brien')", True),
    ("CreditLimit gt 499.5 and CreditLimit le 500", True),
    ("CreditLimit lt 100 or CardCode eq 'C1'", True),
    ("not (CardCode eq 'C1')", False),
    ("not CardCode eq 'C2'", True),
    ("(CardCode eq 'C2' or CardCode eq 'C1') and CardType eq 'C'", True),
    ("UpdateDate eq '2024-05-02'", True),
    ("UpdateDate eq 2024-05-02", True),
    ("UpdateDate eq '2024-05-02T23:59:00Z'", True),  # dates ignore the time of day
    ("UpdateDate gt '2024-05-01'", True),
    ("UpdateTime eq '14:03'", True),  # times compare to the minute
    ("UpdateTime ge '14:03:59'", True),
    ("UpdateTime gt '14:03'", False),
    ("UpdateTime lt 14:04:00", True),
    ("(UpdateDate gt '2024-05-02') or (UpdateDate eq '2024-05-02' and UpdateTime ge '14:03')",
     True),
    ("U_SFId eq '001xx'", True),
    ("EmailAddress eq null", True),
    ("EmailAddress gt 'a'", False),
    ("CardCode eq 'C1' AND CardType EQ 'C'", True),
    ("UpdateDate ge datetime'2024-05-02T00:00:00'", True),
    ("U_datetime eq 'x'", False),  # a field name, not a literal prefix
])
def test_filter_matches(expr, expected):
    assert compile_filter(BP_SET, expr)(BP) is expected


@pytest.mark.parametrize("expr", [
    "CardCode eq", "CardCode eq 'x", "eq 'x'", "CardCode eq 'a' and", "(CardCode eq 'a'",
    "Nope eq 1", "CardType eq 'Z'", "CreditLimit gt 'abc'", "UpdateDate eq 'yesterday'",
    "startswith(CardCode)", "CardCode eq 'a'; DROP TABLE", "BPAddresses eq 1", "",
    "U_SFId eq 'x'",  # a user field the company did not declare
])
def test_malformed_filters_are_400(expr):
    with pytest.raises(ServiceLayerError) as info:
        compile_filter(BUSINESS_PARTNERS, expr)
    assert info.value.status == 400


def test_int_and_enum_on_documents():
    doc = {"DocEntry": 7, "DocumentStatus": "bost_Open", "DocTotal": 12.5}
    assert compile_filter(ORDERS, "DocEntry eq 7 and DocumentStatus eq 'O'")(doc)
    assert compile_filter(ORDERS, "DocumentStatus eq 'bost_Close'")(doc) is False
    assert compile_filter(ORDERS, "7 eq DocEntry")(doc)
    assert compile_filter(ORDERS, "10 gt DocTotal")(doc) is False
