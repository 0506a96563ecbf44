"""The records every connector produces: mentions, their authors and engagement, and the
per-source state that makes polling incremental."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # Annotations only: the bulk paths (ingest, score) import Mention without the HTTP stack.
    import httpx

__all__ = [
    "Author",
    "Connector",
    "Engagement",
    "FetchResult",
    "Mention",
    "SourceSpec",
    "SourceState",
    "mention_id",
]


def mention_id(source: str, external_id: str) -> str:
    """Stable id of a mention, derived from its natural key so a re-poll is an upsert."""
    digest = hashlib.sha256(f"{source}\x1f{external_id}".encode()).hexdigest()
    return f"m_{digest[:24]}"


@dataclass(frozen=True, slots=True)
class Author:
    id: str | None = None
    handle: str | None = None
    name: str | None = None
    url: str | None = None
    followers: int | None = None


@dataclass(frozen=True, slots=True)
class Engagement:
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    score: int | None = None
    views: int | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    source: str
    external_id: str
    url: str | None
    title: str | None
    text: str
    published_at: datetime
    author: Author = field(default_factory=Author)
    engagement: Engagement = field(default_factory=Engagement)
    lang: str | None = None
    thread_id: str | None = None
    parent_id: str | None = None
    is_repost: bool = False
    is_own: bool = False
    # Reviews: the stars given, on a 1-5 scale (connectors convert other scales), and how
    # many ratings the listing has (its audience signal: reviews have no followers).
    rating: float | None = None
    listing_ratings: int | None = None
    # The source payload, kept for re-processing: a JSON-able mapping, or a string that is
    # already JSON (bulk paths pass the line they read rather than re-encode it).
    raw: Mapping[str, Any] | str = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError(f"{self.source}: mention without an external id")
        if self.published_at.tzinfo is None:
            raise ValueError(f"{self.source}: published_at must be timezone-aware")
        if self.rating is not None and not 1 <= self.rating <= 5:
            raise ValueError(f"{self.source}: rating {self.rating!r} is not on the 1-5 scale")

    @property
    def id(self) -> str:
        return mention_id(self.source, self.external_id)


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What a connector is asked to fetch: one configured source, secrets already resolved."""

    name: str
    kind: str
    # The feed URL for rss; for API connectors the API's base URL (None: the official one).
    url: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    max_bytes: int = 10 * 1024 * 1024
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # What to search for: the terms and aliases of the brands this source listens for
    # (or params["query"] when the source sets one).
    queries: tuple[str, ...] = ()
    # The brands' own account handles, lower-case without '@', so connectors can flag is_own.
    own_handles: frozenset[str] = frozenset()

    def base(self, default: str) -> str:
        """The API base URL without a trailing slash: the configured url, else `default`."""
        return (self.url or default).rstrip("/")


@dataclass(frozen=True, slots=True)
class SourceState:
    """Where polling a source left off: one row per source (and query) in `source_state`."""

    source_key: str
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    checked_at: datetime | None = None
    next_check_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None

    def succeeded(self, now: datetime, interval: timedelta, **changes: Any) -> SourceState:
        return replace(
            self,
            checked_at=now,
            next_check_at=now + interval,
            error_count=0,
            last_error=None,
            **changes,
        )

    def failed(
        self, now: datetime, interval: timedelta, error: str, max_backoff: timedelta
    ) -> SourceState:
        """Count the failure and back off exponentially, so a broken source is not hammered."""
        count = self.error_count + 1
        delay = min(interval * (2 ** min(count - 1, 16)), max(max_backoff, interval))
        return replace(
            self, checked_at=now, next_check_at=now + delay, error_count=count, last_error=error
        )

    def is_due(self, now: datetime) -> bool:
        return self.next_check_at is None or self.next_check_at <= now

    def cursors(self) -> dict[str, Any]:
        """Per-query cursors, kept as a JSON object in `cursor` (one source, many queries)."""
        if not self.cursor:
            return {}
        try:
            value = json.loads(self.cursor)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def with_cursors(self, cursors: Mapping[str, Any], **changes: Any) -> SourceState:
        return replace(self, cursor=json.dumps(dict(cursors), sort_keys=True, default=str),
                       **changes)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch produced. `item_errors` are items that were skipped (the rest are kept);
    `not_modified` marks a 304, a success with nothing new."""

    mentions: list[Mention]
    state: SourceState
    not_modified: bool = False
    item_errors: list[str] = field(default_factory=list)
    # A failure after some pages were read: those mentions are kept and stored, the cursor
    # stays where the failed page starts, and the source is counted as failed.
    error: str | None = None
    # The source's own limit is spent: the run stops polling it and it resumes at this time.
    deferred_until: datetime | None = None


class FetchFunction(Protocol):
    def __call__(
        self, client: httpx.Client, source: SourceSpec, state: SourceState
    ) -> FetchResult: ...


@dataclass(frozen=True, slots=True)
class Connector:
    """A registered connector: its fetch function and what it needs, for `earful connectors`
    and `earful doctor`."""

    name: str
    summary: str
    fetch: FetchFunction
    settings: Mapping[str, str] = field(default_factory=dict)
    # Environment variable (or Prefect Secret block) names → what they are. Missing required
    # secrets skip the source; optional ones unlock more (higher limits, search).
    secrets: Mapping[str, str] = field(default_factory=dict)
    optional_secrets: Mapping[str, str] = field(default_factory=dict)
    requires_url: bool = False
    validate: Callable[[SourceSpec], list[str]] | None = None
    # Re-read given mentions by id for fresh engagement (the hourly followup flow, for the
    # mentions of open tickets); returns those it could re-read. None: the connector cannot.
    refresh: Callable[[httpx.Client, SourceSpec, list[Mention]], list[Mention]] | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)
