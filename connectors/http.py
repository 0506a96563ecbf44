"""The only place connectors reach the network: one injected httpx client, conditional GETs,
capped bodies, rate-limit headers, and HTTP failures translated once into `errors`."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.errors import (
    ConnectorError,
    FatalError,
    RateLimitedError,
    RetriableError,
    SkippableError,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "HttpResponse",
    "RateLimit",
    "get",
    "make_client",
    "parse_json",
    "parse_rate_limit",
    "parse_retry_after",
    "redact_url",
    "request",
    "skip_without",
]

log = logging.getLogger("earful.http")

DEFAULT_TIMEOUT_S = 20.0
USER_AGENT = "earful/0.1 (+https://github.com/earful/earful; social listening)"
# Retries live here and only here (not also in Prefect tasks), or they would multiply.
RETRIES = 2
RETRY_BACKOFF_S = 0.5
# A source's Retry-After longer than this is not slept inside a run: the source is deferred.
MAX_INLINE_WAIT_S = 5.0


def make_client(timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.Client:
    """The one client a run shares between its connectors."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


@dataclass(frozen=True, slots=True)
class RateLimit:
    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    rate_limit: RateLimit

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _reset_to_datetime(raw: str, now: datetime) -> datetime | None:
    """Reset headers come as epoch seconds (X, GitHub, Bluesky), seconds from now (Reddit,
    IETF RateLimit) or an ISO time (Mastodon)."""
    raw = raw.strip()
    try:
        number = float(raw)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # Anything this large is an epoch timestamp, not a delay.
    if number > 1_000_000_000:
        return datetime.fromtimestamp(number, UTC)
    return now + timedelta(seconds=number)


_RATE_LIMIT_FAMILIES = (
    ("x-ratelimit-remaining", "x-ratelimit-reset"),
    ("x-rate-limit-remaining", "x-rate-limit-reset"),
    ("ratelimit-remaining", "ratelimit-reset"),
)


def parse_rate_limit(headers: Mapping[str, str], now: datetime | None = None) -> RateLimit:
    now = now or datetime.now(UTC)
    lowered = {k.lower(): v for k, v in headers.items()}
    for remaining_key, reset_key in _RATE_LIMIT_FAMILIES:
        if remaining_key in lowered or reset_key in lowered:
            remaining_raw = lowered.get(remaining_key)
            try:
                remaining = int(float(remaining_raw)) if remaining_raw is not None else None
            except ValueError:
                remaining = None
            reset_raw = lowered.get(reset_key)
            reset_at = _reset_to_datetime(reset_raw, now) if reset_raw else None
            return RateLimit(remaining, reset_at)
    return RateLimit(None, None)


