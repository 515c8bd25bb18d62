"""``/healthz``, ``/readyz`` and ``/metrics`` on the hub's listener (``hub run``)."""

from __future__ import annotations

import logging
from typing import Any

from ..components import Check
from ..listener import HttpRequest, HttpResponse, Route
from ..secrets import redact_text
from .hookcalls import impls, plugin_args
from .metrics import CONTENT_TYPE, HubCollector, RequestTally, exposition

log = logging.getLogger(__name__)


def readiness(hub: Any, engine: Any | None) -> list[str]:
    """Reasons the hub is not ready (empty when it is): the store does not answer, a flow
    stopped, or a plugin reports its session or token unusable."""
    reasons: list[str] = []
    try:
        hub.store.schema_version()
    except Exception as exc:
        reasons.append(f"store: does not answer ({type(exc).__name__})")
    for name, st in engine.flows.items() if engine else ():
        if st.stopped:
            reasons.append(f"flow {name}: stopped: {st.stopped}")
    for plugin, fn in impls(hub.host, "hub_readiness"):
        try:
            checks = list(fn(**plugin_args(hub, plugin)) or [])
        except Exception as exc:
            checks = [Check("readiness", False, f"{type(exc).__name__}: {exc}")]
        reasons += [f"{plugin} {c.name}: {c.detail or 'not ready'}" for c in checks if not c.ok]
    return [redact_text(r) for r in reasons]  # a server's error text may quote a credential


def health_routes(hub: Any, engine: Any | None, requests: RequestTally) -> list[Route]:
    collector = HubCollector(hub, engine, requests)

    def healthz(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, {"status": "ok"})

    def readyz(req: HttpRequest) -> HttpResponse:
        reasons = readiness(hub, engine)
        if reasons:
            return HttpResponse(503, {"ready": False, "reasons": reasons})
        return HttpResponse(200, {"ready": True, "reasons": []})

    def metrics(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, exposition(collector), {"Content-Type": CONTENT_TYPE})

    return [
        Route("hub", "GET", "/healthz", healthz),
        Route("hub", "GET", "/readyz", readyz),
        Route("hub", "GET", "/metrics", metrics),
    ]
