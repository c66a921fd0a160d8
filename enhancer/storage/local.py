"""Local-folder storage: the embedded default. Writes are atomic (temp file, then rename)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import NotFoundError, StorageError
from .base import validate_key


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

    def check(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"The storage folder {self.root} is not writable")
        return f"local folder {self.root}"
