"""Reddit post search with an app-only OAuth token (client credentials): `GET /search`
on oauth.reddit.com, newest first (`sort=new`, `type=link`), paged with `after`. Each
search term keeps its own cursor, the newest `created_utc` seen: the next poll pages back
until it reaches a little before it (posts can surface in search late) and deduplicates
by fullname. Reddit's `X-Ratelimit-*` headers stop the source when its budget is spent."""

from __future__ import annotations

import html
import threading
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
from connectors.fields import count, epoch_time, integer
from connectors.http import get, request, skip_without
from connectors.polling import (
    Poll,
    batches,
    int_param,
    int_param_problems,
    overlap_param,
    require_terms,
    terms_problems,
)
from connectors.text import normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "forget_tokens", "refresh", "to_mention", "user_agent",
           "validate"]

NAME = "reddit"

DEFAULT_BASE = "https://oauth.reddit.com"
# The token endpoint lives on www.reddit.com (github.com/reddit-archive/reddit/wiki/OAuth2,
# "Application Only OAuth"); with a custom base URL (tests, proxies) it is base + this path.
DEFAULT_TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
TOKEN_PATH = "/api/v1/access_token"
WEB = "https://www.reddit.com"
CLIENT_ID = "REDDIT_CLIENT_ID"
CLIENT_SECRET = "REDDIT_CLIENT_SECRET"
# Reddit asks for "<platform>:<app ID>:<version string> (by /u/<reddit username>)" and
# throttles generic agents (github.com/reddit-archive/reddit/wiki/API).
DEFAULT_USER_AGENT = "server:earful:v0.1 (social listening)"


def user_agent(params: Mapping[str, Any]) -> str:
    """params.user_agent, else the default one with 'by /u/<params.username>' when set."""
    configured = params.get("user_agent")
    if isinstance(configured, str) and configured.strip():
        return configured.strip()
    username = params.get("username")
    if isinstance(username, str) and username.strip():
        name = username.strip().removeprefix("/").removeprefix("u/")
        return f"server:earful:v0.1 (social listening; by /u/{name})"
    return DEFAULT_USER_AGENT
# /search: limit "default: 25, maximum: 100"; q "no longer than 512 characters".
PAGE_LIMIT = 100
MAX_QUERY_CHARS = 512
# /api/info: "id: A comma-separated list of thing fullnames"; it answers one Listing, and a
# Listing holds at most 100 things.
INFO_IDS = 100
DEFAULT_MAX_PAGES = 5
DEFAULT_OVERLAP = timedelta(minutes=15)
DEFAULT_MAX_PROFILES = 25
# A 429 that names no time and comes before any X-Ratelimit-Reset: Reddit's window is 10
# minutes (100 queries a minute averaged over it).
RATE_LIMIT_PAUSE = timedelta(minutes=10)
# Renew a token this long before it expires, so it does not lapse mid-fetch.
_EXPIRY_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires: datetime | None


