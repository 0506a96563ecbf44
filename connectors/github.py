"""GitHub (REST search): issues and pull requests whose title or body names a brand term,
newest first, one cursor per term (the newest `created_at`, or `updated_at`, seen, re-read
from a little earlier), and the authors' follower counts from `/users/{login}`. Works without
a token at GitHub's lower unauthenticated limits, and against GitHub Enterprise Server."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
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
from connectors.errors import ConnectorError, FatalError, RateLimitedError
from connectors.fields import (
    count,
    http_url,
    ident,
    iso_utc,
    parse_link_header,
    parse_time,
    time_or_none,
)
from connectors.http import HttpResponse, RateLimit, get
from connectors.polling import (
    BudgetSpent,
    Poll,
    choice_param,
    int_param,
    int_param_problems,
    overlap_param,
    raw_of,
    refuse_spent,
    require_terms,
    spent,
    terms_problems,
)
from connectors.text import normalize_whitespace

__all__ = ["CONNECTOR", "build_query", "fetch", "refresh", "to_mention", "validate"]

NAME = "github"
log = logging.getLogger("earful.connectors.github")

# GitHub Enterprise Server: https://HOST/api/v3.
DEFAULT_BASE = "https://api.github.com"
TOKEN = "GITHUB_TOKEN"
API_VERSION = "2022-11-28"
# docs.github.com rest/search: up to 100 results a page and 1,000 results per search.
PAGE_SIZE = 100
RESULT_CAP = 1000
DEFAULT_MAX_PAGES = 3
# The search index trails new issues by a little; results dedupe by id.
DEFAULT_OVERLAP = timedelta(minutes=15)
# "Otherwise, wait for at least one minute before retrying" (rate limits for the REST API,
# secondary rate limits without retry-after).
SECONDARY_WAIT = timedelta(minutes=1)
# Profile calls count against the core limit (60 an hour without a token).
DEFAULT_MAX_PROFILES = 30
DATE_FIELDS = ("created", "updated")
_KINDS = {"both": None, "issue": "is:issue", "pr": "is:pull-request"}
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# The HTML GitHub Markdown allows and issue templates use; other <...> is left alone (it is
# more often code, like Vec<String>, than markup).
_TAGS = re.compile(r"</?(?:a|b|blockquote|br|code|details|div|em|h[1-6]|hr|i|img|kbd|li|ol|p|"
                   r"picture|pre|source|span|strong|sub|summary|sup|table|tbody|td|th|thead|"
                   r"tr|ul|video)\b[^>]*>", re.I)


def _markdown_text(body: Any) -> str:
    """Issue bodies are Markdown, mostly text already: template comments and HTML tags go."""
    if not isinstance(body, str):
        return ""
    return normalize_whitespace(_TAGS.sub(" ", _COMMENT.sub("", body)))


def build_query(term: str, *, date_field: str = "created", since: datetime | None = None,
                kind: str = "both", qualifiers: str = "") -> str:
    """The search `q`: the term as a phrase in titles and bodies, plus qualifiers
    (`"Acme Cloud" in:title,body created:>=2026-11-21T08:45:00Z`)."""
    parts = ['"' + " ".join(term.replace('"', " ").split()) + '"', "in:title,body"]
    if _KINDS.get(kind):
        parts.append(str(_KINDS[kind]))
    if qualifiers.strip():
        parts.append(qualifiers.strip())
    if since is not None:
        parts.append(f"{date_field}:>={iso_utc(since)}")
    return " ".join(parts)


def to_mention(
    item: Mapping[str, Any],
    *,
    own_handles: frozenset[str] = frozenset(),
    followers: int | None = None,
    name: str | None = None,
) -> Mention:
    """One issue search result (an issue, or a pull request when `pull_request` is set) as a
    Mention. Pure. The external id is the web host and the issue's id (ids are per
    instance)."""
    item_id = item["id"]
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise ValueError(f"id is not an integer: {item_id!r}")
    url = http_url(item.get("html_url"))
    host = (urlsplit(url).hostname if url else None) or "github"
    user = item.get("user")
    user = user if isinstance(user, Mapping) else {}  # null for some deleted accounts
    login = user.get("login") if isinstance(user.get("login"), str) else None
    profile = http_url(user.get("html_url"))
    reactions = item.get("reactions")
    title = item.get("title")
    # `body_text` comes with the text media type; the default one sends Markdown `body`.
    body_text = item.get("body_text")
    return Mention(
        source=NAME,
        external_id=f"{host}:{item_id}",
        url=url,
        title=normalize_whitespace(title) if isinstance(title, str) and title.strip() else None,
        text=normalize_whitespace(body_text) if isinstance(body_text, str)
        else _markdown_text(item.get("body")),
        published_at=parse_time(item.get("created_at")),
        author=Author(
            id=ident(user.get("id")),
            handle=f"@{login}" if login else None,
            name=name or login,
            url=profile,
            followers=followers,
        ),
        engagement=Engagement(
            likes=count(reactions.get("total_count")) if isinstance(reactions, Mapping)
            else None,
            replies=count(item.get("comments")),
        ),
        is_own=bool(own_handles & {str(login or "").lower(),
                                   str(profile or "").lower().rstrip("/")}),
        raw=item,
    )


def _next_page(link_header: str | None) -> int | None:
    page = parse_link_header(link_header).get("next", {}).get("page", "")
    return int(page) if page.isdigit() else None


def _message(body: str | None) -> str | None:
    """The `message` of a GitHub error body."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return None
    message = data.get("message") if isinstance(data, Mapping) else None
    return message if isinstance(message, str) and message else None


