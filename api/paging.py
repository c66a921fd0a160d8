"""Cursor paging for the listings: ``next_cursor`` names the last row of a page, ``cursor=`` starts after it.

A cursor is opaque to clients (base64url of the row's creation time and id);
the database reads only the page's rows, where an ``offset`` makes it walk
past every skipped row (``python benchmarks/api.py --listing-only``).
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime


def encode(row) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor names; ValueError (400) for one this API did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, id_ = raw.partition("|")
        if not id_:
            raise ValueError
        return datetime.fromisoformat(at), id_
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError("cursor is not one this API gave out: pass a listing's next_cursor unchanged") from None


def page(rows: list, limit: int, offset: int, cursor: str | None, *, keyset: bool = True) -> dict:
    """The paging members of a listing's answer (``keyset`` False: a sort paged by offset only)."""
    return {"limit": limit, "offset": offset, "cursor": cursor,
            "next_cursor": encode(rows[-1]) if keyset and len(rows) == limit else None}


def after(cursor: str | None, offset: int) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    if offset:
        raise ValueError("pass either cursor or offset, not both")
    return decode(cursor)
