"""Mastodon, one instance per source: public hashtag timelines (no auth), plus status search
when a user token is set. Each hashtag and each search term keeps its own cursor: the newest
status id seen, re-read from a little earlier on the next poll (statuses that federate late
get ids from their creation time)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

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
from connectors.fields import count, http_url, ident, lang_code, parse_link_header, parse_time
from connectors.http import HttpResponse
from connectors.polling import Poll, int_param, int_param_problems, overlap_param, raw_of
from connectors.text import html_to_text, normalize_whitespace

__all__ = [
    "CONNECTOR",
    "fetch",
    "hashtag_for",
    "hashtags",
    "id_at",
    "overlap_id",
    "refresh",
    "to_mention",
    "validate",
]

NAME = "mastodon"
log = logging.getLogger("earful.connectors.mastodon")

DEFAULT_BASE = "https://mastodon.social"
TOKEN = "MASTODON_ACCESS_TOKEN"
# The most statuses one call returns, for timelines and search alike
# (docs.joinmastodon.org methods/timelines#tag, methods/search#v2: "Max 40").
PAGE_LIMIT = 40
# Pages read per hashtag or term and poll; the cursor keeps what was not reached for later.
DEFAULT_MAX_PAGES = 5
# How far before the cursor each poll starts again. Remote statuses can arrive minutes after
# they were written and are filed under ids from that time (a Mastodon id is its creation
# time in milliseconds, shifted left 16 bits); re-reading is cheap, as ids dedupe.
DEFAULT_OVERLAP = timedelta(minutes=15)
# Followers-only and direct statuses a token can see are left out unless asked for.
_PRIVATE = frozenset({"private", "direct"})
# A quote post's content starts with `<p class="quote-inline">RE: <a href="…">…</a></p>`, a
# fallback link to the quoted post for clients without quotes; docs.joinmastodon.org
# client/quotes says to remove it when the status has a `quote` (it is redundant, and the
# link, which names the quoted account, would read as part of what was written).
_QUOTE_FALLBACK = re.compile(
    r'<p\b[^>]*\bclass="[^"]*\bquote-inline\b[^"]*"[^>]*>.*?</p>', re.DOTALL | re.IGNORECASE)


def hashtag_for(term: str) -> str | None:
    """A search term as a hashtag: spaces and non-alphanumerics dropped, lower-cased
    ("Acme Cloud" → acmecloud, "#acme" → acme). None when nothing usable is left (a
    hashtag needs a letter, so "123" is none)."""
    tag = "".join(c for c in term if c.isalnum()).lower()
    return tag if any(c.isalpha() for c in tag) else None


def hashtags(source: SourceSpec) -> list[str]:
    """params.hashtags when set, else one hashtag per query; deduplicated, in order."""
    configured = source.params.get("hashtags")
    terms = [str(t) for t in configured] if isinstance(configured, list) else list(source.queries)
    return list(dict.fromkeys(t for t in map(hashtag_for, terms) if t))


def id_at(when: datetime) -> int:
    """The smallest status id an instance gives a status created at `when`."""
    return int(when.timestamp() * 1000) << 16


def overlap_id(cursor: str, overlap: timedelta = DEFAULT_OVERLAP) -> str:
    """The id to read from (min_id) so statuses up to `overlap` older than the cursor are
    read again. Ids that are not numbers (other fediverse servers) are used as they are."""
    if not cursor.isdigit():
        return cursor
    milliseconds = (int(cursor) >> 16) - int(overlap.total_seconds() * 1000)
    return str(max(milliseconds, 0) << 16)


def _id_key(status_id: str) -> tuple[int, int, str]:
    """Order of ids: numbers compared as integers; other ids (ULIDs, flake ids) by length,
    then lexically, which is how those servers sort them."""
    if status_id.isdigit():
        return (0, int(status_id), "")
    return (1, len(status_id), status_id)


def _newest(ids: Iterable[str]) -> str | None:
    return max(ids, key=_id_key, default=None)


def _is_own(account: Mapping[str, Any], instance_host: str, own_handles: frozenset[str]) -> bool:
    if not own_handles:
        return False
    acct = str(account.get("acct") or account.get("username") or "").lower().lstrip("@")
    candidates = {acct}
    if acct and "@" not in acct and instance_host:
        candidates.add(f"{acct}@{instance_host}")  # a local account, fully qualified
    url = account.get("url")
    if isinstance(url, str):
        candidates.add(url.lower().rstrip("/"))
    return bool(candidates & own_handles)


def _content_text(status: Mapping[str, Any]) -> str:
    """The visible text of a status's HTML `content`, without a quote's fallback link."""
    content = status.get("content")
    if isinstance(content, str) and status.get("quote") is not None:
        content = _QUOTE_FALLBACK.sub("", content)
    return html_to_text(content)


def to_mention(
    status: Mapping[str, Any], *, instance: str, own_handles: frozenset[str] = frozenset()
) -> Mention:
    """One Status entity as a Mention. Pure. A boost (`reblog` set) is a repost: the
    booster is its author (their followers saw it), the boosted status gives the text and
    link, and the counts are the boost's own. The external id is the status's federation
    `uri`, the same on every instance, so one post seen through two instances is stored
    once."""
    boosted = status.get("reblog")
    if boosted is not None and not isinstance(boosted, Mapping):
        raise ValueError("reblog is not a status")
    content = boosted or status
    status_id = str(status["id"])
    account = status.get("account")
    if not isinstance(account, Mapping):
        raise ValueError(f"status {status_id} has no account")
    acct = account.get("acct") or account.get("username")
    reply_to = content.get("in_reply_to_id")
    spoiler = normalize_whitespace(str(content.get("spoiler_text") or ""))
    return Mention(
        source=NAME,
        external_id=str(status.get("uri") or f"{instance}/api/v1/statuses/{status_id}"),
        url=http_url(content.get("url")) or http_url(content.get("uri"))
        or http_url(status.get("url")),
        # The content warning: shown above the text, and often what the post is about.
        title=spoiler or None,
        text=_content_text(content),
        published_at=parse_time(status.get("created_at")),
        author=Author(
            id=ident(account.get("id")),
            handle=f"@{acct}" if acct else None,
            name=normalize_whitespace(str(account.get("display_name") or "")) or acct or None,
            url=http_url(account.get("url")),
            followers=count(account.get("followers_count")),
        ),
        # The status's own counts: for a boost, the boost's (the boosted status's counts
        # belong to that status's own mention; the same likes are not counted twice).
        engagement=Engagement(
            likes=count(status.get("favourites_count")),
            reposts=_reposts(status),
            replies=count(status.get("replies_count")),
        ),
        lang=lang_code(content.get("language")),
        parent_id=_parent_id(content, instance) if reply_to else None,
        is_repost=boosted is not None,
        is_own=_is_own(account, urlsplit(instance).hostname or "", own_handles),
        raw=status,
    )


def _parent_id(status: Mapping[str, Any], instance: str) -> str:
    """The replied-to status as its federation `uri` (what its mention is keyed by, so the
    desk sees the reply in its thread) where that can be told: a status by an account local
    to this instance has the uri https://<its domain>/users/<username>/statuses/<API id>
    (docs.joinmastodon.org, Status `uri`), the domain that of the account's profile `url`.
    The parent's author is in `mentions`, or is the replier (a thread). Otherwise (a remote
    parent, whose uri is unknown here): its API address on this instance."""
    reply_to, author_id = status["in_reply_to_id"], str(status.get("in_reply_to_account_id"))
    account = status.get("account") if isinstance(status.get("account"), Mapping) else {}
    candidates = [m for m in status.get("mentions") or [] if isinstance(m, Mapping)] + [account]
    for who in candidates:
        acct, username = str(who.get("acct") or "@"), who.get("username")
        if str(who.get("id")) == author_id and "@" not in acct and isinstance(username, str):
            profile = urlsplit(http_url(who.get("url")) or instance)
            return f"{profile.scheme}://{profile.netloc}/users/{username}/statuses/{reply_to}"
    return f"{instance}/api/v1/statuses/{reply_to}"


def _reposts(status: Mapping[str, Any]) -> int | None:
    """Boosts plus accepted quotes (`quotes_count`, Mastodon 4.5+; absent before): a quote
    shows the post to the quoter's followers, as a boost does (as X and Bluesky count)."""
    boosts, quotes = count(status.get("reblogs_count")), count(status.get("quotes_count"))
    return None if boosts is None and quotes is None else (boosts or 0) + (quotes or 0)


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    headers: dict[str, str]
    max_pages: int
    overlap: timedelta
    include_private: bool

    def _get(self, path: str, params: Mapping[str, Any]) -> tuple[Any, HttpResponse]:
        response = self.http_get(self.client, self.base + path, headers=self.headers,
                                 params=params)
        return self.read_json(response), response

    def _add(self, statuses: Any, where: str) -> list[str]:
        """Keep the statuses of one page; returns their ids (for the cursor)."""
        ids: list[str] = []
        for index, status in self.objects(statuses, where, "status", "statuses"):
            if status.get("id") is None:
                self.skip(f"{NAME}: item {index} of {where} is not a status")
                continue
            ids.append(str(status["id"]))
            if not self.include_private and status.get("visibility") in _PRIVATE:
                continue
            mention = self.convert(f"status {status.get('id')} of {where}", to_mention, status,
                                   instance=self.base, own_handles=self.source.own_handles)
            if mention is not None:
                self.keep(mention)
        return ids

    def _advance(self, key: str, ids: Iterable[str]) -> None:
        newest = _newest([*ids, *([self.cursors[key]] if self.cursors.get(key) else [])])
        if newest:
            self.cursors[key] = newest

    def tag(self, tag: str) -> bool:
        """Read one hashtag timeline. False when the instance does not know the tag."""
        key = f"tag:{tag}"
        path = f"/api/v1/timelines/tag/{quote(tag, safe='')}"
        query: dict[str, Any] = {"limit": PAGE_LIMIT}
        if self.source.params.get("local"):
            query["local"] = "true"
        cursor = self.cursors.get(key)
        if cursor:
            query["min_id"] = overlap_id(str(cursor), self.overlap)
        where = f"#{tag}"
        for page in range(self.max_pages):
            try:
                statuses, response = self._get(path, query)
            except FatalError as exc:
                if exc.status == 404 and page == 0:
                    return False  # "Hashtag does not exist" (methods/timelines#tag)
                raise
            ids = self._add(statuses, where)
            # min_id pages forward (oldest new statuses first), so the cursor can move up
            # after every page and a failure later loses nothing.
            self._advance(key, ids)
            if not cursor or len(statuses) < PAGE_LIMIT:  # first poll: the newest page
                return True
            newer = parse_link_header(response.headers.get("link")).get("prev", {})
            next_min = newer.get("min_id") or _newest(ids)
            if not next_min or _id_key(next_min) <= _id_key(str(query["min_id"])):
                return True
            query["min_id"] = next_min
        self.page_cap(where, self.max_pages, "the rest is read next poll")
        return True

    def status(self, status_id: str) -> None:
        """One `GET /api/v1/statuses/:id`. A status that is gone, or that the instance will
        not show (404 for both), is left out."""
        try:
            status, _response = self._get(f"/api/v1/statuses/{quote(status_id, safe='')}", {})
        except FatalError as exc:
            if exc.status in (404, 410):
                return
            raise
        if not isinstance(status, Mapping):
            raise self.fatal(f"status {status_id} did not return an object")
        self._add([status], f"status {status_id}")

    def search(self, term: str) -> None:
        """Search statuses for one term (needs a user token). Results come newest first, so
        the cursor moves only once the term is read to the end."""
        key = f"q:{term}"
        cursor = self.cursors.get(key)
        query: dict[str, Any] = {"q": term, "type": "statuses", "limit": PAGE_LIMIT}
        if cursor:
            query["min_id"] = overlap_id(str(cursor), self.overlap)
        seen: list[str] = []
        for _ in range(self.max_pages):
            data, _response = self._get("/api/v2/search", query)
            if not isinstance(data, Mapping):
                raise self.fatal("search did not return an object")
            statuses = data.get("statuses") or []
            ids = self._add(statuses, f"search {term!r}")
            seen.extend(ids)
            if not cursor or len(statuses) < PAGE_LIMIT or not ids:
                break
            oldest = min(ids, key=_id_key)
            if "max_id" in query and _id_key(oldest) >= _id_key(str(query["max_id"])):
                break
            query["max_id"] = oldest
        else:
            self.page_cap(f"search {term!r}", self.max_pages, "older results skipped")
        self._advance(key, seen)


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    base = source.base(DEFAULT_BASE)
    params = source.params
    token = source.secrets.get(TOKEN)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    poll = _Poll(
        source=source, state=state, client=client, base=base, headers=headers,
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        include_private=bool(params.get("include_private", False)),
    )
    tags = hashtags(source)
    terms = list(source.queries) if token and params.get("search", True) else []
    if not tags and not terms:
        raise FatalError(f"{source.name}: nothing to follow: no hashtags (params.hashtags or "
                         "the brands' terms) and no search", source=source.name)
    jobs: list[tuple[str, Callable[[], Any]]] = [
        *((f"#{t}", lambda t=t: poll.tag(t)) for t in tags),
        *((f"search {q!r}", lambda q=q: poll.search(q)) for q in terms),
    ]
    answers = poll.run(job for _, job in jobs)
    unknown_tags = [label for (label, _), known in zip(jobs, answers, strict=False)
                    if known is False]
    if unknown_tags and len(unknown_tags) == len(jobs):
        raise FatalError(f"{source.name}: {base} knows none of {', '.join(unknown_tags)} "
                         "(HTTP 404): is it a Mastodon instance?", source=source.name)
    for label in unknown_tags:
        log.info("%s: %s is not used on %s yet", source.name, label, base,
                 extra={"source": source.name})
    return poll.result()


