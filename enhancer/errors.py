"""Error hierarchy: one root, one subclass per kind of failure.

Messages are for operators: they say what was wrong and what to do.
"""
from __future__ import annotations



class EnhancerError(Exception):
    """Root of every error raised by :mod:`enhancer`."""


class InvalidImageError(EnhancerError, ValueError):
    """The bytes are not a usable image (empty, truncated, not an image, too large)."""


class ConfigError(EnhancerError, ValueError):
    """A setting is missing or has a bad value; the message names the variable."""


class StorageError(EnhancerError):
    """The object store could not read, write or delete an object.

    ``transient`` is True when trying again later may work (network, timeouts, S3 busy).
    """

    transient: bool = False


class NotFoundError(EnhancerError, LookupError):
    """A requested image, enhancement or object does not exist."""


class PermissionDeniedError(EnhancerError, PermissionError):
    """The caller's role does not allow the action; the message names the role needed."""

    def __init__(self, message: str, *, needed: str = "", role: str = ""):
        super().__init__(message)
        self.needed = needed
        self.role = role


class ProviderError(EnhancerError):
    """An AI provider failed (after its retries); carries the status code if any."""

    def __init__(self, message: str, *, status_code: int | None = None, provider: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.provider = provider


class DatabaseError(EnhancerError):
    """The database could not be reached or refused a write; nothing was half-written.

    ``transient`` is True when trying again later may work (lost connection, timeout, lock wait).
    """

    transient: bool = False

    @classmethod
    def from_exc(cls, exc: BaseException, where=None) -> DatabaseError:
        """A one-line error for a driver/SQLAlchemy failure, naming host:port and never the password.

        ``where`` is the engine (its timeouts appear in the message) or the URL.
        Use ``raise DatabaseError.from_exc(exc, engine) from exc``.
        """
        from db.session import describe_error, is_transient

        err = cls(describe_error(exc, where))
        err.transient = is_transient(exc)
        return err



class ConflictError(DatabaseError, ValueError):
    """Another request changed the same rows first (a race); nothing of this request was kept."""


class ModelError(EnhancerError):
    """A model file shipped with the package is missing or corrupt; the message names the file."""
