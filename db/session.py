"""Engine, sessions and migrations.

Callers own transactions: ``with Session(engine) as s, s.begin(): ...``.
"""
from __future__ import annotations

import logging
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_LOCK = "pixel_lab_migrate"

# What each engine was built with, so an error message can say "timed out after 10 s".
_TIMEOUTS: weakref.WeakKeyDictionary[Engine, dict[str, float]] = weakref.WeakKeyDictionary()


def make_engine(url: str, *, migrate: bool = True, connect_timeout_s: float = 10, read_timeout_s: float = 30,
                write_timeout_s: float = 30, pool_timeout_s: float = 10, busy_timeout_s: float = 30,
                migrate_timeout_s: float = 900, **kwargs) -> Engine:
    """Create an engine for ``url`` and (by default) apply pending migrations.

    Every network wait is bounded: a database that stops answering fails the
    call with ``OperationalError`` after the timeout instead of hanging it
    (turn that into a one-line message with :func:`describe_error`).

    Parameters
    ----------
    url : str
        ``sqlite:///path`` or ``mysql+pymysql://user:pw@host:port/db``.
    migrate : bool
        Apply pending migrations first (safe when many processes start at once).
    connect_timeout_s, read_timeout_s, write_timeout_s : float
        MySQL/MariaDB: the longest wait to connect, for a reply, and to send.
        ``read_timeout_s`` bounds every statement: keep it above the slowest query.
    pool_timeout_s : float
        The longest wait for a free pooled connection.
    busy_timeout_s : float
        SQLite: the longest wait for another process's write lock.
    migrate_timeout_s : float
        MySQL/MariaDB: the read timeout while migrating (an ALTER on a big table is slow),
        and the longest wait for another process's migration.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`; ``connect_args`` are merged.
    """
    u = make_url(url)
    extra = dict(kwargs.pop("connect_args", {}) or {})
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": busy_timeout_s, **extra},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            _wal(cur, busy_timeout_s)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_recycle", 1800)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_timeout", pool_timeout_s)
        args = {"connect_timeout": connect_timeout_s, "read_timeout": read_timeout_s,
                "write_timeout": write_timeout_s, **extra}
        engine = create_engine(u, connect_args=args, **kwargs)
    _TIMEOUTS[engine] = {"connect": connect_timeout_s, "read": read_timeout_s, "write": write_timeout_s,
                         "pool": pool_timeout_s, "busy": busy_timeout_s, "migrate": migrate_timeout_s,
                         "connect_args": extra}
    if migrate:
        upgrade(engine)
    return engine


def _wal(cur, wait_s: float) -> None:
    """``PRAGMA journal_mode=WAL``, waiting out other processes' locks.

    Switching a new database's journal needs it to itself, and SQLite answers
    "database is locked" at once, without its busy handler, while another
    process holds it (several processes opening a new database at once; once
    in WAL mode the file stays so and the pragma costs nothing).
    """
    import sqlite3

    deadline = time.monotonic() + wait_s
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False)
                        .replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head", *, lock_timeout_s: float | None = None) -> None:
    """Apply pending migrations (idempotent; a no-op on an up-to-date database).

    Safe when many processes start at once on a new database: the upgrade runs
    under a lock (MySQL/MariaDB ``GET_LOCK``, SQLite an exclusive file lock
    beside the database) and the revision is read again once the lock is held,
    so one process migrates and the others find it done. Both locks die with
    their holder, so a killed migrator never blocks the next start.

    Raises
    ------
    TimeoutError
        Another process held the migration lock for ``lock_timeout_s``
        (default: the engine's ``migrate_timeout_s``).
    """
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head() if revision == "head" else revision
    if current_revision(engine) == head:
        return
    wait = lock_timeout_s if lock_timeout_s is not None else _TIMEOUTS.get(engine, {}).get("migrate", 900)
    with _migration_lock(engine, wait), _migration_engine(engine) as eng:
        current = current_revision(eng)
        if current == head:
            log.info("database migrated by another process while this one waited")
            return
        from alembic import command

        log.info("migrating database from %s to %s", current, head)
        sqlite = eng.url.get_backend_name() == "sqlite"
        with eng.connect() as conn:
            if sqlite:
                # Rebuilding a table (SQLite's way to drop a constraint) drops the old one, and with
                # foreign keys on that would cascade into its children: off for the migration only.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()


