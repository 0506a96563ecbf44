"""Bluesky (AT Protocol): post search with an app-password session, newest first, one cursor
per search term (the newest `indexedAt` seen, re-read from a little earlier), and the
authors' follower counts looked up in batches of 25."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from connectors.errors import FatalError
from connectors.fields import count, iso_utc, lang_code, parse_time, time_or_none
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

__all__ = [
    "CONNECTOR",
    "fetch",
    "forget_sessions",
    "post_url",
    "refresh",
    "to_mention",
    "validate",
]

NAME = "bluesky"
log = logging.getLogger("earful.connectors.bluesky")

DEFAULT_BASE = "https://bsky.social"
HANDLE = "BLUESKY_HANDLE"
PASSWORD = "BLUESKY_APP_PASSWORD"
WEB = "https://bsky.app"
# app.bsky.feed.searchPosts: limit 1..100 (default 25); app.bsky.actor.getProfiles: at most
# 25 actors per call (lexicons in bluesky-social/atproto, docs.bsky.app API reference).
PAGE_LIMIT = 100
PROFILES_PER_CALL = 25
# app.bsky.feed.getPosts: `uris` has "maxLength": 25.
POSTS_PER_CALL = 25
DEFAULT_MAX_PAGES = 5
# `since` filters on a post's sortAt (the earlier of createdAt and indexedAt), the cursor
# is the newest indexedAt: posts indexed late, or written a while before they were
# indexed, fall behind the cursor. Each poll reads this much before it again.
DEFAULT_OVERLAP = timedelta(minutes=15)
# Renew an access token this long before it expires, so it does not lapse mid-fetch.
_EXPIRY_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class _Session:
    access: str
    refresh: str | None
    access_expires: datetime | None
    refresh_expires: datetime | None


# createSession is limited per account (30 per 5 minutes, 300 a day; docs.bsky.app
# rate-limits): sessions are reused within the process, in memory only, never stored.
_SESSIONS: dict[tuple[str, str], _Session] = {}
_SESSIONS_LOCK = threading.Lock()


def forget_sessions() -> None:
    """Drop every cached session (tests; a changed password)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


def _jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying it (only to know when to renew)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _usable(expires: datetime | None, now: datetime) -> bool:
    return expires is None or expires - _EXPIRY_MARGIN > now


