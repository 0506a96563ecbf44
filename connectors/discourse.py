"""Discourse forums, one forum per source (a self-hosted community: the url is required).
Each brand term is searched newest first (`GET /search.json?q=<term> order:latest`); a poll
after the first narrows the search to `after:<date>` a little before the newest post seen.
Search results carry only a ~300-character `blurb`, so new posts are read in full
(`GET /posts/{id}.json`, `cooked` HTML → text) up to a cap per run; past the cap the blurb is
kept. Posts already seen are remembered per term (their ids in the cursor), so a re-poll of
the overlapping window neither duplicates them nor overwrites their full text with a blurb."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
from connectors.fields import ident, iso_utc, parse_time, time_or_none
from connectors.polling import (
    Poll,
    int_param,
    int_param_problems,
    overlap_param,
    raw_of,
    require_terms,
    terms_problems,
)
from connectors.text import html_to_text, normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "post_url", "refresh", "search_query", "search_terms",
           "to_mention", "validate"]

NAME = "discourse"

API_KEY = "DISCOURSE_API_KEY"
API_USERNAME = "DISCOURSE_API_USERNAME"
# Results per search page: Discourse's `search_page_size` site setting (default 50).
PAGE_SIZE = 50
# SearchController#show refuses `page` above 10 (InvalidParameters, HTTP 400): more pages
# per term would fail the term every poll, so params.max_pages is held to 10.
MAX_SEARCH_PAGE = 10
# Searches without an API key are limited per IP to 2 a second and 15 a minute by default
# (site settings rate_limit_search_anon_user_per_second / _per_minute; with a key, 30 a
# minute per user). Over it, search answers 429 {"failed": "FAILED", "message": …} with no
# Retry-After, and back-to-back searches of 3+ terms would have the third refused every
# poll (the later terms never read). Anonymous searches are spaced this far apart.
ANON_SEARCH_INTERVAL_S = 1.0
DEFAULT_MAX_PAGES = 3
# Full posts read per run. Discourse blocks more than 50 requests per IP in 10 seconds by
# default (DISCOURSE_MAX_REQS_PER_IP_PER_10_SECONDS, meta.discourse.org/t/78612); 20 plus a
# few search pages stays well under it.
DEFAULT_MAX_FULL_POSTS = 20
# `after:` takes a date and keeps posts created after its midnight (in the forum's time
# zone), so the window is stepped back by this much and then one more day.
DEFAULT_OVERLAP = timedelta(hours=6)
# A 429 without Retry-After (search's own limiter, or a proxy in front): Discourse's limits
# are per minute. Other endpoints send Retry-After, the same number as the body's
# extras.wait_seconds (ApplicationController rescues RateLimiter::LimitExceeded with both).
RATE_LIMIT_FALLBACK = timedelta(minutes=1)
# Ids remembered per term, newest kept: a few days of a busy brand on one forum.
SEEN_CAP = 2000
# The id of the "like" post action type (PostActionType.types[:like]): a full post's likes
# are the `count` of that entry of its `actions_summary` (absent when there are none).
LIKE_ACTION = 2


def _wait(seconds: float) -> None:
    """Sleep (a seam for tests); nothing when the time has already passed."""
    if seconds > 0:
        time.sleep(seconds)


def search_terms(source: SourceSpec) -> list[str]:
    """The terms as Discourse search phrases. A leading `#` or `@` is dropped (in Discourse
    search they mean "in category" and "by user"); several words become one quoted phrase;
    duplicates (ignoring case) are searched once."""
    terms: dict[str, str] = {}
    for raw in source.queries:
        term = " ".join(str(raw).replace('"', " ").split()).lstrip("#@").strip()
        if term:
            terms.setdefault(term.casefold(), f'"{term}"' if " " in term else term)
    return list(terms.values())


def search_query(term: str, after: date | None = None) -> str:
    """The `q` parameter: the term, newest posts first, optionally only after a date."""
    query = f"{term} order:latest"
    return f"{query} after:{after.isoformat()}" if after else query


def post_url(base: str, slug: str | None, topic_id: int, post_number: int) -> str:
    """A post's address: `/t/{slug}/{topic_id}/{post_number}` (Discourse also answers
    `/t/{topic_id}/{post_number}` when the slug is unknown)."""
    return f"{base}/t/{slug}/{topic_id}/{post_number}" if slug else \
        f"{base}/t/{topic_id}/{post_number}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def to_mention(
    post: Mapping[str, Any],
    topic: Mapping[str, Any] | None,
    *,
    base: str,
    full_post: Mapping[str, Any] | None = None,
    own_handles: frozenset[str] = frozenset(),
) -> Mention:
    """One search result (`posts[]`), its topic (`topics[]`) and, when read, the full post
    (`/posts/{id}.json`) as a Mention. Pure. The text is the full post's `cooked` HTML when
    there is one, else the search `blurb`. A topic's title, views and reply count belong to
    its first post; a reply gets its own direct-reply count (from the full post)."""
    full = full_post or {}
    topic = topic or {}
    post_id = _int(post.get("id"))
    topic_id = _int(post.get("topic_id")) or _int(full.get("topic_id"))
    number = _int(post.get("post_number")) or _int(full.get("post_number"))
    if post_id is None or topic_id is None or number is None:
        raise ValueError("post without an integer id, topic_id or post_number")
    username = post.get("username") or full.get("username")
    if not isinstance(username, str) or not username:
        raise ValueError(f"post {post_id} has no username")
    cooked = full.get("cooked")
    text = html_to_text(cooked) if isinstance(cooked, str) else html_to_text(
        post.get("blurb") if isinstance(post.get("blurb"), str) else "")
    slug = topic.get("slug") or full.get("topic_slug")
    first = number == 1
    posts_count = _int(topic.get("posts_count"))
    if first:
        replies = max(posts_count - 1, 0) if posts_count is not None else \
            _int(topic.get("reply_count"))
    else:
        replies = _int(full.get("reply_count"))
    reply_to = _int(full.get("reply_to_post_number"))
    name = post.get("name") or full.get("name")
    title = topic.get("title")
    return Mention(
        source=NAME,
        # `/p/{id}` is Discourse's short link to a post: stable when posts move or renumber.
        external_id=f"{base}/p/{post_id}",
        url=post_url(base, slug if isinstance(slug, str) else None, topic_id, number),
        title=normalize_whitespace(title) or None if first and isinstance(title, str) else None,
        text=text,
        published_at=parse_time(post.get("created_at") or full.get("created_at")),
        author=Author(
            id=ident(_int(full.get("user_id"))),
            handle=f"@{username}",
            name=normalize_whitespace(name) or None if isinstance(name, str) else None,
            url=f"{base}/u/{username}",
        ),
        # Discourse has no follower counts; the post `score` is an internal ranking, left out.
        engagement=Engagement(
            likes=_int(post.get("like_count")),
            replies=replies,
            views=_int(topic.get("views")) if first else None,
        ),
        thread_id=f"{base}/t/{topic_id}",
        parent_id=f"{base}/t/{topic_id}/{reply_to}" if reply_to else None,
        is_own=username.lower() in own_handles,
        raw={k: v for k, v in (("search", post), ("topic", topic or None), ("post", full_post))
             if v is not None},
    )


def _likes(full_post: Mapping[str, Any]) -> int | None:
    """A full post's like count: the `count` of the like entry of its `actions_summary`
    ([{"id": 2, "count": 5}, …]). None without a counted entry: Discourse leaves zero counts
    out, but an entry can also be missing for other reasons (the stored count then stays)."""
    summary = full_post.get("actions_summary")
    counts = [_int(a.get("count")) for a in summary if isinstance(a, Mapping)
              and a.get("id") == LIKE_ACTION] if isinstance(summary, list) else []
    return next((c for c in counts if c is not None), None)


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    headers: dict[str, str]
    max_pages: int
    max_full: int
    overlap: timedelta
    full_read: int = 0
    search_interval: float = 0.0  # seconds between searches (anonymous access)
    last_search: float | None = None  # time.monotonic() of the last search

    def _search(self, query: str, page: int) -> Any:
        """One search page, no sooner than `search_interval` after the last one."""
        if self.search_interval and self.last_search is not None:
            _wait(self.last_search + self.search_interval - time.monotonic())
        try:
            return self._get("/search.json", {"q": query, "page": page})
        finally:
            self.last_search = time.monotonic()

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.read_json(self.http_get(self.client, self.base + path,
                                            headers=self.headers, params=params))

    def full_post(self, post_id: str) -> Mapping[str, Any] | None:
        """The full post, or None past the cap or when it cannot be read (deleted, hidden,
        failing): the blurb is kept then. A rate limit stops the source instead."""
        if self.full_read >= self.max_full:
            return None
        self.full_read += 1
        try:
            data = self._get(f"/posts/{post_id}.json")
        except RateLimitedError:
            raise
        except ConnectorError as exc:
            self.skip(f"{NAME}: post {post_id}: full text unavailable, blurb kept: {exc}")
            return None
        return data if isinstance(data, Mapping) else None

    def post_again(self, stored: Mention) -> None:
        """Re-read one stored post. A topic's first post comes with its topic from
        `GET /t/{topic_id}.json` (`views`, `posts_count`, and the post in `post_stream`);
        a reply from `GET /posts/{id}.json`. Its likes are the full post's (`actions_summary`);
        the stored search result fills in what these answers lack. A post that is gone
        (404, 410) or deleted is left out."""
        raw = raw_of(stored)
        search, topic = raw.get("search"), raw.get("topic")
        if not isinstance(search, Mapping) or _int(search.get("id")) is None:
            return
        post_id, topic_id = _int(search.get("id")), _int(search.get("topic_id"))
        full: Any = None
        try:
            if _int(search.get("post_number")) == 1 and topic_id is not None:
                data = self._get(f"/t/{topic_id}.json")
                if isinstance(data, Mapping):
                    stream = data.get("post_stream")
                    posts = stream.get("posts") if isinstance(stream, Mapping) else None
                    full = next((p for p in posts if isinstance(p, Mapping)
                                 and _int(p.get("id")) == post_id), None) \
                        if isinstance(posts, list) else None
                    # The topic's own fields (title, slug, views, posts_count), not its posts.
                    topic = {k: v for k, v in data.items() if not isinstance(v, list | Mapping)}
            if full is None:
                full = self._get(f"/posts/{post_id}.json")
        except FatalError as exc:
            if exc.status in (404, 410):
                return
            raise
        if not isinstance(full, Mapping) or full.get("deleted_at"):
            return
        likes = _likes(full)
        mention = self.convert(
            f"post {post_id}", to_mention,
            {**search, "like_count": likes} if likes is not None else search,
            topic if isinstance(topic, Mapping) else None, base=self.base, full_post=full,
            own_handles=self.source.own_handles)
        if mention is not None:
            self.keep(mention)

    def _cursor(self, key: str) -> tuple[datetime | None, dict[str, str]]:
        value = self.cursors.get(key)
        if not isinstance(value, Mapping):
            return None, {}
        newest = time_or_none(value.get("newest"))
        if newest is None:
            return None, {}
        seen = value.get("seen")
        return newest, {str(k): str(v) for k, v in seen.items()} if isinstance(
            seen, Mapping) else {}

    def search(self, term: str) -> None:
        """Search one term, newest first. The cursor (newest time and the ids seen) moves
        only once the term is read to the end or the page cap, so a failure re-reads."""
        key = f"q:{term}"
        newest, seen = self._cursor(key)
        after = (newest - self.overlap).date() - timedelta(days=1) if newest else None
        query = search_query(term, after)
        found: dict[str, str] = {}
        latest = newest
        for page in range(1, self.max_pages + 1):
            data = self._search(query, page)
            if not isinstance(data, Mapping) or not isinstance(data.get("posts", []), list):
                raise self.fatal("search did not return a result object")
            grouped = data.get("grouped_search_result")
            grouped = grouped if isinstance(grouped, Mapping) else {}
            if isinstance(grouped.get("error"), str) and grouped["error"]:
                self.skip(f"{NAME}: search {term!r}: {grouped['error']}")
            topics = {t["id"]: t for t in data.get("topics") or []
                      if isinstance(t, Mapping) and _int(t.get("id")) is not None}
            for index, post in enumerate(data.get("posts") or []):
                where = f"item {index} of search {term!r} page {page}"
                if not isinstance(post, Mapping) or _int(post.get("id")) is None:
                    self.skip(f"{NAME}: {where} is not a post")
                    continue
                post_id = str(post["id"])
                created = self.convert(f"post {post_id} of {where}", parse_time,
                                       post.get("created_at"))
                if created is None:
                    continue
                latest = created if latest is None else max(latest, created)
                found[post_id] = iso_utc(created, "microseconds")
                if post_id in seen or f"{self.base}/p/{post_id}" in self.mentions:
                    continue  # emitted by an earlier poll or term: not read again
                mention = self.convert(f"post {post_id} of {where}", to_mention, post,
                                       topics.get(post.get("topic_id")), base=self.base,
                                       full_post=self.full_post(post_id),
                                       own_handles=self.source.own_handles)
                if mention is not None:
                    self.keep(mention)
            if not newest or not grouped.get("more_full_page_results"):
                break  # the first poll reads the newest page only
        else:
            self.page_cap(f"search {term!r}", self.max_pages, "older posts skipped")
        if latest is None:
            return
        # Remember the ids the next window (stepped back from the new newest) can return.
        horizon = iso_utc(latest - self.overlap - timedelta(days=3), "microseconds")
        kept = sorted(({**seen, **found}).items(), key=lambda kv: kv[1], reverse=True)
        self.cursors[key] = {"newest": iso_utc(latest, "microseconds"),
                             "seen": dict(kv for kv in kept[:SEEN_CAP] if kv[1] >= horizon)}


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    if not source.url:
        raise FatalError(f"{source.name}: a discourse source needs the forum's url",
                         source=source.name)
    terms = require_terms(source, search_terms(source))
    poll = _Poll(
        source=source, state=state, pause=RATE_LIMIT_FALLBACK, client=client,
        base=source.base(source.url), headers=_headers(source),
        max_pages=min(int_param(source, "max_pages", DEFAULT_MAX_PAGES), MAX_SEARCH_PAGE),
        max_full=int_param(source, "max_full_posts", DEFAULT_MAX_FULL_POSTS, minimum=0),
        overlap=overlap_param(source, DEFAULT_OVERLAP, "hours"),
        search_interval=0.0 if source.secrets.get(API_KEY) else ANON_SEARCH_INTERVAL_S,
    )
    poll.run(lambda term=term: poll.search(term) for term in terms)
    return poll.result()


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read posts one by one for their current likes and replies (and, on a topic's first
    post, the topic's views and post count): `GET /t/{topic_id}.json` for first posts,
    `GET /posts/{id}.json` for replies, with the API key when set. Only posts of this forum
    (external id `<url>/p/<id>`) are re-read."""
    if not source.url:
        raise FatalError(f"{source.name}: a discourse source needs the forum's url",
                         source=source.name)
    poll = _Poll(source=source, state=SourceState(source.name), pause=RATE_LIMIT_FALLBACK,
                 client=client, base=source.base(source.url), headers=_headers(source),
                 max_pages=1, max_full=0, overlap=DEFAULT_OVERLAP)
    mine = [m for m in mentions if m.external_id.startswith(f"{poll.base}/p/")]
    poll.look_up(lambda m=m: poll.post_again(m) for m in mine)
    return poll.reread(mentions)


