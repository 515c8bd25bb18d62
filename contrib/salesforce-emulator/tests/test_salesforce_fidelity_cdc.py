"""Change events as a real org publishes them: changeOrigin, bitmaps, cascades, User events."""

import json

import pytest

from sfemu_helpers import ca_session
from sfemu_pubsub_client import PubSubClient, changed_field_names

ACCOUNT_TOPIC = "/data/AccountChangeEvent"


@pytest.fixture
def pubsub(stubs, org):
    client = PubSubClient(*stubs, org)
    yield client
    client.close()


def _rest(emu, token, call_options=None):
    session = ca_session(emu)
    base = emu.instance_url + "/services/data/v63.0/"
    headers = {"Authorization": f"Bearer {token}"}
    if call_options is not None:
        headers["Sforce-Call-Options"] = call_options

    def call(method, path, **kw):
        return session.request(method, base + path, headers=headers, timeout=30, **kw)

    return call


def test_change_origin_names_the_client_only_when_the_writer_sent_one(pubsub, org, uniq):
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    try:
        sub.next_response()
        _rest(org, pubsub.token)("POST", "sobjects/Account", json={"Name": f"O1 {uniq}"})
        _rest(org, pubsub.token, "client=hub-sync")(
            "POST", "sobjects/Account", json={"Name": f"O2 {uniq}"})
        _rest(org, pubsub.token, "defaultNamespace=ns, client=other")(
            "POST", "composite/sobjects",
            json={"records": [{"attributes": {"type": "Account"}, "Name": f"O3 {uniq}"}]})
        origins = [pubsub.decode(e)["ChangeEventHeader"]["changeOrigin"] for e in sub.events(3)]
        assert origins == ["com/salesforce/api/rest/63.0",
                           "com/salesforce/api/rest/63.0;client=hub-sync",
                           "com/salesforce/api/rest/63.0;client=other"]
    finally:
        sub.close()


def _schema(pubsub, event):
    return json.loads(pubsub.stub.GetSchema(
        pubsub.pb.SchemaRequest(schema_id=event.event.schema_id),
        metadata=pubsub.metadata, timeout=10).schema_json)


def test_bitmaps_are_whole_bytes_and_compound_fields_use_their_own_element(pubsub, org, uniq):
    rest = _rest(org, pubsub.token, "client=hub")
    rid = rest("POST", "sobjects/Account", json={
        "Name": f"Bits {uniq}", "BillingCity": "Paris", "BillingLatitude": 48.85,
        "BillingGeocodeAccuracy": "City"}).json()["id"]
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    try:
        sub.next_response()
        rest("PATCH", f"sobjects/Account/{rid}", json={
            "Phone": "7", "BillingCity": None, "BillingLongitude": 2.35})
        event = sub.events(1)[0]
        update, schema = pubsub.decode(event), _schema(pubsub, event)
        header = update["ChangeEventHeader"]
        names = [f["name"] for f in schema["fields"]]
        pos = names.index("BillingAddress")
        for element in header["changedFields"] + header["nulledFields"]:
            assert len(element.rpartition("0x")[2]) % 2 == 0, element
        # City is sub-field 1 and Longitude sub-field 6: 0b1000010
        assert header["changedFields"][1:] == [f"{pos}-0x42"]
        assert header["nulledFields"] == [f"{pos}-0x02"]
        top = {names[i] for i in range(len(names)) if int(header["changedFields"][0], 16) >> i & 1}
        assert top == {"Phone", "LastModifiedDate"}  # the parent is not in element 0
        assert changed_field_names(schema, header["changedFields"]) == {
            "Phone", "LastModifiedDate", "BillingAddress.City", "BillingAddress.Longitude"}
        assert update["BillingAddress"]["Longitude"] == 2.35
        assert update["BillingAddress"]["Latitude"] is None  # unchanged
    finally:
        sub.close()


def test_address_record_has_geolocation_sub_fields(pubsub, org, uniq):
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    try:
        sub.next_response()
        rid = _rest(org, pubsub.token)("POST", "sobjects/Account", json={
            "Name": f"Geo {uniq}", "ShippingStreet": "1 Rue", "ShippingLatitude": 48.5,
            "ShippingLongitude": 2.25, "ShippingGeocodeAccuracy": "Address"}).json()["id"]
        event = sub.events(1)[0]
        created, schema = pubsub.decode(event), _schema(pubsub, event)
        address = next(f for f in schema["fields"] if f["name"] == "BillingAddress")["type"][1]
        assert [f["name"] for f in address["fields"]] == [
            "Street", "City", "State", "PostalCode", "Country", "Latitude", "Longitude",
            "GeocodeAccuracy"]
        assert created["ShippingAddress"] == {
            "Street": "1 Rue", "City": None, "State": None, "PostalCode": None, "Country": None,
            "Latitude": 48.5, "Longitude": 2.25, "GeocodeAccuracy": "Address"}
        assert created["ChangeEventHeader"]["changedFields"] == []  # empty on CREATE
        rest_view = _rest(org, pubsub.token)("GET", f"sobjects/Account/{rid}").json()
        assert rest_view["ShippingAddress"]["latitude"] == 48.5
        assert rest_view["ShippingAddress"]["geocodeAccuracy"] == "Address"
    finally:
        sub.close()


