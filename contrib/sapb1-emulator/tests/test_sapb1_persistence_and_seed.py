"""Seed files (JSON and TOML), the generator, and state surviving a restart."""

import subprocess
import sys

from mlc_sapb1_emulator.testing import SapB1Emulator

SEED_TOML = """
[company]
CompanyDB = "DEMODB1"
UserName = "alice"
Password = "s3cret"

[[UserFieldsMD]]
TableName = "OCRD"
Name = "SFAccountId"
Type = "db_Alpha"
Size = 50

[[BusinessPartners]]
CardCode = "C100"
CardName = "Toml Customer"
CardType = "cCustomer"
U_SFAccountId = "001TOML"

[[Items]]
ItemCode = "A100"
ItemName = "Widget"
ItemPrices = [{PriceList = 1, Price = 9.5}]

[[Orders]]
CardCode = "C100"
NumAtCard = "SF-0001"
DocumentLines = [{ItemCode = "A100", Quantity = 2}]
"""


def test_toml_seed_credentials_and_restart(tmp_path):
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED_TOML)
    emu = SapB1Emulator(tmp_path / "data", ["--seed", str(seed)])
    emu.company, emu.user, emu.password = "DEMODB1", "alice", "s3cret"
    emu.start()
    try:
        sl = emu.session()
        order = sl.get("Orders(1)").json()
        assert order["NumAtCard"] == "SF-0001" and order["DocTotal"] == 19.0
        assert sl.get("BusinessPartners('C100')").json()["U_SFAccountId"] == "001TOML"
        sl.patch("BusinessPartners('C100')", json={"CardName": "Changed before restart"})
        sl.post("Orders", json={"CardCode": "C100", "DocumentLines": [{"ItemCode": "A100"}]})
        ca_before = emu.ca_path.read_bytes()
    finally:
        assert emu.stop() == 0
    assert (tmp_path / "data" / "state.json").exists()
    emu.start()  # same data dir, same --seed: saved state wins, the seed is not re-applied
    try:
        sl = emu.session()
        assert sl.get("BusinessPartners('C100')").json()["CardName"] == "Changed before restart"
        assert sl.get("Orders/$count").text == "2"
        created = sl.post("Orders", json={"CardCode": "C100",
                                          "DocumentLines": [{"ItemCode": "A100"}]}).json()
        assert created["DocEntry"] == 3 and created["DocNum"] == 3  # counters survive too
        assert emu.ca_path.read_bytes() == ca_before  # clients keep trusting the same CA
    finally:
        emu.stop()


def test_generator_flag(sapb1_emulator_factory):
    emu = sapb1_emulator_factory(
        "--generate", "business_partners=500,items=20,orders=10,invoices=6,payments=3")
    counts = emu.admin_json("GET", "stats")["entities"]
    assert counts["BusinessPartners"] == 500 and counts["Items"] == 20
    assert counts["Orders"] == 10 and counts["Invoices"] == 6
    assert counts["IncomingPayments"] == 3
    sl = emu.session()
    closed = sl.get("Invoices/$count", params={"$filter": "DocumentStatus eq 'C'"}).text
    assert closed == "3"


def test_bad_generate_spec_fails_cleanly(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mlc_sapb1_emulator", "--data-dir", str(tmp_path),
                        "--generate", "unicorns=5"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unicorns" in r.stderr
