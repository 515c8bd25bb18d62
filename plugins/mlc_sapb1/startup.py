"""Checks a component makes when it opens (start of ``hub run`` / ``hub sync``).

A definite configuration problem stops the hub at once (``ConfigError``, exit 3): refused
credentials, an untrusted certificate, a field the flow names that this company does not have.
A transient failure (the server is down) is only logged: the flow's own retries deal with it.
"""

from __future__ import annotations

import logging

from hub import ConfigError, FatalError, RetriableError

from .client import ServiceLayerClient
from .errors import ServiceLayerError

log = logging.getLogger("hub.plugin.sapb1")


def check_at_start(client: ServiceLayerClient, what: str, entity: str, fields: list[str]) -> None:
    """Log in and select ``fields`` of ``entity`` once; raise ConfigError on a definite problem."""
    try:
        client.session.ticket()
        if fields:
            client.get(entity, {"$select": ",".join(dict.fromkeys(fields)), "$top": 1})
    except FatalError as exc:  # refused login, untrusted certificate
        raise ConfigError(f"plugins.sapb1 ({what}): {exc}") from None
    except ServiceLayerError as exc:
        if exc.status == 400:
            raise ConfigError(
                f"{what}: {entity} fields {', '.join(fields)}: SAP B1 answered {exc.code}: "
                f"{exc.message} (is every field, user-defined ones included, defined on "
                "this company?)"
            ) from None
        log.warning("%s: start-up check of %s failed: %s", what, entity, exc)
    except RetriableError as exc:
        log.warning("%s: SAP B1 not reachable at start-up (%s); the flow will retry", what, exc)
