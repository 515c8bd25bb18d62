"""The sinks' field catalogues (``Sink.target_fields``) from the emulator's ``$metadata``, read
once per client however many sinks ask; the CSDL parser on documents with lengths."""

from __future__ import annotations

import pytest
from mlc_sapb1.contacts import ContactPersonSink
from mlc_sapb1.metadata import ServiceLayerMetadata
from mlc_sapb1.sinks import BusinessPartnerSink, SalesOrderSink
from sapb1_emulated import component


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "UserFieldsMD": [
            {"TableName": "ORDR", "Name": "SFRegion", "Type": "db_Alpha", "Size": 20},
            {"TableName": "RDR1", "Name": "SFLineRef", "Type": "db_Alpha", "Size": 30},
            {"TableName": "OCRD", "Name": "SFAccountId", "Type": "db_Alpha", "Size": 50},
        ]
    }
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-targets"), [], seed)
    yield e
    e.stop()


def metadata_reads(emu) -> int:
    return sum(n for route, n in emu.admin_json("GET", "stats")["requests"].items()
               if route.startswith("GET ") and route.endswith("$metadata"))  # fmt: skip


def test_every_sink_answers_from_one_metadata_read(emu):
    before = metadata_reads(emu)
    orders = component(SalesOrderSink, emu).target_fields()
    partners = component(BusinessPartnerSink, emu).target_fields()
    contacts = component(ContactPersonSink, emu).target_fields()
    # three sinks of three flows share the process's client: $metadata was read once
    assert metadata_reads(emu) - before == 1

    # documents: header fields, the user fields declared on ORDR and on RDR1 (the lines)
    assert {"CardCode", "DocDueDate", "NumAtCard", "U_SFRegion"} <= set(orders)
    lines = orders["DocumentLines"].fields
    assert {"ItemCode", "Quantity", "UnitPrice", "U_SFLineRef"} <= set(lines)
    assert "U_SFRegion" not in lines and "U_SFLineRef" not in orders

    # partners: collections with their members; what SAP owns is read-only for this sink
    assert "U_SFAccountId" in partners and partners["CardName"].writable
    assert {"Position", "Title", "E_Mail"} <= set(partners["ContactEmployees"].fields)
    assert {"AddressName", "Street", "City"} <= set(partners["BPAddresses"].fields)
    for owned in ("CreditLimit", "CurrentAccountBalance", "UpdateDate"):
        assert partners[owned].writable is False, owned

    # contact persons: the members of ContactEmployees, plus the partner's CardCode
    assert {"CardCode", "FirstName", "LastName", "E_Mail", "Phone1", "Position", "Title"} <= set(
        contacts
    )
    assert "U_SFAccountId" not in contacts
    # the emulator's $metadata gives no MaxLength (as SAP's documented samples): no lengths
    assert contacts["Position"].length is None


CSDL = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="SAPB1" xmlns="http://docs.oasis-open.org/odata/ns/edm">
  <ComplexType Name="DocumentLine">
    <Property Name="ItemCode" Type="Edm.String" MaxLength="50"/></ComplexType>
  <ComplexType Name="ContactEmployee">
    <Property Name="Position" Type="Edm.String" MaxLength="90"/>
    <Property Name="Title" Type="Edm.String" MaxLength="10"/></ComplexType>
  <EntityType Name="Document"><Key><PropertyRef Name="DocEntry"/></Key>
    <Property Name="DocEntry" Type="Edm.Int32"/>
    <Property Name="Comments" Type="Edm.String" MaxLength="254"/>
    <Property Name="DocumentLines" Type="Collection(SAPB1.DocumentLine)"/></EntityType>
  <EntityType Name="BusinessPartner"><Key><PropertyRef Name="CardCode"/></Key>
    <Property Name="CardCode" Type="Edm.String" MaxLength="15"/>
    <Property Name="ContactEmployees" Type="Collection(SAPB1.ContactEmployee)"/></EntityType>
  <EntityContainer Name="ServiceLayer">
    <EntitySet Name="Orders" EntityType="SAPB1.Document"/>
    <EntitySet Name="BusinessPartners" EntityType="SAPB1.BusinessPartner"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>"""


def test_lengths_come_from_max_length_members_from_collections():
    meta = ServiceLayerMetadata(CSDL)
    orders = meta.entity_fields("Orders")
    assert set(orders) == {"DocEntry", "Comments", "DocumentLines"}
    assert orders["Comments"].length == 254 and orders["DocEntry"].length is None
    assert orders["DocumentLines"].fields["ItemCode"].length == 50
    members = meta.entity_fields("BusinessPartners")["ContactEmployees"].fields
    assert (members["Position"].length, members["Title"].length) == (90, 10)
    assert meta.entity_fields("Invoices") is None


def test_contact_person_sink_lengths_from_max_length():
    """With a document that gives lengths, ``truncate = true`` on a contact person resolves."""

    class Client:
        calls = 0

        def request(self, method, path):
            Client.calls += 1
            assert (method, path) == ("GET", "$metadata")
            return type("Answer", (), {"text": CSDL})()

    sink = ContactPersonSink.__new__(ContactPersonSink)
    sink.client = Client()
    fields = sink.target_fields()
    assert fields["Position"].length == 90 and fields["CardCode"].length == 15
    sink.target_fields()
    assert Client.calls == 1


@pytest.mark.parametrize(
    "text, says",
    [
        ("<edmx:Edmx", "not an XML document"),  # cut off
        ("", "not an XML document"),
        ('<html xmlns="http://www.w3.org/1999/xhtml"><body>Sign in</body></html>', "no OData v4"),
    ],
)
def test_a_metadata_document_that_is_no_csdl_stops_with_a_clear_error(text, says):
    """A proxy's page or a cut-off answer is not taken for a company without entity sets
    (which would leave every mapping unchecked): the error names $metadata."""
    from hub import FatalError

    with pytest.raises(FatalError) as err:
        ServiceLayerMetadata(text)
    assert "SAP B1 $metadata" in str(err.value) and says in str(err.value)
