"""A Service Layer client nobody here wrote (b1sl-python from PyPI), used without changes:
login, paging through business partners, creating an order, a $batch with a changeset."""

import pytest

b1sl = pytest.importorskip("b1sl.b1sl")

from b1sl.b1sl import B1Client, B1Config  # noqa: E402
from b1sl.b1sl import entities as en  # noqa: E402

from mlc_sapb1_emulator.testing import launch_emulator  # noqa: E402


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = launch_emulator(tmp_path_factory.mktemp("tp"), ["--generate",
                                                       "business_partners=95,items=5"])
    yield e
    e.stop()


@pytest.fixture
def client(emu, monkeypatch):
    # the client verifies TLS with the default store; point that store at the emulator's CA
    monkeypatch.setenv("SSL_CERT_FILE", str(emu.ca_path))
    cfg = B1Config(base_url=emu.base_url.rstrip("/"), username="manager", password="manager",
                   company_db="SBODEMOUS", ssl_verify=True)
    with B1Client(cfg) as c:
        yield c


def test_login_and_page_through_business_partners(emu, client):
    codes = [bp.card_code for bp in client.business_partners.stream()]
    assert codes == [f"C{i:06d}" for i in range(1, 96)]
    first = client.business_partners.list()
    assert len(first) == 20 and first.next_params is not None
    stats = emu.admin_json("GET", "stats")
    assert stats["logins"] >= 1
    assert stats["requests"]["GET BusinessPartners"] >= 5  # 95 rows in pages of 20


def test_create_order_and_batch(emu, client):
    order = client.orders.create(en.Document(
        card_code="C000001", num_at_card="SF-TP-1",
        document_lines=[en.DocumentLine(item_code="I00001", quantity=3)],
    ))
    assert order.doc_entry and order.doc_total == 30.0
    with client.batch() as batch:
        batch.business_partners.by_id("C000002").execute()
        with batch.changeset() as cs:
            cs.orders.create(en.Document(
                card_code="C000002", num_at_card="SF-TP-2",
                document_lines=[en.DocumentLine(item_code="I00002", quantity=1)]))
            cs.business_partners.update("C000002", en.BusinessPartner(phone1="555-1234"))
        results = batch.execute()
    assert results.all_ok, [r.error for r in results.failed]
    sl = emu.session()
    assert sl.get("Orders/$count", params={"$filter": "NumAtCard eq 'SF-TP-2'"}).text == "1"
    assert sl.get("BusinessPartners('C000002')").json()["Phone1"] == "555-1234"
    assert emu.admin_json("GET", "stats")["requests"]["POST $batch"] == 1
