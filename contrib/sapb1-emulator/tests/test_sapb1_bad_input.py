"""A corpus of malformed requests: each gets a 4xx in the v2 error shape, the emulator keeps
running and no state changes."""

import json

import httpx
import pytest

from mlc_sapb1_emulator.testing import unique_code as unique


def _corpus(card, items, order_entry):
    big = json.dumps({"CardCode": "X", "CardName": "x" * 300_000})
    return [
        ("POST", "BusinessPartners", b"{not json", {}),
        ("POST", "BusinessPartners", b"\xff\xfe\x00garbage", {}),
        ("POST", "BusinessPartners", b'["a", "list"]', {}),
        ("POST", "BusinessPartners", b'"just a string"', {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": "Z1", "Bogus": 1}).encode(), {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": "Z2", "CreditLimit": "lots"}).encode(),
         {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": 12345}).encode(), {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": "Z3", "CardType": "cAlien"}).encode(),
         {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": "Z4", "BPAddresses": "no"}).encode(),
         {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": "Z5", "BPAddresses": [1]}).encode(),
         {}),
        ("POST", "BusinessPartners", json.dumps({"CardCode": "Z6", "U_Obj": {"a": 1}}).encode(),
         {}),
        ("POST", "BusinessPartners", big.encode(), {}),
        ("POST", "Orders", json.dumps({"CardCode": card, "DocumentLines": [
            {"ItemCode": items[0], "Quantity": "two"}]}).encode(), {}),
        ("POST", "Orders", json.dumps({"CardCode": card, "DocDate": "yesterday", "DocumentLines": [
            {"ItemCode": items[0]}]}).encode(), {}),
        ("POST", "Orders", json.dumps({"CardCode": card, "DocumentLines": [
            {"ItemCode": items[0], "Bogus": 1}]}).encode(), {}),
        ("PATCH", f"BusinessPartners('{card}')", b"{broken", {}),
        ("PATCH", f"BusinessPartners('{card}')", json.dumps({"Nope": 1}).encode(), {}),
        ("PATCH", f"Orders({order_entry})", json.dumps({"DocTotal": "x", "Comments": 5}).encode(),
         {}),
        ("PATCH", f"Orders({order_entry})", json.dumps({"CardCode": "OTHER"}).encode(), {}),
        ("PATCH", "Orders('abc')", b"{}", {}),
        ("PATCH", "BusinessPartners(42)", b"{}", {}),
        ("PATCH", "BusinessPartners('NOSUCH')", b"{}", {}),
        ("GET", "NoSuchEntities", b"", {}),
        ("POST", "NoSuchEntities", b"{}", {}),
        ("GET", "Orders(1)/Bogus/Deeper", b"", {}),
        ("GET", "BusinessPartners(", b"", {}),
        ("POST", f"Orders({order_entry})/Explode", b"", {}),
        ("DELETE", "Orders", b"", {}),
        ("POST", "$batch", b"not multipart", {"Content-Type": "text/plain"}),
        ("POST", "$batch", b"--b\r\nContent-Type: application/http\r\n\r\nGET",
         {"Content-Type": "multipart/mixed;boundary=b"}),
        ("POST", "IncomingPayments", json.dumps({"CardCode": card, "CashSum": -5}).encode(), {}),
        ("POST", "BusinessPartners", b"[" * 50_000 + b"]" * 50_000, {}),
        ("POST", "BusinessPartners", b'{"CardCode": "Z7", "CardName": "\\ud800"}', {}),
        ("POST", "BusinessPartners", b'{"CardCode": "Z8", "U_Note": "\\udfff"}', {}),
        ("GET", "BusinessPartners?$filter=" + "(" * 20000 + "CardCode eq 'a'" + ")" * 20000, b"",
         {}),
        ("GET", "BusinessPartners?$filter=" + "not " * 5000 + "CardCode eq 'a'", b"", {}),
        ("GET", "BusinessPartners?$filter=" + "(" * 5000 + "CardCode eq 'a'", b"", {}),
        ("GET", "BusinessPartners('\\ud800')", b"", {}),
    ]


def test_malformed_corpus_leaves_state_intact(sapb1_emulator, sl, customer):
    card, items = customer
    sapb1_emulator.admin_json("POST", "config", {"max_body_bytes": 200_000})
    try:
        order = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
            {"ItemCode": items[0], "Quantity": 1}]}).json()
        before = {name: sapb1_emulator.admin_json("GET", f"entities/{name}?limit=100000")
                  for name in ("BusinessPartners", "Items", "Orders", "Invoices",
                               "IncomingPayments")}
        for method, path, body, headers in _corpus(card, items, order["DocEntry"]):
            r = sl.request(method, path, content=body,
                           headers={"Content-Type": "application/json"} | headers)
            assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
            assert r.headers.get("content-type", "").startswith("application/json"), (
                method, path[:80], r.status_code, r.text[:200])
            err = r.json()["error"]
            assert set(err) == {"code", "message", "details"}, r.text
            assert isinstance(err["code"], str), r.text
            assert "Traceback" not in r.text
        after = {name: sapb1_emulator.admin_json("GET", f"entities/{name}?limit=100000")
                 for name in before}
        assert after == before
        assert sl.get(f"BusinessPartners('{card}')").status_code == 200
        stats = sapb1_emulator.admin_json("GET", "stats")
        assert stats["errors_total"] >= 37
        assert any(k.startswith("413") for k in stats["errors"])
    finally:
        sapb1_emulator.admin_json("POST", "config", {"max_body_bytes": 10 * 1024 * 1024})


@pytest.mark.parametrize("path", ["/b1s/v1/Items", "/nowhere", "/emulator/nope"])
def test_unknown_roots_are_404_json(sapb1_emulator, path):
    with httpx.Client(verify=sapb1_emulator.ssl_context()) as c:
        r = c.get(sapb1_emulator.root_url + path)
    assert r.status_code == 404 and set(r.json()["error"]) == {"code", "message", "details"}


def test_unknown_key_is_404_minus_2028(sl):
    r = sl.get(f"Orders({10**9})")
    assert r.status_code == 404 and r.json()["error"]["code"] == "-2028"
    r = sl.get(f"Items('{unique()}')")
    assert r.status_code == 404 and r.json()["error"]["code"] == "-2028"
