"""``hub demo`` shows the reference-data flows too, and still finishes within a minute."""

from __future__ import annotations

import subprocess
import sys
import time


def test_hub_demo_shows_products_price_books_partners_contacts_and_fulfilment(tmp_path):
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    elapsed = time.monotonic() - t0
    out = res.stdout
    assert res.returncode == 0, out + res.stderr
    assert elapsed < 60, elapsed
    assert "Flows converged" in out
    section = out[out.index("SAP B1 items -> Salesforce products and price books") :]
    impl = next(ln for ln in section.splitlines() if ln.startswith("IMPL-PKG"))
    assert "Partner EUR 12,420.00" in impl and "Standard USD 15,000.00" in impl
    assert "SRV-SERVICES  created" in section
    assert "Harbor Clinics  created from the SAP business partner" in section
    ingrid = next(ln for ln in section.splitlines() if ln.startswith("Ingrid Nilsen"))
    assert "Finance Manager" in ingrid and "SAP -> Salesforce contact" in ingrid
    dana = next(ln for ln in section.splitlines() if "Salesforce -> SAP (C1001)" in ln)
    assert "Head of Procurement" in dana  # the job title travelled both ways
    xeno = next(ln for ln in section.splitlines() if ln.startswith("Xeno Robotics: operator"))
    assert "delivered" in xeno and "1Z999AA10123456784" in xeno
    assert "Parked (2)" in out  # the reference data parks nothing of its own
    print(f"hub demo: {elapsed:.1f}s")
