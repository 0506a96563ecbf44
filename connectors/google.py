"""The error body every Google API answers with (YouTube Data API, Play Developer API):
`{"error": {"code", "message", "status", "errors": [{"reason", ...}]}}`. The reasons tell a
spent quota or a rate limit from a refusal, which the HTTP status alone does not."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.text import html_to_text

__all__ = ["GoogleError", "google_error"]


@dataclass(frozen=True, slots=True)
class GoogleError:
    reasons: tuple[str, ...] = ()  # errors[].reason, in the body's order
    status: str | None = None      # the canonical status, e.g. RESOURCE_EXHAUSTED
    message: str = ""              # as plain text (YouTube's messages carry HTML)


def google_error(body: str | None) -> GoogleError:
    """The parts of a Google API error body; empty when the body is not one."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return GoogleError()
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        return GoogleError()
    reasons = tuple(str(e["reason"]) for e in error.get("errors") or []
                    if isinstance(e, Mapping) and e.get("reason"))
    status = error.get("status")
    return GoogleError(reasons, status if isinstance(status, str) else None,
                       html_to_text(str(error.get("message") or "")))
