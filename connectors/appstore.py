"""Apple App Store customer reviews, from the public per-app review feed in JSON
(`/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json`, no key): 50
reviews a page, newest first, pages 1-10 (the 500 newest per storefront). Reviews are found
by app, not by keyword: each configured app and storefront keeps its own cursor, the newest
review time seen, and the next poll reads pages until it is past a little before it. The
listing's rating count comes from the iTunes Lookup API (`/lookup?id=…&country=…`), one
call per storefront and fetch."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from connectors.errors import ConnectorError, FatalError, RateLimitedError
from connectors.http import get, parse_json
from connectors.polling import Poll, int_param, int_param_problems, overlap_param
from connectors.text import html_to_text, normalize_whitespace

__all__ = ["CONNECTOR", "App", "apps", "fetch", "is_app_entry", "reviews_path", "to_mention",
           "validate"]

NAME = "appstore"
log = logging.getLogger("earful.connectors.appstore")

DEFAULT_BASE = "https://itunes.apple.com"
LOOKUP_PATH = "/lookup"
# The feed serves 50 reviews a page and stops at page 10.
PAGE_SIZE = 50
LAST_PAGE = 10
DEFAULT_COUNTRIES = ("us",)
# The feed is served from Apple's cache, refreshed irregularly (hours), and reviews keep
# the time they were written: each poll reads back a day before the newest review seen.
# Re-reading costs at most one extra page; review ids deduplicate.
DEFAULT_OVERLAP = timedelta(hours=24)
# Apple documents no rate limit for the feed; a 429 without Retry-After pauses the source
# this long.
RATE_LIMIT_PAUSE = timedelta(hours=1)
_APP_ID = re.compile(r"^\d{1,15}$")
_COUNTRY = re.compile(r"^[a-z]{2}$")
_REVIEWER_ID = re.compile(r"/id(\d+)")
_PAGE = re.compile(r"/page=(\d+)/")
_REVIEW_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


@dataclass(frozen=True, slots=True)
class App:
    id: str
    countries: tuple[str, ...]


def _app_id(value: Any) -> str:
    text = str(value).strip().removeprefix("id") if isinstance(value, str | int) \
        and not isinstance(value, bool) else ""
    if not _APP_ID.match(text):
        raise ValueError(f"app id {value!r} is not a numeric App Store id (e.g. 284882215)")
    return text


def _countries(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where} must be a list of two-letter storefront codes")
    codes = tuple(dict.fromkeys(str(c).strip().lower() for c in value))
    wrong = [c for c in codes if not _COUNTRY.match(c)]
    if wrong:
        raise ValueError(f"{where}: {', '.join(map(repr, wrong))} are not two-letter "
                         "storefront codes (us, gb, de, …)")
    return codes


def apps(source: SourceSpec) -> list[App]:
    """The apps and storefronts to read: `params.apps` (a list of ids, or of tables
    `{id, countries}`), or `params.app_id`; `params.countries` (default ["us"]) for apps
    that name none. Raises ValueError saying what is wrong."""
    params = source.params
    default = _countries(params["countries"], "params.countries") \
        if "countries" in params else DEFAULT_COUNTRIES
    configured = params.get("apps")
    if configured is None and params.get("app_id") is not None:
        configured = [params["app_id"]]
    if not isinstance(configured, list) or not configured:
        raise ValueError('no app to read: set params.apps = [{ id = "284882215", '
                         'countries = ["us", "gb"] }] (or params.app_id)')
    found: dict[str, App] = {}
    for index, item in enumerate(configured):
        if isinstance(item, Mapping):
            app_id = _app_id(item.get("id"))
            countries = _countries(item["countries"], f"params.apps[{index}].countries") \
                if "countries" in item else default
        else:
            app_id, countries = _app_id(item), default
        previous = found.get(app_id)
        merged = (*previous.countries, *countries) if previous else countries
        found[app_id] = App(app_id, tuple(dict.fromkeys(merged)))
    return list(found.values())


def reviews_path(app_id: str, country: str, page: int) -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"


def _label(entry: Mapping[str, Any], key: str) -> str | None:
    """The feed wraps every value as {"label": "…"}."""
    value = entry.get(key)
    label = value.get("label") if isinstance(value, Mapping) else None
    if isinstance(label, bool) or not isinstance(label, str | int | float):
        return None
    return str(label)


def is_app_entry(entry: Mapping[str, Any]) -> bool:
    """The first entry of a page can describe the app (im:name, im:price, an id carrying
    im:id and im:bundleId) rather than be a review: it has no im:rating."""
    if "im:rating" in entry:
        return False
    entry_id = entry.get("id")
    attributes = entry_id.get("attributes") if isinstance(entry_id, Mapping) else None
    return "im:name" in entry or (isinstance(attributes, Mapping) and "im:id" in attributes)


def _updated(entry: Mapping[str, Any]) -> datetime | None:
    value = _label(entry, "updated")
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _count(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def _http_url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def _body(entry: Mapping[str, Any]) -> str:
    """The review text: `content` is {"label", "attributes": {"type": "text"}}; should it
    come as a list (text and html variants, as in the XML feed), the text one wins."""
    content = entry.get("content")
    variants = content if isinstance(content, list) else [content]
    variants = [v for v in variants if isinstance(v, Mapping)]
    variants.sort(key=lambda v: (v.get("attributes") or {}).get("type") != "text")
    for variant in variants:
        label = variant.get("label")
        if isinstance(label, str):
            kind = (variant.get("attributes") or {}).get("type", "text")
            return html_to_text(label) if kind == "html" else normalize_whitespace(label)
    return ""


def _link(entry: Mapping[str, Any]) -> str | None:
    links = entry.get("link")
    for link in links if isinstance(links, list) else [links]:
        attributes = link.get("attributes") if isinstance(link, Mapping) else None
        if isinstance(attributes, Mapping) and _http_url(attributes.get("href")):
            return attributes["href"]
    return None


def to_mention(
    entry: Mapping[str, Any],
    *,
    listing_ratings: int | None = None,
    fetched_at: datetime | None = None,
) -> Mention:
    """One review entry as a Mention. Pure. Stars (`im:rating`, 1-5) become the rating,
    helpful votes (`im:voteSum`, of `im:voteCount` votes) the likes; the feed shows no
    developer response, so replies stay unknown. A review without `updated` (older feeds)
    is dated `fetched_at`."""
    review_id = _label(entry, "id")
    if not review_id or not review_id.strip():
        raise ValueError("review without an id")
    stars = _label(entry, "im:rating")
    if stars is None:
        raise ValueError(f"review {review_id} has no im:rating")
    rating = float(stars)
    if not 1 <= rating <= 5:
        raise ValueError(f"review {review_id}: im:rating {stars!r} is not 1-5")
    published = _updated(entry) or fetched_at
    if published is None:
        raise ValueError(f"review {review_id} has no updated time")
    author = entry.get("author") if isinstance(entry.get("author"), Mapping) else {}
    name = normalize_whitespace(_label(author, "name") or "") or None
    profile = _http_url(_label(author, "uri"))
    reviewer = _REVIEWER_ID.search(profile) if profile else None
    return Mention(
        source=NAME,
        external_id=review_id.strip(),
        url=_link(entry),
        title=normalize_whitespace(_label(entry, "title") or "") or None,
        text=_body(entry),
        published_at=published,
        author=Author(id=reviewer.group(1) if reviewer else None, name=name, url=profile),
        engagement=Engagement(likes=_count(_label(entry, "im:voteSum"))),
        rating=rating,
        listing_ratings=listing_ratings,
        raw=entry,
    )


def _last_page(feed: Mapping[str, Any]) -> int | None:
    """The feed's `link` rel="last" names its last page (…/page=8/…)."""
    links = feed.get("link")
    for link in links if isinstance(links, list) else [links]:
        attributes = link.get("attributes") if isinstance(link, Mapping) else None
        if isinstance(attributes, Mapping) and attributes.get("rel") == "last":
            found = _PAGE.search(str(attributes.get("href") or ""))
            return int(found.group(1)) if found else None
    return None


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    max_pages: int
    overlap: timedelta
    lookup: bool
    now: datetime
    app_ids: dict[str, list[str]]  # storefront → the apps read there
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.check_budget()
        try:
            response = get(self.client, self.base + path, source=self.source.name,
                           headers={"Accept": "application/json"}, params=params,
                           max_bytes=self.source.max_bytes)
        except RateLimitedError as exc:
            if exc.retry_at is None:  # no Retry-After: pause rather than retry next run
                raise RateLimitedError(str(exc), retry_at=self.now + RATE_LIMIT_PAUSE,
                                       source=exc.source, status=exc.status) from exc
            raise
        self.note(response.rate_limit)
        return parse_json(response, self.source.name)

    def listing_ratings(self, country: str) -> dict[str, int]:
        """app id → userRatingCount in one storefront: one Lookup call for all its apps,
        once per fetch. A failure only leaves the counts unknown."""
        if country not in self.ratings:
            self.ratings[country] = {}
            try:
                data = self._get(LOOKUP_PATH, {"id": ",".join(self.app_ids[country]),
                                               "country": country})
            except ConnectorError as exc:
                log.warning("%s: rating counts unavailable for %s: %s", self.source.name,
                            country, exc, extra={"source": self.source.name})
                return {}
            results = data.get("results") if isinstance(data, Mapping) else None
            for result in results if isinstance(results, list) else []:
                if not isinstance(result, Mapping):
                    continue
                count = result.get("userRatingCount")
                if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                    self.ratings[country][str(result.get("trackId"))] = count
        return self.ratings[country]

    def reviews(self, app_id: str, country: str) -> None:
        """Read one app in one storefront, newest first. The cursor moves once the app is
        read back to the cursor (or to the end), so a failure mid-way re-reads next time."""
        key = f"{app_id}:{country}"
        raw_cursor = self.cursors.get(key)
        try:
            cursor = datetime.fromisoformat(raw_cursor) if isinstance(raw_cursor, str) else None
        except ValueError:
            cursor = None
        since = cursor - self.overlap if cursor else None
        listing = self.listing_ratings(country).get(app_id) if self.lookup else None
        newest = cursor
        where = f"app {app_id} ({country})"
        pages = min(self.max_pages, LAST_PAGE) if cursor else 1  # first poll: newest page
        for page in range(1, pages + 1):
            try:
                data = self._get(reviews_path(app_id, country, page))
            except FatalError as exc:
                if exc.status == 404 and page == 1:
                    self.skip(f"{NAME}: {where}: no review feed (HTTP 404): is the app "
                              "sold in that storefront?")
                    return
                raise
            feed = data.get("feed") if isinstance(data, Mapping) else None
            if not isinstance(feed, Mapping):
                raise FatalError(f"{self.source.name}: {where} page {page} is not a review "
                                 "feed (no 'feed' object)", source=self.source.name)
            entries = feed.get("entry", [])
            entries = [entries] if isinstance(entries, Mapping) else entries  # one entry
            if not isinstance(entries, list):
                raise FatalError(f"{self.source.name}: {where} page {page}: 'entry' is not "
                                 "a list", source=self.source.name)
            reviews, oldest = 0, None
            for index, entry in enumerate(entries):
                if not isinstance(entry, Mapping):
                    self.skip(f"{NAME}: entry {index} of {where} page {page} is not an object")
                    continue
                if is_app_entry(entry):
                    continue
                reviews += 1
                try:
                    mention = to_mention(entry, listing_ratings=listing, fetched_at=self.now)
                    written = _updated(entry)
                except _REVIEW_ERRORS as exc:
                    self.skip(f"{NAME}: entry {index} of {where} page {page} skipped: {exc}")
                    continue
                self.keep(mention)
                if written:
                    newest = written if newest is None else max(newest, written)
                    oldest = written if oldest is None else min(oldest, written)
            last = _last_page(feed)
            if (reviews < PAGE_SIZE or (last is not None and page >= last)
                    or (since and oldest and oldest <= since)):
                break
        else:
            if cursor and pages < LAST_PAGE:
                log.warning("%s: %s: stopped after %d pages; older reviews skipped",
                            self.source.name, where, pages, extra={"source": self.source.name})
        if newest is not None:
            self.cursors[key] = newest.isoformat()


