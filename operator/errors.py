"""The operator's domain errors, and the one place that decides how each is retried.

The handlers only kick the reconciler (kopf does not retry event handlers), so the
reconciler's own loop retries, with the delay :func:`retry_delay` gives.
"""

from __future__ import annotations


class OperatorError(Exception):
    """Something went wrong while reconciling; the message says what the operator was doing."""


class TransientApiError(OperatorError):
    """The API server or S3 failed in a way that may pass (timeouts, 5xx, 429, conflicts)."""

    def __init__(self, message: str, *, delay: float = 2.0) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentApiError(OperatorError):
    """A request that will fail the same way every time (403, 422): retrying will not help."""


class CleanupNotConfigured(PermanentApiError):
    """retention: Delete was asked for, but the operator has no S3 credentials to delete with."""


def retry_delay(error: BaseException, attempt: int) -> float | None:
    """Seconds before the operator's own reconcile loop retries, or None to give up until the next event."""
    if isinstance(error, TransientApiError):
        return min(error.delay * (2 ** min(attempt, 5)), 60.0)
    if isinstance(error, PermanentApiError):
        return None
    return min(2.0 * (2 ** min(attempt, 5)), 60.0)  # a bug or an unexpected error: back off, keep trying
