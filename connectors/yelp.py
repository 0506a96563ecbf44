"""Yelp: the review excerpts of configured businesses from the Places (Fusion) API
(`GET /v3/businesses/{id}/reviews`, `Authorization: Bearer`), with the business's review
count (`GET /v3/businesses/{id}`) as every review's listing audience. Standard plans return
up to three excerpts per business, so polling often is what catches new reviews; each
business keeps the newest review time seen and ids dedupe.

`time_created` is a local wall-clock time without a zone ("2026-11-20 18:57:16"). Yelp's
reference calls it Pacific time; it is read in `params.timezone` (default
America/Los_Angeles) and converted to UTC. If the zone is wrong the time is off by whole
hours, which is why the cursor's overlap is a day."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from connectors.base import (
    Author,
    Connector,
    Engagement,
    FetchResult,
    Mention,
    SourceSpec,
    SourceState,
)
from connectors.errors import ConnectorError, FatalError, RateLimitedError
from connectors.fields import count, http_url, ident, lang_code
from connectors.http import HttpResponse, RateLimit, skip_without
from connectors.polling import id_list_param, int_param, int_param_problems, overlap_param
from connectors.reviews import ReviewPoll
from connectors.text import normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "local_time", "to_mention", "validate"]

NAME = "yelp"

DEFAULT_BASE = "https://api.yelp.com"
API_KEY = "YELP_API_KEY"
# "time_created: The time that the review was created in PST" (Yelp Places API reference).
DEFAULT_TIMEZONE = "America/Los_Angeles"
PACIFIC = ZoneInfo(DEFAULT_TIMEZONE)
DEFAULT_SORT = "newest"
# Standard plans return three excerpts whatever is asked: one page per business and poll
# unless a plan with more is configured (each page spends one call of the daily limit).
DEFAULT_MAX_PAGES = 1
# A day: covers a wrong `timezone` (at most ±14 h) as well as late-appearing reviews.
DEFAULT_OVERLAP = timedelta(days=1)
# 429 TOO_MANY_REQUESTS_PER_SECOND: a per-second limit; come back on a later run.
QPS_WAIT = timedelta(minutes=1)
_TRACKING = ("adjust_creative", "utm_")


def local_time(value: Any, zone: tzinfo) -> datetime:
    """Yelp's "YYYY-MM-DD HH:MM:SS" wall-clock time in `zone`, as aware UTC. A time that
    falls twice (the autumn DST change) is read as the first; one that never happens (the
    spring change) shifts by the gap, as zoneinfo does."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a time: {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _clean_url(value: Any) -> str | None:
    """The review link without Yelp's tracking parameters (they carry the API client id)."""
    if not http_url(value):
        return None
    parts = urlsplit(value)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith(_TRACKING)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def to_mention(review: Mapping[str, Any], *, zone: tzinfo = PACIFIC,
               listing_ratings: int | None = None, lang: str | None = None) -> Mention:
    """One review excerpt as a Mention. Pure. `listing_ratings` is the business's
    review_count; `lang` the language asked for with `locale`, when one was."""
    review_id = review.get("id")
    if not isinstance(review_id, str) or not review_id:
        raise ValueError("review without an id")
    rating = review.get("rating")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, (int, float))):
        raise ValueError(f"review {review_id}: rating is not a number")
    text = review.get("text")
    if not isinstance(text, str):
        raise ValueError(f"review {review_id}: text is not a string")
    user = review.get("user")
    user = user if isinstance(user, Mapping) else {}
    name = user.get("name")
    return Mention(
        source=NAME,
        external_id=review_id,
        url=_clean_url(review.get("url")),
        title=None,
        # An excerpt (Yelp cuts it at about 160 characters, ending "...").
        text=normalize_whitespace(text),
        published_at=local_time(review.get("time_created"), zone),
        author=Author(
            id=ident(user.get("id")),
            name=(normalize_whitespace(name) or None) if isinstance(name, str) else None,
            url=http_url(user.get("profile_url")),
        ),
        # Yelp gives no votes and no owner replies through this endpoint.
        engagement=Engagement(),
        lang=lang,
        rating=float(rating) if rating else None,
        listing_ratings=listing_ratings,
        raw=review,
    )