def fetch(
    client: httpx.Client, source: SourceSpec, state: SourceState, now: datetime | None = None
) -> FetchResult:
    now = now or datetime.now(UTC)
    try:
        configured = apps(source)
    except (ValueError, KeyError) as exc:
        raise FatalError(f"{source.name}: {exc}", source=source.name) from exc
    app_ids: dict[str, list[str]] = {}
    for app in configured:
        for country in app.countries:
            app_ids.setdefault(country, []).append(app.id)
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        max_pages=min(int_param(source, "max_pages", LAST_PAGE), LAST_PAGE),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        lookup=bool(source.params.get("listing_ratings", True)), now=now, app_ids=app_ids,
    )
    poll.run(lambda a=app.id, c=country: poll.reviews(a, c)
             for app in configured for country in app.countries)
    return poll.result()


def validate(source: SourceSpec) -> list[str]:
    problems = int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0})
    try:
        apps(source)
    except (ValueError, KeyError) as exc:
        problems.append(str(exc))
    return problems


CONNECTOR = Connector(
    name=NAME,
    summary="Apple App Store customer reviews per app and storefront (the public review "
    "feed, JSON, newest first, no key); star ratings, helpful votes, app version; the "
    "listing's rating count from the iTunes Lookup API.",
    fetch=fetch,
    settings={
        "url": f"the feed host (default {DEFAULT_BASE})",
        "params.apps": 'apps to read: ids, or tables { id = "284882215", countries = '
        '["us", "gb"] } (numeric App Store ids, two-letter storefronts)',
        "params.app_id": "one app id, instead of params.apps",
        "params.countries": 'storefronts for apps that name none (default ["us"])',
        "params.max_pages": f"pages of {PAGE_SIZE} reviews per app and storefront after the "
        f"first poll (default and most {LAST_PAGE}; the first poll reads the newest page)",
        "params.overlap_minutes": "how far before the newest review seen each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.listing_ratings": "look up each app's rating count per storefront (iTunes "
        "Lookup API, one call per storefront and poll) as the reviews' audience "
        "(default true)",
    },
    validate=validate,
)
