"""Lemmy, one instance per source (its url is required): posts and comments found by the
instance's search (`GET /api/v3/search?type_=All&sort=New`), federated content included.
Each term keeps its own cursor, the newest `published` seen; the next poll pages newest
first until it is `params.overlap_minutes` before that cursor (content federates late and
keeps its origin time). The external id is the federation `ap_id`, the same on every
instance, so one post seen through two instances is stored once."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

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
from connectors.fields import (
    count,
    http_url,
    ident,
    integer,
    iso_utc,
    lang_code,
    parse_time,
    time_or_none,
)
from connectors.polling import (
    Poll,
    choice_param,
    int_param,
    int_param_problems,
    overlap_param,
    raw_of,
    require_terms,
    terms_problems,
)
from connectors.text import normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "parse_time", "refresh", "search_terms", "to_mention",
           "validate"]

NAME = "lemmy"
log = logging.getLogger("earful.connectors.lemmy")

JWT = "LEMMY_JWT"
# The most items one search page returns per kind (Lemmy caps `limit` at 50).
PAGE_LIMIT = 50
DEFAULT_MAX_PAGES = 3
DEFAULT_OVERLAP = timedelta(minutes=30)
# A 429 without Retry-After: Lemmy's default search bucket refills over 600 s
# (local_site_rate_limit.search_per_second; 60 searches per 10 minutes per IP).
RATE_LIMIT_FALLBACK = timedelta(minutes=10)
SEARCH_TYPES = ("All", "Posts", "Comments")
LISTING_TYPES = ("All", "Local")


def search_terms(source: SourceSpec) -> list[str]:
    """The terms to search. Lemmy matches `%term%` with ILIKE (spaces become `%`), so a term
    containing another term ("Acme Cloud", "#acme" next to "Acme") finds nothing more and is
    left out: every search counts against a small per-IP bucket."""
    unique: dict[str, str] = {}
    for raw in source.queries:
        term = " ".join(str(raw).split())
        if term:
            unique.setdefault(term.casefold(), term)
    return [t for f, t in unique.items() if not any(o != f and o in f for o in unique)]


def _host(url: Any) -> str:
    return (urlsplit(url).hostname or "").lower() if isinstance(url, str) else ""


def _author(creator: Mapping[str, Any], instance_host: str,
            own_handles: frozenset[str]) -> tuple[Author, bool]:
    name = creator.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("creator without a name")
    actor = http_url(creator.get("actor_id"))
    host = _host(actor) or instance_host
    display = creator.get("display_name")
    candidates = {f"{name}@{host}".lower(), (actor or "").lower().rstrip("/")}
    if host == instance_host:
        candidates.add(name.lower())  # a local account: the bare name is the brand's
    author = Author(
        id=actor or ident(creator.get("id")),
        handle=f"@{name}@{host}",
        name=normalize_whitespace(display) or name if isinstance(display, str) else name,
        url=actor,
    )
    return author, bool(candidates & own_handles)


def to_mention(
    view: Mapping[str, Any],
    *,
    base: str,
    languages: Mapping[int, str] | None = None,
    own_handles: frozenset[str] = frozenset(),
) -> Mention:
    """One PostView or CommentView (a `comment` key tells them apart) as a Mention. Pure.
    Bodies are Markdown, kept as written. People have no follower counts in Lemmy; upvotes
    are the likes, `score` is up minus down votes."""
    comment = view.get("comment")
    post = view.get("post")
    creator = view.get("creator")
    counts = view.get("counts") if isinstance(view.get("counts"), Mapping) else {}
    if not isinstance(post, Mapping) or not isinstance(creator, Mapping):
        raise ValueError("view without post or creator")
    item = comment if comment is not None else post
    if not isinstance(item, Mapping) or item.get("id") is None:
        raise ValueError("view without an item id")
    kind = "comment" if comment is not None else "post"
    author, is_own = _author(creator, _host(base), own_handles)
    post_ap = http_url(post.get("ap_id")) or f"{base}/post/{post.get('id')}"
    own_ap = http_url(item.get("ap_id")) or f"{base}/{kind}/{item['id']}"
    language = item.get("language_id")
    if kind == "comment":
        text = normalize_whitespace(str(item.get("content") or ""))
        # `path` is "0.<ancestors>.<id>": the id before this one is the parent comment.
        path = str(item.get("path") or "").split(".")
        parent = f"{base}/comment/{path[-2]}" if len(path) > 2 else post_ap
        title, replies = None, count(counts.get("child_count"))
    else:
        body = normalize_whitespace(str(item.get("body") or ""))
        link = http_url(item.get("url"))
        # A link post's link is part of what it says (often the brand's own page).
        text = f"{body}\n{link}".strip() if link and link not in body else body
        parent, replies = None, count(counts.get("comments"))
        title = normalize_whitespace(str(item.get("name") or "")) or None
    return Mention(
        source=NAME,
        external_id=own_ap,
        url=own_ap,
        title=title,
        text=text,
        published_at=parse_time(item.get("published")),
        author=author,
        engagement=Engagement(likes=count(counts.get("upvotes")), replies=replies,
                              score=integer(counts.get("score"))),
        lang=(languages or {}).get(language) if isinstance(language, int) else None,
        thread_id=post_ap,
        parent_id=parent,
        is_own=is_own,
        raw=view,
    )


def _refused(exc: FatalError, source: str) -> ConnectorError:
    """A 400 says why in its body, `{"error": "<name>"}`: Lemmy ≤ 0.19 answers a spent rate
    limit with 400 `rate_limit_error` (later versions with 429), deferred like a 429; any
    other name (instance_is_private, ...) is added to the FatalError."""
    try:
        data = json.loads(exc.body or "")
    except ValueError:
        data = None
    name = data.get("error") if isinstance(data, Mapping) else None
    if name == "rate_limit_error":
        return RateLimitedError(f"{source}: rate limited (HTTP 400 rate_limit_error)",
                                source=source, status=400, body=exc.body)
    return FatalError(f"{exc}: {name}" if isinstance(name, str) and name else str(exc),
                      source=source, status=400, body=exc.body)


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    headers: dict[str, str]
    query: dict[str, Any]
    max_pages: int
    overlap: timedelta
    languages: dict[int, str] | None = None

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            response = self.http_get(self.client, self.base + path, headers=self.headers,
                                     params=params)
        except FatalError as exc:
            if exc.status == 400:
                raise _refused(exc, self.source.name) from exc
            raise
        return self.read_json(response)

    def _languages(self) -> Mapping[int, str]:
        """language_id → code from `GET /api/v3/site` (`all_languages`), read once and only
        when an item has a language; "und" (0) means unknown. Failing costs only `lang`."""
        if self.languages is None:
            self.languages = {}
            try:
                site = self._get("/api/v3/site")
            except ConnectorError as exc:
                log.warning("%s: languages unavailable: %s", self.source.name, exc,
                            extra={"source": self.source.name})
                return self.languages
            for language in (site.get("all_languages") or []) if isinstance(site, Mapping) \
                    else []:
                if isinstance(language, Mapping) and isinstance(language.get("id"), int):
                    code = lang_code(language.get("code"))
                    if code:
                        self.languages[language["id"]] = code
        return self.languages

    def _add(self, views: Any, kind: str, where: str) -> list[datetime]:
        if views is None:
            return []
        times: list[datetime] = []
        for index, view in self.objects(views, where, kind):
            item = view.get(kind)
            if not isinstance(item, Mapping):
                self.skip(f"{NAME}: {kind} {index} of {where} is not a {kind}")
                continue
            label = f"{kind} {item.get('id')!r} of {where}"
            published = self.convert(label, parse_time, item.get("published"))
            if published is None:
                continue
            times.append(published)
            if item.get("deleted") or item.get("removed"):
                continue
            language = item.get("language_id")
            languages = self._languages() if isinstance(language, int) and language else {}
            mention = self.convert(label, to_mention, view, base=self.base, languages=languages,
                                   own_handles=self.source.own_handles)
            if mention is not None:
                self.keep(mention)
        return times

    def item(self, kind: str, item_id: int) -> None:
        """One `GET /api/v3/post?id=` (→ `post_view`) or `GET /api/v3/comment?id=`
        (→ `comment_view`) by the instance's own id. One that is gone (404, or a 400
        `couldnt_find_…`), deleted or removed is left out; the language is not looked up
        again (the stored one stays)."""
        try:
            data = self._get(f"/api/v3/{kind}", {"id": item_id})
        except FatalError as exc:
            if exc.status == 404 or "couldnt_find" in str(exc) or "not_found" in str(exc):
                return
            raise
        view = data.get(f"{kind}_view") if isinstance(data, Mapping) else None
        if not isinstance(view, Mapping):
            raise self.fatal(f"{kind} {item_id} answered without {kind}_view")
        self._add([view], kind, f"{kind} {item_id}")

    def search(self, term: str) -> None:
        """Search one term, newest first, until a page reaches back past the cursor minus
        the overlap. The cursor moves only once the term is read to the end or the cap."""
        key = f"q:{term}"
        cursor = time_or_none(self.cursors.get(key))
        window = cursor - self.overlap if cursor else None
        newest = cursor
        where = f"search {term!r}"
        for page in range(1, self.max_pages + 1):
            data = self._get("/api/v3/search", {**self.query, "q": term, "page": page})
            if not isinstance(data, Mapping):
                raise self.fatal(f"{where} did not return an object")
            posts, comments = data.get("posts"), data.get("comments")
            times = self._add(posts, "post", where) + self._add(comments, "comment", where)
            if times:
                newest = max([*times, *([newest] if newest else [])])
            full = any(isinstance(x, list) and len(x) >= PAGE_LIMIT for x in (posts, comments))
            if window is None or not full or not times or min(times) < window:
                break  # the first poll reads the newest page only
        else:
            self.page_cap(where, self.max_pages)
        if newest is not None:
            self.cursors[key] = iso_utc(newest, "microseconds")


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    if not source.url:
        raise FatalError(f"{source.name}: a lemmy source needs the instance's url",
                         source=source.name)
    params = source.params
    terms = require_terms(source, search_terms(source))
    query: dict[str, Any] = {
        "type_": choice_param(source, "type", SEARCH_TYPES, "All"), "sort": "New",
        "listing_type": choice_param(source, "listing_type", LISTING_TYPES, "All"),
        "limit": PAGE_LIMIT,
    }
    if isinstance(params.get("community"), str) and params["community"]:
        query["community_name"] = params["community"]
    poll = _Poll(
        source=source, state=state, pause=RATE_LIMIT_FALLBACK, client=client,
        base=source.base(source.url), headers=_headers(source), query=query,
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
    )
    poll.run(lambda term=term: poll.search(term) for term in terms)
    return poll.result()


def _local(mention: Mention) -> tuple[str, int] | None:
    """("post" | "comment", the id on this instance) from the stored view. The external id
    is the federation ap_id, the same everywhere; the local id is this instance's."""
    raw = raw_of(mention)
    kind = "comment" if raw.get("comment") is not None else "post"
    item = raw.get(kind)
    item_id = item.get("id") if isinstance(item, Mapping) else None
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        return None
    return kind, item_id


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read posts and comments one by one (`GET /api/v3/post?id=`, `GET
    /api/v3/comment?id=`, the instance's local ids, the JWT when set) for their current
    votes, score and replies. An answer whose `ap_id` is not the stored one (an id from
    another instance) is not taken for it."""
    if not source.url:
        raise FatalError(f"{source.name}: a lemmy source needs the instance's url",
                         source=source.name)
    poll = _Poll(source=source, state=SourceState(source.name), pause=RATE_LIMIT_FALLBACK,
                 client=client, base=source.base(source.url), headers=_headers(source),
                 query={}, max_pages=1, overlap=DEFAULT_OVERLAP, languages={})
    items = list(dict.fromkeys(i for m in mentions if (i := _local(m))))
    poll.look_up(lambda kind=kind, item_id=item_id: poll.item(kind, item_id)
                 for kind, item_id in items)
    return poll.reread(mentions)


def _headers(source: SourceSpec) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if source.secrets.get(JWT):  # a header, never the URL (0.19 dropped the `auth` field)
        headers["Authorization"] = f"Bearer {source.secrets[JWT]}"
    return headers


def _problems(pairs: Iterable[tuple[str, Any, tuple[str, ...]]]) -> list[str]:
    return [f"params.{key} must be one of {', '.join(allowed)}"
            for key, value, allowed in pairs if value is not None and value not in allowed]


def validate(source: SourceSpec) -> list[str]:
    problems = [] if source.url else ["url is required: the instance's address "
                                      "(https://lemmy.example.org)"]
    problems += int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0})
    problems += _problems([("type", source.params.get("type"), SEARCH_TYPES),
                           ("listing_type", source.params.get("listing_type"), LISTING_TYPES)])
    return problems + terms_problems(search_terms(source))


CONNECTOR = Connector(
    name=NAME,
    summary="Lemmy search (/api/v3/search, sort=New) of posts and comments on one instance, "
    "federated content included; ids are the federation ap_id.",
    fetch=fetch,
    settings={
        "url": "the instance's base URL (required), e.g. https://lemmy.example.org",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.type": "All (posts and comments, default), Posts or Comments",
        "params.listing_type": "All (federated too, default) or Local",
        "params.community": "only this community (name or name@instance)",
        "params.max_pages": f"pages of up to {PAGE_LIMIT} per kind, per term and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the cursor each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    optional_secrets={JWT: "a login token (JWT) for instances that only answer signed-in users"},
    requires_url=True,
    validate=validate,
    refresh=refresh,
)
