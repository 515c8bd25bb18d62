"""$batch: multipart bodies, atomic changesets, Content-ID references, stop on failure."""

import json
import re

from mlc_sapb1_emulator.testing import unique_code as unique


def part(method, url, body=None, content_id=None):
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    req = f"{method} {url} HTTP/1.1\r\n"
    if body is not None:
        req += "Content-Type: application/json\r\n\r\n" + json.dumps(body)
    else:
        req += "\r\n"
    return head + "\r\n" + req + "\r\n"


def changeset(boundary, parts):
    inner = "".join(f"--{boundary}\r\n{p}" for p in parts) + f"--{boundary}--\r\n"
    return f"Content-Type: multipart/mixed;boundary={boundary}\r\n\r\n{inner}"


def batch(sl, chunks, boundary="batch_36522ad7-fc75-4b56-8c71-56071383e77b"):
    body = "".join(f"--{boundary}\r\n{c}" for c in chunks) + f"--{boundary}--\r\n"
    return sl.post("$batch", content=body.encode(),
                   headers={"Content-Type": f"multipart/mixed;boundary={boundary}"})


def statuses(resp):
    return [int(s) for s in re.findall(r"HTTP/1\.1 (\d{3})", resp.text)]


def test_changeset_with_reference_and_get(sl, customer):
    card, items = customer
    code = unique("B")
    cs = changeset("changeset_77162fcd", [
        part("POST", "/b1s/v2/BusinessPartners", {"CardCode": code, "CardName": "Batch"}, "1"),
        part("PATCH", "$1", {"Phone1": "123"}, "2"),
        part("POST", "Orders", {"CardCode": code, "DocumentLines": [{"ItemCode": items[0]}]},
             "3"),
    ])
    r = batch(sl, [cs, part("GET", f"BusinessPartners('{code}')?$select=CardCode,Phone1")])
    assert r.status_code == 200
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/mixed") and "boundary=batchresponse_" in ctype
    assert "changesetresponse_" in r.text
    assert statuses(r) == [201, 204, 201, 200]
    assert '"Phone1":"123"' in r.text
    assert re.search(r"Content-ID: 3", r.text)
    assert sl.get(f"BusinessPartners('{code}')").json()["Phone1"] == "123"


def test_failed_changeset_rolls_back_and_stops(sl, customer):
    card, items = customer
    code = unique("B")
    cs = changeset("changeset_a", [
        part("POST", "BusinessPartners", {"CardCode": code, "CardName": "Rolled back"}, "1"),
        part("POST", "Orders", {"CardCode": card, "DocumentLines": [{"ItemCode": items[0]}]},
             "2"),
        part("POST", "Orders", {"CardCode": card, "DocumentLines": [{"ItemCode": "NOPE"}]}, "3"),
    ])
    after = part("POST", "BusinessPartners", {"CardCode": code + "X"})
    count_before = sl.get("Orders/$count", params={"$filter": f"CardCode eq '{card}'"}).text
    r = batch(sl, [cs, after])
    assert r.status_code == 200
    assert statuses(r) == [400]  # one error response for the changeset, nothing after it
    assert "changesetresponse_" not in r.text and '"-10"' in r.text
    assert sl.get(f"BusinessPartners('{code}')").status_code == 404
    assert sl.get(f"BusinessPartners('{code}X')").status_code == 404
    assert sl.get("Orders/$count", params={"$filter": f"CardCode eq '{card}'"}).text == \
        count_before


def test_get_failure_stops_processing(sl):
    code = unique("B")
    r = batch(sl, [part("GET", "Items('NO-SUCH')"),
                   part("POST", "BusinessPartners", {"CardCode": code})])
    assert statuses(r) == [404]
    assert sl.get(f"BusinessPartners('{code}')").status_code == 404


def test_malformed_batches(sl):
    r = sl.post("$batch", content=b"--x\r\nno end", headers={
        "Content-Type": "multipart/mixed;boundary=x"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "-1000"
    assert r.json()["error"]["message"] == "Incomplete Batch Request Body!"
    r = sl.post("$batch", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    cs = changeset("changeset_g", [part("GET", "Items")])
    assert statuses(batch(sl, [cs])) == [400]


def test_batch_needs_a_session(sapb1_emulator):
    r = sapb1_emulator.client().post("$batch", content=b"--b\r\n--b--\r\n",
                                     headers={"Content-Type": "multipart/mixed;boundary=b"})
    assert r.status_code == 401