def _error_code(body: str | None) -> str | None:
    """Yelp's error code: {"error": {"code": "ACCESS_LIMIT_REACHED", "description": ...}}."""
    try:
        code = json.loads(body or "")["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def _rate_limit(headers: httpx.Headers) -> RateLimit:
    """RateLimit-Remaining (calls left today) and RateLimit-ResetTime (an ISO time, midnight
    UTC) from Yelp's rate limiting docs; http.parse_rate_limit knows no `ResetTime`."""
    remaining = headers.get("ratelimit-remaining")
    reset = headers.get("ratelimit-resettime")
    try:
        left = int(remaining) if remaining is not None else None
    except ValueError:
        left = None
    try:
        at = datetime.fromisoformat(reset.replace("Z", "+00:00")) if reset else None
    except ValueError:
        at = None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return RateLimit(left, at)


def _next_midnight_utc(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time.min, UTC)


def _businesses(source: SourceSpec) -> list[str]:
    return id_list_param(source, "businesses", "Yelp business ids or aliases (e.g. "
                         "[\"acme-coffee-san-francisco\"])")


def _zone(source: SourceSpec) -> tzinfo:
    name = source.params.get("timezone") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise FatalError(f"{source.name}: params.timezone {name!r} is not an IANA time zone "
                         "(e.g. 'America/New_York')", source=source.name) from None


@dataclass(kw_only=True)
class _Poll(ReviewPoll):
    zone: tzinfo
    query: dict[str, Any]
    lang: str | None

    def refused(self, exc: ConnectorError, where: str) -> None:
        name = self.source.name
        code = _error_code(exc.body)
        now = datetime.now(UTC)
        if code == "ACCESS_LIMIT_REACHED":
            known = self.rate_limit.reset_at if self.rate_limit else None
            retry_at = known if known and known > now else _next_midnight_utc(now)
            raise RateLimitedError(f"{name}: daily API limit reached (HTTP {exc.status} "
                                   f"ACCESS_LIMIT_REACHED); resumes "
                                   f"{retry_at:%Y-%m-%d %H:%M} UTC", retry_at=retry_at,
                                   source=name, status=exc.status) from None
        if isinstance(exc, RateLimitedError):
            if exc.retry_at is None:
                exc.retry_at = now + QPS_WAIT
            return
        if exc.status in (400, 404) and code:
            raise FatalError(f"{name}: {where}: HTTP {exc.status} {code}", source=name,
                             status=exc.status) from None

    def rate_limit_of(self, response: HttpResponse) -> RateLimit:
        return _rate_limit(response.headers)

    def business(self, business: str) -> None:
        reading = self.reading(f"biz:{business}")
        path = f"/v3/businesses/{quote(business, safe='')}/reviews"
        offset = 0
        for page in range(self.max_pages):
            data = self.get_object(path, {**self.query, **({"offset": offset} if offset else {})},
                                   where=path)
            reviews = self.review_list(data, business)
            listing = self.listing(business, f"/v3/businesses/{quote(business, safe='')}",
                                   "business", lambda b: count(b.get("review_count"))) \
                if reviews else None
            self.take(reading, reviews, partial(to_mention, zone=self.zone,
                                                listing_ratings=listing, lang=self.lang),
                      business, page + 1)
            offset += len(reviews)
            total = data.get("total")
            if (not reviews or not isinstance(total, int) or offset >= total
                    or reading.past_floor):
                break
        self.finish(reading, "seconds")


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    skip_without(source.secrets, [API_KEY], source.name)
    businesses = _businesses(source)
    params = source.params
    query: dict[str, Any] = {}
    sort = params.get("sort_by", DEFAULT_SORT)
    if sort:
        query["sort_by"] = str(sort)
    if params.get("limit") is not None:
        query["limit"] = int_param(source, "limit", 3)
    locale = params.get("locale")
    if locale:
        query["locale"] = str(locale)
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        # The key goes in a header, never in a URL that could be logged or stored.
        headers={"Accept": "application/json",
                 "Authorization": f"Bearer {source.secrets[API_KEY]}"},
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        zone=_zone(source), query=query,
        lang=lang_code(str(locale).replace("_", "-")) if locale else None,
    )
    poll.run(lambda b=b: poll.business(b) for b in businesses)
    return poll.result()


def validate(source: SourceSpec) -> list[str]:
    problems = []
    for check in (_businesses, _zone):
        try:
            check(source)
        except FatalError as exc:
            problems.append(str(exc).split(": ", 1)[-1])
    problems += int_param_problems(source.params,
                                   {"max_pages": 1, "overlap_minutes": 0, "limit": 1})
    if not source.secrets.get(API_KEY):
        problems.append(f"no {API_KEY}")
    return problems


CONNECTOR = Connector(
    name=NAME,
    summary="Yelp: the review excerpts of your businesses (Places API, up to 3 per business "
    "on standard plans), stars, reviewer, and the business's review count as the listing "
    "audience; one cursor per business. Set the source's `about` to the brand so reviews "
    "count whether they name it.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE})",
        "params.businesses": "Yelp business ids or aliases to read (required)",
        "params.timezone": "the IANA zone time_created is read in (default "
        f"{DEFAULT_TIMEZONE}, Yelp's documented 'PST')",
        "params.sort_by": f"review order sent to Yelp (default {DEFAULT_SORT!r}; '' sends "
        "none, Yelp's own 'yelp_sort')",
        "params.locale": "reviews in this locale (e.g. 'en_US'); also sets their language",
        "params.limit": "reviews per page, for plans that return more than three",
        "params.max_pages": f"pages per business and poll (default {DEFAULT_MAX_PAGES}; "
        "each spends a call of the daily limit)",
        "params.overlap_minutes": "how far before the newest review seen each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    secrets={API_KEY: "a Yelp Places (Fusion) API key (sent as a Bearer token)"},
    validate=validate,
)
