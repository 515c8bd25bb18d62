"""Opening the store: SQLite (embedded default, WAL mode) or PostgreSQL (scale-out) by URL."""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee as pw

from ..errors import ConfigError, StoreError
from ..secrets import MASK, key_looks_secret, registry


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def describe_url(url: str) -> str:
    """The URL without its secrets, for messages: the address's password, the value of every
    option named like a secret (``password=``, ``sslpassword=``, in any case), and whatever a
    password holding an unencoded ``/``, ``?``, ``#`` or ``&`` spilled into (see
    :func:`_misplaced_at`). Everything else is shown as given."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, tail = _split_authority(rest)
    if "@" in authority:
        userinfo, _, hostport = authority.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if password:
            authority = f"{user}:{MASK}@{hostport}"
    elif _misplaced_at(authority, tail):  # mask from the password's start to the last "@"
        head, _, after = rest.rpartition("@")
        authority, tail = _split_authority(after)
        authority = f"{head.partition(':')[0]}:{MASK}@{authority}"
    body, hash_, fragment = tail.partition("#")
    path, question, query = body.partition("?")
    if query:
        query = "&".join(_masked_option(piece) for piece in query.split("&"))
    return f"{scheme}://{authority}{path}{question}{query}{hash_}{fragment}"


def _split_authority(rest: str) -> tuple[str, str]:
    """``host...`` and ``/path?query#fragment``: the authority ends at the first ``/?#``."""
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    return rest[:end], rest[end:]


def _misplaced_at(authority: str, tail: str) -> bool:
    """Whether an ``@`` after the authority is the end of a password holding an unencoded
    ``/``, ``?`` or ``#`` (``hub:pa/ss@db/hub``), not an ``@`` inside an option's value
    (``application_name=ops@site``): the port is then no number, or the ``@`` sits in the
    path, the fragment or an option's name."""
    if "@" not in tail:
        return False
    body, _, fragment = tail.partition("#")
    path, _, query = body.partition("?")
    port = authority.rpartition(":")[2] if ":" in authority.lstrip("[").rpartition("]")[2] else ""
    return (
        (port != "" and not port.isdigit())
        or "@" in path
        or "@" in fragment
        or any("@" in piece.partition("=")[0] for piece in query.split("&"))
    )


def _masked_option(piece: str) -> str:
    key, eq, value = piece.partition("=")
    if not eq:  # no NAME=VALUE: possibly the rest of a value holding an unencoded "&"
        return MASK if piece else piece
    return f"{key}={MASK}" if key_looks_secret(unquote(key)) else piece


# libpq options of every PostgreSQL connection, unless the URL's query sets them
# (``postgresql://hub@db/hub?sslmode=verify-full&connect_timeout=5``): a database that is gone
# is noticed in seconds, not after the system's TCP timeouts (minutes to hours)
PG_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


class _SqliteDatabase(pw.SqliteDatabase):
    """Turning a new database file to WAL needs the file to itself, and SQLite answers "database
    is locked" at once (no busy wait) when another process is creating the same store: the
    pragmas are tried again for up to the busy timeout. An existing WAL store never waits."""

    def _set_pragmas(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + WAL_SWITCH_SECONDS
        while True:
            try:
                super()._set_pragmas(conn)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)


WAL_SWITCH_SECONDS = 30.0


