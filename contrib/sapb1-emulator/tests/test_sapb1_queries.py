"""Queries and paging against a known data set (55 generated business partners)."""

import pytest

from mlc_sapb1_emulator.testing import launch_emulator


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = launch_emulator(tmp_path_factory.mktemp("q"), ["--generate",
                                                       "business_partners=55,items=3"])
    yield e
    e.stop()


@pytest.fixture
def sl(emu):
    return emu.session()


def codes(resp):
    return [row["CardCode"] for row in resp.json()["value"]]


def test_default_page_and_relative_next_link(sl):
    r = sl.get("BusinessPartners")
    body = r.json()
    assert len(body["value"]) == 20
    assert body["@odata.context"].endswith("$metadata#BusinessPartners")
    assert body["@odata.nextLink"] == "BusinessPartners?$skip=20"
    assert all(row["@odata.etag"].startswith('W/"') for row in body["value"])
    seen = codes(r)
    link = body["@odata.nextLink"]
    while link:
        page = sl.get(link).json()
        seen += [row["CardCode"] for row in page["value"]]
        link = page.get("@odata.nextLink")
    assert seen == [f"C{i:06d}" for i in range(1, 56)]


def test_filter_select_orderby_keep_in_next_link(sl):
    params = {"$filter": "CardType eq 'C' and startswith(CardCode, 'C00002')",
              "$select": "CardCode,CardName", "$orderby": "CardCode desc"}
    r = sl.get("BusinessPartners", params=params, headers={"Prefer": "odata.maxpagesize=4"})
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=4"
    body = r.json()
    assert codes(r) == ["C000029", "C000028", "C000027", "C000026"]
    assert set(body["value"][0]) == {"@odata.etag", "CardCode", "CardName"}
    assert body["@odata.context"].endswith("#BusinessPartners(CardCode,CardName)")
    nxt = sl.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=4"})
    assert codes(nxt) == ["C000025", "C000024", "C000023", "C000022"]
    last = sl.get(nxt.json()["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=4"})
    assert codes(last) == ["C000021"] and "@odata.nextLink" not in last.json()


def test_top_skip_count_and_b1s_pagesize(sl):
    r = sl.get("BusinessPartners", params={"$top": "3", "$skip": "5", "$count": "true"})
    assert codes(r) == ["C000006", "C000007", "C000008"]
    assert r.json()["@odata.count"] == 55 and "@odata.nextLink" not in r.json()
    r = sl.get("BusinessPartners", params={"$top": "30"}, headers={"B1S-PageSize": "25"})
    assert len(codes(r)) == 25
    assert r.json()["@odata.nextLink"] == "BusinessPartners?$top=5&$skip=25"
    assert len(codes(sl.get(r.json()["@odata.nextLink"]))) == 5
    r = sl.get("BusinessPartners/$count", params={"$filter": "CardType eq 'cSupplier'"})
    assert r.status_code == 200 and r.text == "5"
    assert sl.get("Items/$count").text == "3"


def test_enum_forms_and_escaped_strings(sl):
    both = [sl.get("BusinessPartners", params={"$filter": f"CardType eq '{v}'",
                                               "$select": "CardCode"}) for v in ("S", "cSupplier")]
    assert codes(both[0]) == codes(both[1]) == ["C000010", "C000020", "C000030", "C000040",
                                                "C000050"]
    assert sl.post("BusinessPartners", json={"CardCode": "QO'B", "CardName": "O'Brien"}
                   ).status_code == 201
    r = sl.get("BusinessPartners", params={"$filter": "CardName eq 'O''Brien'"})
    assert codes(r) == ["QO'B"]
    r = sl.get("BusinessPartners", params={"$filter": "CardName eq 'O''Brien' or 1 eq 1"})
    assert codes(r) != ["QO'B"]  # a real expression, not string matching
    r = sl.get("BusinessPartners", params={"$filter": "CardName eq 'O''Brien'' or ''1'' eq ''1'"})
    assert r.json()["value"] == []  # quotes inside a literal stay inside it


def test_date_and_time_filters(emu, sl):
    emu.admin_json("POST", "clock", {"now": "2024-05-02T14:03:40", "frozen": True})
    try:
        sl.post("BusinessPartners", json={"CardCode": "QT1", "CardName": "t"})
        emu.admin_json("POST", "clock", {"now": "2024-05-03T09:15:00", "frozen": True})
        sl.post("BusinessPartners", json={"CardCode": "QT2", "CardName": "t"})
    finally:
        emu.admin_json("POST", "clock", {"reset": True})
    def q(expr):
        return codes(sl.get("BusinessPartners", params={"$filter": expr, "$orderby": "CardCode"}))
    assert q("UpdateDate eq '2024-05-02'") == ["QT1"]
    assert q("UpdateDate eq 2024-05-02T18:00:00Z") == ["QT1"]
    assert q("UpdateDate ge '2024-05-02' and UpdateDate le '2024-05-03'") == ["QT1", "QT2"]
    assert q("UpdateDate eq '2024-05-02' and UpdateTime eq '14:03'") == ["QT1"]
    assert q("UpdateDate eq '2024-05-02' and UpdateTime gt '14:03:59'") == []
    watermark = ("(UpdateDate gt '2024-05-02') or "
                 "(UpdateDate eq '2024-05-02' and UpdateTime ge '14:03')")
    assert q(f"({watermark}) and startswith(CardCode, 'QT')") == ["QT1", "QT2"]


@pytest.mark.parametrize("params", [
    {"$filter": "CardCode eq"}, {"$filter": "Bogus eq 1"}, {"$filter": "CardType eq 'X'"},
    {"$select": "CardCode,Nope"}, {"$orderby": "CardCode sideways"}, {"$orderby": "Nope"},
    {"$top": "-1"}, {"$skip": "abc"}, {"$count": "yes"}, {"$bogus": "1"},
    {"$orderby": "BPAddresses"},
    {"$filter": "CardName eq 'unterminated"}, {"$filter": "((CardCode eq 'a')"},
])
def test_malformed_queries_are_400_odata_errors(sl, params):
    r = sl.get("BusinessPartners", params=params)
    assert r.status_code == 400
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"} and isinstance(err["code"], str)
    assert "Traceback" not in r.text


def test_single_entity_select(sl):
    r = sl.get("BusinessPartners('C000001')", params={"$select": "CardName"})
    assert r.json()["CardName"] == "Customer 1" and "Phone1" not in r.json()


def test_long_filters_work(sl):
    wanted = [f"C{i:06d}" for i in range(1, 56, 2)]
    long_or = " or ".join(f"CardCode eq '{c}'" for c in wanted * 20)  # ~13 KB, 560 terms
    r = sl.get("BusinessPartners", params={"$filter": long_or, "$select": "CardCode"},
               headers={"Prefer": "odata.maxpagesize=100"})
    assert r.status_code == 200 and codes(r) == wanted
    deep = "(" * 3000 + "CardCode eq 'C000007'" + ")" * 3000
    assert codes(sl.get("BusinessPartners", params={"$filter": deep})) == ["C000007"]
