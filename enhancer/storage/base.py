"""The storage contract every backend follows."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable


class StoredObject(NamedTuple):
    """One object as a listing sees it; ``last_modified`` is timezone-aware UTC."""

    key: str
    size: int
    last_modified: datetime


@runtime_checkable
class Storage(Protocol):
    """A private object store addressed by ``/``-separated keys.

    ``put`` returns the object's URI (``s3://bucket/key`` or ``file://...``);
    ``public_url`` is the stored https form (CDN or bucket URL);
    ``url`` is a link a browser can open now (presigned for S3).
    ``list`` yields every object whose key starts with ``prefix``, in key order,
    streaming (a bucket of millions never sits in memory).
    """

    kind: str

    def put(self, key: str, data: bytes, *, content_type: str) -> str: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def url(self, key: str, *, expires_s: int = 3600, download_name: str | None = None) -> str: ...
    def uri(self, key: str) -> str: ...
    def public_url(self, key: str) -> str: ...
    def check(self) -> str: ...
    def list(self, prefix: str = "") -> Iterator[StoredObject]: ...


def validate_key(key: str) -> str:
    """Refuse keys that could escape the store's root."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid storage key {key!r}: use a relative key like 'uploads/original/x.jpg'")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}: no empty, '.' or '..' segments")
    return key
