"""Admin API inspection, seed files on start, the generator CLI, the click command, idle streams."""

import json
import subprocess
import sys

import click

from mlc_salesforce_emulator.testing import stop_emulator

from sfemu_helpers import ca_session
from sfemu_pubsub_client import PubSubClient


def test_click_command_object():
    from mlc_salesforce_emulator.cli import salesforce

    assert isinstance(salesforce, click.Command) and salesforce.name == "salesforce"
    names = {p.name for p in salesforce.params}
    assert {"port", "grpc_port", "data_dir", "seed_file", "edition", "host",
            "plain_http"} <= names


def test_generator_cli_and_seed_file_on_start(salesforce_emulator_factory, tmp_path):
    seed = tmp_path / "seed.json"
    subprocess.run([sys.executable, "-m", "mlc_salesforce_emulator.seed_generator",
                    "--accounts", "12", "--products", "3", "--out", str(seed)], check=True)
    doc = json.loads(seed.read_text())
    assert len(doc["records"]["Account"]) == 12
    data_dir = tmp_path / "seeded"
    emu = salesforce_emulator_factory("--seed", str(seed), data_dir=data_dir)
    status = emu.admin.get("/emulator/status")
    assert status["records"]["Account"] == 12 and status["records"]["Opportunity"] == 12
    assert status["records"]["OpportunityLineItem"] == 24
    rows = emu.admin.get("/emulator/records/Account")
    assert rows["totalSize"] == 12 and rows["records"][0]["SAP_CardCode__c"] == "C020000"
    one = emu.admin.get(f"/emulator/records/Account/{rows['records'][0]['Id']}")
    assert one["Name"] == "Customer 000000"
    assert emu.admin.stats()["events_published"] == {}  # seeding publishes no events
    stop_emulator(emu.process)
    again = salesforce_emulator_factory("--seed", str(seed), data_dir=data_dir)
    assert again.admin.get("/emulator/status")["records"]["Account"] == 12  # not seeded twice


def test_stats_count_routes_and_events(salesforce_emulator_factory):
    emu = salesforce_emulator_factory()
    session = ca_session(emu)
    headers = {"Authorization": f"Bearer {emu.access_token()}"}
    base = emu.instance_url + "/services/data/v63.0/"
    rid = session.post(base + "sobjects/Account", json={"Name": "s"}, headers=headers).json()["id"]
    session.get(base + f"sobjects/Account/{rid}", headers=headers)
    session.get(base + "query", params={"q": "SELECT Id FROM Account"}, headers=headers)
    stats = emu.admin.stats()
    assert stats["api_calls"]["by_route"] == {"POST /sobjects/{type}": 1,
                                              "GET /sobjects/{type}/{id}": 1, "GET /query": 1}
    assert stats["api_calls"]["total"] == 3 and stats["tokens_issued"] == 1
    assert stats["events_published"] == {"/data/AccountChangeEvent": 1, "/data/ChangeEvents": 1}
    emu.admin.post("/emulator/stats/reset")
    assert emu.admin.stats()["api_calls"]["total"] == 0
    prof = emu.admin.profile(cdc_objects=["Opportunity"])
    assert prof["cdc_objects"] == ["Opportunity"]
    session.post(base + "sobjects/Account", json={"Name": "t"}, headers=headers)
    assert emu.admin.stats()["events_published"]["/data/AccountChangeEvent"] == 1


def test_stream_with_nothing_requested_closes_when_idle(stubs, salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--idle-stream-timeout", "1.5")
    client = PubSubClient(*stubs, emu)
    sub = client.subscribe("/data/AccountChangeEvent", num_requested=0)
    error = sub.wait_end(timeout=15)
    assert error is None  # the server ended the stream cleanly
    sub.close()
    busy = client.subscribe("/data/AccountChangeEvent", num_requested=1)
    for _ in range(3):  # stays open while something is requested
        assert busy.next_response().events == []
    busy.close()
    client.close()


def test_shipped_stubs_coexist_with_a_clients_own_stubs(stubs):
    """The emulator's eventbus.v1 types live in a private descriptor pool: loading them in a
    process that already has another copy (a hub plugin's stubs) must not clash."""
    from mlc_salesforce_emulator.proto import pubsub_api_pb2 as shipped

    client_pb, _ = stubs
    wire = shipped.FetchRequest(topic_name="/data/AccountChangeEvent", num_requested=7,
                                replay_preset=shipped.CUSTOM).SerializeToString()
    parsed = client_pb.FetchRequest.FromString(wire)
    assert parsed.num_requested == 7 and parsed.replay_preset == client_pb.CUSTOM


def test_plugin_mounts_the_command_through_the_hub_hook(monkeypatch):
    """plugin.py needs only ``hub.hookimpl``; a stand-in module proves the contract."""
    import importlib
    import importlib.metadata
    import types

    fake_hub = types.ModuleType("hub")
    fake_hub.hookimpl = lambda fn: fn
    monkeypatch.setitem(sys.modules, "hub", fake_hub)
    monkeypatch.delitem(sys.modules, "mlc_salesforce_emulator.plugin", raising=False)
    plugin = importlib.import_module("mlc_salesforce_emulator.plugin")
    from mlc_salesforce_emulator.cli import salesforce

    assert plugin.hub_emulator_commands() == [salesforce]
    try:
        dist = importlib.metadata.distribution("ml-connector-salesforce-emulator")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree only
        return
    found = {ep.name: ep.value for ep in dist.entry_points if ep.group == "ml_connector.plugins"}
    assert found == {"salesforce-emulator": "mlc_salesforce_emulator.plugin"}


def test_plain_http_mode_and_edition(salesforce_emulator_factory, stubs):
    import grpc
    import requests

    emu = salesforce_emulator_factory("--plain-http", "--edition", "Unlimited")
    assert emu.instance_url.startswith("http://") and emu.ca_path is None
    token = emu.token()
    session = requests.Session()
    session.trust_env = False
    limits = session.get(emu.instance_url + "/services/data/v63.0/limits",
                         headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert limits["DailyApiRequests"]["Max"] == 100000
    pb, pb_grpc = stubs
    with grpc.insecure_channel(emu.grpc_target) as channel:
        info = pb_grpc.PubSubStub(channel).GetTopic(
            pb.TopicRequest(topic_name="/data/OrderChangeEvent"), timeout=10, metadata=(
                ("accesstoken", token["access_token"]), ("instanceurl", emu.instance_url),
                ("tenantid", emu.org_id)))
    assert info.schema_id and info.can_subscribe
