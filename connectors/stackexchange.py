"""Stack Exchange (API 2.3): question search (`/search/advanced`, newest first) on one or more
sites, one cursor per site and term (the newest `creation_date` seen, re-read from a little
earlier). Every answer carries the daily quota and, at times, a `backoff` the API asks callers
to honour: both stop the source for this run instead of being slept through."""

from __future__ import annotations

import html
import json
import logging
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
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
from connectors.errors import ConnectorError, FatalError, RateLimitedError, RetriableError
from connectors.fields import count, epoch_time, http_url, ident, integer
from connectors.http import RateLimit, get
from connectors.polling import (
    BudgetSpent,
    Poll,
    batches,
    int_param,
    int_param_problems,
    overlap_param,
    refuse_spent,
    require_terms,
    terms_problems,
)
from connectors.text import html_to_text, normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "refresh", "site_of", "sites", "to_mention", "validate"]

NAME = "stackexchange"
log = logging.getLogger("earful.connectors.stackexchange")

# The API version is part of the base, so a proxy or a later version is one setting.
DEFAULT_BASE = "https://api.stackexchange.com/2.3"
KEY = "STACKEXCHANGE_KEY"
DEFAULT_SITES = ("stackoverflow",)
# api.stackexchange.com/docs/paging: "pagesize can be any value between 0 and 100".
PAGE_SIZE = 100
# Without a key the quota is 300 requests a day per IP (10,000 with one): few pages a term.
DEFAULT_MAX_PAGES = 3
# The search index trails new questions by a little; re-reading half an hour costs nothing
# extra (a page is one request whatever it holds) and question ids dedupe.
DEFAULT_OVERLAP = timedelta(minutes=30)
# The built-in filter that adds `body` to the default question fields (docs/filters).
DEFAULT_FILTER = "withbody"
# The daily quota is a rolling 24 hours from the first request of the window (Stack Apps
# FAQ "How API keys work"); the API does not say when it ends.
QUOTA_WINDOW = timedelta(hours=24)
# Sites whose questions are written in one language other than English.
_SITE_LANGS = {"ru.stackoverflow.com": "ru", "es.stackoverflow.com": "es",
               "pt.stackoverflow.com": "pt", "ja.stackoverflow.com": "ja"}
_AVAILABLE_IN = re.compile(r"available in (\d+) seconds")
_GZIP_MAGIC = b"\x1f\x8b"
# What to check for the errors a setting causes (api.stackexchange.com/docs/error-handling).
_HINTS = {"bad_parameter": " (check params.sites, params.tagged and params.filter)",
          "key_required": " (check the key)", "access_denied": " (check the key)"}
# The API's own server-side failures (docs/error-handling: internal_error 500,
# temporarily_unavailable 503): they come as HTTP 400 like every error, yet trying again
# later can succeed, unlike a bad parameter or key.
_TRANSIENT = frozenset({"internal_error", "temporarily_unavailable"})


def sites(params: Mapping[str, Any]) -> list[str]:
    """params.sites (a list) or params.site (one), else Stack Overflow; deduplicated."""
    configured = params.get("sites", params.get("site"))
    if isinstance(configured, str):
        configured = [configured]
    if not isinstance(configured, list) or not configured:
        return list(DEFAULT_SITES)
    return list(dict.fromkeys(str(s).strip() for s in configured if str(s).strip()))


def _plain(value: Any) -> str:
    """Titles and display names come HTML-encoded (the default filter is "safe")."""
    return normalize_whitespace(html.unescape(value)) if isinstance(value, str) else ""


def _profile_keys(link: str | None, user_id: int | None, host: str) -> set[str]:
    """How a brand can name its own account: the profile URL with or without scheme and
    slug (https://stackoverflow.com/users/12345/acme → stackoverflow.com/users/12345)."""
    keys: set[str] = set()
    if link:
        bare = link.lower().rstrip("/").split("://", 1)[-1]
        keys |= {link.lower().rstrip("/"), bare}
    if user_id is not None:
        keys.add(f"{host}/users/{user_id}")
    return keys


