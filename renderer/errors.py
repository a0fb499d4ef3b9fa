"""The renderer's typed errors, and the one place that maps them to the contract.

Every failure the renderer can report ends here: ``failure_for`` turns an exception
into the :class:`~videojob.contract.Failure` the operator reads and the exit code
the Job controller acts on (bad input is never retried; anything else may be).
"""

from __future__ import annotations

from videojob.contract import EXIT_BAD_INPUT, EXIT_TRANSIENT, Failure, FailureReason
from videojob.storyboard import InvalidStoryboardError


class RendererError(Exception):
    """Base of the renderer's own errors; subclasses fix the reason and retry policy."""

    reason = FailureReason.RENDER_FAILED
    retryable = True


class InvalidSourceError(RendererError):
    """The source (a file, a prompt, options) cannot be used as given."""

    reason = FailureReason.INVALID_SPEC
    retryable = False


class LLMNotConfiguredError(RendererError):
    """A prompt was given but no API key is configured: retrying cannot help."""

    reason = FailureReason.LLM_UNAVAILABLE
    retryable = False


class LLMUnavailableError(RendererError):
    """The language model could not be reached or kept failing."""

    reason = FailureReason.LLM_UNAVAILABLE


class NarrationError(RendererError):
    """No text-to-speech engine in the fallback chain produced audio."""

    reason = FailureReason.TTS_FAILED


class RenderError(RendererError):
    """Manim or ffmpeg failed on a valid storyboard."""

    reason = FailureReason.RENDER_FAILED


class LatexRejectedError(RendererError):
    """TeX could not typeset an equation that passed the safety check (e.g. an unknown command)."""

    reason = FailureReason.INVALID_STORYBOARD
    retryable = False


class UploadError(RendererError):
    """The result could not be stored (or did not verify) after retries."""

    reason = FailureReason.UPLOAD_FAILED


def failure_for(error: BaseException) -> tuple[Failure, int]:
    """The termination message and exit code for ``error``."""
    if isinstance(error, InvalidStoryboardError):
        return Failure(reason=FailureReason.INVALID_STORYBOARD, message=str(error)), EXIT_BAD_INPUT
    if isinstance(error, RendererError):
        exit_code = EXIT_TRANSIENT if error.retryable else EXIT_BAD_INPUT
        return Failure(reason=error.reason, message=str(error)), exit_code
    message = f"unexpected {type(error).__name__}: {error}"
    return Failure(reason=FailureReason.RENDER_FAILED, message=message), EXIT_TRANSIENT
