"""The daily digest of email-notify reads its figures from the store and goes out once a day
across processes: two notifiers on one store send one digest with the totals of both."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime

import pytest
from mlc_email_notify.config import MailConfig
from mlc_email_notify.notifier import MailNotifier
from ops_env import close_hubs, vault_key, write_ops_config

from hub.ops import digest

MAIL = {"host": "smtp.example.com", "sender": "hub@example.com",
        "recipients": ["ops@example.com"], "port": 587, "tls": "starttls", "max_per_hour": 12,
        "digest": True, "timeout": 5.0}  # fmt: skip


@pytest.fixture(autouse=True)
def _detach():
    yield
    digest.attach(None)
    close_hubs()


def notifier(mails: list, clock, hour: int) -> MailNotifier:
    def send(config, message):
        mails.append(message)

    cfg = MailConfig.from_settings({**MAIL, "digest_hour": hour})
    return MailNotifier(cfg, clock=clock, send=send, start=False,
                        ledger=lambda: digest.ledger("email-notify"))  # fmt: skip


def test_two_notifiers_on_one_store_send_one_digest_with_the_totals_of_both(hubenv):
    vault_key(hubenv)
    # two hub processes on one store: each syncs its own records
    hubenv.write_changes([{"id": f"A{i}", "payload": {}} for i in range(5)])
    write_ops_config(hubenv, script={"A3": ["park:Amount"]})
    assert hubenv.run("sync", "things").returncode == 4  # A3 parked
    hubenv.write_changes([{"id": f"B{i}", "payload": {}} for i in range(3)], append=True)
    assert hubenv.run("sync", "things").returncode == 0

    hub = hubenv.load_hub()
    digest.attach(hub)  # as hub run does
    # a digest hour half a day away, so the day before it holds both syncs
    hour = (datetime.now(UTC).hour + 12) % 24
    now = [time.time()]
    mails: list = []
    first, second = notifier(mails, lambda: now[0], hour), notifier(mails, lambda: now[0], hour)
    assert first.digest_due == second.digest_due
    now[0] = first.digest_due + 5
    ticks = [threading.Thread(target=n.tick) for n in (first, second)]
    for t in ticks:
        t.start()
    for t in ticks:
        t.join(30)
    for n in (first, second):
        n._outbox and n._deliver(*n._outbox.popleft())  # the mail thread's one step
    assert len(mails) == 1, [m["Subject"] for m in mails]
    (mail,) = mails
    assert mail["Subject"] == "[ml-connector] daily digest: 7 things written, 1 parked; 0 drift"
    body = mail.get_content()
    assert "every hub process on the store" in body
    assert "- things: 7 written, 1 parked, 0 failed attempts" in body
    assert "- drift: no hub reconcile in this period" in body

    # the next day: again one digest, again from whichever process claims the day first
    now[0] = first.digest_due + 5
    second.tick()
    first.tick()
    for n in (first, second):
        while n._outbox:
            n._deliver(*n._outbox.popleft())
    assert len(mails) == 2
    assert mails[1]["Subject"] == "[ml-connector] daily digest: nothing synced; 0 drift"


def test_without_the_store_the_digest_sums_up_this_process(hubenv):
    mails: list = []
    now = [time.time()]
    n = notifier(mails, lambda: now[0], (datetime.now(UTC).hour + 12) % 24)
    n.note_written("orders")
    n.note_written("orders")
    now[0] = n.digest_due + 1
    n.tick()
    n._deliver(*n._outbox.popleft())
    assert mails[0]["Subject"] == "[ml-connector] daily digest: 2 orders written, 0 parked; 0 drift"


CLAIM_DAYS = textwrap.dedent(
    """
    import json, os, sys, time
    from hub import config
    from hub.app import Hub
    from hub.ops import digest
    hub = Hub(config.load(os.environ["HUB_CONFIG"], required=True))
    hub.load_plugins()
    digest.attach(hub)  # as hub run does
    start, days = float(sys.argv[1]), sys.argv[2:]
    won = []
    for n, day in enumerate(days):  # each day claimed by every process at one moment
        time.sleep(max(0.0, start + n * 0.3 - time.time()))
        if digest.ledger("email-notify").claim(day):
            won.append(day)
    print(json.dumps(won))
    hub.close()
    """
)


def test_hub_processes_at_the_day_boundary_claim_each_day_once(hubenv):
    """Three OS processes on one store ask for the same day's digest at the same moment, day
    after day: each day is claimed by exactly one of them."""
    vault_key(hubenv)
    hubenv.write_changes([])
    write_ops_config(hubenv)
    days = [f"2026-12-{d:02d}" for d in range(1, 7)]
    start = time.time() + 2.5  # after every process has imported and opened the store
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM_DAYS, str(start), *days],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=hubenv.env(),
        )  # fmt: skip
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-800:] for _, err in outs]
    claimed = [day for out, _ in outs for day in json.loads(out.strip().splitlines()[-1])]
    assert sorted(claimed) == days  # each day once, none twice, none lost
