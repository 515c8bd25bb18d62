"""Service Layer errors, answered in the v2 shape
``{"error": {"code": "...", "message": "..."}}``."""

from __future__ import annotations


class ServiceLayerError(Exception):
    """An error the Service Layer answers with an HTTP status and a v2 error body."""

    def __init__(self, status: int, code: str | int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message

    def body(self) -> dict:
        """The v2 error body; real servers add an (empty) ``details`` entry."""
        return {"error": {"code": self.code, "message": self.message,
                          "details": [{"code": "", "message": ""}]}}


def invalid_session() -> ServiceLayerError:
    return ServiceLayerError(401, "301", "Invalid session or session already timeout.")


def not_found() -> ServiceLayerError:
    """A read of a missing key."""
    return ServiceLayerError(404, "-2028", "No matching records found (ODBC -2028)")


def entity_missing(key_literal: str) -> ServiceLayerError:
    """A write (PATCH, PUT, DELETE, action) to a missing key: another text than a read's."""
    return ServiceLayerError(404, "-2028", f"Entity with value({key_literal}) does not exist")


def bad_request(message: str, code: str | int = "-1000") -> ServiceLayerError:
    return ServiceLayerError(400, code, message)


def business_error(message: str) -> ServiceLayerError:
    return ServiceLayerError(400, "-10", message)


def stale_etag() -> ServiceLayerError:
    return ServiceLayerError(412, "-2039", "Another user or another operation modified data")


def invalid_property(prop: str, type_name: str) -> ServiceLayerError:
    return bad_request(f"Property '{prop}' of '{type_name}' is invalid")


def invalid_value(prop: str, type_name: str) -> ServiceLayerError:
    return bad_request(f"Value of property '{prop}' of '{type_name}' is invalid")


def invalid_filter() -> ServiceLayerError:
    """A ``$filter`` that does not parse or compares a property with a wrong value."""
    return bad_request("Query string error - Invalid filter condition", "201")


def invalid_query_property(prop: str) -> ServiceLayerError:
    """An unknown property in ``$filter``, ``$select`` or ``$orderby`` (code 201, as recorded)."""
    return bad_request(f"Property '{prop}' is invalid", "201")
