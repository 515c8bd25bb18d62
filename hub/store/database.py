"""Opening the store: SQLite (embedded default, WAL mode) or PostgreSQL (scale-out) by URL."""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlparse

import peewee as pw

from ..errors import ConfigError, StoreError
from ..secrets import registry


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def describe_url(url: str) -> str:
    """The URL without its password (in the address or as a ``password=`` option), for
    messages."""
    p = urlparse(url)
    query = parse_qsl(p.query, keep_blank_values=True)
    if not p.password and not any(k == "password" for k, _ in query):
        return url  # as given (geturl() would turn sqlite:////abs into sqlite://abs)
    if p.password:
        p = p._replace(netloc=p.netloc.replace(f":{p.password}@", ":***@"))
    masked = [(k, "***" if k == "password" else v) for k, v in query]
    return p._replace(query=urlencode(masked, safe="*/:")).geturl()


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
        name = unquote(parsed.path.lstrip("/"))
        if not name:
            raise ConfigError(f"store URL {describe_url(url)!r}: no database name")
        options = {**PG_DEFAULTS, **dict(parse_qsl(parsed.query, keep_blank_values=True))}
        for secret in (unquote(parsed.password or ""), options.get("password")):
            registry.add(secret)  # masked wherever a message might quote it
        kwargs = {
            **options,
            "host": parsed.hostname or "127.0.0.1",
            "port": port_of(url) or 5432,
            "user": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else options.get("password"),
        }
        return pw.PostgresqlDatabase(name, **{k: v for k, v in kwargs.items() if v is not None})
    raise ConfigError(
        f"store URL {describe_url(url)!r}: expected sqlite:///PATH or postgresql://HOST/DB"
    )


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
