"""Hook implementations of the ``drift`` plugin: its reconcilers for ``hub reconcile``."""

from __future__ import annotations

from hub import hookimpl


@hookimpl
def hub_register_reconcilers(registry):
    # imported here: they pull in both systems' clients, which only a drift report needs
    from .accounts import AccountsReconciler
    from .invoices import InvoicesReconciler
    from .orders import OrdersReconciler

    registry.add(AccountsReconciler)
    registry.add(OrdersReconciler)
    registry.add(InvoicesReconciler)
