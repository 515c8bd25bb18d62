"""The credential vault: secrets encrypted at rest in the store.

Entries are Fernet tokens (AES-128-CBC with HMAC-SHA256: authenticated encryption). The key
comes from ``HUB_SECRET_KEY`` (several keys may be given, comma-separated: the first encrypts,
all decrypt) or from the key file ``<data_dir>/vault.key``, which must not be readable by group
or others. During ``rotate-key`` a new key is written to ``vault.key.next``; entries are
re-encrypted in one transaction and then the new key replaces the old. Until that last step
both keys decrypt, so a rotation interrupted at any point loses nothing.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from . import secrets
from .errors import VaultError
from .store.models import VaultEntry
from .store.store import Store

KEY_ENV = "HUB_SECRET_KEY"


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` with mode 0600 (created so, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read_key_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise VaultError(
            f"key file {path} is readable by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    return path.read_bytes().strip()


def _fernet(key: bytes, where: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError) as exc:
        raise VaultError(
            f"{where} does not hold a valid vault key (32 url-safe base64 bytes)"
        ) from exc


@dataclass
class VaultInfo:
    name: str
    created_at: float
    updated_at: float


class Vault:
    """Encrypted name -> secret store, kept in the hub's store."""

    def __init__(self, store: Store, key_file: Path) -> None:
        self.store = store
        self.key_file = Path(key_file)
        self.next_key_file = self.key_file.with_name(self.key_file.name + ".next")
        self._keys: list[Fernet] | None = None

    # -- keys --------------------------------------------------------------------------------
    def _load_keys(self) -> list[Fernet]:
        keys: list[Fernet] = []
        env = os.environ.get(KEY_ENV)
        if self.next_key_file.exists():  # a rotation was interrupted: the new key first
            keys.append(_fernet(_read_key_file(self.next_key_file), str(self.next_key_file)))
        if env:
            for i, part in enumerate(p for p in env.split(",") if p.strip()):
                keys.append(_fernet(part.strip().encode(), f"{KEY_ENV} (key {i + 1})"))
        elif self.key_file.exists():
            keys.append(_fernet(_read_key_file(self.key_file), str(self.key_file)))
        if not keys:
            raise VaultError(
                f"no vault key: set {KEY_ENV} or run `hub init` to create {self.key_file}"
            )
        return keys

    @property
    def keys(self) -> list[Fernet]:
        if self._keys is None:
            self._keys = self._load_keys()
        return self._keys

    def _cipher(self) -> MultiFernet:
        return MultiFernet(self.keys)

    # -- entries -----------------------------------------------------------------------------
    def set(self, name: str, value: str) -> None:
        if not name or len(name) > 200:
            raise VaultError("a credential name must be 1 to 200 characters")
        token = self._cipher().encrypt(value.encode()).decode()
        now = time.time()
        with self.store.transaction():
            VaultEntry.insert(
                name=name, ciphertext=token, created_at=now, updated_at=now
            ).on_conflict(
                conflict_target=[VaultEntry.name],
                update={VaultEntry.ciphertext: token, VaultEntry.updated_at: now},
            ).execute()
        secrets.registry.add(value)

    def get(self, name: str) -> str:
        cipher = self._cipher()  # an unusable key is reported before anything else
        row = VaultEntry.get_or_none(VaultEntry.name == name)
        if row is None:
            raise VaultError(f"no credential named {name!r} in the vault (see `hub creds list`)")
        try:
            value = cipher.decrypt(row.ciphertext.encode()).decode()
        except InvalidToken:
            raise VaultError(
                f"credential {name!r} cannot be decrypted with the current key "
                f"(wrong {KEY_ENV} or key file?)"
            ) from None
        secrets.registry.add(value)
        return value

    def delete(self, name: str) -> bool:
        with self.store.transaction():
            return VaultEntry.delete().where(VaultEntry.name == name).execute() > 0

    def list(self) -> list[VaultInfo]:
        return [
            VaultInfo(r.name, r.created_at, r.updated_at)
            for r in VaultEntry.select().order_by(VaultEntry.name)
        ]

    def rotate(self, new_key: bytes | None = None) -> tuple[int, bytes]:
        """Re-encrypt every entry under a new key. Returns (entries, new key).

        With a key file: the new key goes to ``vault.key.next`` first, then every entry is
        re-encrypted in one transaction, then the new key replaces ``vault.key``. With
        ``HUB_SECRET_KEY`` the caller must put the returned key in the environment.
        """
        new_key = new_key or Fernet.generate_key()
        old = self.keys
        new = _fernet(new_key, "the new key")
        using_file = not os.environ.get(KEY_ENV)
        if using_file:
            write_key_file(self.next_key_file, new_key)
        both = MultiFernet([new, *old])
        try:
            count = self._reencrypt(both)
        except BaseException:
            if using_file and self.next_key_file.exists():
                self.next_key_file.unlink()  # nothing changed: the old key stays in force
            raise
        if using_file:
            os.replace(self.next_key_file, self.key_file)
        self._keys = [new]
        return count, new_key

    def _reencrypt(self, both: MultiFernet) -> int:
        with self.store.transaction():
            rows = list(VaultEntry.select())
            for row in rows:
                try:
                    token = both.rotate(row.ciphertext.encode()).decode()
                except InvalidToken:
                    raise VaultError(
                        f"credential {row.name!r} cannot be decrypted with the current key; "
                        "nothing was changed"
                    ) from None
                VaultEntry.update(ciphertext=token, updated_at=time.time()).where(
                    VaultEntry.name == row.name
                ).execute()
        return len(rows)
