"""Hook implementations of the ``drift`` plugin: its reconcilers for ``hub reconcile``."""

from __future__ import annotations

from hub import hookimpl

from .accounts import AccountsReconciler
from .invoices import InvoicesReconciler
from .orders import OrdersReconciler


@hookimpl
def hub_register_reconcilers(registry):
    registry.add(AccountsReconciler)
    registry.add(OrdersReconciler)
    registry.add(InvoicesReconciler)
