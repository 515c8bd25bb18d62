"""TLS material: a certificate authority kept in the data directory (``ca.pem``) and a server
certificate for ``localhost`` and ``127.0.0.1`` issued from it at each start."""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

import trustme

log = logging.getLogger(__name__)

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"


def load_or_create_ca(data_dir: Path) -> trustme.CA:
    cert_path, key_path = data_dir / CA_FILE, data_dir / CA_KEY_FILE
    if cert_path.exists() and key_path.exists():
        return trustme.CA.from_pem(cert_path.read_bytes(), key_path.read_bytes())
    ca = trustme.CA(organization_name="ml-connector SAP B1 emulator")
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(ca.private_key_pem.bytes())
    cert_path.write_bytes(ca.cert_pem.bytes())
    log.info("created CA %s", cert_path)
    return ca


def server_context(data_dir: Path, host: str) -> ssl.SSLContext:
    """An SSL context for the server, with a certificate the data directory's CA signed."""
    ca = load_or_create_ca(data_dir)
    names = ["localhost", "127.0.0.1"]
    if host not in names and host not in ("0.0.0.0", "::", ""):
        names.append(host)
    leaf = ca.issue_cert(*names)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(ctx)
    return ctx