@dataclass(kw_only=True)
class _Poll(Poll):
    """`rate_limit` is the search budget (30 or 10 a minute); profiles use the core one."""

    client: httpx.Client
    base: str
    headers: dict[str, str]
    max_pages: int
    overlap: timedelta
    date_field: str
    kind: str
    qualifiers: str
    core_limit: RateLimit | None = None

    def _refused(self, exc: FatalError, path: str, now: datetime) -> ConnectorError:
        """A 403 whose body says a rate limit was exceeded but whose headers do not
        (x-ratelimit-remaining 0 is a rate limit in http.py already; a secondary limit, "You
        have exceeded a secondary rate limit", may leave requests) waits a minute. Any other
        403 is a refusal: a FatalError with GitHub's message. (A limit the last answer said
        was spent is not called at all: `check_budget`.)"""
        message = _message(exc.body)
        if message and "rate limit" in message.lower():
            retry_at = now + SECONDARY_WAIT
            return RateLimitedError(
                f"{self.source.name}: HTTP 403 from {self.base}{path}: {message} (not retried "
                f"before {retry_at.isoformat()})", retry_at=retry_at, source=self.source.name,
                status=403, body=exc.body)
        return FatalError(f"{exc}" + (f" ({message})" if message else ""),
                          source=self.source.name, status=403, body=exc.body)

    def _get(self, path: str, params: Mapping[str, Any] | None) -> HttpResponse:
        now = datetime.now(UTC)
        try:
            response = get(self.client, self.base + path, source=self.source.name,
                           headers=self.headers, params=params, max_bytes=self.source.max_bytes)
        except RateLimitedError as exc:
            # No Retry-After: until x-ratelimit-reset, but never sooner than a minute.
            if exc.retry_after_s is None:
                exc.retry_at = max(exc.retry_at or now, now + SECONDARY_WAIT)
            if message := _message(exc.body):
                exc.args = (f"{exc} ({message})",)
            raise
        except FatalError as exc:
            if exc.status == 403:
                raise self._refused(exc, path, now) from exc
            if exc.status == 422 and path.startswith("/search"):
                exc.args = (f"{exc}: GitHub rejected the query (check params.qualifiers; a "
                            "GitHub App user token needs params.type issue or pr)",)
            raise
        limit = response.rate_limit
        if limit.remaining is not None or limit.reset_at:
            resource = response.headers.get("x-ratelimit-resource") or (
                "search" if path.startswith("/search") else "core")
            if resource == "search":
                self.rate_limit = limit
            else:
                self.core_limit = limit
        return response

    def _add(self, items: Any, where: str) -> list[datetime]:
        stamps: list[datetime] = []
        for _, item in self.objects(items, where, "issue"):
            label = f"item {item.get('id')!r} of {where}"
            mention = self.convert(label, to_mention, item, own_handles=self.source.own_handles)
            stamp = mention and self.convert(label, parse_time, item.get(f"{self.date_field}_at"))
            if mention and stamp:
                stamps.append(stamp)
                self.keep(mention)
        return stamps

    def search(self, term: str) -> None:
        """Search one term, newest first. The cursor moves only once the term is read to
        the end (or the page cap) with complete results, so a failure re-reads."""
        key = f"{self.date_field}:{term}"
        cursor = time_or_none(self.cursors.get(key))
        query: dict[str, Any] = {
            "q": build_query(term, date_field=self.date_field, kind=self.kind,
                             qualifiers=self.qualifiers,
                             since=cursor - self.overlap if cursor else None),
            "sort": self.date_field, "order": "desc", "per_page": PAGE_SIZE, "page": 1,
        }
        newest, complete = cursor, True
        where = f"search {term!r}"
        for _ in range(self.max_pages):
            self.check_budget()
            response = self._get("/search/issues", query)
            data = self.read_json(response, where)
            for stamp in self._add(data.get("items"), where):
                newest = stamp if newest is None else max(newest, stamp)
            if data.get("incomplete_results") is True:
                # The search timed out: some matches may be missing (docs: timeouts and
                # incomplete results); the next poll reads this window again.
                complete = False
                log.warning("%s: %s: GitHub returned incomplete results", self.source.name,
                            where, extra={"source": self.source.name})
            next_page = _next_page(response.headers.get("link"))
            if not cursor or next_page is None or next_page <= query["page"]:
                break  # the first poll reads the newest page only
            query["page"] = next_page
        else:
            log.warning("%s: %s: stopped after %d pages (GitHub returns %d results at most); "
                        "older results skipped", self.source.name, where, self.max_pages,
                        RESULT_CAP, extra={"source": self.source.name})
        if newest is not None and (complete or cursor is None):
            self.cursors[key] = iso_utc(newest)

    def issue(self, path: str, stored: Mention) -> None:
        """One `GET /repos/{owner}/{repo}/issues/{number}` (pull requests are issues there
        too), on the core rate limit. A deleted, hidden or no longer visible issue (410,
        404) is left out; a transferred one is followed (301)."""
        if spent(self.core_limit):
            assert self.core_limit is not None
            raise BudgetSpent(self.core_limit.reset_at)
        try:
            item = self.read_json(self._get(path, None), path)
        except FatalError as exc:
            if exc.status in (404, 410):
                return
            raise
        mention = self.convert(f"issue {path}", to_mention, item,
                               own_handles=self.source.own_handles, name=stored.author.name)
        if mention is not None:
            self.keep(mention)

    def profiles(self, logins: list[str], limit: int) -> dict[str, Mapping[str, Any]]:
        """`/users/{login}` for up to `limit` authors, once each; stops quietly when the
        core budget is spent or GitHub refuses (follower counts are a nicety)."""
        found: dict[str, Mapping[str, Any]] = {}
        for login in logins[:limit]:
            if spent(self.core_limit):
                log.info("%s: core rate limit spent; %d profiles not looked up",
                         self.source.name, len(logins) - len(found),
                         extra={"source": self.source.name})
                break
            try:
                data = self.read_json(self._get(f"/users/{quote(login, safe='')}", None))
            except FatalError as exc:
                if exc.status in (404, 410):
                    continue  # renamed or deleted since it wrote
                self.skip(f"{NAME}: follower counts unavailable: {exc}")
                break
            except ConnectorError as exc:
                self.skip(f"{NAME}: follower counts unavailable: {exc}")
                break
            if isinstance(data, Mapping):
                found[login.lower()] = data
        return found


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    params = source.params
    terms = require_terms(source)
    refuse_spent(source, state, "GitHub search rate limit")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    token = source.secrets.get(TOKEN)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    qualifiers = params.get("qualifiers", "")
    if not isinstance(qualifiers, str):
        raise FatalError(f"{source.name}: params.qualifiers must be a string",
                         source=source.name)
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        headers=headers,
        max_pages=min(int_param(source, "max_pages", DEFAULT_MAX_PAGES), RESULT_CAP // PAGE_SIZE),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        date_field=choice_param(source, "date_field", DATE_FIELDS, "created"),
        kind=choice_param(source, "type", tuple(_KINDS), "both"), qualifiers=qualifiers,
    )
    max_profiles = int_param(source, "max_profiles", DEFAULT_MAX_PROFILES, minimum=0)
    poll.run(lambda term=term: poll.search(term) for term in terms)
    if poll.mentions and poll.deferred_until is None and max_profiles:
        mentions = list(poll.mentions.values())
        logins = list(dict.fromkeys(
            m.author.handle.lstrip("@") for m in mentions
            if m.author.handle and not _is_bot(m.raw)))
        found = poll.profiles(logins, max_profiles)
        poll.mentions = {m.external_id: _with_profile(
            m, found.get((m.author.handle or "").lstrip("@").lower())) for m in mentions}
    return poll.result()


