"""The hub's HTTP listener: routes from plugins, its own thread, 413 over the body limit, TLS."""

from __future__ import annotations

import ssl
import threading

import httpx
import pytest
import trustme

from hub import ConfigError
from hub.listener import HttpResponse, HubListener, Route, Router, parse_listen


def echo(req):
    return HttpResponse(200, {"method": req.method, "len": len(req.body), "q": req.query,
                              "thread": threading.current_thread().name})  # fmt: skip


def boom(req):
    raise RuntimeError("secret detail")


@pytest.fixture
def listener():
    routes = []
    router = Router("test", state=None, into=routes)
    router.add("POST", "/echo", echo)
    router.add("GET", "/echo", lambda req: (201, "plain text"))
    router.add("GET", "/boom", boom)
    lst = HubListener("127.0.0.1:0", routes, max_body=1000)
    lst.start()
    yield lst
    lst.stop()


def test_routes_answer_from_handler_threads(listener):
    r = httpx.post(listener.url + "/echo?x=1", content=b"abc")
    assert r.status_code == 200
    body = r.json()
    assert body["method"] == "POST" and body["len"] == 3 and body["q"] == {"x": "1"}
    assert body["thread"].startswith("hub-http")
    r = httpx.get(listener.url + "/echo")
    assert (r.status_code, r.text) == (201, "plain text")
    assert httpx.get(listener.url + "/nothing").status_code == 404


def test_bodies_over_the_limit_get_413(listener):
    assert httpx.post(listener.url + "/echo", content=b"x" * 1000).status_code == 200
    assert httpx.post(listener.url + "/echo", content=b"x" * 1001).status_code == 413

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(10):
            yield b"x" * 500

    assert httpx.post(listener.url + "/echo", content=chunks()).status_code == 413


def test_a_failing_handler_is_a_500_without_details(listener):
    r = httpx.get(listener.url + "/boom")
    assert r.status_code == 500 and "secret detail" not in r.text


def test_tls(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_pem, key_pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    from hub.listener import tls_context

    routes = [Route("t", "GET", "/x", lambda req: (200, {"ok": True}))]
    lst = HubListener("127.0.0.1:0", routes, ssl_context=tls_context(str(cert_pem), str(key_pem)))
    lst.start()
    try:
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        ctx = ssl.create_default_context(cafile=str(ca_file))
        assert lst.url.startswith("https://")
        assert httpx.get(lst.url + "/x", verify=ctx).json() == {"ok": True}
    finally:
        lst.stop()


@pytest.mark.parametrize("bad", ["8480", "localhost", "host:http", ":8480", "1.2.3.4:70000"])
def test_bad_listen_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="hub.listen"):
        parse_listen(bad)


def test_duplicate_routes_and_relative_paths_are_refused():
    routes = []
    Router("a", None, routes).add("GET", "/x", echo)
    with pytest.raises(ConfigError, match="both"):
        Router("b", None, routes).add("get", "/x", echo)
    with pytest.raises(ConfigError, match="start with /"):
        Router("b", None, routes).add("GET", "x", echo)


def test_a_port_in_use_is_a_config_error(listener):
    other = HubListener(f"127.0.0.1:{listener.port}", [])
    with pytest.raises(ConfigError, match="cannot listen"):
        other.start()
