"""A hostile network between the hub and the org: a proxy or load balancer answering 502 or
504 with an HTML page is a passing failure, retried with backoff like 503, not a refusal."""

import pytest
import responses
from mlc_salesforce.auth import OrgToken, make_http_session
from mlc_salesforce.limits import ApiBudget
from mlc_salesforce.rest import SalesforceRest
from sfplugin_support import DATA, INTROSPECT_URL, TOKEN_URL, token_body

from hub import RetriableError

BASE = DATA.split("/services/")[0]
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def _rest(sleeps, **kw):
    http = make_http_session(None)
    token = OrgToken(BASE, "cid", "secret", http)
    return SalesforceRest(token, http, "63.0", ApiBudget(0.8), sleep=sleeps.append,
                          rng=lambda: 0.5, **kw)  # fmt: skip


def _login():
    responses.post(TOKEN_URL, json=token_body("00D!A"))
    responses.post(INTROSPECT_URL, json={"active": False})


@pytest.mark.parametrize("status", [502, 504])
@responses.activate
def test_gateway_errors_with_html_pages_are_retried_then_succeed(status):
    _login()
    url = DATA + "composite/sobjects"
    responses.patch(url, status=status, body=HTML, content_type="text/html")
    responses.patch(url, json=[{"id": "006A", "success": True, "errors": []}])
    sleeps = []
    out = _rest(sleeps).update_collection([{"attributes": {"type": "Opportunity"}, "Id": "006A"}])
    assert out[0]["success"] and len(sleeps) == 1


@responses.activate
def test_a_gateway_that_stays_down_is_retriable():
    _login()
    responses.get(DATA + "limits/", status=502, body=HTML, content_type="text/html")
    with pytest.raises(RetriableError, match="502"):
        _rest([], max_attempts=3).request("GET", "limits/")
