"""What every sink shares: the context it sends with, what a delivery returns, the one error
type the outbox understands, and the translation of HTTP failures into it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from connectors.errors import ConnectorError, FatalError, RateLimitedError
from connectors.http import HttpResponse, request

__all__ = [
    "PERMANENT_STATUSES",
    "Delivery",
    "DeliveryError",
    "SendContext",
    "Sink",
    "http_send",
    "require_secret",
]

# HTTP answers that retrying cannot fix: a malformed payload, bad credentials, a missing
# repository or channel. Anything else (403 rate limits, 5xx, timeouts) is retried.
# 301 and 308: the receiver moved for good (a write is never redirected, connectors.http).
PERMANENT_STATUSES = frozenset({301, 308, 400, 401, 404, 405, 410, 413, 422})


class DeliveryError(Exception):
    """A delivery that did not happen, or may have. `permanent`: do not retry; `retry_at`:
    the receiver asked us to wait until then; `ambiguous`: the request went out and the answer
    was lost (a read timeout, a dropped connection), so it may have been delivered. Messages
    never carry secret values (the outbox scrubs them again before storing)."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_at: datetime | None = None, ambiguous: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.retry_at = retry_at
        self.ambiguous = ambiguous


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the receiver said it created (an issue number, a ticket id, a Message-ID)."""

    external_id: str | None = None
    external_url: str | None = None
    warning: str | None = None  # sent, but not quite as asked (kept on the row)


@dataclass(frozen=True, slots=True)
class SendContext:
    client: httpx.Client
    channel_name: str
    channel: Any  # the channel's config model (notify.config)
    secrets: Mapping[str, str]
    now: datetime


@dataclass(frozen=True, slots=True)
class Sink:
    """`send` delivers one notification. `find`, for receivers that keep what we created
    (GitHub, Zendesk), looks a notification up by its key after an interrupted send: a
    Delivery if it exists, None if it certainly does not. Sinks without `find` cannot tell,
    so an interrupted send is never repeated there (see notify.deliver)."""

    name: str
    send: Callable[[SendContext, Any], Delivery]
    find: Callable[[SendContext, Any, datetime], Delivery | None] | None = None


def require_secret(ctx: SendContext, name: str, *, strip: bool = True) -> str:
    """The secret's value. URLs and tokens are stripped: one pasted into a Secret block or
    read from a file often ends in a newline, which made an invalid URL or an illegal header
    (and an error log line quoting it). Passwords and signing keys (strip=False) are used
    exactly as given, whitespace being a legal part of them."""
    value = ctx.secrets.get(name)
    if value and strip:
        value = value.strip()
    if not value:
        raise DeliveryError(f"{ctx.channel_name}: secret {name} is not set (environment "
                            f"variable or Prefect Secret block)")
    return value


# Failures after the request was written: the receiver may have acted on it. Connect errors
# and connect/pool timeouts happen before anything is sent, and a status code is an answer.
_AMBIGUOUS = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def _translate(exc: ConnectorError, channel: str) -> DeliveryError:
    reason = f"HTTP {exc.status}" if exc.status else type(exc).__name__
    body = (exc.body or "").strip().replace("\n", " ")[:300]
    message = f"{channel}: {reason}" + (f": {body}" if body else "")
    if exc.status is None:
        # Say what happened without the URL: for Slack and some webhooks the URL is the
        # secret. connectors.http words these "<source>: <what> fetching <url>...".
        what = str(exc).removeprefix(f"{exc.source}: ").split(" fetching ")[0]
        if isinstance(exc, FatalError) or "URL" in what:
            what = "invalid URL"
        message = f"{channel}: {what}"
    if isinstance(exc, RateLimitedError):
        return DeliveryError(message, retry_at=exc.retry_at)
    if isinstance(exc.__cause__, _AMBIGUOUS):
        return DeliveryError(message, ambiguous=True)
    permanent = isinstance(exc, FatalError) and (exc.status in PERMANENT_STATUSES
                                                 or exc.status is None)
    return DeliveryError(message, permanent=permanent)


def http_send(ctx: SendContext, method: str, url: str, **kwargs: Any) -> HttpResponse:
    """One call through connectors.http with no retries inside: the outbox retries, with its
    backoff recorded on the row (retries in two layers would multiply)."""
    try:
        return request(ctx.client, method, url, source=f"notify:{ctx.channel_name}",
                       retries=0, **kwargs)
    except ConnectorError as exc:
        raise _translate(exc, ctx.channel_name) from None
    except httpx.InvalidURL:
        # Refused before anything was sent. (No message: it may quote the secret URL.)
        raise DeliveryError(f"{ctx.channel_name}: invalid URL", permanent=True) from None
    except httpx.HTTPError as exc:
        # What connectors.http does not translate comes after the request went out: an
        # answer that will not decode, a redirect loop. The receiver may have acted on it, so
        # it must not count as a plain failure, whose retry would deliver it twice.
        raise DeliveryError(f"{ctx.channel_name}: {type(exc).__name__} reading the answer",
                            ambiguous=True) from None