def connect(url: str) -> pw.Database:
    """Return an (unconnected) peewee database for ``url``.

    ``sqlite:///ABSOLUTE/PATH`` or ``postgresql://user[:password]@host[:port]/dbname``.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        if sqlite3.sqlite_version_info < (3, 35, 0):
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old; the store needs 3.35 or newer"
            )
        path = unquote(parsed.path)
        if not path or path == "/":
            raise ConfigError(f"store URL {url!r}: expected sqlite:///PATH/TO/hub.db")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open the store at {url}: {exc.strerror}") from None
        return _SqliteDatabase(
            path,
            returning_clause=True,
            timeout=30,
            pragmas={
                "journal_mode": "wal",
                "synchronous": "normal",
                "foreign_keys": 1,
                "busy_timeout": 30000,
                "cache_size": -16000,
            },
            check_same_thread=False,
        )
    if scheme in ("postgres", "postgresql"):
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StoreError(
                "a PostgreSQL store needs psycopg2: pip install 'ml-connector[postgres]'"
            ) from exc
        options = _pg_options(url)
        name = options.pop("dbname", "")
        if not name:
            raise ConfigError(f"store URL {describe_url(url)!r}: no database name")
        return pw.PostgresqlDatabase(name, **options)
    raise ConfigError(
        f"store URL {describe_url(url)!r}: expected sqlite:///PATH or postgresql://HOST/DB"
    )


def _pg_options(url: str) -> dict[str, str]:
    """The libpq options of a PostgreSQL URL: its address (host, port, user, password,
    database), its query's options, then :data:`PG_DEFAULTS`. Decoded as libpq decodes a URL
    (``%XX`` only: a ``+`` stays a plus). ``StoreError`` naming the store and what to fix for
    a password holding an unencoded ``/?#``, an option without ``=``, one given twice or
    beside a different value in the address, and one libpq does not know (so names psycopg2
    or peewee would take for themselves, such as ``thread_safe``, never reach them)."""
    from psycopg2 import ProgrammingError
    from psycopg2.extensions import parse_dsn

    shown = describe_url(url)
    parsed = urlparse(url)
    query = _query_options(parsed.query)
    for key, value in query:
        if key is not None and key_looks_secret(key):
            registry.add(value)  # masked wherever a message might quote it
    registry.add(unquote(parsed.password or ""))
    if _misplaced_at(*_split_authority(url.partition("://")[2])):
        raise StoreError(
            f"store URL {shown!r}: its password holds a '/', '?' or '#', which ends the "
            "address early; percent-encode them in the password (%2F, %3F, %23)"
        )
    port = port_of(url)
    address = {
        "host": parsed.hostname,
        "port": str(port) if port else None,
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "dbname": unquote(parsed.path.lstrip("/")) or None,
    }
    given: dict[str, str] = {}
    for key, value in query:
        if key is None:
            raise StoreError(
                f"store URL {shown!r}: an option has no '=' (expected NAME=VALUE); a value "
                "holding '&' must be percent-encoded (%26)"
            )
        if not key.replace("_", "").isalnum():
            raise StoreError(f"store URL {shown!r}: invalid connection option {key!r}")
        if given.get(key, value) != value:
            raise StoreError(f"store URL {shown!r}: option {key} is given twice; give it once")
        if address.get(key) not in (None, value):
            raise StoreError(
                f"store URL {shown!r}: option {key} differs from the {key} in the address; "
                "give it in one place"
            )
        given[key] = value
    options: dict[str, str] = {"host": "127.0.0.1", "port": "5432", **PG_DEFAULTS}
    options.update(given)
    options.update({k: v for k, v in address.items() if v is not None})
    try:
        parse_dsn(" ".join(f"{k}={_conninfo_value(v)}" for k, v in options.items()))
    except ProgrammingError as exc:  # libpq's own check of the names
        raise StoreError(f"store URL {shown!r}: {str(exc).strip()}") from None
    return options


def _conninfo_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _query_options(query: str) -> list[tuple[str | None, str]]:
    """``(name, value)`` of each ``NAME=VALUE`` of a URL's query, ``(None, "")`` for a part
    without ``=``; empty parts (``?``, ``&&``) are left out."""
    out: list[tuple[str | None, str]] = []
    for piece in query.split("&"):
        if piece:
            key, eq, value = piece.partition("=")
            out.append((unquote(key), unquote(value)) if eq else (None, ""))
    return out


def is_sqlite(db: pw.Database) -> bool:
    return isinstance(db, pw.SqliteDatabase)


class _SqliteWrite:
    """``db.atomic("IMMEDIATE")`` that reports why a transaction failed.

    When SQLite hits a full disk or an I/O error it rolls the transaction back itself; peewee's
    own rollback then fails with "cannot rollback - no transaction is active", which would hide
    the cause. Here the cause is raised instead.
    """

    def __init__(self, db: pw.SqliteDatabase) -> None:
        self.txn = db.atomic("IMMEDIATE")

    def __enter__(self):
        return self.txn.__enter__()

    def __exit__(self, exc_type, exc, tb):
        try:
            return self.txn.__exit__(exc_type, exc, tb)
        except pw.OperationalError as failed:
            if "no transaction is active" not in str(failed):
                raise
            cause = exc or failed.__context__
            if cause is None:
                raise
            raise cause from None


def write_transaction(db: pw.Database):
    """A write transaction; on SQLite it takes the write lock up front (no upgrade deadlocks)."""
    if is_sqlite(db):
        return _SqliteWrite(db)
    return db.atomic()


def port_of(url: str) -> int | None:
    """The URL's port; ``StoreError`` naming the store when it is not a valid port."""
    try:
        return urlparse(url).port
    except ValueError as exc:
        raise StoreError(f"store URL {describe_url(url)!r}: bad port ({exc})") from None


def reconnecting(method):
    """Run a store method on a live connection: one PostgreSQL closed (restart, failover,
    ``pg_terminate_backend``) is replaced first. Transactions do the same on entry."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not self.is_sqlite and not self.db.in_transaction():
            self._ensure_connection()
        return method(self, *args, **kwargs)

    return wrapper


def claim_sqlite_runner(url: str):
    """Make this process the only ``hub run`` of a SQLite store; returns the open lock file
    (keep it open while running; the OS lets go of it when the process ends, however it ends).

    A SQLite store serves one ``hub run``: a second one stops here with ``ConfigError``
    naming PostgreSQL. ``hub sync`` and ``hub replay`` do not take this lock.
    """
    path = Path(unquote(urlparse(url).path) + ".run.lock")
    fh = open(path, "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        pid = fh.read().strip() or "?"
        fh.close()
        raise ConfigError(
            f"another `hub run` (pid {pid}) already uses the SQLite store at {url}: a SQLite "
            "store serves one `hub run` at a time. To run several processes, point `store` "
            "at a PostgreSQL database (see README, Store); `hub sync` and `hub replay` work "
            "beside the running one"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh
