"""Mappings checked against what the sinks report (``$metadata``, describe): a field the
target lacks and a field it has but the hub cannot write stop ``hub ping`` (exit 4) and
``hub run`` (exit 3), naming the flow and the field."""

from __future__ import annotations

import json

from refdata_landscape import CDC

# the last line of each contacts flow's field rules in the example configuration
TO_SAP = 'Position = {path = "Title", truncate = 90}'
TO_SF = 'Title = {path = "Position", truncate = true}'


def test_missing_and_read_only_fields_stop_ping_and_run(landscape):
    land = landscape
    land.refdata = "true"
    land.start(*CDC)
    ok = land.hub("ping")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for flow in ("contacts-to-partners", "partner-contacts-to-contacts"):
        assert f"PASS  mappings: flow {flow}" in ok.stdout, ok.stdout
    # $metadata: one read for the plugin's own check, one for the mappings of all the flows
    # writing to SAP B1 (opportunities-to-orders, accounts-to-partners, contacts-to-partners)
    assert land.sap_requests().get("GET $metadata") == 2, land.sap_requests()

    # SAP B1 has no Salutation on a contact person (its Title is the salutation); Salesforce
    # computes Contact.Name from the name fields: describe says it is not createable
    land.write_config(
        **{TO_SAP: TO_SAP + '\nSalutation = "Salutation"', TO_SF: TO_SF + '\nName = "Name"'}
    )
    bad = land.hub("ping", "--json")
    assert bad.returncode == 4, bad.stdout + bad.stderr
    checks = {r["check"]: r for r in json.loads(bad.stdout) if r["plugin"] == "mappings"}
    to_sap, to_sf = checks["flow contacts-to-partners"], checks["flow partner-contacts-to-contacts"]
    assert not to_sap["ok"] and "fields.Salutation: no field 'Salutation'" in to_sap["detail"]
    assert not to_sf["ok"] and "fields.Name: field 'Name' is read-only" in to_sf["detail"]
    assert checks["flow opportunities-to-orders"]["ok"]

    land.write_config(**{TO_SF: TO_SF + '\nName = "Name"'})
    run = land.hub("run", timeout=60)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "flow partner-contacts-to-contacts" in run.stderr
    assert "mapping_options.fields.Name: field 'Name' is read-only on the target" in run.stderr

    land.write_config(**{TO_SAP: TO_SAP + '\nSalutation = "Salutation"'})
    run = land.hub("run", timeout=60)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "flow contacts-to-partners" in run.stderr
    assert "mapping_options.fields.Salutation: no field 'Salutation' on the target" in run.stderr
