"""Through the hub: a record parked by `hub sync` reaches the SMTP server as an alert mail."""

from __future__ import annotations

import os
import subprocess
import sys

from cryptography.fernet import Fernet
from smtp_testing import PASSWORD

from hub.vault import write_key_file


def test_a_parked_record_arrives_as_a_mail(smtp, ca_file, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_key_file(data / "vault.key", Fernet.generate_key())
    config = tmp_path / "hub.toml"
    config.write_text(f"""
[hub]
data_dir = "{data}"
[plugins.demo]
enabled = true
[plugins.email-notify]
enabled = true
host = "127.0.0.1"
port = {smtp.port}
username = "hub@example.com"
password = {{env = "SMTP_PASSWORD"}}
ca_bundle = "{ca_file}"
sender = "hub@example.com"
recipients = ["ops@example.com"]
[flows.orders]
source = "demo.generator"
matcher = "demo.customer_lookup"
sink = "demo.directory"
[flows.orders.source_options]
count = 10
unknown_every = 10
[flows.orders.sink_options]
path = "{tmp_path / "out"}"
""")
    env = {**os.environ, "HUB_CONFIG": str(config), "SMTP_PASSWORD": PASSWORD}
    env.pop("HUB_STORE_URL", None)
    res = subprocess.run([sys.executable, "-m", "hub", "sync", "orders"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 4, res.stderr  # one record parked
    mail = smtp.wait_for(1)[0].message
    assert mail["Subject"] == "[ml-connector] orders: record ORD-0000010 parked"
    assert "no account for customer 'C9999'" in mail.get_content()
    assert PASSWORD not in res.stdout + res.stderr
