"""A hub installation wired to an emulator, driven through the `hub` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from hub.vault import write_key_file


class SapHub:
    def __init__(
        self, root: Path, emu, flows: str = "", hub_extra: str = "", plugin_extra: str = ""
    ):
        self.root, self.emu = root, emu
        self.config = root / "hub.toml"
        data = root / "data"
        write_key_file(data / "vault.key", Fernet.generate_key())
        self.config.write_text(
            f"""
[hub]
data_dir = "{data}"
{hub_extra}

[plugins.demo]
enabled = true

[plugins.sapb1]
enabled = true
service_layer_url = "{emu.base_url}"
company_db = "{emu.company}"
username = "{emu.user}"
password = {{env = "SAP_TEST_PASSWORD"}}
ca_bundle = "{emu.ca_path}"
{plugin_extra}

{flows}
"""
        )

    def env(self, **extra):
        tests = str(Path(__file__).parent.parent)
        env = dict(os.environ, HUB_CONFIG=str(self.config), SAP_TEST_PASSWORD=self.emu.password)
        env.pop("HUB_STORE_URL", None)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (tests, env.get("PYTHONPATH")) if p)
        return env | extra

    def run(self, *args, timeout=120, **extra):
        return subprocess.run(
            [sys.executable, "-m", "hub", *args], capture_output=True, text=True,
            env=self.env(**extra), timeout=timeout, cwd=self.root,
        )  # fmt: skip

    def popen(self, *args, **extra):
        return subprocess.Popen(
            [sys.executable, "-m", "hub", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=self.env(**extra), cwd=self.root,
        )  # fmt: skip
