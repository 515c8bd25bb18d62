"""The fulfilment status an SAP order reports to its opportunity."""

from __future__ import annotations

import pytest
from mlc_sapb1.fulfilment import fulfilment_status


@pytest.mark.parametrize(
    ("order", "delivered", "invoiced", "status"),
    [
        ({"DocumentStatus": "bost_Open", "Cancelled": "tNO"}, 0, False, "open"),
        ({"DocumentStatus": "bost_Open", "Cancelled": "tNO"}, 3, False, "partly delivered"),
        ({"DocumentStatus": "bost_Close", "Cancelled": "tNO"}, 10, False, "delivered"),
        ({"DocumentStatus": "bost_Close", "Cancelled": "tNO"}, 10, True, "invoiced"),
        ({"DocumentStatus": "bost_Close", "Cancelled": "tNO"}, 0, False, "closed"),
        ({"DocumentStatus": "bost_Close", "Cancelled": "tYES"}, 0, False, "cancelled"),
        ({"DocumentStatus": "bost_Close", "Cancelled": "tYES"}, 4, True, "cancelled"),
    ],
)
def test_status(order, delivered, invoiced, status):
    assert fulfilment_status(order, delivered, 10, invoiced) == status


@pytest.mark.parametrize(
    ("doc", "out"),
    [
        ({"Cancelled": "tNO", "CancelStatus": "csNo"}, False),
        ({"Cancelled": "tYES", "CancelStatus": "csYes"}, True),
        ({"Cancelled": "tNO", "CancelStatus": "csCancellation"}, True),  # the cancellation doc
        ({"Cancelled": "N", "CancelStatus": "C"}, True),  # short enumeration forms
        ({"Cancelled": "Y"}, True),
        ({}, False),  # a server without CancelStatus: Cancelled alone decides
    ],
)
def test_cancelled_documents_and_cancellation_documents_do_not_count(doc, out):
    from mlc_sapb1.fulfilment import cancelled

    assert cancelled(doc) is out
