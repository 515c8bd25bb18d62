"""What the reconcilers of this plugin share: the two systems and the flows' mappings."""

from __future__ import annotations

from typing import Any

from hub import Reconciler

from .systems import Systems


class SapSalesforceReconciler(Reconciler):
    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._systems: Systems | None = None

    @property
    def systems(self) -> Systems:
        if self._systems is None:
            self._systems = Systems(self.context)
        return self._systems

    def mapping(self, flow: Any) -> Any:
        """The flow's own mapping, bound to its sink (nothing is opened or called)."""
        return self.context.flow_parts(flow.name).mapping

    def close(self) -> None:
        if self._systems is not None:
            self._systems.close()