# App-only tokens last a day (expires_in): reused within the process, in memory only.
_TOKENS: dict[tuple[str, str], _Token] = {}
_TOKENS_LOCK = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (tests; rotated credentials)."""
    with _TOKENS_LOCK:
        _TOKENS.clear()


def _text(value: Any) -> str:
    # Without raw_json=1 reddit escapes &, < and > in every string; undo it either way.
    return normalize_whitespace(html.unescape(str(value or "")))


# What Reddit puts in `selftext` once a post is removed by moderators or deleted by its author
# (reddit-archive/reddit r2/lib/jsontemplates.py get_selftext_attributes: an expunged post's
# selftext is "[removed]"; PR #1431 tells "[removed]" and "[deleted]" apart). Such posts still
# turn up in search with their title, but the placeholder is not the author's words: it must
# not be matched, scored for sentiment or shown as the mention's text.
_PLACEHOLDERS = frozenset({"[removed]", "[deleted]"})


def _body(post: Mapping[str, Any]) -> str:
    text = _text(post.get("selftext"))
    return "" if text in _PLACEHOLDERS else text


def _user(name: Any) -> str | None:
    """An author name, or None for deleted accounts ("[deleted]")."""
    return name if isinstance(name, str) and name and name != "[deleted]" else None


def to_mention(
    post: Mapping[str, Any],
    *,
    own_handles: frozenset[str] = frozenset(),
    followers: int | None = None,
) -> Mention:
    """One t3 (link) thing's `data` as a Mention. Pure. The external id is its fullname
    (`t3_…`); a crosspost (`crosspost_parent` set) is a repost of that post. A removed or
    deleted post keeps its title; its "[removed]"/"[deleted]" body becomes empty text."""
    name = post["name"]
    if not isinstance(name, str) or not name.startswith("t3_"):
        raise ValueError(f"not a link fullname: {name!r}")
    author = _user(post.get("author"))
    permalink = post.get("permalink")
    url = f"{WEB}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") \
        else None
    parent = post.get("crosspost_parent")
    author_id = post.get("author_fullname")
    handles = {author.lower(), f"u/{author.lower()}"} if author else set()
    return Mention(
        source=NAME,
        external_id=name,
        url=url,
        title=_text(post.get("title")) or None,
        text=_body(post),
        published_at=epoch_time(post["created_utc"]),
        author=Author(
            id=author_id if isinstance(author_id, str) and author_id else None,
            handle=f"u/{author}" if author else None,
            name=author,
            url=f"{WEB}/user/{quote(author, safe='')}" if author else None,
            followers=followers,
        ),
        engagement=Engagement(
            likes=count(post.get("ups")),
            reposts=count(post.get("num_crossposts")),
            replies=count(post.get("num_comments")),
            score=integer(post.get("score")),
        ),
        is_repost=isinstance(parent, str) and bool(parent),
        is_own=bool(handles & own_handles),
        raw=post,
    )


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    token_url: str
    user_agent: str
    max_pages: int
    overlap: timedelta
    token: str | None = None
    fresh: bool = False  # the token was made during this fetch (a retry would not help)

    def _key(self) -> tuple[str, str]:
        return (self.token_url, self.source.secrets[CLIENT_ID])

    def _auth(self) -> str:
        if self.token:
            return self.token
        now = datetime.now(UTC)
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._key())
        if cached and (cached.expires is None or cached.expires - _EXPIRY_MARGIN > now):
            self.token = cached.value
            return self.token
        response = request(
            self.client, "POST", self.token_url, source=self.source.name,
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            form={"grant_type": "client_credentials"},
            auth=(self.source.secrets[CLIENT_ID], self.source.secrets[CLIENT_SECRET]),
            max_bytes=self.source.max_bytes,
        )
        data = self.read_json(response)
        value = data.get("access_token") if isinstance(data, Mapping) else None
        if not isinstance(value, str) or not value:
            # Reddit answers some refusals with 200 {"error": "unsupported_grant_type"}.
            reason = data.get("error") if isinstance(data, Mapping) else None
            raise FatalError(f"{self.source.name}: no access token from {self.token_url}"
                             + (f" ({reason})" if reason else "") + ": check "
                             f"{CLIENT_ID} / {CLIENT_SECRET}", source=self.source.name)
        lifetime = count(data.get("expires_in"))
        token = _Token(value, now + timedelta(seconds=lifetime) if lifetime else None)
        with _TOKENS_LOCK:
            _TOKENS[self._key()] = token
        self.token, self.fresh = value, True
        return value

    def call(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """One authenticated GET. A cached token the API refuses (401) is dropped and the
        call made once more with a new one."""
        retried = False
        while True:
            token = self._auth()
            self.check_budget()
            try:
                response = get(self.client, self.base + path, source=self.source.name,
                               headers={"Authorization": f"bearer {token}",
                                        "User-Agent": self.user_agent,
                                        "Accept": "application/json"},
                               params=params, max_bytes=self.source.max_bytes)
            except FatalError as exc:
                if exc.status == 401 and not self.fresh and not retried:
                    with _TOKENS_LOCK:
                        _TOKENS.pop(self._key(), None)
                    self.token, retried = None, True
                    continue
                raise
            self.note(response.rate_limit)
            return self.read_json(response, path)

    def _add(self, listing: Mapping[str, Any], where: str) -> list[float]:
        """Keep one Listing page's posts; returns their created_utc (for the cursor)."""
        data = listing.get("data")
        children = data.get("children") if isinstance(data, Mapping) else None
        if not isinstance(children, list):
            raise self.fatal(f"{where} did not return a Listing")
        times: list[float] = []
        for index, child in self.objects(children, where, "thing"):
            post = child.get("data")
            if not isinstance(post, Mapping):
                self.skip(f"{NAME}: child {index} of {where} is not a thing")
                continue
            if child.get("kind") != "t3":
                continue  # type=link asks for links only; anything else is not a post
            mention = self.convert(f"{post.get('name')!r} of {where}", to_mention, post,
                                   own_handles=self.source.own_handles)
            if mention is None:
                continue
            times.append(mention.published_at.timestamp())
            if not post.get("over_18") or self.source.params.get("include_nsfw", True):
                self.keep(mention)
        return times

    def search(self, term: str) -> None:
        """Search one term, newest first, back to a little before the cursor. The cursor
        moves only once the term is read that far (or the page cap), so a failure mid-way
        re-reads rather than skips."""
        key = f"q:{term}"
        raw = self.cursors.get(key)
        cursor = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) \
            else None
        watermark = cursor - self.overlap.total_seconds() if cursor else None
        query: dict[str, Any] = {"q": term[:MAX_QUERY_CHARS], "sort": "new", "type": "link",
                                 "limit": PAGE_LIMIT, "raw_json": 1}
        if isinstance(self.source.params.get("time"), str):
            query["t"] = self.source.params["time"]
        newest = cursor
        where = f"search {term!r}"
        for _ in range(self.max_pages):
            listing = self.call("/search", query)
            times = self._add(listing, where)
            if times:
                newest = max([*times, *([newest] if newest else [])])
            after = listing["data"].get("after")
            if (watermark is None or not times or min(times) < watermark
                    or not isinstance(after, str) or not after or after == query.get("after")):
                break  # the first poll reads the newest page only
            query["after"] = after
        else:
            self.page_cap(where, self.max_pages, "older posts skipped")
        if newest is not None:
            self.cursors[key] = newest

    def info(self, names: list[str]) -> None:
        """One /api/info call: these posts as they are now (a Listing). Unknown posts do not
        come back; removed or deleted ones (`removed_by_category` set, their text replaced
        by "[removed]") are left out too, so their stored text stays."""
        listing = self.call("/api/info", {"id": ",".join(names), "raw_json": 1})
        data = listing.get("data")
        if isinstance(data, Mapping) and isinstance(data.get("children"), list):
            kept = [c for c in data["children"] if not (
                isinstance(c, Mapping) and isinstance(c.get("data"), Mapping)
                and c["data"].get("removed_by_category"))]
            listing = {**listing, "data": {**data, "children": kept}}
        self._add(listing, "/api/info")

    def followers(self, authors: Iterable[str], limit: int) -> dict[str, int | None]:
        """username → followers (the profile's subscribers), one /user/{name}/about call
        per author (up to `limit`). Suspended or missing accounts are left out."""
        found: dict[str, int | None] = {}
        for username in list(dict.fromkeys(authors))[:limit]:
            try:
                data = self.call(f"/user/{quote(username, safe='')}/about", {"raw_json": 1})
            except FatalError as exc:
                if exc.status in (403, 404):
                    continue
                raise
            about = data.get("data") if isinstance(data.get("data"), Mapping) else {}
            profile = about.get("subreddit") if isinstance(about.get("subreddit"), Mapping) \
                else {}
            found[username] = count(profile.get("subscribers"))
        return found


