"""describeGlobal, per-object describe, versions and resources."""

from __future__ import annotations

from aiohttp import web

from .catalog import FieldDef, ObjectDef
from .http_common import ORG_KEY, ApiError
from .org_state import CASCADES

VERSIONS = [("Winter '24", "59.0"), ("Spring '24", "60.0"), ("Summer '24", "61.0"),
            ("Winter '25", "62.0"), ("Spring '25", "63.0")]
SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean",
              "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
              "int": "xsd:int", "date": "xsd:date", "datetime": "xsd:dateTime",
              "address": "urn:address"}


def object_urls(version: str, name: str) -> dict:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def global_entry(odef: ObjectDef, version: str) -> dict:
    writable = odef.createable
    return {
        "name": odef.name, "label": odef.label, "labelPlural": odef.label + "s",
        "keyPrefix": odef.key_prefix, "custom": False, "queryable": True,
        "createable": writable, "updateable": writable, "deletable": writable,
        "retrieveable": True, "searchable": True, "triggerable": writable,
        "urls": object_urls(version, odef.name),
    }


def field_describe(fdef: FieldDef) -> dict:
    return {
        "name": fdef.name, "label": fdef.label, "type": fdef.type, "length": fdef.length,
        "soapType": SOAP_TYPES.get(fdef.type, "xsd:string"), "custom": fdef.custom,
        "nillable": not fdef.required and fdef.type not in ("id", "boolean"),
        "createable": fdef.createable, "updateable": fdef.updateable,
        "defaultedOnCreate": fdef.name in ("OwnerId", "CurrencyIsoCode") or not (
            fdef.createable or fdef.updateable),
        "externalId": fdef.external_id, "unique": fdef.unique or fdef.type == "id",
        "idLookup": fdef.type == "id" or fdef.external_id or fdef.unique,
        "filterable": fdef.filterable, "sortable": fdef.filterable,
        "calculated": False, "autoNumber": fdef.name in ("OrderNumber", "DocumentNumber"),
        "referenceTo": [fdef.reference_to] if fdef.reference_to else [],
        "relationshipName": fdef.relationship_name,
        "compoundFieldName": fdef.compound_of,
        "picklistValues": [{"value": v, "label": v, "active": True, "defaultValue": False}
                           for v in fdef.picklist],
        "precision": 18 if fdef.type in ("currency", "double", "percent") else 0,
        "scale": 2 if fdef.type in ("currency", "double", "percent") else 0,
    }


def object_describe(odef: ObjectDef, version: str) -> dict:
    out = global_entry(odef, version)
    out["fields"] = [field_describe(f) for f in odef.fields.values()]
    cascades = set(CASCADES.get(odef.name, ()))
    out["childRelationships"] = [
        {"childSObject": child, "field": fname, "relationshipName": rel,
         "cascadeDelete": (child, fname) in cascades}
        for rel, (child, fname) in odef.child_relationships.items()]
    out["recordTypeInfos"] = []
    return out


def require_object(request: web.Request) -> ObjectDef:
    odef = request.app[ORG_KEY].object_def(request.match_info["type"])
    if odef is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return odef


async def versions(request: web.Request) -> web.Response:
    return web.json_response([{"label": label, "url": f"/services/data/v{v}", "version": v}
                              for label, v in VERSIONS])


async def resources(request: web.Request) -> web.Response:
    base = f"/services/data/v{request['version']}"
    names = ["sobjects", "query", "queryAll", "limits", "composite"]
    return web.json_response({n: f"{base}/{n}" for n in names})


async def describe_global(request: web.Request) -> web.Response:
    org = request.app[ORG_KEY]
    return web.json_response({
        "encoding": "UTF-8", "maxBatchSize": 200,
        "sobjects": [global_entry(o, request["version"]) for o in org.catalog.values()],
    })


async def describe_object(request: web.Request) -> web.Response:
    return web.json_response(object_describe(require_object(request), request["version"]))


async def object_info(request: web.Request) -> web.Response:
    odef = require_object(request)
    return web.json_response({"objectDescribe": global_entry(odef, request["version"]),
                              "recentItems": []})


async def limits(request: web.Request) -> web.Response:
    org = request.app[ORG_KEY]
    limit = org.profile.daily_api_limit
    return web.json_response({
        "DailyApiRequests": {"Max": limit, "Remaining": org.usage.remaining()},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "DataStorageMB": {"Max": 5, "Remaining": 5},
        "HourlyPublishedStandardVolumePlatformEvents": {"Max": 250000, "Remaining": 250000},
        "MonthlyPlatformEventsUsageEntitlement": {"Max": 1500000, "Remaining": 1500000},
    })
