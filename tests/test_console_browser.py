"""The web console in a real browser (headless Chromium from the distribution's packages):
sign in, find a parked record, fix its cause, replay it, see it done; a page of another site
that posts a replay to the console changes nothing.

Set HUB_CONSOLE_SCREENSHOTS=DIR to keep screenshots of the console (the README's come from it).
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hubtesting import wait_for
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from hub.vault import write_key_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Chromium and its driver: apt-get install chromium chromium-driver",
)
PASSWORD = "browser-test-password-1"
TESTS = Path(__file__).parent


class RunningHub:
    """`hub run` with the demo flow and the listener on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        data = root / "data"
        data.mkdir()
        write_key_file(data / "vault.key", Fernet.generate_key())
        self.table = root / "customers.csv"
        self.table.write_text("customer,account\n" + "".join(
            f"C{i:04d},A-{i:04d}\n" for i in range(1, 6)))  # fmt: skip
        self.config = root / "hub.toml"
        self.config.write_text(f"""
[hub]
data_dir = "{data}"
listen = "127.0.0.1:0"
[plugins.demo]
enabled = true
[flows.orders]
source = "demo.generator"
matcher = "demo.customer_lookup"
mapping = "demo.order"
sink = "demo.directory"
poll_interval = 0.5
[flows.orders.source_options]
count = 20
unknown_every = 10
[flows.orders.matcher_options]
table = "{self.table}"
[flows.orders.sink_options]
path = "{root / "out"}"
""")
        self.env = {**os.environ, "HUB_CONFIG": str(self.config)}
        self.env.pop("HUB_STORE_URL", None)
        self.hub("console", "set-password", "ada", "--role", "admin", "--stdin", input=PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"], env=self.env, cwd=root,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.log: list[str] = []
        self._port = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self._port.wait(30):
            self.stop()
            raise AssertionError("hub run did not start listening:\n" + "".join(self.log))

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if m:
                self.url = m.group(1)
                self._port.set()

    def hub(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        res = subprocess.run([sys.executable, "-m", "hub", *args], env=self.env, cwd=self.root,
                             input=input, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert res.returncode == 0, res.stderr
        return res

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def running(tmp_path):
    hub = RunningHub(tmp_path)
    yield hub
    hub.stop()


@pytest.fixture
def browser(tmp_path):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chromium'}"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.fixture
def other_site():
    """A page of another site that posts a replay of records 10 and 20 to the console."""
    target = {}

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = (
                f'<form id="f" method="post" action="{target["url"]}/replay">'
                '<input name="id" value="10"><input name="id" value="20"></form>'
                "<script>document.getElementById('f').submit()</script>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield target, f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def shot(driver, name: str) -> None:
    folder = os.environ.get("HUB_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"console-{name}.png"))


def statuses(running: RunningHub) -> dict[str, int]:
    import json

    flows = json.loads(running.hub("status", "--json").stdout)["flows"]
    return flows[0]["records"] if flows else {}


def timeline_steps(driver) -> list[str]:
    return [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#timeline td:nth-child(2)")]


def test_sign_in_find_replay_and_see_it_done(running, browser, other_site):
    # the page re-renders its tables every few seconds: an element found just before may be
    # replaced; waits retry instead of failing on that
    retried = (NoSuchElementException, StaleElementReferenceException)
    wait = WebDriverWait(browser, 30, ignored_exceptions=retried)

    def click(by, value):
        def attempt(d):
            d.find_element(by, value).click()
            return True

        wait.until(attempt)

    wait_for(lambda: statuses(running).get("parked") == 2, timeout=30, what="2 parked orders")
    browser.get(running.url + "/")
    assert browser.current_url.endswith("/login")
    browser.find_element(By.ID, "user").send_keys("ada")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#parked-body tr")) == 2)
    shot(browser, "overview")

    # another site's page posts a replay with the signed-in browser: refused, nothing changes
    target, evil_url = other_site
    target["url"] = running.url
    browser.get(evil_url)
    wait.until(lambda d: d.current_url == running.url + "/replay")  # the form was posted
    # the SameSite=Strict cookie stays home; were it sent, the origin check would refuse
    assert "sign in first" in browser.page_source or "Refused" in browser.page_source
    assert statuses(running).get("parked") == 2

    # find the parked record: search and filter by flow
    browser.get(running.url + "/")
    browser.find_element(By.ID, "search").send_keys("C9999")
    Select(browser.find_element(By.ID, "flow-filter")).select_by_value("orders")
    browser.find_element(By.ID, "apply-filter").click()
    wait.until(lambda d: "q=C9999" in d.current_url and "flow=orders" in d.current_url)
    texts = wait.until(
        lambda d: [r.text for r in d.find_elements(By.CSS_SELECTOR, "#parked-body tr")]
    )
    assert len(texts) == 2 and "no account for customer 'C9999'" in texts[0]
    click(By.CSS_SELECTOR, "#parked-body tr:last-child a")
    wait.until(lambda d: d.find_element(By.ID, "record-status").text == "parked")
    steps = wait.until(timeline_steps)
    assert steps[0] == "received" and steps[-1] == "parked"
    shot(browser, "record")

    # the operator fixes the customer table, then replays the record and sees it done
    with running.table.open("a") as fh:
        fh.write("C9999,A-9999\n")
    click(By.ID, "replay-one")
    wait.until(lambda d: d.find_element(By.ID, "record-status").text == "done")
    steps = wait.until(timeline_steps)
    assert "replayed" in steps and steps[-1] == "written"

    # and the other one from the list, live-updated without reloading
    browser.get(running.url + "/")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#parked-body tr")) == 1)
    click(By.CSS_SELECTOR, "#parked-body input[type=checkbox]")
    click(By.ID, "replay-selected")
    flash = wait.until(lambda d: d.find_element(By.ID, "flash").text)
    assert flash == "1 record(s) queued for replay"
    done = 'td[data-status="done"]'
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"#flows-body {done}").text == "20")
    assert browser.find_element(By.ID, "parked-count").text == "0"
    shot(browser, "done")
