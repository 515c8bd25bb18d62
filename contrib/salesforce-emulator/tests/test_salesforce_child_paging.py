"""Child subqueries page on their own past the org's child page size."""

from sfemu_helpers import make_sf


def test_long_child_results_page_with_their_own_next_records_url(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--child-page-size", "3")
    sf = make_sf(emu)
    book = sf.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true")["records"][0]["Id"]
    prod = sf.Product2.create({"Name": "Widget"})["id"]
    entry = sf.PricebookEntry.create({"Pricebook2Id": book, "Product2Id": prod,
                                      "UnitPrice": 5, "IsActive": True})["id"]
    opps = {}
    for name, lines in (("long", 7), ("short", 3)):
        opps[name] = sf.Opportunity.create({"Name": name, "StageName": "Prospecting",
                                            "CloseDate": "2026-01-01"})["id"]
        for n in range(lines):
            sf.OpportunityLineItem.create({"OpportunityId": opps[name], "PricebookEntryId": entry,
                                           "Quantity": n + 1, "UnitPrice": 5})
    result = sf.query("SELECT Name, (SELECT Quantity FROM OpportunityLineItems ORDER BY Quantity) "
                      "FROM Opportunity ORDER BY Name")
    assert result["done"] is True  # the parent query itself fits one page
    long, short = result["records"]
    assert short["OpportunityLineItems"]["done"] is True
    assert "nextRecordsUrl" not in short["OpportunityLineItems"]
    child = long["OpportunityLineItems"]
    assert (child["totalSize"], child["done"], len(child["records"])) == (7, False, 3)
    assert child["nextRecordsUrl"].startswith("/services/data/v63.0/query/01g")
    quantities = [r["Quantity"] for r in child["records"]]
    while not child["done"]:
        child = sf.query_more(child["nextRecordsUrl"], identifier_is_url=True)
        quantities += [r["Quantity"] for r in child["records"]]
    assert quantities == [1, 2, 3, 4, 5, 6, 7]
