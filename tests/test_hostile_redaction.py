"""Credentials no configuration names (session cookies, bearer and Salesforce session tokens)
are masked wherever the hub writes text, as wire-level debug logs print them."""

from __future__ import annotations

import pytest

from hub.secrets import redact, redact_text

SID = "443c80e1-58d3-4e32-8fa8-40e6dbf45e4f"
SF_TOKEN = "00D5g000004ABCd!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VA"


@pytest.mark.parametrize(
    "text",
    [
        f"receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
        f"[(b'Content-Type', b'application/json'), (b'Set-Cookie', b'B1SESSION={SID};HttpOnly;')])",
        f"send_request_headers.started headers=[(b'Cookie', b'B1SESSION={SID}; ROUTEID=.node1')]",
        f"send: b'GET /x HTTP/1.1\\r\\nAuthorization: Bearer {SF_TOKEN}\\r\\n'",
        f'token answer {{"access_token": "{SF_TOKEN}", "instance_url": "https://x"}}',
        f"request failed for session {SF_TOKEN} at 12:00",
        f"Cookie: B1SESSION={SID}",
    ],
)
def test_session_cookies_and_tokens_are_masked(text):
    masked = redact_text(text)
    assert SID not in masked and SF_TOKEN not in masked and "***" in masked
    assert redact({"message": text})["message"] == masked


def test_ordinary_text_is_left_alone():
    text = "read 12 records! cookie jar empty; Bearer of news; B1SESSION unknown"
    assert redact_text(text) == text