def _headers(source: SourceSpec) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    # Optional: an API key reads login-only or private categories. Headers, never the URL.
    if source.secrets.get(API_KEY):
        headers["Api-Key"] = source.secrets[API_KEY]
        if source.secrets.get(API_USERNAME):
            headers["Api-Username"] = source.secrets[API_USERNAME]
    return headers


def validate(source: SourceSpec) -> list[str]:
    problems = []
    if not source.url:
        problems.append("url is required: the forum's address (https://forum.example.com)")
    problems += int_param_problems(source.params,
                                   {"max_pages": (1, MAX_SEARCH_PAGE), "max_full_posts": 0,
                                    "overlap_hours": 0})
    return problems + terms_problems(search_terms(source))


CONNECTOR = Connector(
    name=NAME,
    summary="Discourse forum search (/search.json, order:latest, after: a date) on one "
    "self-hosted forum; new posts read in full from /posts/{id}.json up to a cap.",
    fetch=fetch,
    settings={
        "url": "the forum's base URL (required), e.g. https://forum.example.com",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.max_pages": f"search pages of up to {PAGE_SIZE} per term and poll, at most "
        f"{MAX_SEARCH_PAGE}, the most Discourse serves (default {DEFAULT_MAX_PAGES})",
        "params.max_full_posts": "new posts read in full per run; past it the ~300-character "
        f"search blurb is the text (default {DEFAULT_MAX_FULL_POSTS}, 0 = blurbs only)",
        "params.overlap_hours": "how far before the newest post seen the next search "
        f"starts, plus one day (default {int(DEFAULT_OVERLAP.total_seconds() // 3600)})",
    },
    optional_secrets={
        API_KEY: "an API key (Admin → API), for forums or categories that need a login",
        API_USERNAME: "the user the key acts as (needed for an all-users key)",
    },
    requires_url=True,
    validate=validate,
    refresh=refresh,
)