def to_mention(
    question: Mapping[str, Any], *, site: str, own_handles: frozenset[str] = frozenset()
) -> Mention:
    """One `question` object (default filter plus `body`) as a Mention. Pure. The external
    id is the site's host and the question id (ids are per site)."""
    question_id = question["question_id"]
    if isinstance(question_id, bool) or not isinstance(question_id, int):
        raise ValueError(f"question_id is not an integer: {question_id!r}")
    link = http_url(question.get("link"))
    host = (urlsplit(link).hostname if link else None) or site
    owner = question.get("owner")
    owner = owner if isinstance(owner, Mapping) else {}
    user_id = owner.get("user_id")
    user_id = user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    profile = http_url(owner.get("link"))
    return Mention(
        source=NAME,
        external_id=f"{host}:{question_id}",
        url=link,
        title=_plain(question.get("title")) or None,
        text=html_to_text(question.get("body") if isinstance(question.get("body"), str)
                          else None),
        published_at=epoch_time(question.get("creation_date")),
        # Display names are not unique on Stack Exchange, so no handle is claimed: a
        # brand's own account is recognised by its profile address only.
        author=Author(
            id=ident(user_id),
            handle=None,
            name=_plain(owner.get("display_name")) or None,
            url=profile,
            # Reputation is the site's measure of standing: the closest thing to a
            # following (SOURCES.md, reach).
            followers=count(owner.get("reputation")),
        ),
        engagement=Engagement(
            score=integer(question.get("score")),
            views=count(question.get("view_count")),
            replies=count(question.get("answer_count")),
        ),
        lang=_SITE_LANGS.get(host),
        is_own=bool(own_handles & _profile_keys(profile, user_id, host)),
        raw=question,
    )


def site_of(host: str, configured: list[str]) -> str:
    """The `site` parameter for questions of `host`: the configured site it is the domain of
    (stackoverflow → stackoverflow.com, ru.stackoverflow → ru.stackoverflow.com), else the
    host itself, which the API also takes ("the full domain name", docs/sites)."""
    for site in configured:
        rest = host[len(site) + 1:] if host.startswith(site + ".") else None
        if host == site or (rest and "." not in rest):
            return site
    return host