def _poll(client: httpx.Client, source: SourceSpec, state: SourceState,
          now: datetime | None = None) -> _Poll:
    skip_without(source.secrets, [CLIENT_ID, CLIENT_SECRET], source.name)
    base = source.base(DEFAULT_BASE)
    token_url = source.params.get("token_url")
    if not isinstance(token_url, str) or not token_url:
        token_url = base + TOKEN_PATH if source.url else DEFAULT_TOKEN_URL
    return _Poll(
        source=source, state=state, now=now or datetime.now(UTC), pause=RATE_LIMIT_PAUSE,
        client=client, base=base, token_url=token_url, user_agent=user_agent(source.params),
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
    )


def fetch(
    client: httpx.Client, source: SourceSpec, state: SourceState, now: datetime | None = None
) -> FetchResult:
    poll = _poll(client, source, state, now)  # credentials first: missing ones skip
    params = source.params
    terms = require_terms(source)
    max_profiles = int_param(source, "max_profiles", DEFAULT_MAX_PROFILES, minimum=0)
    poll.run(lambda term=term: poll.search(term) for term in terms)
    # Profiles cost one call each from a 100-a-minute budget: only when asked for.
    if poll.mentions and poll.deferred_until is None and params.get("author_followers", False) \
            and max_profiles:
        authors = [m.author.name for m in poll.mentions.values() if m.author.name]
        counts = poll.enrich(lambda: poll.followers(authors, max_profiles),
                             "follower counts unavailable")
        poll.set_followers(counts or {}, key="name")
    return poll.result()


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read posts by fullname (`GET /api/info?id=t3_…,t3_…`, 100 a call, the same app-only
    token) for their current score, upvotes, comments and crossposts. Profile follower
    counts are not looked up again (one call per author): the stored ones stay."""
    poll = _poll(client, source, SourceState(source.name))
    names = list(dict.fromkeys(m.external_id for m in mentions
                               if m.external_id.startswith("t3_")))
    poll.look_up(lambda chunk=chunk: poll.info(chunk) for chunk in batches(names, INFO_IDS))
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params,
                                  {"max_pages": 1, "overlap_minutes": 0, "max_profiles": 0})
    time_filter = source.params.get("time")
    if time_filter is not None and time_filter not in ("hour", "day", "week", "month",
                                                       "year", "all"):
        problems.append("params.time must be one of hour, day, week, month, year, all")
    return problems + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="Reddit post search (oauth.reddit.com /search, sort=new, type=link) with an "
    "app-only OAuth token; X-Ratelimit-* budget honoured.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE}); the token is then requested from "
        f"<url>{TOKEN_PATH}",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.token_url": f"the token endpoint (default {DEFAULT_TOKEN_URL})",
        "params.user_agent": "the User-Agent sent to Reddit (default "
        f"{DEFAULT_USER_AGENT!r})",
        "params.username": "your Reddit username, added to the default User-Agent as "
        "'by /u/<name>' as Reddit asks",
        "params.time": "only posts from the last hour/day/week/month/year (Reddit's t)",
        "params.include_nsfw": "keep posts marked over_18 (default true)",
        "params.max_pages": f"pages of {PAGE_LIMIT} per term and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the newest created_utc each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.author_followers": "look up authors' follower counts with "
        "/user/{name}/about, one call each (default false)",
        "params.max_profiles": f"profile look-ups per poll (default {DEFAULT_MAX_PROFILES})",
    },
    secrets={
        CLIENT_ID: "the client id of a Reddit app (reddit.com/prefs/apps)",
        CLIENT_SECRET: "that app's secret",
    },
    validate=validate,
    refresh=refresh,
)
