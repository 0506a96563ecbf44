"""Google News search feeds: one RSS search per brand term
(`news.google.com/rss/search?q=…&hl=…&gl=…&ceid=…`, no key, ~100 newest articles, no
paging). Each item names its outlet in `<source url="…">`: the outlet is the author, and
an audience configured for it is its reach. Parsing reuses the rss connector's helpers.
Each term keeps its own cursor, the newest publication time seen; the next poll keeps the
articles from a little before it (late-indexed articles carry their own, older time)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.base import (
    Author,
    Connector,
    FetchResult,
    Mention,
    SourceSpec,
    SourceState,
)
from connectors.errors import FatalError, RateLimitedError
from connectors.http import get
from connectors.polling import Poll, int_param_problems, overlap_param
from connectors.rss import read_feed
from connectors.rss import to_mention as feed_entry_mention
from connectors.text import html_to_text, normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "outlet_audience", "search_query", "to_mention", "validate"]

NAME = "googlenews"
log = logging.getLogger("earful.connectors.googlenews")

DEFAULT_BASE = "https://news.google.com"
SEARCH_PATH = "/rss/search"
DEFAULT_HL = "en-US"
DEFAULT_GL = "US"
# Google News lists articles under the publisher's own time, and indexes some of them
# hours later: each poll keeps what was published up to a day before the newest article
# seen (ids deduplicate the rest).
DEFAULT_OVERLAP = timedelta(hours=24)
# Google documents no limit for these feeds; when it answers 429 ("unusual traffic")
# without Retry-After, the source pauses this long.
RATE_LIMIT_PAUSE = timedelta(hours=1)
_ENTRY_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


def search_query(term: str, when: str | None = None) -> str:
    """A brand term as a Google News query: phrases quoted so their words stay together,
    plus an optional `when:` window (e.g. "7d")."""
    term = term.strip()
    query = f'"{term}"' if any(c.isspace() for c in term) and '"' not in term else term
    return f"{query} when:{when}" if when else query


def _host(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host.lower().removeprefix("www.") if host else None


def outlet_audience(audiences: Mapping[str, Any], outlet_url: str | None,
                    outlet_name: str | None) -> int | None:
    """The audience configured for an outlet, by host ("reuters.com", www. ignored) or by
    name ("Reuters", any case)."""
    keys = {k.strip().lower().removeprefix("www."): v for k, v in audiences.items()}
    for key in (_host(outlet_url), (outlet_name or "").strip().lower()):
        value = keys.get(key) if key else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _headline(title: str | None, outlet: str | None) -> str | None:
    """Google News titles end with " - Outlet": the headline is what comes before."""
    if title and outlet and title.endswith(f" - {outlet}"):
        return title[: -len(outlet) - 3].strip() or title
    return title


def to_mention(
    entry: Mapping[str, Any],
    *,
    feed_url: str,
    feed_lang: str | None = None,
    fetched_at: datetime | None = None,
    audiences: Mapping[str, Any] | None = None,
    own_handles: frozenset[str] = frozenset(),
) -> Mention:
    """One feedparser entry of a Google News search feed as a Mention. Pure. The guid is
    Google's article id, the same whichever term found it; the outlet (`<source url>`)
    becomes the author, with its configured audience as followers; the description (a link
    to the headline, then the outlet's name) becomes plain text without the outlet."""
    guid = str(entry.get("id") or "").strip()
    if not guid:
        raise ValueError("item without a guid")
    base = feed_entry_mention(entry, feed_url=feed_url, feed_lang=feed_lang,
                              fetched_at=fetched_at, source=NAME)
    source = entry.get("source") if isinstance(entry.get("source"), Mapping) else {}
    outlet = normalize_whitespace(html_to_text(source.get("title"))) or None
    outlet_url = source.get("href") if isinstance(source.get("href"), str) else None
    outlet_url = outlet_url if outlet_url and outlet_url.startswith(("http://", "https://")) \
        else None
    title = _headline(base.title, outlet)
    text = base.text
    if outlet and text.endswith(outlet):
        text = text[: -len(outlet)].strip()
    host = _host(outlet_url)
    return replace(
        base,
        external_id=guid,
        title=title,
        text=text or title or "",
        author=Author(id=host, name=outlet, url=outlet_url,
                      followers=outlet_audience(audiences or {}, outlet_url, outlet)),
        # An article from the brand's own site (its host among the brand's handles).
        is_own=bool(host and host in own_handles),
    )


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    locale: dict[str, str]
    when: str | None
    overlap: timedelta
    audiences: Mapping[str, Any]
    now: datetime

    def search(self, term: str) -> None:
        key = f"q:{term}"
        raw_cursor = self.cursors.get(key)
        try:
            cursor = datetime.fromisoformat(raw_cursor) if isinstance(raw_cursor, str) else None
        except ValueError:
            cursor = None
        since = cursor - self.overlap if cursor else None
        self.check_budget()
        try:
            response = get(self.client, self.base + SEARCH_PATH, source=self.source.name,
                           headers={"Accept": "application/rss+xml, application/xml;q=0.9"},
                           params={"q": search_query(term, self.when), **self.locale},
                           max_bytes=self.source.max_bytes)
        except RateLimitedError as exc:
            if exc.retry_at is None:
                raise RateLimitedError(str(exc), retry_at=self.now + RATE_LIMIT_PAUSE,
                                       source=exc.source, status=exc.status) from exc
            raise
        self.note(response.rate_limit)
        parsed = read_feed(response.body, feed_url=response.url,
                           headers=dict(response.headers), source=self.source.name)
        feed_lang = parsed.feed.get("language")
        newest = cursor
        for index, entry in enumerate(parsed.entries):
            try:
                mention = to_mention(entry, feed_url=response.url, feed_lang=feed_lang,
                                     fetched_at=self.now, audiences=self.audiences,
                                     own_handles=self.source.own_handles)
            except _ENTRY_ERRORS as exc:
                self.skip(f"{NAME}: item {index} of search {term!r} skipped: {exc}")
                continue
            # A publisher's clock set in the future must not push the cursor past now.
            published = min(mention.published_at, self.now)
            newest = published if newest is None else max(newest, published)
            if since is None or mention.published_at >= since:
                self.keep(mention)
        if newest is not None:
            self.cursors[key] = newest.isoformat()


def _locale(params: Mapping[str, Any]) -> dict[str, str]:
    """hl (interface language), gl (country) and ceid (edition, "US:en"): Google News wants
    the three to agree; ceid defaults to gl:language-of-hl."""
    hl = str(params.get("hl") or DEFAULT_HL)
    gl = str(params.get("gl") or DEFAULT_GL)
    ceid = str(params.get("ceid") or f"{gl}:{hl.split('-')[0]}")
    return {"hl": hl, "gl": gl, "ceid": ceid}


def fetch(
    client: httpx.Client, source: SourceSpec, state: SourceState, now: datetime | None = None
) -> FetchResult:
    now = now or datetime.now(UTC)
    problems = validate(source)
    if problems:
        raise FatalError(f"{source.name}: {'; '.join(problems)}", source=source.name)
    when = source.params.get("when")
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        locale=_locale(source.params), when=str(when) if when else None,
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        audiences=source.params.get("outlet_audience") or {}, now=now,
    )
    poll.run(lambda t=term: poll.search(t) for term in dict.fromkeys(source.queries))
    return poll.result()


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params, {"overlap_minutes": 0})
    audiences = source.params.get("outlet_audience")
    if audiences is not None and not (
        isinstance(audiences, Mapping) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for v in audiences.values())):
        problems.append("params.outlet_audience must map outlet hosts or names to "
                        "audiences (whole numbers ≥ 0)")
    if not source.queries:
        problems.append("nothing to search for: no brand terms and no params.query")
    return problems


CONNECTOR = Connector(
    name=NAME,
    summary="Google News search feeds (RSS, no key): one search per brand term, the outlet "
    "from each item's <source>, an audience per outlet when configured.",
    fetch=fetch,
    settings={
        "url": f"the Google News host (default {DEFAULT_BASE})",
        "params.query": "search terms (default: the brands' terms and aliases; phrases are "
        "quoted)",
        "params.hl": f"interface language (default {DEFAULT_HL!r})",
        "params.gl": f"country edition (default {DEFAULT_GL!r})",
        "params.ceid": "edition id (default gl:language, e.g. 'US:en')",
        "params.when": "only articles from this window, Google's when: operator (e.g. '1d', "
        "'7d'; default none)",
        "params.outlet_audience": "audience per outlet, by host or name (e.g. "
        "{ \"reuters.com\" = 2000000 }): the outlet's reach, kept as its followers",
        "params.overlap_minutes": "how far before the newest article seen each poll keeps "
        f"articles (default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
    },
    validate=validate,
)