@contextmanager
def _migration_lock(engine: Engine, wait_s: float):
    backend = engine.url.get_backend_name()
    deadline = time.monotonic() + wait_s
    if backend == "sqlite":
        db = engine.url.database
        if not db or db == ":memory:":  # one connection, one process: nothing to race
            yield
            return
        import fcntl

        path = Path(db).expanduser().with_name(Path(db).name + ".migrate-lock")
        with open(path, "a+b") as fh:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"another process has been migrating {db} for over {wait_s:.0f} s; "
                                           f"wait for it or remove {path} if no process holds it") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    # MySQL/MariaDB: a named lock per database, held by this connection; short waits in a loop
    # keep each statement well inside the connection's read timeout.
    name = f"{MIGRATE_LOCK}:{engine.url.database or ''}"[:64]
    with engine.connect() as conn:
        while not conn.scalar(text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": 2}):
            if time.monotonic() > deadline:
                raise TimeoutError(f"another process has been migrating the database for over {wait_s:.0f} s")
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
            except sa_exc.DBAPIError:  # the connection died: the server released the lock with it
                pass


@contextmanager
def _migration_engine(engine: Engine):
    """MySQL/MariaDB: a one-connection engine whose read timeout fits a long ALTER; SQLite: the engine."""
    known = _TIMEOUTS.get(engine)
    if engine.url.get_backend_name() == "sqlite" or known is None:
        yield engine
        return
    args = {"connect_timeout": known["connect"], "read_timeout": known["migrate"],
            "write_timeout": known["write"], **known["connect_args"]}
    args["read_timeout"] = known["migrate"]
    eng = create_engine(engine.url, poolclass=NullPool, connect_args=args)
    try:
        yield eng
    finally:
        eng.dispose()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


# MySQL client/server codes worth another try: can't connect, gone away, lost during a query,
# lock wait timeout, deadlock, lost at handshake.
_TRANSIENT_CODES = {2003, 2006, 2013, 1205, 1213, 2055}


def error_code(exc: BaseException) -> int | None:
    """The MySQL/MariaDB error number behind ``exc`` (a SQLAlchemy error or the driver's own), if any."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", None)
    return args[0] if args and isinstance(args[0], int) else None


LOCK_CONFLICT = (1205, 1213)  # lock wait timeout; chosen as a deadlock victim


def is_transient(exc: BaseException) -> bool:
    """Could the same statement succeed if tried again shortly (a blip, not a bug or bad data)?"""
    if isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    code = error_code(exc)
    if code is not None:
        return code in _TRANSIENT_CODES
    msg = str(exc.orig).lower()
    return "locked" in msg or "busy" in msg


def describe_error(exc: BaseException, where: Engine | URL | str | None = None) -> str:
    """One line for an operator: what went wrong with the database, where (host:port, never the password).

    >>> describe_error(err, engine)  # doctest: +SKIP
    'database unreachable at db.internal:3306: timed out after 10 s'
    """
    url, limits = _where(where)
    place = _place(url)
    orig = getattr(exc, "orig", None) or exc
    code = error_code(exc)
    detail = str(orig.args[1] if code is not None and len(orig.args) > 1 else orig).splitlines()[0] if str(orig) \
        else orig.__class__.__name__
    timed_out = "timed out" in detail.lower() or isinstance(orig, TimeoutError)

    def after(kind: str) -> str:
        return f"timed out after {limits[kind]:g} s" if kind in limits else "timed out"

    if isinstance(exc, sa_exc.TimeoutError):
        msg = f"no free database connection to {place} within {limits.get('pool', 0):g} s: " \
              "too many requests at once, or connections held by stuck work"
    elif isinstance(exc, sa_exc.ArgumentError):
        msg = f"the database URL cannot be read ({detail}); expected mysql+pymysql://user:password@host:port/db " \
              "or sqlite:///path"
    elif code == 2003:
        msg = f"database unreachable at {place}: {after('connect') if timed_out else _errno_text(detail)}"
    elif code == 2013 and timed_out:
        msg = f"database at {place} stopped answering: {after('read')}"
    elif code == 2006 and timed_out:
        msg = f"database at {place} stopped accepting data: {after('write')}"
    elif code in (2006, 2013, 2055):
        msg = f"lost the connection to the database at {place}: {detail}"
    elif code in (1045, 1698):
        msg = f"database at {place} refused the login for user {url.username!r}: check the user and password" \
            if url is not None else f"database refused the login: {detail}"
    elif code == 1049:
        msg = f"database {url.database if url is not None else ''!r} does not exist at {place}: create it first"
    elif code in LOCK_CONFLICT:
        msg = f"database at {place} is busy ({detail}); try again"
    elif "database is locked" in detail:
        msg = f"database {place} is locked by another process: gave up after {limits.get('busy', 0):g} s"
    elif "unable to open database file" in detail:
        msg = f"cannot open the database file {place}: check the folder exists and is writable"
    else:
        msg = f"database error at {place}: {detail}"
    if url is not None and url.password:
        msg = msg.replace(str(url.password), "****")
    return msg


def _where(where) -> tuple[URL | None, dict]:
    if isinstance(where, Engine):
        return where.url, _TIMEOUTS.get(where, {})
    if isinstance(where, URL):
        return where, {}
    try:
        return (make_url(where), {}) if where else (None, {})
    except sa_exc.ArgumentError:
        return None, {}


def _place(url: URL | None) -> str:
    if url is None:
        return "the configured database"
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database or ':memory:'}"
    return f"{url.host or 'localhost'}:{url.port or 3306}"


def _errno_text(detail: str) -> str:
    # "Can't connect to MySQL server on 'h' ([Errno 111] Connection refused)" -> "connection refused"
    inner = detail.rsplit("(", 1)[-1].rstrip(")") if "(" in detail else detail
    return inner.split("] ", 1)[-1].lower() if "]" in inner else inner.lower()


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
