"""Hacker News through the Algolia HN Search API (public, no key): stories and comments
that name a brand, newest first (`/api/v1/search_by_date`). Each search term keeps its own
cursor, the newest `created_at_i` seen; the next poll asks for `created_at_i>` a little
before it, so items indexed late are read again (and deduplicated by item id). Authors'
karma comes from `/api/v1/users/{username}`, at most once per author and fetch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from connectors.errors import FatalError
from connectors.fields import count, epoch_time, ident, parse_time
from connectors.polling import (
    Poll,
    batches,
    int_param,
    int_param_problems,
    overlap_param,
    require_terms,
    terms_problems,
)
from connectors.text import html_to_text, normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "item_url", "refresh", "to_mention", "validate"]

NAME = "hackernews"

DEFAULT_BASE = "https://hn.algolia.com"
SEARCH_PATH = "/api/v1/search_by_date"
# Refresh: the relevance-sorted search, filtered to stories by their `story_<id>` tags
# (`tags=story,(story_1,story_2)`: ANDed, ORed in parentheses). Its hits have the search's
# shape and carry `num_comments`, which `/api/v1/items/:id` does not (that answers the
# whole comment tree instead). Ids per call: a short URL, one page of hits.
LOOKUP_PATH = "/api/v1/search"
LOOKUP_IDS = 50
USERS_PATH = "/api/v1/users/"
WEB = "https://news.ycombinator.com"
# Stories OR comments (hn.algolia.com/api: "Tags are ANDed by default, can be ORed if
# between parenthesis").
DEFAULT_TAGS = "(story,comment)"
# Algolia's hitsPerPage goes up to 1,000, but an index only pages through its first 1,000
# hits (paginationLimitedTo): 100 a page keeps responses small and the cap reachable.
PAGE_SIZE = 100
PAGINATION_LIMIT = 1000
DEFAULT_MAX_PAGES = 5
# created_at_i is when the item was written; Algolia indexes it a little later. Each poll
# re-reads this much before the newest item seen, so late-indexed items are not skipped.
DEFAULT_OVERLAP = timedelta(minutes=15)
# Karma look-ups per fetch (one call each): enough for a busy poll, bounded for a flood.
DEFAULT_MAX_PROFILES = 50
# "We are limiting the number of API requests from a single IP to 10,000 per hour"
# (hn.algolia.com/api). No reset header is sent: a 429 pauses the source for that window.
RATE_LIMIT_PAUSE = timedelta(hours=1)


def item_url(item_id: str) -> str:
    return f"{WEB}/item?id={item_id}"


def _time(hit: Mapping[str, Any]) -> datetime:
    """created_at_i (epoch seconds) when present, else the ISO created_at."""
    epoch = hit.get("created_at_i")
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        return epoch_time(epoch)
    value = hit.get("created_at")
    if not isinstance(value, str) or not value:
        raise ValueError(f"no created_at_i or created_at: {epoch!r}, {value!r}")
    return parse_time(value)


def to_mention(
    hit: Mapping[str, Any],
    *,
    own_handles: frozenset[str] = frozenset(),
    karma: int | None = None,
) -> Mention:
    """One search hit as a Mention. Pure. A story keeps its title and text (`story_text`,
    HTML, empty for link posts); a comment's text is `comment_text` (HTML) and it points
    to its story (`story_id`, thread) and the item it answers (`parent_id`). Points are
    hidden on comments: their score stays unknown."""
    object_id = ident(hit["objectID"])
    if object_id is None:
        raise ValueError("hit without an objectID")
    tags = hit.get("_tags") if isinstance(hit.get("_tags"), list) else []
    is_comment = "comment" in tags or (hit.get("comment_text") is not None
                                       and not hit.get("title"))
    author = hit.get("author")
    author = author if isinstance(author, str) and author else None
    story_id = ident(hit.get("story_id"))
    title = None if is_comment else normalize_whitespace(str(hit.get("title") or "")) or None
    text = html_to_text(hit.get("comment_text") if is_comment else hit.get("story_text"))
    return Mention(
        source=NAME,
        external_id=object_id,
        url=item_url(object_id),
        title=title,
        text=text,
        published_at=_time(hit),
        author=Author(
            id=author,
            handle=author,
            name=author,
            url=f"{WEB}/user?id={quote(author, safe='')}" if author else None,
            followers=karma,
        ),
        engagement=Engagement(
            score=None if is_comment else count(hit.get("points")),
            replies=count(hit.get("num_comments")),
        ),
        # A story is its own thread; a comment belongs to its story's.
        thread_id=story_id if is_comment else None,
        parent_id=ident(hit.get("parent_id")) if is_comment else None,
        is_own=bool(author and author.lower() in own_handles),
        raw=hit,
    )


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    tags: str
    max_pages: int
    overlap: timedelta

    def _get(self, url: str, params: Mapping[str, Any] | None = None,
             where: str | None = None) -> Any:
        # Algolia sends X-RateLimit-* only for rate-limited keys; honoured if they come.
        return self.read_json(self.http_get(self.client, url, params=params,
                                            headers={"Accept": "application/json"}), where)

    def _add(self, hits: Any, where: str) -> list[int]:
        """Keep one page's hits; returns their created_at_i (for the cursor)."""
        times: list[int] = []
        for _, hit in self.objects(hits, where, "hit"):
            mention = self.convert(f"hit {hit.get('objectID')!r} of {where}", to_mention, hit,
                                   own_handles=self.source.own_handles)
            if mention is not None:
                times.append(int(mention.published_at.timestamp()))
                self.keep(mention)
        return times

    def search(self, term: str) -> None:
        """Search one term, newest first. The cursor moves only once the term is read to
        the end (or the page cap), so a failure mid-way re-reads rather than skips."""
        key = f"q:{term}"
        cursor = count(self.cursors.get(key)) or None  # epoch seconds
        query: dict[str, Any] = {"query": term, "tags": self.tags, "hitsPerPage": PAGE_SIZE,
                                 "page": 0}
        if cursor:
            since = max(cursor - int(self.overlap.total_seconds()), 0)
            query["numericFilters"] = f"created_at_i>{since}"
        newest = cursor
        where = f"search {term!r}"
        for page in range(self.max_pages):
            query["page"] = page
            data = self._get(self.base + SEARCH_PATH, query, where)
            hits = data.get("hits")
            for created in self._add(hits, where):
                newest = created if newest is None else max(newest, created)
            pages = count(data.get("nbPages")) or 0
            if (not cursor or not hits or page + 1 >= pages
                    or (page + 1) * PAGE_SIZE >= PAGINATION_LIMIT):
                break  # the first poll reads the newest page only
        else:
            self.page_cap(where, self.max_pages, "older hits skipped")
        if newest is not None:
            self.cursors[key] = newest

    def stories(self, ids: list[str]) -> None:
        """One search for these stories by their `story_<id>` tags (a story that is gone
        is not among the hits)."""
        data = self._get(self.base + LOOKUP_PATH, {
            "tags": f"story,({','.join(f'story_{i}' for i in ids)})",
            "hitsPerPage": len(ids)}, "story look-up")
        self._add(data.get("hits"), "story look-up")

    def karma(self, authors: Iterable[str], limit: int) -> dict[str, int | None]:
        """username → karma, one /users call per author (up to `limit`). A missing user is
        left out; rate limits propagate, other failures are noted and stop the look-ups."""
        found: dict[str, int | None] = {}
        for username in list(dict.fromkeys(authors))[:limit]:
            try:
                data = self._get(self.base + USERS_PATH + quote(username, safe=""))
            except FatalError as exc:
                if exc.status == 404:
                    continue
                self.skip(f"{NAME}: karma unavailable: {exc}")
                break
            if isinstance(data, Mapping):
                found[username] = count(data.get("karma"))
        return found


