"""The one typed error hierarchy connectors raise; its type says what the caller does next."""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "ConnectorError",
    "FatalError",
    "RateLimitedError",
    "RetriableError",
    "SkippableError",
]


class ConnectorError(Exception):
    """Base of every error a connector raises. `source` names the failing source."""

    def __init__(self, message: str, *, source: str | None = None, status: int | None = None,
                 body: str | None = None):
        super().__init__(message)
        self.source = source
        self.status = status
        # The start of an HTTP error's body: APIs say why there (Stack Exchange's
        # error_name, YouTube's quotaExceeded), connectors read it to decide what to do.
        self.body = body


class RetriableError(ConnectorError):
    """A transient failure (timeout, 5xx, reset connection): worth trying again soon."""


class RateLimitedError(RetriableError):
    """The source asked us to slow down; do not call it again before `retry_at`."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        retry_at: datetime | None = None,
        source: str | None = None,
        status: int | None = None,
        body: str | None = None,
    ):
        super().__init__(message, source=source, status=status, body=body)
        self.retry_after_s = retry_after_s
        self.retry_at = retry_at


class FatalError(ConnectorError):
    """Retrying will not help (bad credentials, gone, malformed configuration or payload)."""


class SkippableError(ConnectorError):
    """The source cannot run now for a reason that is not a failure (missing credentials,
    feature not configured); it is skipped and reported, not counted as an error."""