def post_url(uri: str, handle: str | None) -> str | None:
    """The bsky.app address of a post: at://did/app.bsky.feed.post/rkey →
    https://bsky.app/profile/<handle>/post/<rkey> (the did when the handle is invalid)."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not parts[2]:
        return None
    profile = handle if handle and handle != "handle.invalid" else parts[0]
    return f"{WEB}/profile/{profile}/post/{parts[2]}"


def to_mention(
    post: Mapping[str, Any],
    *,
    own_handles: frozenset[str] = frozenset(),
    followers: int | None = None,
) -> Mention:
    """One PostView as a Mention. Pure. The external id is the post's at:// uri; it is
    dated by the earlier of createdAt and indexedAt (clients can set createdAt in the
    future)."""
    uri = post["uri"]
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ValueError(f"not an at:// uri: {uri!r}")
    author = post.get("author")
    if not isinstance(author, Mapping) or not author.get("did"):
        raise ValueError(f"post {uri} has no author")
    record = post.get("record")
    if not isinstance(record, Mapping):
        raise ValueError(f"post {uri} has no record")
    did, handle = str(author["did"]), author.get("handle")
    indexed = parse_time(post.get("indexedAt"))
    try:
        published = min(parse_time(record.get("createdAt")), indexed)
    except ValueError:
        published = indexed
    langs = record.get("langs")
    reply = record.get("reply") if isinstance(record.get("reply"), Mapping) else {}
    root, parent = reply.get("root") or {}, reply.get("parent") or {}
    profile = handle if handle and handle != "handle.invalid" else did
    reposts, quotes = count(post.get("repostCount")), count(post.get("quoteCount"))
    return Mention(
        source=NAME,
        external_id=uri,
        url=post_url(uri, handle),
        title=None,
        text=normalize_whitespace(str(record.get("text") or "")),
        published_at=published,
        author=Author(
            id=did,
            handle=f"@{handle}" if handle else None,
            name=normalize_whitespace(str(author.get("displayName") or "")) or None,
            url=f"{WEB}/profile/{profile}",
            followers=followers,
        ),
        engagement=Engagement(
            likes=count(post.get("likeCount")),
            # A quote shows the post to the quoter's followers, as a repost does.
            reposts=None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0),
            replies=count(post.get("replyCount")),
        ),
        lang=lang_code(langs[0]) if isinstance(langs, list) and langs else None,
        thread_id=root.get("uri") if isinstance(root, Mapping) else None,
        parent_id=parent.get("uri") if isinstance(parent, Mapping) else None,
        is_own=bool(own_handles & {did.lower(), str(handle or "").lower()}),
        raw=post,
    )


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    max_pages: int
    overlap: timedelta
    token: str | None = None
    fresh: bool = False  # the token was made during this fetch (a retry would not help)

    def _procedure(self, method: str, *, body: Any = None, bearer: str | None = None) -> Any:
        self.check_budget()
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = request(self.client, "POST", f"{self.base}/xrpc/{method}",
                           source=self.source.name, headers=headers, json_body=body,
                           max_bytes=self.source.max_bytes)
        self.note(response.rate_limit)
        return self.read_json(response)

    def _store(self, key: tuple[str, str], data: Any) -> str:
        access = data.get("accessJwt") if isinstance(data, Mapping) else None
        if not isinstance(access, str) or not access:
            raise FatalError(f"{self.source.name}: the session answer has no accessJwt",
                             source=self.source.name)
        refresh = data.get("refreshJwt")
        refresh = refresh if isinstance(refresh, str) and refresh else None
        session = _Session(access, refresh, _jwt_expiry(access),
                           _jwt_expiry(refresh) if refresh else None)
        with _SESSIONS_LOCK:
            _SESSIONS[key] = session
        self.fresh = True
        return access

    def _auth(self) -> str:
        if self.token:
            return self.token
        identifier = self.source.secrets[HANDLE].strip().lstrip("@")
        key = (self.base, identifier)
        now = datetime.now(UTC)
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(key)
        if session and _usable(session.access_expires, now):
            self.token = session.access
            return self.token
        if session and session.refresh and _usable(session.refresh_expires, now):
            try:
                data = self._procedure("com.atproto.server.refreshSession",
                                       bearer=session.refresh)
                self.token = self._store(key, data)
                return self.token
            except FatalError as exc:
                log.info("%s: refreshing the session failed (%s); signing in again",
                         self.source.name, exc, extra={"source": self.source.name})
        data = self._procedure("com.atproto.server.createSession",
                               body={"identifier": identifier,
                                     "password": self.source.secrets[PASSWORD]})
        self.token = self._store(key, data)
        return self.token

    def xrpc(self, method: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """One authenticated query. A cached token the server refuses (expired, revoked:
        HTTP 400/401) is dropped and the call made once more with a new session."""
        retried = False
        while True:
            token = self._auth()
            self.check_budget()
            try:
                response = get(self.client, f"{self.base}/xrpc/{method}",
                               source=self.source.name,
                               headers={"Accept": "application/json",
                                        "Authorization": f"Bearer {token}"},
                               params=params, max_bytes=self.source.max_bytes)
            except FatalError as exc:
                if exc.status in (400, 401) and not self.fresh and not retried:
                    identifier = self.source.secrets[HANDLE].strip().lstrip("@")
                    with _SESSIONS_LOCK:
                        _SESSIONS.pop((self.base, identifier), None)
                    self.token, retried = None, True  # _auth signs in again, once
                    continue
                raise
            self.note(response.rate_limit)
            return self.read_json(response, method)

    def _add(self, posts: Any, where: str) -> list[datetime]:
        indexed: list[datetime] = []
        for _, post in self.objects(posts, where, "post"):
            label = f"post {post.get('uri')!r} of {where}"
            indexed_at = self.convert(label, parse_time, post.get("indexedAt"))
            if indexed_at is None:
                continue
            indexed.append(indexed_at)
            mention = self.convert(label, to_mention, post, own_handles=self.source.own_handles)
            if mention is not None:
                self.keep(mention)
        return indexed

    def search(self, term: str) -> None:
        """Search one term, newest first. The cursor moves only once the term is read to
        the end (or the page cap), so a failure mid-way re-reads rather than skips."""
        key = f"q:{term}"
        cursor = time_or_none(self.cursors.get(key))
        query: dict[str, Any] = {"q": term, "sort": "latest", "limit": PAGE_LIMIT}
        if isinstance(self.source.params.get("lang"), str):
            query["lang"] = self.source.params["lang"]
        if cursor:
            query["since"] = iso_utc(cursor - self.overlap, "milliseconds")
        newest = cursor
        where = f"search {term!r}"
        for _ in range(self.max_pages):
            data = self.xrpc("app.bsky.feed.searchPosts", query)
            posts = data.get("posts")
            for indexed in self._add(posts, where):
                newest = indexed if newest is None else max(newest, indexed)
            page_cursor = data.get("cursor")
            if (not cursor or not posts or not isinstance(page_cursor, str) or not page_cursor
                    or page_cursor == query.get("cursor")):
                break  # the first poll reads the newest page only
            query["cursor"] = page_cursor
        else:
            self.page_cap(where, self.max_pages, "older posts skipped")
        if newest is not None:
            self.cursors[key] = iso_utc(newest, "milliseconds")

    def posts(self, uris: list[str]) -> None:
        """One getPosts call: the PostViews of these at:// uris (a deleted post is not in
        the answer)."""
        data = self.xrpc("app.bsky.feed.getPosts", {"uris": uris})
        self._add(data.get("posts"), "getPosts")

    def followers(self, dids: Iterable[str], counts: dict[str, int | None]) -> None:
        """Fill `counts` (did → followersCount) in as few getProfiles calls as possible."""
        wanted = list(dict.fromkeys(dids))
        for start in range(0, len(wanted), PROFILES_PER_CALL):
            chunk = wanted[start:start + PROFILES_PER_CALL]
            data = self.xrpc("app.bsky.actor.getProfiles", {"actors": chunk})
            for profile in data.get("profiles") or []:
                if isinstance(profile, Mapping) and profile.get("did"):
                    counts[str(profile["did"])] = count(profile.get("followersCount"))


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    skip_without(source.secrets, [HANDLE, PASSWORD], source.name)
    terms = require_terms(source)
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
    )
    poll.run(lambda term=term: poll.search(term) for term in terms)
    if poll.mentions and poll.deferred_until is None:
        counts: dict[str, int | None] = {}  # filled as far as the look-ups get
        poll.enrich(lambda: poll.followers((m.author.id for m in poll.mentions.values()
                                            if m.author.id), counts),
                    "follower counts unavailable")
        poll.set_followers(counts)
    return poll.result()


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read posts by uri (`app.bsky.feed.getPosts`, 25 a call) for their current likes,
    reposts, quotes and replies, then their authors' follower counts (getProfiles, as fetch
    does; when that fails the stored counts stay)."""
    skip_without(source.secrets, [HANDLE, PASSWORD], source.name)
    poll = _Poll(source=source, state=SourceState(source.name), client=client,
                 base=source.base(DEFAULT_BASE), max_pages=1, overlap=DEFAULT_OVERLAP)
    uris = list(dict.fromkeys(m.external_id for m in mentions
                              if m.external_id.startswith("at://")))
    poll.look_up(lambda chunk=chunk: poll.posts(chunk)
                 for chunk in batches(uris, POSTS_PER_CALL))
    if poll.mentions:
        counts: dict[str, int | None] = {}
        poll.enrich(lambda: poll.followers((m.author.id for m in poll.mentions.values()
                                            if m.author.id), counts),
                    "follower counts unavailable")
        poll.set_followers(counts)
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    return int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0}) \
        + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="Bluesky post search (app.bsky.feed.searchPosts, newest first) with an app "
    "password; authors' follower counts from app.bsky.actor.getProfiles.",
    fetch=fetch,
    settings={
        "url": f"the PDS / service every xrpc call goes to (default {DEFAULT_BASE})",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.lang": "only posts in this language (e.g. en)",
        "params.max_pages": f"pages of {PAGE_LIMIT} per term and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the cursor each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    secrets={
        HANDLE: "the account's handle (e.g. acme-listening.bsky.social)",
        PASSWORD: "an app password of that account (Settings → App passwords)",
    },
    validate=validate,
    refresh=refresh,
)