def _issue_path(mention: Mention) -> str | None:
    """`/repos/{owner}/{repo}/issues/{number}` from the stored issue's `repository_url`
    (…/repos/{owner}/{repo}, on github.com or an Enterprise host) and `number`."""
    raw = raw_of(mention)
    repository, number = raw.get("repository_url"), raw.get("number")
    if not isinstance(repository, str) or isinstance(number, bool) or not isinstance(number, int):
        return None
    _, found, repo = urlsplit(repository).path.partition("/repos/")
    parts = repo.strip("/").split("/")
    if not found or len(parts) != 2 or not all(parts):
        return None
    return f"/repos/{quote(parts[0], safe='')}/{quote(parts[1], safe='')}/issues/{number}"


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read issues and pull requests one by one (`GET /repos/{owner}/{repo}/issues/
    {number}`, the core rate limit: 5,000 an hour with a token, 60 without) for their
    current reactions and comment count. Followers are not looked up again (one call per
    author): the stored counts and names stay."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    token = source.secrets.get(TOKEN)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    poll = _Poll(source=source, state=SourceState(source.name), client=client,
                 base=source.base(DEFAULT_BASE), headers=headers, max_pages=1,
                 overlap=DEFAULT_OVERLAP, date_field="created", kind="both", qualifiers="")
    jobs = {path: m for m in mentions if (path := _issue_path(m))}
    poll.look_up(lambda path=path, m=m: poll.issue(path, m) for path, m in jobs.items())
    return poll.reread(mentions)


