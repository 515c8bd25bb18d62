"""$batch bodies and the sales order sink against a scripted Service Layer (MockTransport)."""

from __future__ import annotations

import json
import logging
import threading

import httpx
from mlc_sapb1 import batch
from mlc_sapb1.sinks import SalesOrderSink
from sapb1_fakes import MemoryState

from hub import ComponentContext, RecordError


def answer(changesets: list[tuple[int, dict]]) -> httpx.Response:
    """A v4 multipart answer: one changesetresponse per (status, body)."""
    out = []
    for i, (status, body) in enumerate(changesets, 1):
        out += [
            "--batchresponse_x",
            f"Content-Type: multipart/mixed;boundary=changesetresponse_{i}",
            "",
            f"--changesetresponse_{i}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {i}",
            "",
            f"HTTP/1.1 {status} X",
            "Content-Type: application/json;charset=utf-8",
            "",
            json.dumps(body),
            f"--changesetresponse_{i}--",
        ]
    out += ["--batchresponse_x--", ""]
    return httpx.Response(
        200,
        content="\r\n".join(out).encode(),
        headers={"content-type": "multipart/mixed;boundary=batchresponse_x"},
    )


def test_encode_has_one_changeset_per_write_and_unquoted_boundaries():
    writes = [batch.BatchWrite("POST", "Orders", {"CardCode": "C1"}),
              batch.BatchWrite("PATCH", "Orders(5)", {"Comments": "x"},
                               {"B1S-ReplaceCollectionsOnPatch": "true"})]  # fmt: skip
    ctype, body = batch.encode(writes, "/b1s/v2/")
    assert ctype.startswith("multipart/mixed;boundary=batch_") and '"' not in ctype
    text = body.decode()
    assert text.count("Content-Type: multipart/mixed;boundary=changeset_") == 2
    assert "POST /b1s/v2/Orders HTTP/1.1" in text and "PATCH /b1s/v2/Orders(5) HTTP/1.1" in text
    assert "B1S-ReplaceCollectionsOnPatch: true" in text and "\r\n" in text


def test_decode_reads_statuses_and_bodies():
    resp = answer([(201, {"DocEntry": 7}), (400, {"error": {"code": "-10", "message": "bad"}})])
    parts = batch.decode(resp.headers["content-type"], resp.content)
    assert [p[-1].status for p in parts] == [201, 400]
    assert parts[0][-1].body == {"DocEntry": 7}


def test_sink_sends_again_what_the_server_did_not_reach(fake_sl):
    batches = []

    def lookup(request):
        return httpx.Response(200, json={"value": []})

    def do_batch(request):
        batches.append(request.content)
        if len(batches) == 1:  # the second changeset fails: the server stops there
            return answer([(201, {"DocEntry": 1, "NumAtCard": "A"}),
                           (400, {"error": {"code": "-10", "message":
                                  "Invalid BP code [ORDR.CardCode] , 'NOPE'"}})])  # fmt: skip
        return answer([(201, {"DocEntry": 3, "NumAtCard": "C"})])

    fake_sl.routes[("GET", "Orders")] = lookup
    fake_sl.routes[("POST", "$batch")] = do_batch
    client = fake_sl.client()
    ctx = ComponentContext("t", "sapb1", {}, threading.Event(), logging.getLogger("t"),
                           MemoryState())  # fmt: skip
    sink = SalesOrderSink(ctx, {"key_field": "NumAtCard", "update_open": False})
    sink.client, sink.key_field = client, "NumAtCard"
    from sapb1_emulated import item

    results = sink.write([item(k, {"CardCode": c}) for k, c in (("A", "C1"), ("B", "NOPE"),
                                                                ("C", "C1"))])  # fmt: skip
    assert [r.target_id for r in results] == ["1", None, "3"]
    err = results[1].error
    assert isinstance(err, RecordError) and err.field == "CardCode" and "-10" in str(err)
    assert len(batches) == 2 and b'"NumAtCard": "C"' in batches[1]
    assert b'"NumAtCard": "A"' not in batches[1]
    lookups = [r for r in fake_sl.requests if r.method == "GET"]
    assert len(lookups) == 1 and "NumAtCard eq 'A'" in lookups[0].url.params["$filter"]
