"""Errors of bulk processing (all under :class:`enhancer.errors.EnhancerError`)."""
from __future__ import annotations

from ..errors import EnhancerError, NotFoundError


class BatchError(EnhancerError):
    """A batch cannot be created, found or run in the requested way."""


class UnknownBatchError(BatchError, NotFoundError):
    """No batch has that id."""


class IntakeError(BatchError, ValueError):
    """The manifest or archive as a whole is unusable (bad columns, too many entries, unreadable)."""


class FetchError(BatchError):
    """A URL could not be fetched; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class BrokerError(BatchError):
    """The message broker (BROKER_URL) could not be reached or refused a message; nothing was queued."""
