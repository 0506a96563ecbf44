"""What every API connector's fetch shares: params checked with a clear message, the
rate-limit budget of one poll, JSON pages read and their items turned into mentions with
the bad ones counted, and the rule that turns a poll that stopped early into a FetchResult
(mentions kept, completed cursors advanced, error or deferral recorded)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from connectors.base import Engagement, FetchResult, Mention, SourceSpec, SourceState
from connectors.errors import ConnectorError, FatalError, RateLimitedError
from connectors.http import HttpResponse, RateLimit, get, parse_json, redact_url

__all__ = [
    "ITEM_ERRORS",
    "BudgetSpent",
    "Poll",
    "batches",
    "carry_over",
    "choice_param",
    "id_list_param",
    "int_param",
    "int_param_problems",
    "overlap_param",
    "raw_of",
    "refuse_spent",
    "require_terms",
    "spent",
    "terms_problems",
]

T = TypeVar("T")

# What turning one malformed item into a Mention raises: the item is skipped and counted.
ITEM_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError)


class BudgetSpent(Exception):
    """The source said no requests are left before its reset time: stop asking this run.
    `until`, when given, is when asking again is allowed (else the rate limit's reset)."""

    def __init__(self, until: datetime | None = None):
        super().__init__(until)
        self.until = until


def spent(limit: RateLimit | None) -> bool:
    """Whether a rate limit says no requests are left before a reset still to come."""
    return bool(limit and limit.remaining == 0 and limit.reset_at
                and limit.reset_at > datetime.now(UTC))


def _bounds(minimum: int, maximum: int | None) -> str:
    return f"≥ {minimum}" + (f" and ≤ {maximum}" if maximum is not None else "")


def _bad_int(value: Any, minimum: int, maximum: int | None) -> bool:
    return (isinstance(value, bool) or not isinstance(value, int) or value < minimum
            or (maximum is not None and value > maximum))


def int_param(source: SourceSpec, key: str, default: int, minimum: int = 1,
              maximum: int | None = None) -> int:
    value = source.params.get(key, default)
    if _bad_int(value, minimum, maximum):
        raise FatalError(f"{source.name}: params.{key} must be an integer "
                         f"{_bounds(minimum, maximum)}, got {value!r}", source=source.name)
    return value


def int_param_problems(params: Mapping[str, Any],
                       bounds: Mapping[str, int | tuple[int, int]]) -> list[str]:
    """`validate` messages for integer params that are set but wrong; a bound is a minimum
    or a (minimum, maximum) pair."""
    problems = []
    for key, bound in bounds.items():
        minimum, maximum = bound if isinstance(bound, tuple) else (bound, None)
        value = params.get(key)
        if value is not None and _bad_int(value, minimum, maximum):
            problems.append(f"params.{key} must be an integer {_bounds(minimum, maximum)}")
    return problems


def overlap_param(source: SourceSpec, default: timedelta, unit: str = "minutes") -> timedelta:
    """params.overlap_<unit>: how far before its cursor each poll reads again."""
    step = timedelta(**{unit: 1})
    return step * int_param(source, f"overlap_{unit}", int(default // step), minimum=0)


def choice_param(source: SourceSpec, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = source.params.get(key, default)
    if value not in allowed:
        raise FatalError(f"{source.name}: params.{key} must be one of {', '.join(allowed)}, "
                         f"got {value!r}", source=source.name)
    return str(value)


def id_list_param(source: SourceSpec, key: str, what: str) -> list[str]:
    """params.<key>: one id or a list of them, stripped and without repeats; none, or one
    that is not text, is a FatalError saying it must list `what`."""
    ids = source.params.get(key)
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids or not all(
            isinstance(i, str) and i.strip() for i in ids):
        raise FatalError(f"{source.name}: params.{key} must list {what}", source=source.name)
    return list(dict.fromkeys(i.strip() for i in ids))


_NO_TERMS = "nothing to search for: no brand terms and no params.query"


def require_terms(source: SourceSpec, terms: Iterable[str] | None = None) -> list[str]:
    """The terms to search (the source's queries unless given): none is a FatalError."""
    found = list(source.queries if terms is None else terms)
    if not found:
        raise FatalError(f"{source.name}: nothing to search for (no brand terms and no "
                         "params.query)", source=source.name)
    return found


def terms_problems(terms: Collection[str]) -> list[str]:
    """The `validate` message for a source with nothing to search, if it has nothing."""
    return [] if terms else [_NO_TERMS]


def refuse_spent(source: SourceSpec, state: SourceState, what: str) -> None:
    """Refuse to call a source whose last poll left its budget spent until a later reset."""
    reset = state.rate_limit_reset
    if spent(RateLimit(state.rate_limit_remaining, reset)) and reset:
        raise RateLimitedError(f"{source.name}: the {what} is spent until {reset.isoformat()}",
                               retry_at=reset, source=source.name)


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size` (a look-up endpoint's limit of ids per call)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def raw_of(mention: Mention) -> Mapping[str, Any]:
    """A mention's source payload as a mapping (stored payloads may be JSON text); empty
    when it is neither."""
    raw = mention.raw
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, Mapping) else {}


def carry_over(stored: Mention, fresh: Mention) -> Mention:
    """A re-read mention, completed from the stored one where the look-up says nothing:
    counts it leaves out (None), the author's followers (fetch finds them with separate
    look-ups a refresh does not repeat) and the language (some need another call)."""
    engagement = Engagement(**{
        f.name: getattr(stored.engagement, f.name) if getattr(fresh.engagement, f.name) is None
        else getattr(fresh.engagement, f.name) for f in fields(Engagement)})
    author = fresh.author if fresh.author.followers is not None else replace(
        fresh.author, followers=stored.author.followers)
    return replace(fresh, engagement=engagement, author=author,
                   lang=fresh.lang if fresh.lang is not None else stored.lang)


@dataclass
class Poll:
    """The bookkeeping of one fetch over several queries and pages. Connectors call the API
    with `http_get` (or `check_budget` and `note` around their own calls), read bodies with
    `read_json`, walk a page's items with `objects` and `convert`, keep mentions with
    `keep`, run their per-query jobs with `run` and look-ups after them with `enrich`, and
    return `result()`. `pause` is how long a rate limit that names no time defers."""

    source: SourceSpec
    state: SourceState
    cursors: dict[str, Any] = field(default_factory=dict)
    mentions: dict[str, Mention] = field(default_factory=dict)
    item_errors: list[str] = field(default_factory=list)
    rate_limit: RateLimit | None = None
    error: str | None = None
    deferred_until: datetime | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    pause: timedelta | None = None

    def __post_init__(self) -> None:
        self.initial = dict(self.state.cursors())
        if not self.cursors:
            self.cursors = dict(self.initial)

    @property
    def progressed(self) -> bool:
        """Whether anything worth keeping was read (a later failure then returns it)."""
        return bool(self.mentions) or self.cursors != self.initial

    def fatal(self, message: str) -> FatalError:
        return FatalError(f"{self.source.name}: {message}", source=self.source.name)

    def keep(self, mention: Mention) -> bool:
        """Keep a mention once per natural key (overlapping windows and queries repeat it)."""
        if mention.external_id in self.mentions:
            return False
        self.mentions[mention.external_id] = mention
        return True

    def skip(self, message: str) -> None:
        self.item_errors.append(message)

    def note(self, limit: RateLimit) -> None:
        if limit.remaining is not None or limit.reset_at:
            self.rate_limit = limit

    def budget_spent(self) -> bool:
        return spent(self.rate_limit)

    def check_budget(self) -> None:
        if self.budget_spent():
            raise BudgetSpent

    def http_get(self, client: httpx.Client, url: str, *,
                 headers: Mapping[str, str] | None = None,
                 params: Mapping[str, Any] | None = None) -> HttpResponse:
        """One GET within the budget, capped at the source's size, its rate limit noted."""
        self.check_budget()
        response = get(client, url, source=self.source.name, headers=headers, params=params,
                       max_bytes=self.source.max_bytes)
        self.note(response.rate_limit)
        return response

    def read_json(self, response: HttpResponse, where: str | None = None) -> Any:
        """The body as JSON (an error quotes the URL without credentials); with `where`,
        it must be an object."""
        data = parse_json(replace(response, url=redact_url(response.url)), self.source.name)
        if where is not None and not isinstance(data, Mapping):
            raise self.fatal(f"{where} did not return an object")
        return data

    def objects(self, items: Any, where: str, noun: str,
                plural: str | None = None) -> Iterator[tuple[int, Mapping[str, Any]]]:
        """The objects of a page's list, with their index. A page without the list fails
        the poll; an item that is not an object is skipped and counted."""
        if not isinstance(items, list):
            raise self.fatal(f"{where} did not return a list of {plural or noun + 's'}")
        article = "an" if noun[:1] in "aeiou" else "a"
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                yield index, item
            else:
                self.skip(f"{self.source.kind}: item {index} of {where} is not {article} {noun}")

    def convert(self, label: str, make: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """`make(*args, **kwargs)`, or None with the item counted as skipped when it is
        malformed (`label` names it in the message)."""
        try:
            return make(*args, **kwargs)
        except ITEM_ERRORS as exc:
            self.skip(f"{self.source.kind}: {label} skipped: {exc!r}")
            return None

    def _log(self) -> logging.Logger:
        return logging.getLogger(f"earful.connectors.{self.source.kind}")

    def page_cap(self, where: str, pages: int, rest: str = "older items skipped") -> None:
        self._log().warning(
            "%s: %s: stopped after %d pages; %s", self.source.name, where, pages, rest,
            extra={"source": self.source.name})

    def _retry_at(self, exc: RateLimitedError) -> datetime | None:
        """When a rate limit ends: its own time, else the known reset, else the pause."""
        reset = self.rate_limit.reset_at if self.rate_limit else None
        return exc.retry_at or reset or (self.now + self.pause if self.pause else None)

    def stop(self, exc: Exception) -> None:
        """Record why the poll stops early: a deferral for a spent budget or a 429, else an
        error (the source is counted as failed, what was read is kept)."""
        if isinstance(exc, BudgetSpent):
            self.deferred_until = exc.until or (self.rate_limit.reset_at if self.rate_limit
                                                else None)
        elif isinstance(exc, RateLimitedError):
            self.deferred_until = self._retry_at(exc)
        else:
            self.error = str(exc)

    def run(self, jobs: Iterable[Callable[[], Any]]) -> list[Any]:
        """Run the jobs in order until one stops the poll. A failure before anything was
        read propagates (the whole fetch failed); after, the poll returns what it has."""
        results = []
        for job in jobs:
            try:
                results.append(job())
            except BudgetSpent as exc:
                self.stop(exc)
                break
            except ConnectorError as exc:
                if not self.progressed:
                    if isinstance(exc, RateLimitedError):
                        exc.retry_at = self._retry_at(exc)
                    raise
                self.stop(exc)
                break
        return results

    def enrich(self, job: Callable[[], T], unavailable: str) -> T | None:
        """A look-up after the searches (follower counts, karma): a spent budget or a rate
        limit stops the poll, what was read is kept; another failure is counted as
        `unavailable` and the look-up given up."""
        try:
            return job()
        except (BudgetSpent, RateLimitedError) as exc:
            self.stop(exc)
        except ConnectorError as exc:
            self.skip(f"{self.source.kind}: {unavailable}: {exc}")
        return None

    def set_followers(self, counts: Mapping[str, int | None], key: str = "id") -> None:
        """Give each mention's author the count found under their `key` (an Author field)."""
        for external_id, mention in list(self.mentions.items()):
            value = getattr(mention.author, key)
            if value is not None and value in counts:
                self.mentions[external_id] = replace(
                    mention, author=replace(mention.author, followers=counts[value]))

    def look_up(self, jobs: Iterable[Callable[[], Any]]) -> None:
        """Run the by-id look-ups of a refresh in order; each keeps what it re-reads. A
        failure (or a spent budget) before anything was re-read propagates as the
        connector's typed error, so the caller keeps the stored mentions; after, the
        look-ups stop there and what was re-read is returned (the rest waits for the next
        refresh: the most urgent mentions come first)."""
        for job in jobs:
            try:
                job()
            except BudgetSpent as exc:
                until = exc.until or (self.rate_limit.reset_at if self.rate_limit else None)
                if not self.mentions:
                    raise RateLimitedError(
                        f"{self.source.name}: the rate limit is spent"
                        + (f" until {until.isoformat()}" if until else ""),
                        retry_at=until, source=self.source.name) from None
                self._log().warning("%s: refresh stopped, the rate limit is spent; %d re-read",
                            self.source.name, len(self.mentions),
                            extra={"source": self.source.name})
                return
            except ConnectorError as exc:
                if not self.mentions:
                    raise
                self._log().warning("%s: refresh stopped after %d re-read: %s",
                                    self.source.name, len(self.mentions), exc,
                                    extra={"source": self.source.name})
                return

    def reread(self, stored: Iterable[Mention]) -> list[Mention]:
        """The stored mentions the look-ups re-read (by external id, in the stored order),
        each completed from the stored one (`carry_over`). A mention the source no longer
        returns (deleted, hidden) is left out."""
        for problem in self.item_errors:
            self._log().warning("%s: refresh: %s", self.source.name, problem,
                                extra={"source": self.source.name})
        out = []
        for mention in stored:
            fresh = self.mentions.get(mention.external_id)
            if fresh is not None:
                out.append(carry_over(mention, fresh))
        return out

    @property
    def stopped(self) -> bool:
        return self.error is not None or self.deferred_until is not None

    def result(self, mentions: list[Mention] | None = None) -> FetchResult:
        if self.deferred_until is None and self.budget_spent():
            assert self.rate_limit is not None
            self.deferred_until = self.rate_limit.reset_at  # spent: wait for its reset
        limit = self.rate_limit
        state = self.state.with_cursors(
            self.cursors,
            rate_limit_remaining=limit.remaining if limit else self.state.rate_limit_remaining,
            rate_limit_reset=limit.reset_at if limit else self.state.rate_limit_reset,
        )
        return FetchResult(
            mentions=list(self.mentions.values()) if mentions is None else mentions,
            state=state, item_errors=self.item_errors, error=self.error,
            deferred_until=self.deferred_until)