def _is_bot(raw: Any) -> bool:
    """No profile worth a call: a bot, or `ghost`, who stands in for deleted accounts (their
    issues "become associated with the ghost user", docs: deleting your personal account):
    its followers are not the deleted author's."""
    user = raw.get("user") if isinstance(raw, Mapping) else None
    return isinstance(user, Mapping) and (user.get("type") == "Bot"
                                          or user.get("login") == "ghost")


def _with_profile(mention: Mention, profile: Mapping[str, Any] | None) -> Mention:
    if not profile:
        return mention
    name = profile.get("name")
    return replace(mention, author=replace(
        mention.author, followers=count(profile.get("followers")),
        name=normalize_whitespace(name) if isinstance(name, str) and name.strip()
        else mention.author.name))


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params,
                                  {"max_pages": 1, "overlap_minutes": 0, "max_profiles": 0})
    if source.params.get("date_field", "created") not in DATE_FIELDS:
        problems.append("params.date_field must be created or updated")
    if source.params.get("type", "both") not in _KINDS:
        problems.append("params.type must be issue, pr or both")
    if not isinstance(source.params.get("qualifiers", ""), str):
        problems.append("params.qualifiers must be a string")
    return problems + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="GitHub issue and pull request search (/search/issues, newest first) for the "
    "brand terms in titles and bodies; authors' followers from /users/{login}.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE}; GitHub Enterprise: "
        "https://HOST/api/v3)",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.type": "issue, pr or both (default both; a GitHub App user token needs one)",
        "params.qualifiers": "extra search qualifiers, e.g. \"-org:acme is:public\"",
        "params.date_field": "created (default: new issues) or updated (also re-reads "
        "issues that changed)",
        "params.max_pages": f"pages of {PAGE_SIZE} per term and poll (default "
        f"{DEFAULT_MAX_PAGES}, at most {RESULT_CAP // PAGE_SIZE}: GitHub stops at "
        f"{RESULT_CAP:,} results)",
        "params.overlap_minutes": "how far before the cursor each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.max_profiles": "authors whose follower counts are looked up per poll "
        f"(default {DEFAULT_MAX_PROFILES}; 0 turns it off)",
    },
    optional_secrets={TOKEN: "a GitHub token (no scopes needed for public issues): search "
                      "30 requests a minute instead of 10, profiles 5,000 an hour instead of "
                      "60"},
    validate=validate,
    refresh=refresh,
)