def _read_capped(response: httpx.Response, max_bytes: int, source: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FatalError(
            f"{source}: response of {int(declared):,} bytes exceeds the {max_bytes:,} byte cap",
            source=source,
            status=response.status_code,
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FatalError(
                f"{source}: response body exceeds the {max_bytes:,} byte cap",
                source=source,
                status=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)


# Query parameters that carry credentials (YouTube's and Stack Exchange's `key`, tokens):
# their values never reach a message or a log line.
_SECRET_PARAM = re.compile(
    r"^(?:key|api_?key|access_?token|token|client_?secret|secret|password|sig|signature|"
    r"auth|jwt)$", re.IGNORECASE)
ERROR_BODY_BYTES = 4096


def redact_url(url: str | httpx.URL) -> str:
    """The URL with the values of credential-like query parameters replaced."""
    parsed = httpx.URL(str(url))
    if not parsed.query:
        return str(parsed)
    pairs = [(k, "REDACTED" if _SECRET_PARAM.match(k) else v)
             for k, v in parsed.params.multi_items()]
    return str(parsed.copy_with(params=pairs))


def _error_body(response: httpx.Response) -> str | None:
    """The first few KB of an error body (never the whole of a 50 MB error page)."""
    data = b""
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= ERROR_BODY_BYTES:
                break
    except httpx.HTTPError:
        pass
    return data[:ERROR_BODY_BYTES].decode("utf-8", "replace") if data else None


def _location(response: httpx.Response) -> str:
    try:
        return redact_url(response.headers.get("location") or "none")
    except httpx.InvalidURL:
        return "not a URL"


def _error_for_status(response: httpx.Response, source: str, now: datetime) -> ConnectorError:
    error = _translate_status(response, source, now)
    error.body = _error_body(response)
    return error


def _translate_status(response: httpx.Response, source: str, now: datetime) -> ConnectorError:
    status = response.status_code
    url = redact_url(response.request.url)
    limit = parse_rate_limit(response.headers, now)
    # Some APIs answer a spent limit with 403, not 429 (GitHub: "a 403 or 429 response, and
    # the x-ratelimit-remaining header will be 0"): wait for its reset, not a refusal.
    if status == 429 or (status == 403 and ("retry-after" in response.headers
                                            or limit.remaining == 0)):
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        retry_at = now + timedelta(seconds=retry_after) if retry_after is not None else None
        retry_at = retry_at or limit.reset_at
        return RateLimitedError(
            f"{source}: rate limited (HTTP {status})"
            + (f", retry after {retry_after:.0f}s" if retry_after is not None else ""),
            retry_after_s=retry_after,
            retry_at=retry_at,
            source=source,
            status=status,
        )
    if status in (401, 403):
        return FatalError(f"{source}: HTTP {status} from {url}: check credentials", source=source,
                          status=status)
    if status in (404, 410):
        return FatalError(f"{source}: HTTP {status} from {url}: not found", source=source,
                          status=status)
    if response.is_redirect:
        return FatalError(f"{source}: HTTP {status} from {url}: moved (Location: "
                          f"{_location(response)}); configure the new address", source=source,
                          status=status)
    if status == 408 or status >= 500:
        return RetriableError(f"{source}: HTTP {status} from {url}", source=source, status=status)
    return FatalError(f"{source}: HTTP {status} from {url}", source=source, status=status)


def get(
    client: httpx.Client,
    url: str,
    *,
    source: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    retries: int = RETRIES,
) -> HttpResponse:
    """GET with bounded retries on transient failures; every failure leaves as a
    `ConnectorError`. 304 is returned, not raised: it is a success with no body."""
    return request(client, "GET", url, source=source, headers=headers, params=params,
                   max_bytes=max_bytes, retries=retries)


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    source: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    retries: int = RETRIES,
) -> HttpResponse:
    """Any HTTP call with the same retries, caps and error translation as `get`."""
    attempt = 0
    while True:
        now = datetime.now(UTC)
        try:
            # A write is not redirected: httpx (as browsers do) re-sends a POST redirected
            # by 301/302/303 as a GET without its body, so a moved webhook would look
            # delivered and be lost. The 3xx is an error naming where it moved instead.
            with client.stream(method, url, headers=headers, params=params, json=json_body,
                               data=form, auth=auth,
                               follow_redirects=method in ("GET", "HEAD")) as response:
                if response.status_code == 304 or response.is_success:
                    body = b"" if response.status_code == 304 else _read_capped(
                        response, max_bytes, source
                    )
                    return HttpResponse(
                        status=response.status_code,
                        headers=response.headers,
                        body=body,
                        url=str(response.url),
                        rate_limit=parse_rate_limit(response.headers, now),
                    )
                error = _error_for_status(response, source, now)
        except httpx.TimeoutException as exc:
            error = RetriableError(f"{source}: timed out fetching {redact_url(url)}",
                                   source=source)
            error.__cause__ = exc
        except httpx.TransportError as exc:
            error = RetriableError(
                f"{source}: {type(exc).__name__} fetching {redact_url(url)}: {exc}",
                source=source)
            error.__cause__ = exc
        except httpx.InvalidURL as exc:
            raise FatalError(f"{source}: invalid URL {redact_url(url)!r}", source=source) from exc
        if isinstance(error, RateLimitedError):
            wait = error.retry_after_s
            if wait is None or wait > MAX_INLINE_WAIT_S or attempt >= retries:
                raise error
        elif not isinstance(error, RetriableError) or attempt >= retries:
            raise error
        else:
            wait = RETRY_BACKOFF_S * (2**attempt)
        attempt += 1
        log.warning("%s: retrying in %.1fs after: %s", source, wait, error,
                    extra={"source": source, "url": redact_url(url), "retry_after_s": wait})
        time.sleep(wait)


def skip_without(secrets: Mapping[str, str], needed: list[str], source: str) -> None:
    """Raise `SkippableError` naming the missing secrets (never their values)."""
    missing = [name for name in needed if not secrets.get(name)]
    if missing:
        raise SkippableError(f"{source}: missing credentials {', '.join(missing)}", source=source)


def parse_json(response: HttpResponse, source: str) -> Any:
    """The body as JSON; a body that is not JSON is a FatalError naming the source."""
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FatalError(f"{source}: response from {response.url} is not valid JSON: {exc}",
                         source=source, status=response.status) from exc
