"""Faults a real landscape was recorded producing, switched on through the admin API:
concurrent logins failing with 299 and a node whose reads fail with 407."""

from concurrent.futures import ThreadPoolExecutor

CREDS = {"CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "manager"}


def test_logins_beyond_the_concurrency_limit_fail_with_299(sapb1_emulator_factory):
    emu = sapb1_emulator_factory("--login-delay", "3")
    emu.admin_json("POST", "config", {"max_concurrent_logins": 2})

    def login(_):
        with emu.client() as c:
            r = c.post("Login", json=CREDS)
            return r.status_code, r.json()

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(login, range(5)))
    ok = [a for a in answers if a[0] == 200]
    failed = [a for a in answers if a[0] != 200]
    assert len(ok) == 2 and len(failed) == 3, answers
    for status, body in failed:
        assert status == 500
        assert (body["error"]["code"], body["error"]["message"]) == ("299", "SAML Login Failed")
    emu.admin_json("POST", "config", {"max_concurrent_logins": None, "login_delay": 0})
    with ThreadPoolExecutor(5) as pool:
        assert {a[0] for a in pool.map(login, range(5))} == {200}


def test_a_broken_node_answers_reads_with_407(sapb1_emulator_factory):
    emu = sapb1_emulator_factory()
    emu.admin_json("POST", "config", {"nodes": 3, "broken_nodes": [2]})
    results = []
    for _ in range(3):
        c = emu.client()
        r = c.post("Login", json=CREDS)
        assert r.status_code == 200  # logging in works on every node
        results.append((c.cookies.get("ROUTEID"), c.get("Items")))
    assert [route for route, _ in results] == [".node1", ".node2", ".node3"]
    broken = results[1][1]
    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == "407"
    assert broken.json()["error"]["message"] == "Table definition not found for '@ZZVF_T'."
    assert results[0][1].status_code == 200 and results[2][1].status_code == 200
    assert emu.admin("POST", "config", {"broken_nodes": "2"}).status_code == 400
