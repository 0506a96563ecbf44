"""Where mentions come from: one module per source, all behind one contract (`base`)."""

from connectors.base import (
    Author,
    Connector,
    Engagement,
    FetchResult,
    Mention,
    SourceSpec,
    SourceState,
)
from connectors.errors import (
    ConnectorError,
    FatalError,
    RateLimitedError,
    RetriableError,
    SkippableError,
)

__all__ = [
    "Author",
    "Connector",
    "ConnectorError",
    "Engagement",
    "FatalError",
    "FetchResult",
    "Mention",
    "RateLimitedError",
    "RetriableError",
    "SkippableError",
    "SourceSpec",
    "SourceState",
]