def _decompressed(body: bytes, max_bytes: int, source: str) -> bytes:
    """The API always compresses; when Content-Encoding was lost on the way (a proxy), the
    body is still gzip: "if it is missing, assume GZIP" (docs/compression). Capped."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise FatalError(f"{source}: the answer is not valid gzip: {exc}", source=source) from exc
    if len(out) > max_bytes:
        raise FatalError(f"{source}: decompressed answer exceeds the {max_bytes:,} byte cap",
                         source=source)
    return out


@dataclass(kw_only=True)
class _Poll(Poll):
    """`rate_limit` is the daily quota: quota_remaining and when its window ends."""

    client: httpx.Client
    base: str
    key: str | None
    max_pages: int
    overlap: timedelta
    quota_reset: datetime | None
    halt_until: datetime | None = None

    def check_budget(self) -> None:
        if self.halt_until and self.halt_until > datetime.now(UTC):
            raise BudgetSpent(self.halt_until)

    def _note_wrapper(self, data: Mapping[str, Any], now: datetime) -> None:
        quota_max, remaining = integer(data.get("quota_max")), integer(data.get("quota_remaining"))
        if remaining is not None:
            if quota_max is not None and remaining == quota_max - 1:
                self.quota_reset = now + QUOTA_WINDOW  # this request opened the window
            if remaining <= 0:
                if not (self.quota_reset and self.quota_reset > now):
                    self.quota_reset = now + QUOTA_WINDOW
                self.halt_until = max(self.halt_until or self.quota_reset, self.quota_reset)
            self.note(RateLimit(max(remaining, 0), self.quota_reset))
        backoff = integer(data.get("backoff"))
        if backoff and backoff > 0:
            # "An application must wait that number of seconds before calling that method
            # again" (docs/throttle): every call here is the same method.
            until = now + timedelta(seconds=backoff)
            self.halt_until = max(self.halt_until or until, until)
            log.info("%s: the API asked for a %ds backoff", self.source.name, backoff,
                     extra={"source": self.source.name, "retry_after_s": backoff})

    def _api_error(self, data: Mapping[str, Any], now: datetime,
                   http: str = "") -> ConnectorError:
        """The error wrapper (error_id, error_name, error_message) as a ConnectorError;
        `http` adds the HTTP error it came with."""
        name, message = data.get("error_name"), str(data.get("error_message") or "")
        text = (f"{self.source.name}: Stack Exchange error {data.get('error_id')} {name}: "
                f"{message}{_HINTS.get(str(name), '')}{http}")
        status = 400 if http else None
        if name == "throttle_violation":
            wait = _AVAILABLE_IN.search(message)
            seconds = float(wait.group(1)) if wait else QUOTA_WINDOW.total_seconds()
            return RateLimitedError(text, retry_after_s=seconds,
                                    retry_at=now + timedelta(seconds=seconds),
                                    source=self.source.name, status=status)
        if name in _TRANSIENT:
            return RetriableError(text, source=self.source.name, status=status)
        return FatalError(text, source=self.source.name, status=status)

    def _refused(self, exc: FatalError, now: datetime) -> ConnectorError:
        """Errors arrive as HTTP 400 with error_id, error_name and error_message in the body
        (docs/error-handling): throttle_violation is a rate limit, internal_error and
        temporarily_unavailable are worth retrying, the rest say what is wrong. A body that
        cannot be read leaves the HTTP error with a hint."""
        try:
            data = json.loads(exc.body or "")
        except ValueError:
            data = None
        if isinstance(data, Mapping) and data.get("error_name"):
            return self._api_error(data, now, f" ({str(exc).removeprefix(self.source.name)[2:]})")
        return FatalError(f"{exc}: Stack Exchange refused the request (a bad parameter such "
                          "as params.sites or the key, or the daily quota is spent)",
                          source=self.source.name, status=exc.status)

    def search_page(self, query: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.call("/search/advanced", query)

    def call(self, path: str, query: Mapping[str, Any],
             where: str | None = None) -> Mapping[str, Any]:
        """One GET: gzip handled, errors in the body or as HTTP 400 told apart, the quota
        and any backoff noted."""
        now = datetime.now(UTC)
        self.check_budget()
        params = {**query, **({"key": self.key} if self.key else {})}
        try:
            response = get(self.client, f"{self.base}{path}", source=self.source.name,
                           headers={"Accept": "application/json",
                                    "Accept-Encoding": "gzip, deflate"},
                           params=params, max_bytes=self.source.max_bytes)
        except FatalError as exc:
            if exc.status == 400:
                raise self._refused(exc, now) from exc
            raise
        response = replace(
            response, body=_decompressed(response.body, self.source.max_bytes, self.source.name))
        data = self.read_json(response, where or path)
        if data.get("error_id") is not None:
            raise self._api_error(data, now)
        self._note_wrapper(data, now)
        return data

    def _add(self, items: Any, site: str, where: str) -> list[datetime]:
        created: list[datetime] = []
        for _, item in self.objects(items, where, "question"):
            mention = self.convert(f"question {item.get('question_id')!r} of {where}",
                                   to_mention, item, site=site,
                                   own_handles=self.source.own_handles)
            if mention is not None:
                created.append(mention.published_at)
                self.keep(mention)
        return created

    def questions(self, site: str, ids: list[int]) -> None:
        """One `/questions/{ids}` call (ids semicolon-separated) with the search's filter;
        a deleted question is not in `items`."""
        data = self.call(f"/questions/{';'.join(map(str, ids))}", {
            "site": site, "pagesize": PAGE_SIZE,
            "filter": self.source.params.get("filter") or DEFAULT_FILTER}, "/questions")
        self._add(data.get("items"), site, f"{site} questions")

    def search(self, site: str, term: str) -> None:
        """Search one term on one site, newest first. The cursor moves only once the term
        is read to the end (or the page cap), so a failure mid-way re-reads, never skips."""
        key = f"{site}:{term}"
        cursor = count(self.cursors.get(key)) or None  # epoch seconds
        query: dict[str, Any] = {
            "q": term, "site": site, "sort": "creation", "order": "desc",
            "pagesize": PAGE_SIZE,
            "filter": self.source.params.get("filter") or DEFAULT_FILTER,
        }
        tagged = self.source.params.get("tagged")
        if isinstance(tagged, str) and tagged:
            query["tagged"] = tagged
        if cursor:
            query["fromdate"] = max(cursor - int(self.overlap.total_seconds()), 0)
        newest = cursor
        where = f"{site} search {term!r}"
        for page in range(1, self.max_pages + 1):
            query["page"] = page
            data = self.search_page(query)
            for when in self._add(data.get("items"), site, where):
                stamp = int(when.timestamp())
                newest = stamp if newest is None else max(newest, stamp)
            if not cursor or data.get("has_more") is not True:
                break  # the first poll reads the newest page only
        else:
            self.page_cap(where, self.max_pages, "older questions skipped")
        if newest is not None:
            self.cursors[key] = newest


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    terms = require_terms(source)
    refuse_spent(source, state, "Stack Exchange daily quota")
    reset = state.rate_limit_reset
    poll = _Poll(
        source=source, state=state, pause=QUOTA_WINDOW, client=client,
        base=source.base(DEFAULT_BASE), key=source.secrets.get(KEY) or None,
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        quota_reset=reset if reset and reset > datetime.now(UTC) else None,
    )
    poll.run(lambda site=site, term=term: poll.search(site, term)
             for site in sites(source.params) for term in terms)
    if poll.deferred_until is None and poll.halt_until and poll.budget_spent():
        poll.deferred_until = poll.halt_until  # spent on the last call: wait for the new day
    return poll.result()


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read questions by id (`GET /2.3/questions/{ids}`, up to 100 ids a call, per site,
    with the search's filter) for their current score, views, answers and the owner's
    reputation. A backoff or a spent quota stops the look-ups (typed errors, as in fetch)."""
    poll = _Poll(source=source, state=SourceState(source.name), pause=QUOTA_WINDOW,
                 client=client, base=source.base(DEFAULT_BASE),
                 key=source.secrets.get(KEY) or None, max_pages=1, overlap=DEFAULT_OVERLAP,
                 quota_reset=None)
    configured = sites(source.params)
    by_site: dict[str, list[int]] = {}
    for mention in mentions:
        host, _, question = mention.external_id.rpartition(":")
        if host and question.isdigit():
            by_site.setdefault(site_of(host, configured), []).append(int(question))
    poll.look_up(lambda site=site, chunk=chunk: poll.questions(site, chunk)
                 for site, ids in by_site.items()
                 for chunk in batches(list(dict.fromkeys(ids)), PAGE_SIZE))
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0})
    configured = source.params.get("sites")
    if configured is not None and not (isinstance(configured, list) and configured
                                       and all(isinstance(s, str) and s for s in configured)):
        problems.append("params.sites must be a list of site names (e.g. stackoverflow)")
    return problems + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="Stack Exchange question search (/2.3/search/advanced, newest first, with "
    "bodies) on one or more sites; honours the API's backoff and daily quota.",
    fetch=fetch,
    settings={
        "url": f"the API base including the version (default {DEFAULT_BASE})",
        "params.sites": f"sites to search, e.g. [\"stackoverflow\", \"serverfault\"] "
        f"(default {', '.join(DEFAULT_SITES)}); params.site for one",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.tagged": "only questions with one of these tags (semicolon-separated)",
        "params.filter": f"the API filter (default {DEFAULT_FILTER}: the default fields "
        "plus body)",
        "params.max_pages": f"pages of {PAGE_SIZE} per site, term and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the cursor each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    optional_secrets={KEY: "a Stack Apps key: raises the daily quota from 300 to 10,000 "
                      "requests (sent as the key parameter; not a secret to Stack Exchange)"},
    validate=validate,
    refresh=refresh,
)
