"""The credential vault: secrets encrypted at rest in the store.

Entries are Fernet tokens (AES-128-CBC with HMAC-SHA256: authenticated encryption). The key
comes from ``HUB_SECRET_KEY`` (several keys may be given, comma-separated: the first encrypts,
all decrypt) or from the key file ``<data_dir>/vault.key``, which must not be readable by group
or others.

Rotation (``hub creds rotate-key``) is safe against being interrupted at any point, any number
of times. The new key is saved first (``vault.key.next``, or the ``--write-key`` file with
``HUB_SECRET_KEY``), and while it exists it is a *pending* key: it decrypts, and it encrypts
anything stored meanwhile. Every entry is then re-encrypted under it in one transaction, the
result is checked (every entry must decrypt with the new key alone), and only then does the new
key replace the old one. A rotation that finds a pending key resumes with it instead of making
another, so no key that still encrypts an entry is ever overwritten or deleted.
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
MAX_NAME_LENGTH = 200


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` with mode 0600 (created so, never briefly wider), durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_key_file(path: Path) -> bytes:
    """The key in ``path``; a VaultError says what is wrong with the file."""
    try:
        st = path.stat()
    except OSError as exc:
        raise VaultError(f"cannot read key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise VaultError(
            f"key file {path} is not a regular file; point [hub] key_file at the vault key file"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise VaultError(
            f"key file {path} is readable by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        raise VaultError(f"cannot read key file {path}: {exc.strerror}") from None


def env_keys() -> list[bytes] | None:
    """The keys in ``HUB_SECRET_KEY`` (None when it is unset or empty)."""
    env = os.environ.get(KEY_ENV)
    if not env:
        return None
    parts = env.split(",")
    keys = []
    for i, part in enumerate(parts, start=1):
        if not part.strip():
            raise VaultError(
                f"{KEY_ENV} is set but key {i} of {len(parts)} is empty; expected one or more "
                "vault keys separated by commas (the first encrypts, all decrypt)"
            )
        keys.append(part.strip().encode())
    return keys


def _fernet(key: bytes, where: str) -> Fernet:
    try:
        fernet = Fernet(key)
    except (ValueError, TypeError):
        raise VaultError(
            f"{where} does not hold a valid vault key (32 url-safe base64 bytes)"
        ) from None
    secrets.registry.add(key)  # a key is a secret too: never printed
    return fernet


# Entries under this prefix are plugin state (``hub.plugin_state``), not credentials: they are
# re-encrypted by a rotation like the rest, but not listed, counted or masked as credentials.
STATE_PREFIX = "plugin-state/"


def _credentials(query):
    return query.where(~VaultEntry.name.startswith(STATE_PREFIX))


def check_name(name: str) -> None:
    """A credential name: 1 to 200 printable characters, no surrounding whitespace."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
        raise VaultError(f"a credential name must be 1 to {MAX_NAME_LENGTH} characters")
    if not name.isprintable() or any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise VaultError(
            f"credential name {name!r} contains control or unprintable characters; "
            "use letters, digits and punctuation"
        )
    if name != name.strip():
        raise VaultError(f"credential name {name!r} starts or ends with whitespace")
    if name.startswith(STATE_PREFIX):
        raise VaultError(f"credential names starting with {STATE_PREFIX!r} are reserved")


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
        env = env_keys()
        if self.next_key_file.exists():  # a pending rotation: the new key first
            keys.append(_fernet(read_key_file(self.next_key_file), str(self.next_key_file)))
        if env is not None:
            for i, key in enumerate(env):
                keys.append(_fernet(key, f"{KEY_ENV} (key {i + 1})"))
        elif self.key_file.exists() or self.key_file.is_symlink():
            keys.append(_fernet(read_key_file(self.key_file), str(self.key_file)))
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
        check_name(name)
        secrets.check_secret_value(value, f"credential {name!r}")
        try:
            plain = value.encode("utf-8")
        except UnicodeEncodeError:
            raise VaultError(f"credential {name!r}: the secret is not valid text") from None
        token = self._cipher().encrypt(plain).decode()
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

    def values(self) -> list[str]:
        """Every credential this key decrypts (for masking); those it cannot read are skipped."""
        cipher = self._cipher()
        out = []
        for row in _credentials(VaultEntry.select(VaultEntry.ciphertext)):
            try:
                out.append(cipher.decrypt(row.ciphertext.encode()).decode())
            except InvalidToken:
                continue
        return out

    def delete(self, name: str) -> bool:
        with self.store.transaction():
            return VaultEntry.delete().where(VaultEntry.name == name).execute() > 0

    def count(self) -> int:
        return _credentials(VaultEntry.select()).count()

    def list(self) -> list[VaultInfo]:
        return [
            VaultInfo(r.name, r.created_at, r.updated_at)
            for r in _credentials(VaultEntry.select()).order_by(VaultEntry.name)
        ]

    # -- rotation ----------------------------------------------------------------------------
    def pending_key_file(self, write_key: Path | None = None) -> Path:
        """Where the new key of a rotation lives until it is in force."""
        if env_keys() is not None:
            if write_key is None:
                raise VaultError(
                    f"the key comes from {KEY_ENV}: pass --write-key FILE for the new key"
                )
            return Path(write_key)
        return self.next_key_file

    def rotate(
        self, new_key: bytes | None = None, *, write_key: Path | None = None
    ) -> tuple[int, bytes]:
        """Re-encrypt every entry under a new key, or finish a rotation that was interrupted.

        With a key file the new key goes to ``vault.key.next``; with ``HUB_SECRET_KEY`` it goes
        to ``write_key`` and the caller puts it first in the environment afterwards. When that
        file already holds a key, the rotation resumes with it (``new_key`` is then ignored).
        Returns (entries re-encrypted, the new key).
        """
        env = env_keys()
        pending_file = self.pending_key_file(write_key)
        current = self.keys  # an unusable current key stops us before anything changes
        resumed = pending_file.exists() or pending_file.is_symlink()
        if resumed:
            new_key = read_key_file(pending_file)
            if env is not None and env[0] == new_key:
                raise VaultError(
                    f"{pending_file} holds the key already first in {KEY_ENV}: that rotation "
                    "is complete; give --write-key a new file for the next key"
                )
            new = _fernet(new_key, str(pending_file))
        else:
            new_key = new_key or Fernet.generate_key()
            new = _fernet(new_key, "the new key")
            write_key_file(pending_file, new_key)  # saved before any entry depends on it
        created_here = not resumed
        try:
            count = self._reencrypt(MultiFernet([new, *current]))
            self._check_all_under(new)
        except BaseException:
            if created_here:
                self._discard_if_unused(pending_file, new)
            raise
        if env is None:
            os.replace(pending_file, self.key_file)  # the old key retires only now
            _fsync_dir(self.key_file.parent)
            self._keys = [new]
        else:
            self._keys = [new, *current]
        return count, new_key

    def _reencrypt(self, cipher: MultiFernet) -> int:
        with self.store.transaction():
            rows = list(VaultEntry.select())
            for row in rows:
                try:
                    token = cipher.rotate(row.ciphertext.encode()).decode()
                except InvalidToken:
                    raise VaultError(
                        f"credential {row.name!r} cannot be decrypted with the current key; "
                        "nothing was changed"
                    ) from None
                VaultEntry.update(ciphertext=token, updated_at=time.time()).where(
                    VaultEntry.name == row.name
                ).execute()
        return len(rows)

    def _check_all_under(self, new: Fernet) -> None:
        """Every entry must decrypt with ``new`` alone before the old key may go."""
        for row in VaultEntry.select(VaultEntry.name, VaultEntry.ciphertext):
            try:
                new.decrypt(row.ciphertext.encode())
            except InvalidToken:
                raise VaultError(
                    f"credential {row.name!r} was stored under the old key during the rotation; "
                    "both keys were kept: run `hub creds rotate-key` again"
                ) from None

    def _discard_if_unused(self, pending_file: Path, new: Fernet) -> None:
        """Remove a new key this call saved, unless an entry is already encrypted with it."""
        try:
            for row in VaultEntry.select(VaultEntry.ciphertext):
                try:
                    new.decrypt(row.ciphertext.encode())
                    return  # something depends on it: keep it, the next rotation resumes
                except InvalidToken:
                    continue
            pending_file.unlink(missing_ok=True)
        except Exception:  # the store is unreachable: keeping the key is always safe
            return
