"""Behaviour recorded from real Service Layers (FP 2511/2608): ETags, paging, read-only fields
in a PATCH."""

import re

from mlc_sapb1_emulator.testing import unique_code as unique

ETAG_RE = re.compile(r'^W/"[0-9a-f]{40}"$')


def _partner(sl, **extra):
    code = unique("C")
    r = sl.post("BusinessPartners", json={"CardCode": code, "CardName": "Etag Co"} | extra)
    assert r.status_code == 201, r.text
    return code, r


def test_etags_look_like_real_ones(sl):
    code, r = _partner(sl)
    assert ETAG_RE.match(r.json()["@odata.etag"]) and r.headers["ETag"] == r.json()["@odata.etag"]
    got = sl.get(f"BusinessPartners('{code}')")
    assert ETAG_RE.match(got.headers["ETag"]) and got.headers["ETag"] == got.json()["@odata.etag"]
    page = sl.get("BusinessPartners", params={"$filter": f"CardCode eq '{code}'"}).json()
    assert page["value"][0]["@odata.etag"] == got.headers["ETag"]


def test_select_read_etag_does_not_work_for_if_match(sl):
    code, _ = _partner(sl)
    full = sl.get(f"BusinessPartners('{code}')").headers["ETag"]
    partial = sl.get(f"BusinessPartners('{code}')", params={"$select": "CardCode,CardName"})
    assert partial.status_code == 200 and "ETag" not in partial.headers
    body_etag = partial.json()["@odata.etag"]
    assert ETAG_RE.match(body_etag) and body_etag != full
    row = sl.get("BusinessPartners", params={"$filter": f"CardCode eq '{code}'",
                                             "$select": "CardName"}).json()["value"][0]
    assert row["@odata.etag"] != full
    for stale in (body_etag, row["@odata.etag"]):
        r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "1"},
                     headers={"If-Match": stale})
        assert r.status_code == 412 and r.json()["error"]["code"] == "-2039"
    r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "1"}, headers={"If-Match": full})
    assert r.status_code == 204


def test_patch_answers_204_without_etag(sl):
    code, _ = _partner(sl)
    r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "2"})
    assert r.status_code == 204 and "ETag" not in r.headers and r.content == b""
