"""Hostile payloads through the Salesforce sinks: a payload's ``attributes`` must never choose
the object written (an Opportunity sink writing an Account), and odd text is data."""

from mlc_salesforce import org
from mlc_salesforce.sinks import OpportunityFieldsSink
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import context, options_for, plugin_settings

from hub import Record, RecordError, SinkItem


def item(payload, n=1, target_id=None):
    rec = Record(n, "f", "src", "sap", "Doc", f"D{n}", "upsert", payload, "h", "ready", 0)
    return SinkItem(rec, payload, target_id, {})


def test_a_payload_cannot_redirect_the_write_to_another_object(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        emu.admin.post("/emulator/generate", {"accounts": 1, "opportunities_per_account": 1})
        rest = org.build(plugin_settings(emu)).rest
        (account,) = rest.query_records("SELECT Id, Name FROM Account LIMIT 1")
        (opp,) = rest.query_records("SELECT Id, Name FROM Opportunity LIMIT 1")
        sink = OpportunityFieldsSink(context(plugin_settings(emu)),
                                     options_for(OpportunityFieldsSink))  # fmt: skip
        sink.open()
        odd = "Ünïcode 'quoted' \"AND\" Name != '' \u202e\U0001f600 " + "x" * 60
        results = sink.write([
            item({"attributes": {"type": "Account"}, "Id": account["Id"], "Name": "Hijacked"}),
            item({"Id": opp["Id"], "Description": odd}, 2),
        ])  # fmt: skip
        assert isinstance(results[0].error, RecordError)
        assert results[0].error.field == "attributes"
        assert results[1].error is None, results[1].error
        (after,) = rest.query_records(f"SELECT Name FROM Account WHERE Id = '{account['Id']}'")
        assert after["Name"] == account["Name"]
        (desc,) = rest.query_records(
            f"SELECT Description FROM Opportunity WHERE Id = '{opp['Id']}'"
        )
        assert desc["Description"] == odd