def test_contact_name_is_compound_and_user_publishes_change_events(
        stubs, salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--cdc-objects", "Account,Contact,User")
    client = PubSubClient(*stubs, emu)
    contacts = client.subscribe("/data/ContactChangeEvent", "LATEST")
    users = client.subscribe("/data/UserChangeEvent", "LATEST")
    try:
        contacts.next_response()
        users.next_response()
        rest = _rest(emu, client.token)
        cid = rest("POST", "sobjects/Contact", json={"FirstName": "Ada", "LastName": "Byron",
                                                     "Email": "ada@example.com"}).json()["id"]
        rest("PATCH", f"sobjects/Contact/{cid}", json={"LastName": "Lovelace"})
        created, updated = (client.decode(e) for e in contacts.events(2))
        assert created["Name"] == {"Salutation": None, "FirstName": "Ada", "LastName": "Byron"}
        assert "FirstName" not in created and "LastName" not in created
        header = updated["ChangeEventHeader"]
        assert updated["Name"] == {"Salutation": None, "FirstName": None, "LastName": "Lovelace"}
        assert any(e.endswith("-0x04") for e in header["changedFields"][1:])  # LastName: bit 2
        emu.admin.seed({"users": [{"username": "buyer@acme.example", "name": "Buyer"}]})
        emu.admin.seed({"users": [{"username": "buyer@acme.example", "active": False}]})
        made, deactivated = (client.decode(e) for e in users.events(2))
        assert made["ChangeEventHeader"]["changeType"] == "CREATE"
        assert made["Username"] == "buyer@acme.example" and made["IsActive"] is True
        assert deactivated["ChangeEventHeader"]["changeType"] == "UPDATE"
        assert deactivated["IsActive"] is False
    finally:
        contacts.close()
        users.close()
        client.close()


def test_deleting_an_account_cascades_with_delete_events(stubs, salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--cdc-objects", "Account,Contact,Opportunity")
    client = PubSubClient(*stubs, emu)
    everything = client.subscribe("/data/ChangeEvents", "LATEST")
    try:
        everything.next_response()
        rest = _rest(emu, client.token)
        acc = rest("POST", "sobjects/Account", json={"Name": "Gone"}).json()["id"]
        other = rest("POST", "sobjects/Account", json={"Name": "Stays"}).json()["id"]
        con = rest("POST", "sobjects/Contact", json={"LastName": "C", "AccountId": acc}).json()
        opp = rest("POST", "sobjects/Opportunity", json={
            "Name": "O", "AccountId": acc, "StageName": "Prospecting",
            "CloseDate": "2026-01-01"}).json()
        kept = rest("POST", "sobjects/Opportunity", json={
            "Name": "K", "AccountId": other, "StageName": "Prospecting",
            "CloseDate": "2026-01-01"}).json()
        everything.events(5)
        assert rest("DELETE", f"sobjects/Account/{acc}").status_code == 204
        headers = [client.decode(e)["ChangeEventHeader"] for e in everything.events(3)]
        assert [(h["entityName"], h["changeType"], h["recordIds"]) for h in headers] == [
            ("Account", "DELETE", [acc]), ("Opportunity", "DELETE", [opp["id"]]),
            ("Contact", "DELETE", [con["id"]])]
        assert len({h["transactionKey"] for h in headers}) == 1
        assert rest("GET", f"sobjects/Opportunity/{opp['id']}").status_code == 404
        assert rest("GET", f"sobjects/Contact/{con['id']}").status_code == 404
        assert rest("GET", f"sobjects/Opportunity/{kept['id']}").status_code == 200
        describe = rest("GET", "sobjects/Account/describe").json()
        cascade = {r["relationshipName"]: r["cascadeDelete"]
                   for r in describe["childRelationships"]}
        assert cascade["Opportunities"] is True and cascade["Contacts"] is True
    finally:
        everything.close()
        client.close()
