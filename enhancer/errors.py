"""Error hierarchy: one root, one subclass per kind of failure.

Messages are for operators: they say what was wrong and what to do.
"""


class EnhancerError(Exception):
    """Root of every error raised by :mod:`enhancer`."""


class InvalidImageError(EnhancerError, ValueError):
    """The bytes are not a usable image (empty, truncated, not an image, too large)."""


class ConfigError(EnhancerError, ValueError):
    """A setting is missing or has a bad value; the message names the variable."""


class StorageError(EnhancerError):
    """The object store could not read, write or delete an object."""


class NotFoundError(EnhancerError, LookupError):
    """A requested image, enhancement or object does not exist."""


class ProviderError(EnhancerError):
    """An AI provider failed (after its retries); carries the status code if any."""

    def __init__(self, message: str, *, status_code: int | None = None, provider: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.provider = provider


class DatabaseError(EnhancerError):
    """The database could not be reached or refused a write; nothing was half-written."""


class DuplicateSkuError(EnhancerError, ValueError):
    """The SKU already belongs to a different photo."""


class ModelError(EnhancerError):
    """A model file shipped with the package is missing or corrupt; the message names the file."""
