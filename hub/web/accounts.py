"""Console accounts: names, roles and scrypt password hashes kept in the vault.

Each account is an entry of the core's own encrypted state (``plugin-state/hub-console/``
in the vault: not listed by ``hub creds list``, re-encrypted by ``hub creds rotate-key``);
only the scrypt hash of a password is kept, never the password.

The admin token (``hub console admin-token``) is a random value shown once when it is made;
only its scrypt hash is kept (entry ``admin-token``). Signing in with it opens an admin session
named ``admin-token``; a new token replaces the old one, ``--revoke`` removes it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

STATE_OWNER = "hub-console"
DRIFT_STATE_KEY = "drift/latest"  # the last drift report, shown by the console
ROLES = ("admin", "viewer")  # admin may replay; viewer only reads
NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 12
ADMIN_TOKEN_KEY = "admin-token"
ADMIN_TOKEN_ACCOUNT = "admin-token"  # the account name of a session opened with the token
TOKEN_PREFIX = "mlc_"
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    grant: str = field(default="", repr=False, compare=False)
    """The stored hash the account signed in against: a session holds only while the vault
    still keeps that hash (a deleted user, a new password or role, a revoked or replaced admin
    token end the sessions opened before)."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=32,
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


class Accounts:
    """The console's accounts in the vault (``state`` is the hub's state of ``hub-console``)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def set(self, name: str, password: str, role: str) -> None:
        if not NAME.match(name):
            raise ConfigError(f"console user {name!r}: 1 to 64 letters, digits, and . _ @ - only")
        if role not in ROLES:
            raise ConfigError(f"console user {name}: role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise ConfigError(
                f"console user {name}: the password must hold at least {MIN_PASSWORD} characters"
            )
        self.state.set(f"user/{name}", json.dumps({"role": role, "hash": hash_password(password)}))

    def delete(self, name: str) -> bool:
        return self.state.delete(f"user/{name}") > 0

    def names(self) -> list[str]:
        return [k[len("user/") :] for k in self.state.keys("user/")]

    def check(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is right; None otherwise (same cost either way)."""
        raw = self.state.get(f"user/{name}") if NAME.match(name or "") else None
        entry = json.loads(raw) if raw else {"role": "", "hash": _dummy_hash()}
        ok = verify_password(password, entry["hash"])
        return Account(name, entry["role"], entry["hash"]) if ok and raw else None

    # -- the admin token ------------------------------------------------------------------------
    def new_admin_token(self) -> str:
        """Make a new admin token (replacing any earlier one); returns it, keeps its hash."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.state.set(ADMIN_TOKEN_KEY, json.dumps({"hash": hash_password(token)}))
        return token

    def revoke_admin_token(self) -> bool:
        return self.state.delete(ADMIN_TOKEN_KEY) > 0

    def has_admin_token(self) -> bool:
        return self.state.get(ADMIN_TOKEN_KEY) is not None

    def check_admin_token(self, token: str) -> Account | None:
        """The admin account if ``token`` is the admin token; None otherwise (same cost either
        way: a missing token is compared against a dummy hash, in constant time)."""
        raw = self.state.get(ADMIN_TOKEN_KEY)
        stored = json.loads(raw)["hash"] if raw else _dummy_hash()
        ok = verify_password(token or "", stored)
        return Account(ADMIN_TOKEN_ACCOUNT, "admin", stored) if ok and raw and token else None

    def still_valid(self, account: Account) -> bool:
        """Whether the vault still keeps the hash ``account`` signed in against (one read)."""
        key = ADMIN_TOKEN_KEY if account.name == ADMIN_TOKEN_ACCOUNT else f"user/{account.name}"
        raw = self.state.get(key)
        try:
            stored = json.loads(raw)["hash"] if raw else None
        except (ValueError, KeyError, TypeError):
            return False
        return bool(stored) and hmac.compare_digest(stored, account.grant)


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when there is none, so a miss costs what a hit does; made on
    first use, not at import (scrypt costs every `hub` command 50 ms)."""
    return hash_password("not a password of anyone", b"0" * 16)
