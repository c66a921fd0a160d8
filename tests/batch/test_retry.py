"""Which failures are retried, and how often."""
from __future__ import annotations

import pytest
import pymysql
import sqlite3
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from enhancer.batch.retry import transient, with_retry
from enhancer.errors import DatabaseError, StorageError


def _op(code, msg="x"):
    return OperationalError("SELECT 1", {}, pymysql.err.OperationalError(code, msg))


@pytest.mark.parametrize("exc,expected", [
    (_op(2013, "Lost connection to MySQL server during query (timed out)"), True),
    (_op(2006), True), (_op(2003), True), (_op(1205), True), (_op(1213), True),
    (_op(1045, "Access denied"), False), (_op(1049, "Unknown database"), False),
    (OperationalError("x", {}, sqlite3.OperationalError("database is locked")), True),
    (OperationalError("x", {}, sqlite3.OperationalError("no such table: t")), False),
    (PoolTimeout("QueuePool limit"), True),
    (IntegrityError("x", {}, pymysql.err.IntegrityError(1062, "Duplicate")), False),
    (ValueError("bad photo"), False), (StorageError("disk full"), False),
])
def test_transient(exc, expected):
    assert transient(exc) is expected


def test_wrapped_errors_are_judged_by_their_cause():
    try:
        try:
            raise _op(2013)
        except OperationalError as inner:
            raise DatabaseError("The database write failed") from inner
    except DatabaseError as outer:
        assert transient(outer)
    assert transient(DatabaseError.from_exc(_op(2006), "mysql+pymysql://u:pw@db:3306/x"))
    assert not transient(DatabaseError.from_exc(_op(1045), "mysql+pymysql://u:pw@db:3306/x"))
    flaky = StorageError("Could not write s3://b/k: S3 unreachable")
    flaky.transient = True
    assert transient(flaky)


def test_with_retry_retries_blips_only_and_gives_up():
    calls = []

    def blip_twice():
        calls.append(1)
        if len(calls) < 3:
            raise _op(2013)
        return "ok"

    assert with_retry("x", blip_twice, delays=(0, 0, 0)) == "ok" and len(calls) == 3
    with pytest.raises(OperationalError):
        with_retry("x", lambda: (_ for _ in ()).throw(_op(2013)), delays=(0, 0))
    bad = []
    with pytest.raises(ValueError):
        with_retry("x", lambda: bad.append(1) or (_ for _ in ()).throw(ValueError("no")), delays=(0, 0))
    assert len(bad) == 1  # not a blip: no second try
