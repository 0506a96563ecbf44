"""What the review-site connectors (Trustpilot, Yelp, Google Play) share: one cursor per
reviewed thing (unit, business, app) holding the newest review time read, pages read newest
first back to an overlap before it, each page's reviews turned into mentions with the bad
ones counted, and the thing's review count (its listing audience) read once per fetch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from connectors.base import FetchResult, Mention
from connectors.errors import ConnectorError, RateLimitedError
from connectors.fields import iso_utc, time_or_none
from connectors.http import HttpResponse, RateLimit, get, parse_json
from connectors.polling import BudgetSpent, Poll

__all__ = ["REVIEW_ERRORS", "Reading", "ReviewPoll"]

# What turning one malformed review into a Mention raises: it is skipped and counted.
REVIEW_ERRORS: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, OverflowError,
                                               OSError)


@dataclass
class Reading:
    """One cursor's read in progress: where it stood, how far back this poll reads, the
    newest review time read so far and the oldest on the page read last."""

    key: str
    floor: datetime | None
    newest: datetime | None
    oldest: datetime | None = None

    @property
    def past_floor(self) -> bool:
        """Whether the last page reached back past the overlap: no older page is needed."""
        return bool(self.floor and self.oldest and self.oldest < self.floor)


@dataclass(kw_only=True)
class ReviewPoll(Poll):
    client: httpx.Client
    base: str
    headers: dict[str, str] = field(repr=False)  # holds the credential
    max_pages: int
    overlap: timedelta
    listings: dict[str, int | None] = field(default_factory=dict)
    # A limit met while reading a listing: the page's reviews are kept (without their
    # listing), and the next call stops the poll with it.
    pending: Exception | None = None

    def refused(self, exc: ConnectorError, where: str) -> None:
        """Raise the typed error a failed call means for this API, or adjust `exc`;
        returning lets `exc` propagate as it is."""

    def rate_limit_of(self, response: HttpResponse) -> RateLimit:
        return response.rate_limit

    def get_object(self, path: str, params: Mapping[str, Any] | None = None, *,
                   where: str, call: str | None = None) -> Mapping[str, Any]:
        """GET base+path within the budget, as a JSON object. `where` names the call in
        errors (with `call`, the endpoint's name, when it is not `where` itself)."""
        if self.pending is not None:
            raise self.pending
        self.check_budget()
        try:
            response = get(self.client, self.base + path, source=self.source.name,
                           headers=self.headers, params=params,
                           max_bytes=self.source.max_bytes)
        except ConnectorError as exc:
            self.refused(exc, where)
            raise
        self.note(self.rate_limit_of(response))
        data = parse_json(response, self.source.name)
        if not isinstance(data, Mapping):
            raise self.fatal(f"{where}: {call} did not return an object" if call
                             else f"{where} did not return an object")
        return data

    def listing(self, key: str, path: str, what: str,
                read: Callable[[Mapping[str, Any]], int | None]) -> int | None:
        """The review count of `key` (`read` from GET `path`): one call per key and fetch.
        A failure leaves it unknown rather than losing the reviews; a spent limit also
        stops the poll at its next call."""
        if key not in self.listings:
            try:
                self.listings[key] = read(self.get_object(path, where=path))
            except (RateLimitedError, BudgetSpent) as exc:
                self.pending = exc
                return None
            except ConnectorError as exc:
                self._log().warning("%s: %s %s: %s", self.source.name, what, key, exc,
                                    extra={"source": self.source.name})
                self.listings[key] = None
        return self.listings[key]

    def reading(self, key: str) -> Reading:
        since = time_or_none(self.cursors.get(key))
        return Reading(key, floor=since - self.overlap if since else None, newest=since)

    def review_list(self, data: Mapping[str, Any], where: str) -> list[Any]:
        reviews = data.get("reviews") or []
        if not isinstance(reviews, list):
            raise self.fatal(f"{where}: `reviews` is not a list")
        return reviews

    def take(self, reading: Reading, reviews: list[Any], make: Callable[[Mapping[str, Any]],
             Mention], where: str, page: int | None = None,
             errors: tuple[type[Exception], ...] = REVIEW_ERRORS) -> None:
        """Keep a page's reviews (`make` turns one into a Mention) and move the reading's
        newest and oldest times; a malformed review is skipped and counted (`page`, when
        given, is named in the message)."""
        reading.oldest = None
        of_page = f" of page {page}" if page is not None else ""
        for index, item in enumerate(reviews):
            try:
                if not isinstance(item, Mapping):
                    raise ValueError("not an object")
                mention = make(item)
            except errors as exc:
                self.skip(f"{self.source.kind}: {where}: review {index}{of_page} skipped: {exc}")
                continue
            self.keep(mention)
            when = mention.published_at
            reading.newest = max(reading.newest, when) if reading.newest else when
            reading.oldest = min(reading.oldest, when) if reading.oldest else when

    def finish(self, reading: Reading,
               timespec: Literal["seconds", "milliseconds", "microseconds"]) -> None:
        """Move the cursor to the newest review read: only once the whole thing is read, so
        a failure re-reads it next poll."""
        if reading.newest:
            self.cursors[reading.key] = iso_utc(reading.newest, timespec)

    def result(self, mentions: list[Mention] | None = None) -> FetchResult:
        if self.pending is not None and not self.stopped:
            self.stop(self.pending)  # met on the last listing: nothing came after to stop
        return super().result(mentions)
