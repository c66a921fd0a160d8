"""Local-folder storage: the embedded default. Writes are atomic (temp file, then rename)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from ..errors import NotFoundError, StorageError
from .base import StoredObject, validate_key


class LocalStorage:
    kind = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes, *, content_type: str) -> str:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"Could not write {key} to the storage folder {self.root}: "
                               f"{exc.strerror or exc}. Check the folder exists and is writable.") from exc
        return self.uri(key)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"No stored object {key}") from None
        except OSError as exc:
            raise StorageError(f"Could not read {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"Could not delete {key}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def public_url(self, key: str) -> str:
        return self.uri(key)

    def url(self, key: str, *, expires_s: int = 3600, download_name: str | None = None) -> str:
        return self.uri(key)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Files under the root whose key starts with ``prefix``, in key order.

        A put killed between its temp file and the rename leaves ``.tmp-*`` files:
        they are listed too, so the reconciler reclaims them once they are old.
        """
        start = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        yield from self._walk(start, prefix)

    def _walk(self, folder: Path, prefix: str) -> Iterator[StoredObject]:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"Could not list {folder}: {exc.strerror or exc}") from exc
        # key order: "a/x" sorts as "a" + "/" + "x", so walk names as keys, folders with their slash
        for name, entry in sorted(((e.name + ("/" if e.is_dir(follow_symlinks=False) else ""), e) for e in entries)):
            key = Path(entry.path).relative_to(self.root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if (key + "/").startswith(prefix) or prefix.startswith(key + "/"):
                    yield from self._walk(Path(entry.path), prefix)
            elif entry.is_file(follow_symlinks=False) and key.startswith(prefix):
                st = entry.stat(follow_symlinks=False)
                yield StoredObject(key, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))

    def check(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"The storage folder {self.root} is not writable")
        return f"local folder {self.root}"
