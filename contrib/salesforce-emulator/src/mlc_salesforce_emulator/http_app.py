"""The aiohttp application: OAuth, REST under ``/services/data``, admin under ``/emulator``."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from aiohttp import web

from . import oauth_routes, rest_collections, rest_describe, rest_records
from .admin_routes import DATA_DIR_KEY, add_admin_routes
from .http_common import ORG_KEY, api_middleware
from .oauth_routes import ENDPOINTS_KEY
from .rest_records import CURSORS_KEY

V = "/services/data/v{version:\\d+\\.\\d}"


def _both(router: web.UrlDispatcher, method: str, path: str, handler) -> None:
    """Register ``path`` with and without a trailing slash."""
    router.add_route(method, path, handler)
    router.add_route(method, path + "/", handler)


def build_app(org, data_dir: Path, endpoints: dict) -> web.Application:
    # request lines up to 16 KiB, as a real org accepts for long GET queries
    app = web.Application(middlewares=[api_middleware], client_max_size=32 * 1024 * 1024,
                          handler_args={"max_line_size": 16384, "max_field_size": 16384})
    app[ORG_KEY] = org
    app[CURSORS_KEY] = OrderedDict()
    app[DATA_DIR_KEY] = data_dir
    app[ENDPOINTS_KEY] = endpoints
    r = app.router
    r.add_post("/services/oauth2/token", oauth_routes.token)
    r.add_post("/services/oauth2/introspect", oauth_routes.introspect)
    r.add_post("/services/oauth2/revoke", oauth_routes.revoke)
    _both(r, "GET", "/services/data", rest_describe.versions)
    r.add_get(V, rest_describe.resources)
    r.add_get(V + "/", rest_describe.resources)
    _both(r, "GET", V + "/limits", rest_describe.limits)
    _both(r, "GET", V + "/sobjects", rest_describe.describe_global)
    _both(r, "GET", V + "/sobjects/{type}/describe", rest_describe.describe_object)
    _both(r, "GET", V + "/sobjects/{type}", rest_describe.object_info)
    _both(r, "POST", V + "/sobjects/{type}", rest_records.create_record)
    _both(r, "GET", V + "/sobjects/{type}/updated", rest_records.updated_records)
    _both(r, "GET", V + "/sobjects/{type}/deleted", rest_records.deleted_records)
    _both(r, "GET", V + "/sobjects/{type}/{id}", rest_records.get_record)
    _both(r, "PATCH", V + "/sobjects/{type}/{id}", rest_records.update_record)
    _both(r, "DELETE", V + "/sobjects/{type}/{id}", rest_records.delete_record)
    _both(r, "GET", V + "/sobjects/{type}/{field}/{value}", rest_records.get_by_external_id)
    _both(r, "PATCH", V + "/sobjects/{type}/{field}/{value}", rest_records.upsert_record)
    _both(r, "GET", V + "/query", rest_records.query)
    _both(r, "GET", V + "/queryAll", rest_records.query_all)
    _both(r, "GET", V + "/query/{locator}", rest_records.query_more)
    _both(r, "GET", V + "/queryAll/{locator}", rest_records.query_more)
    _both(r, "POST", V + "/composite/sobjects", rest_collections.create_records)
    _both(r, "PATCH", V + "/composite/sobjects", rest_collections.update_records)
    _both(r, "DELETE", V + "/composite/sobjects", rest_collections.delete_records)
    _both(r, "PATCH", V + "/composite/sobjects/{type}/{field}", rest_collections.upsert_records)
    add_admin_routes(app)
    return app
