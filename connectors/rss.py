"""RSS 2.0 / RSS 1.0 / Atom feeds, Google Alerts included: conditional GET, then feedparser
on the bytes with the response headers, then one Mention per entry. Entries that carry Media
RSS statistics (YouTube channel feeds: media:group/media:community) get their views, and
likes when the star rating shows only top ratings, as engagement."""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
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
from connectors.fields import written_time
from connectors.http import get
from connectors.text import html_to_text, normalize_whitespace

__all__ = [
    "CONNECTOR",
    "fetch",
    "media_engagement",
    "parse_feed",
    "read_feed",
    "to_mention",
    "unwrap_google_link",
]

NAME = "rss"
log = logging.getLogger("earful.connectors.rss")

# feedparser's author e-mail regex backtracks badly on a long crafted <author> (a known
# ReDoS): author-like elements are cut to this many bytes before parsing.
_MAX_AUTHOR_BYTES = 512
_AUTHORISH = re.compile(
    rb"(<(?:author|managingEditor|webMaster|dc:creator|name|email)(?:\s[^>]{0,512})?>)"
    rb"([^<]{" + str(_MAX_AUTHOR_BYTES).encode() + rb",})",
    re.IGNORECASE,
)
# RSS 2.0's <author> is "e-mail (Name)"; only the name is kept.
_EMAIL_WITH_NAME = re.compile(r"^\s*\S+@\S+\s+\((?P<name>[^()]{1,200})\)\s*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_GOOGLE_REDIRECT_HOSTS = ("google.com", "www.google.com")
# What feedparser flags (bozo) for a feed it parsed fine: a server that labels the feed
# text/html or text/plain, or declares the wrong charset (feedparser then decodes it
# itself). Only other bozo exceptions mean the document is not well-formed.
_MISLABELLED = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _defuse_authors(body: bytes) -> bytes:
    return _AUTHORISH.sub(lambda m: m.group(1) + m.group(2)[:_MAX_AUTHOR_BYTES], body)


def unwrap_google_link(link: str) -> str:
    """Google Alerts wraps each link as google.com/url?...&url=<real link>."""
    parts = urlsplit(link)
    if parts.hostname in _GOOGLE_REDIRECT_HOSTS and parts.path == "/url":
        target = parse_qs(parts.query).get("url") or parse_qs(parts.query).get("q")
        if target and target[0].startswith(("http://", "https://")):
            return target[0]
    return link


def _struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    # feedparser normalises every date to a UTC struct_time.
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


def _entry_date(entry: Mapping[str, Any]) -> datetime | None:
    """When the entry was published, else last updated: feedparser's reading, else the
    written date read again (feedparser reads no date whose weekday is localised,
    "Di, 10 Nov 2026 09:39:21 +0100")."""
    for key in ("published", "updated"):
        when = _struct_to_datetime(entry.get(f"{key}_parsed")) or written_time(entry.get(key))
        if when is not None:
            return when
    return None


def _malformed(parsed: feedparser.FeedParserDict) -> bool:
    """Whether feedparser found the document not well-formed (not merely mislabelled)."""
    return bool(parsed.bozo) and not isinstance(parsed.get("bozo_exception"), _MISLABELLED)


def _jsonable(value: Any) -> Any:
    if isinstance(value, time.struct_time):
        return _struct_to_datetime(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _detail_text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key) or ""
    detail = entry.get(f"{key}_detail") or {}
    if detail.get("type", "text/html") in ("text/plain",):
        return normalize_whitespace(value)
    return html_to_text(value)


def _body_text(entry: Mapping[str, Any]) -> str:
    candidates = [html_to_text(c.get("value")) for c in entry.get("content") or []]
    candidates.append(_detail_text(entry, "summary"))
    return max(candidates, key=len, default="")


def _external_id(entry: Mapping[str, Any], link: str | None, title: str, text: str,
                 feed_url: str) -> str:
    entry_id = (entry.get("id") or "").strip()
    if entry_id:
        # A bare guid ("1234") is only unique within its feed; a URI is unique everywhere.
        return entry_id if _SCHEME.match(entry_id) else f"{feed_url}#{entry_id}"
    if link:
        return link
    date = entry.get("published") or entry.get("updated") or ""
    # RSS 2.0 lets an item be "complete in itself": a description with no title, link or
    # guid (and pubDate is optional too). Such items differ only by their text, so it
    # joins the hash; a titled item keeps hashing title and date (an edited body stays
    # the same mention).
    key = f"{title}\x1f{date}" if title else f"\x1f{date}\x1f{text}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{feed_url}#sha256:{digest}"


def _count(value: Any) -> int | None:
    """A non-negative whole number from a feed attribute ("1234", "1,234"), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _number(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def media_engagement(entry: Mapping[str, Any]) -> Engagement:
    """Engagement from Media RSS community elements (rssboard.org/media-rss#optional-elements:
    `<media:statistics views=.. favorites=..>`, `<media:starRating average count min max>`),
    which YouTube channel feeds put in each entry's media:group/media:community. Views come
    from `views`. The star rating counts ratings, not likes; but when its average equals
    its maximum every rating was the top one, so the count is a count of likes. YouTube
    feeds now give thumbs-ups only as `average="5.00" max="5"` with `count` the likes; any
    other average leaves likes unknown rather than guessed."""
    stats = entry.get("media_statistics")
    stats = stats if isinstance(stats, Mapping) else {}
    rating = entry.get("media_starrating")
    rating = rating if isinstance(rating, Mapping) else {}
    average, top = _number(rating.get("average")), _number(rating.get("max"))
    likes = _count(rating.get("count")) if (
        average is not None and top is not None and average >= top) else None
    return Engagement(likes=likes, views=_count(stats.get("views")))


def _is_own(author: Author, own_handles: frozenset[str]) -> bool:
    if not own_handles:
        return False
    candidates = {v.lower().lstrip("@").rstrip("/") for v in (author.id, author.url) if v}
    return bool(candidates & own_handles)


def to_mention(
    entry: Mapping[str, Any],
    *,
    feed_url: str,
    feed_lang: str | None = None,
    fetched_at: datetime | None = None,
    source: str = NAME,
    own_handles: frozenset[str] = frozenset(),
) -> Mention:
    """One feed entry as a Mention. Pure: no network, no clock unless the entry has no date.
    `source` lets connectors built on feeds (googlenews) reuse this mapping under their
    own name. A YouTube channel feed's entry also gets the channel id as author id and its
    media statistics as engagement (see `media_engagement`)."""
    title = _detail_text(entry, "title")
    raw_link = entry.get("link") or next(
        (link.get("href") for link in entry.get("links") or [] if link.get("href")), None
    )
    link = unwrap_google_link(urljoin(feed_url, raw_link)) if raw_link else None
    published = _entry_date(entry)
    author_detail = entry.get("author_detail") or {}
    author_raw = entry.get("author") or ""
    email_form = _EMAIL_WITH_NAME.match(author_raw)
    author_name = email_form.group("name") if email_form else (
        author_detail.get("name") or (author_raw if "@" not in author_raw else None)
    )
    author_url = author_detail.get("href")
    text = _body_text(entry)
    if not (title or text or raw_link):
        raise ValueError("entry has no title, text or link")
    content = entry.get("content") or []
    lang = (content[0].get("language") if content else None) or feed_lang
    # YouTube feeds name the channel in <yt:channelId> (feedparser: yt_channelid).
    channel_id = entry.get("yt_channelid")
    author = Author(
        id=(channel_id.strip() or None) if isinstance(channel_id, str) else None,
        name=(html_to_text(author_name) or None) if author_name else None,
        url=urljoin(feed_url, author_url) if author_url else None,
    )
    return Mention(
        source=source,
        external_id=_external_id(entry, link, title, text, feed_url),
        url=link,
        title=title or None,
        text=text,
        published_at=published or fetched_at or datetime.now(UTC),
        author=author,
        engagement=media_engagement(entry),
        lang=(lang or None) and lang.split("-")[0].lower(),
        is_own=_is_own(author, own_handles),
        raw=_jsonable(entry),
    )


def read_feed(
    body: bytes, *, feed_url: str, headers: Mapping[str, str] | None = None,
    source: str = NAME,
) -> feedparser.FeedParserDict:
    """feedparser's reading of a feed body (bytes, with the response headers; author
    elements defused first). Raises FatalError when the body is not a feed at all."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-location", feed_url)
    response_headers.setdefault("content-type", "application/xml")
    parsed = feedparser.parse(_defuse_authors(body), response_headers=response_headers)
    if not parsed.entries and not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "no entries"
        raise FatalError(
            f"{source}: malformed feed at {feed_url}: not an RSS or Atom document ({reason})",
            source=source,
        )
    if _malformed(parsed):
        log.warning("%s: %s is not well-formed (%s); kept %d entries",
                    source, feed_url, parsed.get("bozo_exception"), len(parsed.entries),
                    extra={"source": source, "url": feed_url})
    return parsed


