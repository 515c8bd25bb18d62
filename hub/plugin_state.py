"""Plugin state: small values a plugin keeps across restarts, encrypted with the vault key.

A plugin reaches its own state through ``ComponentContext.state`` (and the ``state`` argument
of ``hub_register_routes``): ``get``, ``set``, ``set_many`` (one transaction), ``delete`` and
``keys(prefix)``. Values are strings; they are Fernet-encrypted with the vault key and kept in
the store beside the credentials, under the name ``plugin-state/<plugin>/<key>``, so a key
rotation re-encrypts them too. Typical use: a session id and its last use, so a restarted hub
reuses a still-valid session; or notifications received and not yet processed.

Values are not registered for masking (they are not credentials by default); a plugin that
keeps a credential here masks it itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.fernet import InvalidToken, MultiFernet

from .store.models import VaultEntry
from .vault import STATE_PREFIX as PREFIX
from .vault import Vault


class PluginState:
    """One plugin's state. Safe to use from several threads (each call is one transaction)."""

    def __init__(self, vault: Vault | Callable[[], Vault], plugin: str) -> None:
        # a callable opens the vault (and so the store) only when the state is first used:
        # a dry run, which must create nothing, hands components their state all the same
        self._vault_or_factory = vault
        self._prefix = f"{PREFIX}{plugin}/"

    @property
    def _vault(self) -> Vault:
        if not isinstance(self._vault_or_factory, Vault):
            self._vault_or_factory = self._vault_or_factory()
        return self._vault_or_factory

    def _cipher(self) -> MultiFernet:
        return MultiFernet(self._vault.keys)

    def get(self, key: str) -> str | None:
        """The value of ``key``, or ``None`` (also when it cannot be decrypted any more)."""
        self._vault  # noqa: B018 - opens the store the entries live in
        row = VaultEntry.get_or_none(VaultEntry.name == self._prefix + key)
        if row is None:
            return None
        try:
            return self._cipher().decrypt(row.ciphertext.encode()).decode()
        except InvalidToken:
            return None

    def set(self, key: str, value: str) -> None:
        self.set_many({key: value})

    def set_many(self, values: dict[str, str]) -> None:
        """Write every value in one transaction: all are kept, or none."""
        cipher = self._cipher()
        now = time.time()
        rows = [
            {
                "name": self._prefix + k,
                "ciphertext": cipher.encrypt(v.encode()).decode(),
                "created_at": now,
                "updated_at": now,
            }
            for k, v in values.items()
        ]
        store = self._vault.store
        with store.transaction():
            for row in rows:
                VaultEntry.insert(**row).on_conflict(
                    conflict_target=[VaultEntry.name],
                    update={
                        VaultEntry.ciphertext: row["ciphertext"],
                        VaultEntry.updated_at: now,
                    },
                ).execute()

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        names = [self._prefix + k for k in keys]
        with self._vault.store.transaction():
            return VaultEntry.delete().where(VaultEntry.name.in_(names)).execute()

    def keys(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        start = self._prefix + prefix
        self._vault  # noqa: B018 - opens the store the entries live in
        rows = VaultEntry.select(VaultEntry.name).where(VaultEntry.name.startswith(start))
        names = (r.name for r in rows if r.name.startswith(start))  # LIKE treats _ as a wildcard
        return sorted(n[len(self._prefix) :] for n in names)