def _local_id(mention: Mention, base: str) -> str | None:
    """The status's id on this instance: the `id` of the stored status (the external id is
    its federation uri, the same on every instance; the local id is not). A status whose
    uri is on this instance also has it at the end of its uri."""
    status_id = raw_of(mention).get("id")
    if isinstance(status_id, str | int) and not isinstance(status_id, bool) and str(status_id):
        return str(status_id)
    uri = urlsplit(mention.external_id)
    if uri.hostname and uri.hostname == urlsplit(base).hostname:
        last = uri.path.rstrip("/").rsplit("/", 1)[-1]
        return last if last.isdigit() else None
    return None


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read statuses one by one (`GET /api/v1/statuses/:id` with the instance's local id,
    the token when set) for their current favourites, boosts, replies and the author's
    followers. A status whose answer has another `uri` (its stored id belonged to another
    instance) is not taken for it."""
    base = source.base(DEFAULT_BASE)
    token = source.secrets.get(TOKEN)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    poll = _Poll(source=source, state=SourceState(source.name), client=client, base=base,
                 headers=headers, max_pages=1, overlap=DEFAULT_OVERLAP,
                 include_private=bool(source.params.get("include_private", False)))
    ids = list(dict.fromkeys(i for m in mentions if (i := _local_id(m, base))))
    poll.look_up(lambda status_id=status_id: poll.status(status_id) for status_id in ids)
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    problems = []
    configured = source.params.get("hashtags")
    if configured is not None and not (
        isinstance(configured, list) and all(isinstance(t, str) for t in configured)
    ):
        problems.append("params.hashtags must be a list of strings")
    problems += int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0})
    if not hashtags(source) and not source.secrets.get(TOKEN):
        problems.append("no hashtags to follow and no MASTODON_ACCESS_TOKEN for search")
    return problems


CONNECTOR = Connector(
    name=NAME,
    summary="Mastodon (one instance per source): public hashtag timelines, and status "
    "search with a user token; per-hashtag / per-term min_id cursors.",
    fetch=fetch,
    settings={
        "url": f"the instance (default {DEFAULT_BASE})",
        "params.hashtags": "hashtags to follow (default: the brands' terms, e.g. "
        "'Acme Cloud' → acmecloud)",
        "params.search": "search statuses for the terms when a token is set (default true)",
        "params.local": "only the instance's own statuses in hashtag timelines",
        "params.max_pages": f"pages of {PAGE_LIMIT} per hashtag or term and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the cursor each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.include_private": "keep followers-only and direct statuses a token can see "
        "(default false)",
    },
    optional_secrets={TOKEN: "a user access token (read:search): enables status search"},
    validate=validate,
    refresh=refresh,
)
