"""Opportunity stages are OpportunityStage records; an opportunity follows its stage record."""

from sfemu_helpers import make_sf


def test_standard_stages_are_queryable_records(api):
    body = api("GET", "query", params={"q": (
        "SELECT MasterLabel, IsClosed, IsWon, DefaultProbability, ForecastCategoryName "
        "FROM OpportunityStage WHERE IsActive = true ORDER BY SortOrder")}).json()
    stages = {r["MasterLabel"]: r for r in body["records"]}
    assert list(stages)[:2] == ["Prospecting", "Qualification"] and len(stages) == 10
    assert stages["Closed Won"]["IsWon"] is True and stages["Closed Won"]["IsClosed"] is True
    assert stages["Closed Lost"]["IsWon"] is False and stages["Closed Lost"]["IsClosed"] is True
    assert stages["Negotiation/Review"]["DefaultProbability"] == 90
    assert stages["Closed Lost"]["ForecastCategoryName"] == "Omitted"
    refused = api("POST", "sobjects/OpportunityStage", json={"MasterLabel": "Mine"})
    assert refused.status_code == 404  # stages are set up in Setup, not over the API
    describe = api("GET", "sobjects/Opportunity/describe").json()
    stage_field = next(f for f in describe["fields"] if f["name"] == "StageName")
    assert [v["value"] for v in stage_field["picklistValues"]] == list(stages)


def test_unknown_stage_is_refused_as_a_restricted_picklist_value(api, uniq):
    resp = api("POST", "sobjects/Opportunity", json={
        "Name": uniq, "StageName": "Closed Maybe", "CloseDate": "2026-01-01"})
    assert resp.status_code == 400
    assert resp.json() == [{"message": "Stage: bad value for restricted picklist field: "
                                       "Closed Maybe", "errorCode":
                            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["StageName"]}]


def test_probability_and_flags_follow_the_stage(api, uniq):
    rid = api("POST", "sobjects/Opportunity", json={
        "Name": uniq, "StageName": "Needs Analysis", "CloseDate": "2026-01-01"}).json()["id"]
    rec = api("GET", f"sobjects/Opportunity/{rid}").json()
    assert (rec["Probability"], rec["ForecastCategoryName"], rec["IsClosed"]) == (
        20, "Pipeline", False)
    api("PATCH", f"sobjects/Opportunity/{rid}", json={"StageName": "Closed Won"})
    rec = api("GET", f"sobjects/Opportunity/{rid}").json()
    assert (rec["Probability"], rec["IsWon"], rec["IsClosed"]) == (100, True, True)
    api("PATCH", f"sobjects/Opportunity/{rid}", json={"StageName": "Negotiation/Review",
                                                      "Probability": 55})
    rec = api("GET", f"sobjects/Opportunity/{rid}").json()
    assert (rec["Probability"], rec["IsWon"], rec["IsClosed"]) == (55, False, False)


def test_won_is_decided_by_the_stage_record_not_its_name(salesforce_emulator_factory):
    emu = salesforce_emulator_factory()
    emu.admin.seed({"opportunity_stages": [
        {"MasterLabel": "Signed", "IsClosed": True, "IsWon": True},
        {"MasterLabel": "Closed Won", "IsActive": False},
        {"MasterLabel": "Closed - Not Won", "IsClosed": True, "DefaultProbability": 0}]})
    sf = make_sf(emu)
    signed = sf.Opportunity.create({"Name": "a", "StageName": "Signed",
                                    "CloseDate": "2026-01-01"})["id"]
    lost = sf.Opportunity.create({"Name": "b", "StageName": "Closed - Not Won",
                                  "CloseDate": "2026-01-01"})["id"]
    assert sf.Opportunity.get(signed)["IsWon"] is True
    assert (sf.Opportunity.get(lost)["IsWon"], sf.Opportunity.get(lost)["IsClosed"]) == (
        False, True)
    stage = sf.query("SELECT IsActive, IsWon FROM OpportunityStage "
                     "WHERE MasterLabel = 'Closed Won'")["records"][0]
    assert (stage["IsActive"], stage["IsWon"]) == (False, True)  # only IsActive changed
    inactive = sf.session.post(
        f"{emu.instance_url}/services/data/v63.0/sobjects/Opportunity",
        headers={"Authorization": f"Bearer {sf.session_id}"},
        json={"Name": "c", "StageName": "Closed Won", "CloseDate": "2026-01-01"}, timeout=30)
    assert inactive.status_code == 400
    assert inactive.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
