"""Avro payloads: schemas cached by id; changedFields bitmaps, compound fields included."""

import io

import fastavro
from mlc_salesforce.avro import SchemaCache, field_names

ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.sforce.eventbus",
    "fields": [
        {"name": "Street", "type": ["null", "string"], "default": None},
        {"name": "City", "type": ["null", "string"], "default": None},
        {"name": "PostalCode", "type": ["null", "string"], "default": None},
    ],
}
SCHEMA = {
    "type": "record",
    "name": "AccountChangeEvent",
    "namespace": "com.sforce.eventbus",
    "fields": [
        {
            "name": "ChangeEventHeader",
            "type": {
                "type": "record",
                "name": "H",
                "fields": [{"name": "entityName", "type": "string"}],
            },
        },
        {"name": "Name", "type": ["null", "string"], "default": None},
        {"name": "BillingAddress", "type": ["null", ADDRESS], "default": None},
        {
            "name": "ShippingAddress",
            "type": ["null", "com.sforce.eventbus.Address"],
            "default": None,
        },
        {"name": "Phone", "type": ["null", "string"], "default": None},
    ],
}


def test_bitmaps_name_top_level_and_compound_sub_fields():
    parsed = fastavro.parse_schema(SCHEMA)
    # 0x12 = bits 1 and 4: Name, Phone; "3-0x02": ShippingAddress's field 1 (a named type)
    names = field_names(parsed, ["0x12", "2-0x05", "3-0x02"])
    assert names == [
        "Name",
        "Phone",
        "BillingAddress.Street",
        "BillingAddress.PostalCode",
        "ShippingAddress.City",
    ]
    assert field_names(parsed, []) == [] and field_names(parsed, None) == []


def test_schemas_are_fetched_once_per_id_and_payloads_decoded():
    import json

    fetched = []

    def fetch(schema_id):
        fetched.append(schema_id)
        return json.dumps(SCHEMA)

    cache = SchemaCache(fetch)
    buf = io.BytesIO()
    fastavro.schemaless_writer(
        buf,
        fastavro.parse_schema(SCHEMA),
        {
            "ChangeEventHeader": {"entityName": "Account"},
            "Name": "Acme",
            "BillingAddress": None,
            "ShippingAddress": None,
            "Phone": None,
        },
    )
    for _ in range(3):
        body = cache.decode("S1", buf.getvalue())
    assert body["Name"] == "Acme" and body["ChangeEventHeader"]["entityName"] == "Account"
    assert fetched == ["S1"]
