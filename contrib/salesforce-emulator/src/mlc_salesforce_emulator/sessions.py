"""Connected apps, access tokens and their lifetime against the emulator clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .org_state import OrgState

ID_URL = "https://login.salesforce.com/id/{org}/{user}"
# the host of the newer Salesforce platform APIs, sent alongside instance_url; REST and
# Pub/Sub clients keep using instance_url (the emulator serves nothing at this address)
API_INSTANCE_URL = "https://api.salesforce.com"


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class SessionRegistry:
    def __init__(self, org: OrgState) -> None:
        self.org = org
        self.apps: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.tokens_issued = 0

    def register_app(self, client_id: str, client_secret: str, run_as: str | None) -> dict:
        user_id = self.org.ensure_user(run_as) if run_as else None
        app = {"client_id": client_id, "client_secret": client_secret, "run_as": run_as,
               "user_id": user_id}
        self.apps[client_id] = app
        return app

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> dict:
        app = self.apps.get(client_id or "")
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(app["client_secret"], client_secret or ""):
            raise OAuthError("invalid_client", "invalid client credentials")
        return app

    def issue(self, client_id: str | None, client_secret: str | None, instance_url: str) -> dict:
        app = self.authenticate_client(client_id, client_secret)
        if not app["user_id"]:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
        user = self.org.user_by_id(app["user_id"])
        if not user or not user.get("IsActive"):
            raise OAuthError("inactive_user", "user is inactive")
        issued_ms = self.org.clock.now_ms()
        token = f"{self.org.org_id[:15]}!AR" + secrets.token_urlsafe(72).replace("-", "x")
        self.tokens[token] = {"client_id": app["client_id"], "user_id": app["user_id"],
                              "issued_ms": issued_ms, "revoked": False}
        self.tokens_issued += 1
        signature = base64.b64encode(hmac.new(
            app["client_secret"].encode(), f"{self.org.org_id}{issued_ms}".encode(),
            hashlib.sha256).digest()).decode()
        return {
            "access_token": token, "signature": signature, "scope": "api",
            "instance_url": instance_url, "api_instance_url": API_INSTANCE_URL,
            "id": ID_URL.format(org=self.org.org_id, user=app["user_id"]),
            "token_type": "Bearer", "issued_at": str(issued_ms),
        }

    def expires_ms(self, info: dict) -> int:
        return info["issued_ms"] + int(self.org.profile.session_timeout_seconds * 1000)

    def validate(self, token: str | None) -> dict | None:
        """The token's record if it is active now, else None."""
        info = self.tokens.get(token or "")
        if info is None or info["revoked"]:
            return None
        if self.org.clock.now_ms() >= self.expires_ms(info):
            return None
        user = self.org.user_by_id(info["user_id"])
        if not user or not user.get("IsActive"):
            return None
        return info

    def introspect(self, token: str | None) -> dict:
        info = self.validate(token)
        if info is None:
            return {"active": False}
        user = self.org.user_by_id(info["user_id"]) or {}
        return {
            "active": True, "scope": "api", "client_id": info["client_id"],
            "username": user.get("Username"),
            "sub": ID_URL.format(org=self.org.org_id, user=info["user_id"]),
            "token_type": "access_token", "exp": self.expires_ms(info) // 1000,
            "iat": info["issued_ms"] // 1000, "nbf": info["issued_ms"] // 1000,
        }

    def revoke(self, token: str | None = None) -> int:
        count = 0
        for key, info in self.tokens.items():
            if (token is None or key == token) and not info["revoked"]:
                info["revoked"] = True
                count += 1
        return count

    def to_dict(self) -> dict:
        return {"apps": self.apps, "tokens": self.tokens, "tokens_issued": self.tokens_issued}

    def load_dict(self, data: dict) -> None:
        self.apps = data.get("apps", {})
        self.tokens = data.get("tokens", {})
        self.tokens_issued = data.get("tokens_issued", 0)
