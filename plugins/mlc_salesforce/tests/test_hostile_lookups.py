"""Hostile keys in a matcher's batch: one record's key must never sink its neighbours.

A SOQL string in a WHERE clause holds at most 4,000 characters and a query is sent in the URL
of a GET (the emulator, like the org, refuses a request line past 16 KiB): a giant key, or many
keys that grow nine-fold when percent-encoded, made the whole batch's query fail, so every
record of the batch was retried and finally parked for one bad key."""

from __future__ import annotations

from mlc_salesforce.matchers import AccountByNumber
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import context, options_for, plugin_settings

from hub import Record, RecordError


def rec(n, **payload):
    return Record(n, "f", "sapb1.bp", "sapb1", "BP", f"K{n}", "upsert", payload, "h", "ready", 0)


def test_giant_and_wide_keys_do_not_sink_the_batch(tmp_path):
    wide = ["\u6f22" * 39 + chr(0x4E00 + i) for i in range(150)]  # 40 CJK characters each
    seed = {"records": {"Account": [
        {"Name": "Plain", "AccountNumber": "C10"},
        {"Name": "Wide", "AccountNumber": wide[-1]},
        {"Name": "Quote", "AccountNumber": "O'Brien\\ OR Name != ''"},
    ]}}  # fmt: skip
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        emu.admin.seed(seed)
        matcher = AccountByNumber(context(plugin_settings(emu)), options_for(AccountByNumber))
        records = [rec(1, CardCode="C10"), rec(2, CardCode="x" * 20_000),
                   rec(3, CardCode="O'Brien\\ OR Name != ''"),
                   rec(4, CardCode="' OR Name != '"), rec(5, CardCode="\u6f22" * 2000)]  # fmt: skip
        records += [rec(10 + i, CardCode=code) for i, code in enumerate(wide)]
        out = matcher.match_batch(records)
    assert out[0]["AccountId"].startswith("001")
    assert isinstance(out[1], RecordError) and out[1].field == "CardCode"
    assert "too long" in str(out[1]) and "too long" in str(out[4])
    assert isinstance(out[4], RecordError) and out[4].field == "CardCode"
    assert out[2]["AccountId"].startswith("001")  # quotes and operators are data, not SOQL
    assert isinstance(out[3], RecordError) and "no Account" in str(out[3])
    assert out[-1]["AccountId"].startswith("001")
    assert all(isinstance(o, RecordError) for o in out[5:-1])