def fetch(
    client: httpx.Client, source: SourceSpec, state: SourceState, now: datetime | None = None
) -> FetchResult:
    params = source.params
    terms = require_terms(source)
    tags = params.get("tags", DEFAULT_TAGS)
    if not isinstance(tags, str) or not tags.strip():
        raise FatalError(f"{source.name}: params.tags must be an Algolia tag filter such as "
                         f"{DEFAULT_TAGS!r}", source=source.name)
    poll = _Poll(
        source=source, state=state, now=now or datetime.now(UTC), pause=RATE_LIMIT_PAUSE,
        client=client, base=source.base(DEFAULT_BASE), tags=tags.strip(),
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
    )
    max_profiles = int_param(source, "max_profiles", DEFAULT_MAX_PROFILES, minimum=0)
    poll.run(lambda term=term: poll.search(term) for term in terms)
    if poll.mentions and poll.deferred_until is None and params.get("author_karma", True) \
            and max_profiles:
        authors = [m.author.id for m in poll.mentions.values() if m.author.id]
        poll.set_followers(poll.enrich(lambda: poll.karma(authors, max_profiles),
                                       "karma unavailable") or {})
    return poll.result()


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read stories by id for their current points and comment count: one search of up
    to 50 `story_<id>` tags a call. Comments are not re-read: Algolia hides their points
    and gives them no reply count, so there is nothing new to learn. Karma is not looked up
    again (one call per author): the stored counts stay."""
    poll = _Poll(source=source, state=SourceState(source.name), pause=RATE_LIMIT_PAUSE,
                 client=client, base=source.base(DEFAULT_BASE), tags=DEFAULT_TAGS,
                 max_pages=1, overlap=DEFAULT_OVERLAP)
    # A comment has a thread (its story); a story is its own thread.
    ids = list(dict.fromkeys(m.external_id for m in mentions
                             if m.thread_id is None and m.external_id.isdigit()))
    poll.look_up(lambda chunk=chunk: poll.stories(chunk) for chunk in batches(ids, LOOKUP_IDS))
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params,
                                  {"max_pages": 1, "overlap_minutes": 0, "max_profiles": 0})
    tags = source.params.get("tags")
    if tags is not None and (not isinstance(tags, str) or not tags.strip()):
        problems.append(f"params.tags must be an Algolia tag filter such as {DEFAULT_TAGS!r}")
    return problems + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="Hacker News stories and comments from the Algolia HN Search API "
    "(search_by_date, public, no key); authors' karma from /api/v1/users.",
    fetch=fetch,
    settings={
        "url": f"the HN Search API base (default {DEFAULT_BASE})",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.tags": f"Algolia tag filter (default {DEFAULT_TAGS!r}; e.g. 'story', "
        "'(story,poll)', 'comment,author_pg')",
        "params.max_pages": f"pages of {PAGE_SIZE} hits per term and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the newest created_at_i each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.author_karma": "look up each author's karma as their reach (default true)",
        "params.max_profiles": f"karma look-ups per poll (default {DEFAULT_MAX_PROFILES})",
    },
    validate=validate,
    refresh=refresh,
)
