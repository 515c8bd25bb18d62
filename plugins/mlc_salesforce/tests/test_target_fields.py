"""The sinks' field catalogues (``Sink.target_fields``) from the emulator's describe: custom
fields and lengths appear, fields the integration user cannot write are marked read-only,
and each object is described once per connection however many sinks ask."""

from __future__ import annotations

import pytest
from mlc_salesforce.products import ProductSink
from mlc_salesforce.refdata import AccountSink, ContactSink, OrderFieldsSink
from mlc_salesforce.sinks import AccountFieldsSink, InvoiceSink, OpportunityFieldsSink
from sfplugin_support import context, options_for, plugin_settings

DESCRIBE = "GET /sobjects/{type}/describe"


@pytest.fixture
def org(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--multi-currency", "--invoice")
    emu.admin.seed({"custom_fields": {
        "Account": [{"name": "SAP_Credit_Limit__c", "type": "currency"}],
        "Opportunity": [{"name": "SAP_Order_DocNum__c", "type": "string", "length": 20}],
        "Invoice": [{"name": "SAP_DocNum__c", "type": "string", "length": 20,
                     "externalId": True, "unique": True}],
        "Order": [{"name": "SAP_Tracking_Numbers__c", "type": "string", "length": 255}],
    }})  # fmt: skip
    return emu


def sink(cls, emu, **opts):
    made = cls(context(plugin_settings(emu)), options_for(cls, **opts))
    made.open()
    return made


def describes(emu) -> int:
    return emu.admin.stats()["api_calls"]["by_route"].get(DESCRIBE, 0)


def test_every_sink_answers_from_describe_once_per_object(org):
    opened = [
        sink(OpportunityFieldsSink, org),
        sink(AccountFieldsSink, org),
        sink(AccountSink, org),
        sink(ContactSink, org),
        sink(OrderFieldsSink, org),
        sink(InvoiceSink, org),
    ]
    before = describes(org)
    catalogues = [s.target_fields() for s in opened for _ in range(2)]
    assert describes(org) == before  # read when the sinks opened, not again when asked
    # six sinks on five objects: each object described once for the whole connection
    assert before == 5, org.admin.stats()["api_calls"]["by_route"]
    opp, _, acc_fields, _, account, _, contact, _, order, _, invoice, _ = catalogues
    assert opp["SAP_Order_DocNum__c"].length == 20 and opp["SAP_Order_DocNum__c"].writable
    assert opp["Amount"].length is None  # not a text field
    assert acc_fields["SAP_Credit_Limit__c"].writable and account["Phone"].length == 40
    assert contact["Title"].length == 128 and contact["Title"].writable
    assert contact["Email"].length == 80
    assert order["SAP_Tracking_Numbers__c"].length == 255
    assert invoice["SAP_DocNum__c"].writable
    # what the integration user cannot create or update is there, marked read-only
    for catalogue, name in ((contact, "Name"), (opp, "IsWon"), (account, "CreatedDate"),
                            (order, "OrderNumber"), (invoice, "DocumentNumber")):  # fmt: skip
        assert name in catalogue and catalogue[name].writable is False, name
    # Id names the record a sink updates: always writable
    assert opp["Id"].writable and contact["Id"].writable


def test_products_add_their_price_members(org):
    products = sink(ProductSink, org, currencies=["USD", "EUR"], rates={"USD": 1.0, "EUR": 0.9})
    fields = products.target_fields()
    assert fields["ProductCode"].length == 255 and fields["ProductCode"].writable
    assert {"PriceList", "Price", "Currency"} <= set(fields["Prices"].fields)


def test_an_update_by_id_counts_only_updateable_fields(org):
    """``OpportunityLineItem.OpportunityId`` may be set on create only: an update by Id cannot
    write it; an upsert by an external id (which may create) can."""
    by_id = OpportunityFieldsSink(context(plugin_settings(org)), options_for(OpportunityFieldsSink))
    by_id.sobject = "OpportunityLineItem"
    by_id.open()
    assert by_id.target_fields()["OpportunityId"].writable is False
    upsert = OpportunityFieldsSink(
        context(plugin_settings(org)),
        options_for(OpportunityFieldsSink, external_id_field="Description"),
    )
    upsert.sobject = "OpportunityLineItem"
    upsert.conn = by_id.conn  # the same connection: no second describe
    assert upsert.target_fields()["OpportunityId"].writable is True
