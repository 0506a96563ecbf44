"""Trustpilot: the reviews of configured business units from the public Business Units API
(`GET /v1/business-units/{id}/reviews`, newest first, `apikey` header), each unit with its
own cursor (the newest `createdAt` seen; the next poll reads back to a little before it),
and the unit's total number of reviews (`GET /v1/business-units/{id}`) as every review's
listing audience."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

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
from connectors.fields import count, ident, lang_code, parse_time
from connectors.http import skip_without
from connectors.polling import id_list_param, int_param, int_param_problems, overlap_param
from connectors.reviews import ReviewPoll
from connectors.text import normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "to_mention", "validate"]

NAME = "trustpilot"

DEFAULT_BASE = "https://api.trustpilot.com"
API_KEY = "TRUSTPILOT_API_KEY"
WEB = "https://www.trustpilot.com"
# perPage: "The allowed range is minimum: 1, maximum: 100. Default value: 20"
# (developers.trustpilot.com, business units API).
PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 5
# Reviews can appear a little after their createdAt (moderation); re-read this much before
# the cursor, ids dedupe.
DEFAULT_OVERLAP = timedelta(hours=2)
# Trustpilot asks for at most 833 calls per 5 minutes (developers.trustpilot.com/
# rate-limiting); a 429 without Retry-After waits out that window.
RATE_LIMIT_WAIT = timedelta(minutes=5)


def _text(value: Any) -> str:
    return normalize_whitespace(value) if isinstance(value, str) else ""


def to_mention(review: Mapping[str, Any], *, listing_ratings: int | None = None) -> Mention:
    """One review as a Mention. Pure. `listing_ratings` is the business unit's total number
    of reviews; the consumer's own review count and the company's reply stay in `raw`."""
    review_id = review.get("id")
    if not isinstance(review_id, str) or not review_id:
        raise ValueError("review without an id")
    stars = review.get("stars")
    if stars is not None and (isinstance(stars, bool) or not isinstance(stars, (int, float))):
        raise ValueError(f"review {review_id}: stars is not a number")
    consumer = review.get("consumer")
    consumer = consumer if isinstance(consumer, Mapping) else {}
    consumer_id = ident(consumer.get("id"))
    reply = review.get("companyReply")
    return Mention(
        source=NAME,
        external_id=review_id,
        url=f"{WEB}/reviews/{quote(review_id, safe='')}",
        title=_text(review.get("title")) or None,
        text=_text(review.get("text")),
        # UTC; parse_time reads a time without an offset (some examples) as UTC too.
        published_at=parse_time(review.get("createdAt")),
        author=Author(
            id=consumer_id,
            name=_text(consumer.get("displayName")) or None,
            url=f"{WEB}/users/{quote(consumer_id, safe='')}" if consumer_id else None,
        ),
        engagement=Engagement(
            likes=count(review.get("numberOfLikes")),
            replies=1 if isinstance(reply, Mapping) and reply.get("text") else 0,
        ),
        lang=lang_code(review.get("language")),
        rating=float(stars) if stars else None,
        listing_ratings=listing_ratings,
        raw=review,
    )


def _units(source: SourceSpec) -> list[str]:
    return id_list_param(source, "business_units", "business unit ids (find yours with GET "
                         "/v1/business-units/find?name=<domain>)")


def _total(unit: Mapping[str, Any]) -> int | None:
    counts = unit.get("numberOfReviews")
    return count(counts.get("total")) if isinstance(counts, Mapping) else None


@dataclass(kw_only=True)
class _Poll(ReviewPoll):
    language: str | None

    def refused(self, exc: ConnectorError, where: str) -> None:
        if isinstance(exc, RateLimitedError) and exc.retry_at is None:
            exc.retry_at = datetime.now(UTC) + RATE_LIMIT_WAIT

    def unit(self, unit: str) -> None:
        """Read one unit's reviews, newest first, back to the overlap before its cursor. The
        cursor moves only once the unit is read, so a failure re-reads it next poll."""
        reading = self.reading(f"unit:{unit}")
        query: dict[str, Any] = {"orderBy": "createdat.desc", "perPage": PAGE_SIZE}
        if self.language:
            query["language"] = self.language
        path = f"/v1/business-units/{quote(unit, safe='')}/reviews"
        for page in range(1, self.max_pages + 1):
            reviews = self.review_list(self.get_object(path, {**query, "page": page},
                                                       where=path), unit)
            listing = self.listing(unit, f"/v1/business-units/{quote(unit, safe='')}",
                                   "business unit", _total) if reviews else None
            self.take(reading, reviews, partial(to_mention, listing_ratings=listing), unit,
                      page, errors=(KeyError, TypeError, ValueError))
            # "If the page number requested is higher than the available number of pages an
            # empty array will be returned": a short page is the last one.
            if len(reviews) < PAGE_SIZE or reading.past_floor:
                break
        else:
            self.page_cap(unit, self.max_pages, "older reviews skipped")
        self.finish(reading, "milliseconds")


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    skip_without(source.secrets, [API_KEY], source.name)
    units = _units(source)
    language = source.params.get("language")
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        # The key goes in a header, never in a URL that could be logged or stored.
        headers={"Accept": "application/json", "apikey": source.secrets[API_KEY]},
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        language=str(language) if language else None,
    )
    poll.run(lambda u=u: poll.unit(u) for u in units)
    return poll.result()


def validate(source: SourceSpec) -> list[str]:
    problems = []
    try:
        _units(source)
    except FatalError as exc:
        problems.append(str(exc).split(": ", 1)[-1])
    problems += int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0})
    if not source.secrets.get(API_KEY):
        problems.append(f"no {API_KEY}")
    return problems


CONNECTOR = Connector(
    name=NAME,
    summary="Trustpilot: the reviews of your business units (Business Units API, newest "
    "first), stars, title, likes, the company's reply, and the unit's review count as the "
    "listing audience; one cursor per unit. Set the source's `about` to the brand so reviews "
    "count whether they name it.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE})",
        "params.business_units": "business unit ids to read (required)",
        "params.language": "only reviews in this language (e.g. 'en')",
        "params.max_pages": f"pages of {PAGE_SIZE} reviews per unit and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the newest review seen each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    secrets={API_KEY: "a Trustpilot API key (sent in the apikey header)"},
    validate=validate,
)
