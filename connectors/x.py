"""X (Twitter) API v2 recent search with an app Bearer token: one query per brand term (or
per params.query), newest first, retweets left out by default. Each query keeps a since_id
cursor, re-read from a little earlier next poll; authors and their follower counts come in
the same response (expansions=author_id), so no extra profile calls are made."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
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
from connectors.errors import FatalError, RateLimitedError
from connectors.fields import count, ident, lang_code, parse_time
from connectors.http import skip_without
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

__all__ = ["CONNECTOR", "build_query", "fetch", "id_at", "overlap_id", "refresh", "to_mention",
           "validate"]

NAME = "x"

DEFAULT_BASE = "https://api.x.com"
TOKEN = "X_BEARER_TOKEN"
WEB = "https://x.com"
SEARCH = "/2/tweets/search/recent"
# Post lookup `GET /2/tweets?ids=`: comma-separated ids, "up to 100 are allowed in a single
# request" (docs.x.com x-api/posts/lookup).
LOOKUP = "/2/tweets"
LOOKUP_IDS = 100
# max_results is 10..100 (default 10); recent search covers the last seven days and refuses
# a since_id older than that (HTTP 400) (docs.x.com x-api/posts/search).
MIN_RESULTS, MAX_RESULTS = 10, 100
WINDOW = timedelta(days=7)
# note_tweet: a post over 280 characters has a cut `text`; its full text comes only in
# note_tweet, "To return this field, add tweet.fields=note_tweet" (docs.x.com, Post fields).
TWEET_FIELDS = ("created_at,public_metrics,lang,conversation_id,in_reply_to_user_id,"
                "referenced_tweets,author_id,note_tweet")
USER_FIELDS = "username,name,public_metrics,verified"
DEFAULT_MAX_PAGES = 5
# Posts can reach the search index a little after their id was minted: each poll asks from
# this long before the newest id seen. Ids dedupe what is read twice.
DEFAULT_OVERLAP = timedelta(minutes=15)
# A 429 that names no time and comes before any x-rate-limit-reset: the 15-minute window.
RATE_LIMIT_PAUSE = timedelta(minutes=15)
# A post id is a snowflake: milliseconds since this epoch, shifted left 22 bits.
_SNOWFLAKE_EPOCH_MS = 1288834974657
# Language codes X uses for "no language": undetermined, media or hashtag only, and so on.
_NO_LANG = frozenset({"und", "zxx", "art", "qam", "qct", "qht", "qme", "qst"})
_PLAIN_TERM = re.compile(r"^[#@$]?\w+$")


def id_at(when: datetime) -> int:
    """The smallest post id X mints at `when`."""
    return max(int(when.timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS, 0) << 22


def _id_time(post_id: int) -> datetime:
    return datetime.fromtimestamp(((post_id >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def overlap_id(cursor: str, overlap: timedelta, now: datetime) -> str | None:
    """The since_id that re-reads `overlap` before the cursor; None when that lies outside
    the seven days recent search covers (X would answer 400: read the window afresh)."""
    if not cursor.isdigit():
        return None
    since = _id_time(int(cursor)) - overlap
    if since <= now - WINDOW + timedelta(minutes=5):
        return None
    return str(id_at(since))


def build_query(term: str, *, raw: bool = False, exclude_retweets: bool = True,
                suffix: str = "") -> str:
    """A search query for one term. Brand terms are quoted unless they are one word,
    hashtag, @mention or $cashtag ("Acme Cloud" → "\\"Acme Cloud\\""); a raw params.query is
    kept as written, parenthesised when it has OR (AND binds tighter than OR on X)."""
    term = " ".join(term.split())
    if raw:
        query = f"({term})" if " OR " in term and (exclude_retweets or suffix) else term
    else:
        query = term if _PLAIN_TERM.match(term) else '"' + term.replace('"', "") + '"'
    parts = [query]
    if exclude_retweets and "is:retweet" not in term:
        parts.append("-is:retweet")
    if suffix.strip():
        parts.append(" ".join(suffix.split()))
    return " ".join(parts)


def _newest(*ids: Any) -> str | None:
    numbers = [str(i) for i in ids if isinstance(i, str | int) and str(i).isdigit()]
    return max(numbers, key=int, default=None)


def to_mention(
    tweet: Mapping[str, Any],
    *,
    users: Mapping[str, Mapping[str, Any]] | None = None,
    own_handles: frozenset[str] = frozenset(),
) -> Mention:
    """One post (an item of `data`) as a Mention. Pure. `users` is includes.users by id:
    the author's handle, name and followers. A retweet (referenced_tweets type "retweeted")
    is a repost by the retweeter; a reply keeps the post it answers as parent."""
    post_id = str(tweet["id"])
    if not post_id.isdigit():
        raise ValueError(f"not a post id: {post_id!r}")
    author_id = ident(tweet.get("author_id"))
    user = (users or {}).get(author_id or "") or {}
    username = user.get("username") if isinstance(user.get("username"), str) else None
    user_metrics = user.get("public_metrics")
    user_metrics = user_metrics if isinstance(user_metrics, Mapping) else {}
    metrics = tweet.get("public_metrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    refs = [r for r in tweet.get("referenced_tweets") or [] if isinstance(r, Mapping)]
    replied = next((str(r["id"]) for r in refs if r.get("type") == "replied_to"
                    and r.get("id")), None)
    note = tweet.get("note_tweet")  # long posts: the full text, when asked for
    text = note.get("text") if isinstance(note, Mapping) and note.get("text") else tweet["text"]
    if not isinstance(text, str):
        raise ValueError(f"post {post_id} has no text")
    reposts, quotes = count(metrics.get("retweet_count")), count(metrics.get("quote_count"))
    conversation = tweet.get("conversation_id")
    return Mention(
        source=NAME,
        external_id=post_id,
        url=f"{WEB}/{username}/status/{post_id}" if username else f"{WEB}/i/web/status/{post_id}",
        title=None,
        # v2 text keeps &amp; &lt; &gt; escaped.
        text=normalize_whitespace(html.unescape(text)),
        published_at=parse_time(tweet.get("created_at")),
        author=Author(
            id=author_id,
            handle=f"@{username}" if username else None,
            name=normalize_whitespace(str(user.get("name") or "")) or username,
            url=f"{WEB}/{username}" if username else None,
            followers=count(user_metrics.get("followers_count")),
        ),
        engagement=Engagement(
            likes=count(metrics.get("like_count")),
            # A quote shows the post to the quoter's followers, as a repost does.
            reposts=None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0),
            replies=count(metrics.get("reply_count")),
            views=count(metrics.get("impression_count")),
        ),
        lang=lang_code(tweet.get("lang"), _NO_LANG),
        thread_id=str(conversation) if conversation else None,
        parent_id=replied,
        is_repost=any(r.get("type") == "retweeted" for r in refs),
        is_own=bool(own_handles & {str(username or "").lower(), str(author_id or "")}),
        raw=tweet,
    )


def _usage_capped(body: str | None) -> str | None:
    """The detail of a 429 for the monthly Post cap (type …/problems/usage-capped, title
    UsageCapExceeded), not the 15-minute window: its x-rate-limit-* headers still show
    requests left, so waiting for their reset would only ask again (xdevplatform/xdk#25;
    docs.x.com fundamentals/post-cap). None for any other 429."""
    try:
        problem = json.loads(body or "")
    except ValueError:
        return None
    if not isinstance(problem, Mapping) or not (
            str(problem.get("type") or "").endswith("/usage-capped")
            or problem.get("title") == "UsageCapExceeded"):
        return None
    return str(problem.get("detail") or problem.get("title"))


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    token: str
    max_pages: int
    max_results: int
    overlap: timedelta

    def call(self, params: Mapping[str, Any], path: str = SEARCH) -> Mapping[str, Any]:
        try:
            response = self.http_get(self.client, self.base + path, params=params,
                                     headers={"Accept": "application/json",
                                              "Authorization": f"Bearer {self.token}"})
        except RateLimitedError as exc:
            capped = _usage_capped(exc.body)
            if capped:
                raise self.fatal(f"the monthly Post cap is spent: {capped}") from exc
            raise
        return self.read_json(response, "recent search" if path == SEARCH else "post lookup")

    def _partial(self, errors: Any, where: str) -> None:
        """Problems in a 200 answer: a resource (often an expanded author) was left out;
        the posts that came are kept."""
        for problem in errors if isinstance(errors, list) else []:
            if isinstance(problem, Mapping):
                self.skip(f"{NAME}: {where}: {problem.get('title') or 'error'}: "
                          f"{problem.get('detail') or problem.get('message')}")

    def _posts(self, data: Mapping[str, Any], posts: Any, where: str) -> list[Mention]:
        """Keep the posts of one answer, their authors from `includes.users`."""
        includes = data.get("includes") if isinstance(data.get("includes"), Mapping) else {}
        users = {str(u["id"]): u for u in includes.get("users") or []
                 if isinstance(u, Mapping) and u.get("id")}
        kept = []
        for _, post in self.objects(posts, where, "post"):
            mention = self.convert(f"post {post.get('id')!r} of {where}", to_mention, post,
                                   users=users, own_handles=self.source.own_handles)
            if mention is not None:
                self.keep(mention)
                kept.append(mention)
        return kept

    def lookup(self, ids: list[str]) -> None:
        """One post lookup (`GET /2/tweets?ids=`) with the fields and expansion the search
        asks for. Posts that are gone (deleted, protected, suspended author) come back as
        `errors` naming their id instead of in `data`: they are left out, not item errors;
        an answer with no `data` at all is a valid one when every post is gone."""
        data = self.call({"ids": ",".join(ids), "tweet.fields": TWEET_FIELDS,
                          "expansions": "author_id", "user.fields": USER_FIELDS}, LOOKUP)
        gone = {str(p.get("value") or p.get("resource_id")) for p in data.get("errors") or []
                if isinstance(p, Mapping) and p.get("resource_type") == "tweet"}
        others = [p for p in data.get("errors") or [] if isinstance(p, Mapping)
                  and p.get("resource_type") != "tweet"]
        if "data" not in data and others and not gone:
            detail = "; ".join(str(p.get("detail") or p.get("title") or p.get("message"))
                               for p in others)
            raise self.fatal(f"post lookup failed: {detail}")
        self._partial(others, "post lookup")
        self._posts(data, data.get("data", []), "post lookup")

    def search(self, term: str, query: str) -> None:
        """Read one query, newest first, following next_token with the same since_id. The
        cursor becomes the newest id seen once the query is read to the end (or the cap),
        so a failure mid-way re-reads rather than skips (docs: search/integrate/paginate)."""
        key = f"q:{term}"
        cursor = str(self.cursors.get(key) or "") or None
        params: dict[str, Any] = {"query": query, "max_results": self.max_results,
                                  "tweet.fields": TWEET_FIELDS, "expansions": "author_id",
                                  "user.fields": USER_FIELDS}
        since = overlap_id(cursor, self.overlap, self.now) if cursor else None
        if since:
            params["since_id"] = since
        newest, where = cursor, f"search {query!r}"
        for _ in range(self.max_pages):
            data = self.call(params)
            posts = data.get("data", [])
            meta = data.get("meta") if isinstance(data.get("meta"), Mapping) else {}
            if "data" not in data and not meta and data.get("errors"):
                problems = [p for p in data["errors"] if isinstance(p, Mapping)]
                detail = "; ".join(str(p.get("detail") or p.get("title") or p.get("message"))
                                   for p in problems) or "errors only"
                raise self.fatal(f"{where} failed: {detail}")
            self._partial(data.get("errors"), where)
            for mention in self._posts(data, posts, where):
                newest = _newest(newest, mention.external_id)
            newest = _newest(newest, meta.get("newest_id"))
            token = meta.get("next_token")
            if not cursor or not posts or not isinstance(token, str) or not token:
                break  # the first poll reads the newest page only
            params["next_token"] = token
        else:
            self.page_cap(where, self.max_pages, "older posts skipped")
        if newest:
            self.cursors[key] = newest


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    skip_without(source.secrets, [TOKEN], source.name)
    params = source.params
    terms = require_terms(source)
    suffix = params.get("query_suffix", "")
    if not isinstance(suffix, str):
        raise FatalError(f"{source.name}: params.query_suffix must be a string",
                         source=source.name)
    raw = bool(params.get("query"))  # params.query is X query syntax, used as written
    exclude_retweets = bool(params.get("exclude_retweets", True))
    poll = _Poll(
        source=source, state=state, pause=RATE_LIMIT_PAUSE, client=client,
        base=source.base(DEFAULT_BASE), token=source.secrets[TOKEN].strip(),
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        max_results=int_param(source, "max_results", MAX_RESULTS, MIN_RESULTS, MAX_RESULTS),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
    )
    poll.run(lambda term=term: poll.search(term, build_query(
        term, raw=raw, exclude_retweets=exclude_retweets, suffix=suffix)) for term in terms)
    return poll.result()


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read posts by id (`GET /2/tweets?ids=`, 100 a call, the same fields and author
    expansion as the search) for their current public_metrics and authors' followers."""
    skip_without(source.secrets, [TOKEN], source.name)
    poll = _Poll(source=source, state=SourceState(source.name), pause=RATE_LIMIT_PAUSE,
                 client=client, base=source.base(DEFAULT_BASE),
                 token=source.secrets[TOKEN].strip(), max_pages=1, max_results=MAX_RESULTS,
                 overlap=DEFAULT_OVERLAP)
    ids = list(dict.fromkeys(m.external_id for m in mentions if m.external_id.isdigit()))
    poll.look_up(lambda chunk=chunk: poll.lookup(chunk) for chunk in batches(ids, LOOKUP_IDS))
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params, {
        "max_pages": 1, "overlap_minutes": 0, "max_results": (MIN_RESULTS, MAX_RESULTS)})
    if not isinstance(source.params.get("query_suffix", ""), str):
        problems.append("params.query_suffix must be a string of search operators")
    return problems + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="X API v2 recent search (last 7 days) with a Bearer token: one query per term, "
    "since_id cursors, authors' followers from includes.users.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE})",
        "params.query": "X search queries used as written (default: one per brand term or "
        "alias, multi-word terms quoted)",
        "params.exclude_retweets": "append -is:retweet (default true)",
        "params.query_suffix": "operators appended to every query, e.g. 'lang:en -is:reply'",
        "params.max_results": f"posts per page ({MIN_RESULTS}..{MAX_RESULTS}, "
        f"default {MAX_RESULTS})",
        "params.max_pages": f"pages per query and poll (default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the newest post seen each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    secrets={TOKEN: "an app-only Bearer token of an X developer app with recent search access"},
    validate=validate,
    refresh=refresh,
)