def parse_feed(
    body: bytes, *, feed_url: str, headers: Mapping[str, str] | None = None,
    own_handles: frozenset[str] = frozenset(),
) -> tuple[list[Mention], list[str]]:
    """Mentions from a feed body, plus one message per entry that could not be read.
    Raises FatalError when the body is not a feed at all."""
    parsed = read_feed(body, feed_url=feed_url, headers=headers)
    feed_lang = parsed.feed.get("language")
    fetched_at = datetime.now(UTC)
    mentions: list[Mention] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.entries):
        try:
            mention = to_mention(entry, feed_url=feed_url, feed_lang=feed_lang,
                                 fetched_at=fetched_at, own_handles=own_handles)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            errors.append(f"{NAME}: entry {index} of {feed_url} skipped: {exc}")
            continue
        if mention.external_id not in seen:
            seen.add(mention.external_id)
            mentions.append(mention)
    # An empty feed is not an error, even served as text/html or with a wrong charset.
    if _malformed(parsed) and not mentions:
        raise FatalError(
            f"{NAME}: malformed feed at {feed_url}: {parsed.get('bozo_exception')} "
            "(no entry could be recovered)",
            source=NAME,
        )
    return mentions, errors


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    if not source.url:
        raise FatalError(f"{NAME}: source {source.name!r} has no url", source=source.name)
    headers: dict[str, str] = {
        "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"
    }
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    response = get(client, source.url, source=source.name, headers=headers,
                   max_bytes=source.max_bytes)
    if response.not_modified:
        return FetchResult(mentions=[], state=state, not_modified=True)
    mentions, errors = parse_feed(response.body, feed_url=response.url,
                                  headers=dict(response.headers),
                                  own_handles=source.own_handles)
    new_state = replace(
        state,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )
    return FetchResult(mentions=mentions, state=new_state, item_errors=errors)


CONNECTOR = Connector(
    name=NAME,
    summary="RSS 2.0, RSS 1.0 and Atom feeds, Google Alerts and YouTube channel feeds "
    "included (conditional GET with ETag / Last-Modified; YouTube views and likes from "
    "Media RSS statistics).",
    fetch=fetch,
    settings={
        "url": "the feed URL (required); a YouTube channel feed is "
        "https://www.youtube.com/feeds/videos.xml?channel_id=UC…",
        "audience": "estimated readership, used as the reach of every entry",
    },
    requires_url=True,
)
