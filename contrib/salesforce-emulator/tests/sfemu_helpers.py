"""Helpers shared by the Salesforce emulator tests (a distinctive module name on purpose)."""

import requests
from simple_salesforce import Salesforce


def ca_session(emulator) -> requests.Session:
    """A session trusting the emulator's CA. ``trust_env`` is off because requests lets
    REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment override ``session.verify``."""
    session = requests.Session()
    session.verify = emulator.ca_path
    session.trust_env = False
    return session


def make_sf(emulator, session=None) -> Salesforce:
    """simple-salesforce on the emulator: instance_url + a session id from the token endpoint."""
    token = emulator.token()
    if session is None:
        session = ca_session(emulator)
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                      session=session, version="63.0")


def standard_price(api, product_id: str, unit_price: float, **extra) -> str:
    """Give a product its standard price; the entry's id (line items name it)."""
    book = api("GET", "query", params={
        "q": "SELECT Id FROM Pricebook2 WHERE IsStandard = true"}).json()["records"][0]["Id"]
    resp = api("POST", "sobjects/PricebookEntry", json={
        "Pricebook2Id": book, "Product2Id": product_id, "UnitPrice": unit_price,
        "IsActive": True, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]
