"""The operator's domain errors, and the one place that decides how each is retried.

The handlers only kick the reconciler (kopf does not retry event handlers), so the
reconciler's work queue retries: the first retry after :func:`retry_base` seconds, then
twice as long each time, at most a minute apart (see :class:`.workqueue.ExponentialBackoff`).
"""

from __future__ import annotations


class OperatorError(Exception):
    """Something went wrong while reconciling; the message says what the operator was doing."""


class TransientApiError(OperatorError):
    """The API server or S3 failed in a way that may pass (timeouts, 5xx, 429, conflicts)."""

    def __init__(self, message: str, *, delay: float = 4.0) -> None:
        super().__init__(message)
        self.delay = delay  # seconds before the first retry


class PermanentApiError(OperatorError):
    """A request that will fail the same way every time (403, 422): retrying will not help."""


class CleanupNotConfigured(PermanentApiError):
    """retention: Delete was asked for, but the operator has no S3 credentials to delete with."""


def retry_base(error: BaseException) -> float | None:
    """Seconds before the first retry of a reconcile that failed so, or None to wait for the next event."""
    if isinstance(error, TransientApiError):
        return error.delay
    if isinstance(error, PermanentApiError):
        return None
    return 4.0  # a bug or an unexpected error: back off, keep trying
