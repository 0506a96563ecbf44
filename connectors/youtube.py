"""YouTube Data API v3 with an API key: videos that mention a brand (search.list, newest
first, one cursor per term), their view / like / comment counts (videos.list, one batched
call per page), the newest top-level comments on the videos found (commentThreads.list) and
the subscriber counts of the channels behind them (channels.list, batched). The quota is
daily and resets at midnight Pacific time: when it is spent the source waits for that."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

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
from connectors.fields import count, http_url, iso_utc, lang_code, parse_time, time_or_none
from connectors.google import google_error
from connectors.http import skip_without
from connectors.polling import (
    Poll,
    batches,
    int_param,
    int_param_problems,
    overlap_param,
    raw_of,
    require_terms,
    terms_problems,
)
from connectors.text import html_to_text, normalize_whitespace

__all__ = ["CONNECTOR", "fetch", "quota_reset", "refresh", "to_mention", "validate"]

NAME = "youtube"

DEFAULT_BASE = "https://www.googleapis.com/youtube/v3"
API_KEY = "YOUTUBE_API_KEY"
WEB = "https://www.youtube.com"
# search.list maxResults is 0..50; videos.list and channels.list take up to 50 ids a call;
# commentThreads.list maxResults is 1..100, default 20 (developers.google.com/youtube/v3/docs).
SEARCH_PAGE = 50
IDS_PER_CALL = 50
MAX_COMMENTS_PER_VIDEO = 100
# search.list is the expensive call: 100 of the default 10,000 units a day (a bucket of
# 100 searches a day in the newer quota scheme), so few pages per term and poll.
DEFAULT_MAX_PAGES = 2
# Videos show up in search some time after publishing (processing, indexing): each poll
# asks for videos published from this long before the newest one seen; ids dedupe.
DEFAULT_OVERLAP = timedelta(hours=2)
# Comment threads cost 1 unit a call: the newest videos found in a poll get their newest
# comments read, one page each.
DEFAULT_COMMENT_VIDEOS = 10
DEFAULT_COMMENTS_PER_VIDEO = 20
# "Daily quotas reset at midnight Pacific Time (PT)" (youtube/v3/determine_quota_cost).
QUOTA_TZ = ZoneInfo("America/Los_Angeles")
# 403 reasons that mean the quota is spent until midnight Pacific, and those of a short-term
# rate limit (youtube/v3/docs/errors; usageLimits); any other 403 is a refusal.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# A rate limit that names no time (429 without Retry-After, 403 rateLimitExceeded).
RATE_LIMIT_PAUSE = timedelta(hours=1)


def quota_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time (PST or PDT), in UTC: when a spent quota renews."""
    local = now.astimezone(QUOTA_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=QUOTA_TZ)
    return midnight.astimezone(UTC)


def _subscribers(channel: Mapping[str, Any]) -> int | None:
    """subscriberCount of a channels.list item; None when the channel hides it."""
    stats = channel.get("statistics")
    if not isinstance(stats, Mapping) or stats.get("hiddenSubscriberCount") is True:
        return None
    return count(stats.get("subscriberCount"))


def _own(own_handles: frozenset[str], *names: Any) -> bool:
    candidates = {str(n).strip().lower().lstrip("@") for n in names if n}
    return bool(candidates & own_handles)


def _video_mention(item: Mapping[str, Any], video: Mapping[str, Any] | None,
                   followers: int | None, own_handles: frozenset[str]) -> Mention:
    if item.get("kind") == "youtube#video":
        video, video_id = item, item.get("id")
    else:
        ident = item.get("id")
        video_id = ident.get("videoId") if isinstance(ident, Mapping) else None
    if not isinstance(video_id, str) or not video_id:
        raise ValueError("search result without id.videoId")
    found = item.get("snippet")
    details = video.get("snippet") if isinstance(video, Mapping) else None
    # videos.list gives the full description and plain text; search.list a truncated,
    # HTML-escaped one ("Acme&#39;s").
    snippet = details if isinstance(details, Mapping) else found
    if not isinstance(snippet, Mapping):
        raise ValueError(f"video {video_id} has no snippet")
    plain = snippet is details

    def text_of(key: str) -> str:
        value = str(snippet.get(key) or "")
        return normalize_whitespace(value if plain else html.unescape(value))

    stats = video.get("statistics") if isinstance(video, Mapping) else None
    stats = stats if isinstance(stats, Mapping) else {}
    channel_id = snippet.get("channelId")
    channel_id = channel_id if isinstance(channel_id, str) and channel_id else None
    channel_title = normalize_whitespace(str(snippet.get("channelTitle") or "")) or None
    return Mention(
        source=NAME,
        external_id=f"video:{video_id}",
        url=f"{WEB}/watch?v={quote(video_id, safe='')}",
        title=text_of("title") or None,
        text=text_of("description"),
        published_at=parse_time(snippet.get("publishedAt")),
        author=Author(
            id=channel_id,
            handle=None,  # search and videos name the channel, not its @handle
            name=channel_title,
            url=f"{WEB}/channel/{quote(channel_id, safe='')}" if channel_id else None,
            followers=followers,
        ),
        engagement=Engagement(likes=count(stats.get("likeCount")),
                              replies=count(stats.get("commentCount")),
                              views=count(stats.get("viewCount"))),
        lang=lang_code(snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage")),
        thread_id=f"video:{video_id}",
        is_own=_own(own_handles, channel_id, channel_title),
        raw=video if isinstance(video, Mapping) else item,
    )


def _comment_mention(thread: Mapping[str, Any], followers: int | None,
                     own_handles: frozenset[str]) -> Mention:
    outer = thread.get("snippet")
    if not isinstance(outer, Mapping):
        raise ValueError("comment thread without snippet")
    top = outer.get("topLevelComment")
    snippet = top.get("snippet") if isinstance(top, Mapping) else None
    if not isinstance(snippet, Mapping):
        raise ValueError("comment thread without topLevelComment.snippet")
    comment_id = top.get("id") or thread.get("id")
    video_id = outer.get("videoId") or snippet.get("videoId")
    if not isinstance(comment_id, str) or not comment_id:
        raise ValueError("comment without id")
    channel = snippet.get("authorChannelId")
    author_id = channel.get("value") if isinstance(channel, Mapping) else None
    display = normalize_whitespace(str(snippet.get("authorDisplayName") or "")) or None
    # textOriginal is the raw text; textDisplay may be HTML (textFormat=html, the default).
    original = snippet.get("textOriginal")
    text = (normalize_whitespace(original) if isinstance(original, str) and original
            else html_to_text(snippet.get("textDisplay")))
    video = f"video:{video_id}" if isinstance(video_id, str) and video_id else None
    return Mention(
        source=NAME,
        external_id=f"comment:{comment_id}",
        url=(f"{WEB}/watch?v={quote(video_id, safe='')}&lc={quote(comment_id, safe='')}"
             if video else None),
        title=None,
        text=text,
        published_at=parse_time(snippet.get("publishedAt")),
        author=Author(
            id=author_id if isinstance(author_id, str) and author_id else None,
            # Commenters are shown by their @handle since YouTube introduced handles.
            handle=display if display and display.startswith("@") else None,
            name=display,
            url=http_url(snippet.get("authorChannelUrl")),
            followers=followers,
        ),
        engagement=Engagement(likes=count(snippet.get("likeCount")),
                              replies=count(outer.get("totalReplyCount"))),
        thread_id=video,
        parent_id=video,
        is_own=_own(own_handles, author_id, display,
                    str(snippet.get("authorChannelUrl") or "").rstrip("/").rsplit("/", 1)[-1]),
        raw=thread,
    )


def to_mention(
    item: Mapping[str, Any],
    *,
    video: Mapping[str, Any] | None = None,
    followers: int | None = None,
    own_handles: frozenset[str] = frozenset(),
) -> Mention:
    """One API item as a Mention. Pure. A `youtube#searchResult` (with its videos.list
    item as `video`, when known) or a `youtube#video` becomes a video mention; a
    `youtube#commentThread` becomes a mention of its top-level comment. `followers` is the
    author channel's subscriber count."""
    if item.get("kind") == "youtube#commentThread":
        return _comment_mention(item, followers, own_handles)
    return _video_mention(item, video, followers, own_handles)


class _QuotaSpent(RateLimitedError):
    """The daily quota is spent: nothing more can be read before midnight Pacific time."""


def _forbidden(exc: FatalError, source: str, now: datetime) -> ConnectorError:
    """What a 403 means, from the reason in its body: the daily quota is spent (deferred to
    midnight Pacific), a short-term rate limit (deferred), or a refusal (the key may not
    use the API, comments are off, ...), which stays a FatalError."""
    error = google_error(exc.body)
    reasons, message = set(error.reasons), error.message
    if reasons & QUOTA_REASONS:
        reset = quota_reset(now)
        return _QuotaSpent(
            f"{source}: daily quota spent (HTTP 403 {', '.join(sorted(reasons & QUOTA_REASONS))}"
            f"); resumes at midnight Pacific, {reset:%Y-%m-%d %H:%M} UTC", retry_at=reset,
            source=source, status=403, body=exc.body)
    if reasons & RATE_REASONS:
        return RateLimitedError(
            f"{source}: rate limited (HTTP 403 {', '.join(sorted(reasons & RATE_REASONS))})",
            source=source, status=403, body=exc.body)
    detail = f"{', '.join(sorted(reasons)) or 'no reason given'}: {message}".rstrip(": ")
    return FatalError(f"{exc} ({detail})", source=source, status=403, body=exc.body)


@dataclass(kw_only=True)
class _Poll(Poll):
    client: httpx.Client
    base: str
    key: str
    max_pages: int
    overlap: timedelta
    videos: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def call(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """One GET with the key as a query parameter (http.py keeps its value out of every
        message and log line). A 403 is told apart by its reason."""
        try:
            response = self.http_get(self.client, self.base + path,
                                     headers={"Accept": "application/json"},
                                     params={**params, "key": self.key})
        except FatalError as exc:
            if exc.status == 403:
                raise _forbidden(exc, self.source.name, datetime.now(UTC)) from exc
            raise
        return self.read_json(response, path)

    def stop(self, exc: Exception) -> None:
        super().stop(exc)
        if isinstance(exc, _QuotaSpent):
            self.skip(str(exc))  # why the source waits a day

    def _items(self, data: Mapping[str, Any], path: str) -> list[Any]:
        items = data.get("items", [])
        if not isinstance(items, list):
            raise self.fatal(f"{path} answered without an items list")
        return items

    def details(self, ids: list[str]) -> dict[str, Mapping[str, Any]]:
        """videos.list for one page of results: statistics and the full snippet. A failure
        other than the quota keeps the videos without counts."""
        if not ids:
            return {}
        try:
            # No maxResults: videos.list does not take it together with id.
            data = self.call("/videos", {"part": "statistics,snippet", "id": ",".join(ids)})
        except RateLimitedError:
            raise
        except ConnectorError as exc:
            self.skip(f"{NAME}: video counts unavailable: {exc}")
            return {}
        return {str(v["id"]): v for v in self._items(data, "/videos")
                if isinstance(v, Mapping) and v.get("id")}

    def search(self, term: str) -> None:
        """Videos for one term, newest first. The cursor moves only once the term is read
        to the end (or the page cap), so a failure mid-way re-reads rather than skips."""
        key = f"q:{term}"
        cursor = time_or_none(self.cursors.get(key))
        query: dict[str, Any] = {"part": "snippet", "type": "video", "q": term,
                                 "order": "date", "maxResults": SEARCH_PAGE}
        if cursor:
            query["publishedAfter"] = iso_utc(cursor - self.overlap)
        newest, now = cursor, datetime.now(UTC)
        where = f"search {term!r}"
        for _ in range(self.max_pages):
            data = self.call("/search", query)
            items = self._items(data, "/search")
            ids = [str(i["id"]["videoId"]) for i in items if isinstance(i, Mapping)
                   and isinstance(i.get("id"), Mapping) and i["id"].get("videoId")]
            details = self.details(ids)
            for index, item in self.objects(items, where, "result"):
                item_id = item.get("id")
                video_id = str(item_id.get("videoId") or "") if isinstance(item_id, Mapping) \
                    else ""
                mention = self.convert(f"item {index} of {where}", to_mention, item,
                                       video=details.get(video_id),
                                       own_handles=self.source.own_handles)
                if mention is None:
                    continue
                self.keep(mention)
                self.videos.setdefault(video_id, details.get(video_id) or item)
                # A premiere scheduled ahead must not move the cursor past today.
                seen = min(mention.published_at, now)
                newest = seen if newest is None else max(newest, seen)
            token = data.get("nextPageToken")
            if not cursor or not items or not isinstance(token, str) or not token:
                break  # the first poll reads the newest page only
            query["pageToken"] = token
        else:
            self.page_cap(where, self.max_pages, "older videos skipped")
        if newest is not None:
            self.cursors[key] = iso_utc(newest)

    def comments(self, limit: int, per_video: int) -> None:
        """The newest top-level comments of the newest videos found that have comments
        (statistics.commentCount is absent when comments are off). A video whose comments
        cannot be read (403 commentsDisabled, 404 videoNotFound) is skipped."""
        def published(video_id: str) -> str:
            m = self.mentions.get(f"video:{video_id}")
            return iso_utc(m.published_at) if m else ""

        wanted = [vid for vid, video in self.videos.items()
                  if isinstance(video.get("statistics"), Mapping)
                  and count(video["statistics"].get("commentCount"))]
        for video_id in sorted(wanted, key=published, reverse=True)[:limit]:
            try:
                data = self.call("/commentThreads", {"part": "snippet", "videoId": video_id,
                                                     "maxResults": per_video})
            except RateLimitedError:
                raise
            except ConnectorError as exc:
                self.skip(f"{NAME}: comments of {video_id} skipped: {exc}")
                continue
            for index, thread in enumerate(self._items(data, "/commentThreads")):
                mention = self.convert(f"comment {index} of {video_id}", to_mention, thread,
                                       own_handles=self.source.own_handles)
                if mention is not None:
                    self.keep(mention)

    def by_ids(self, path: str, part: str, ids: list[str]) -> None:
        """One by-id list call (`videos.list` or `commentThreads.list` with `id=`): the
        items as they are now; an id that is gone is not in `items`."""
        data = self.call(path, {"part": part, "id": ",".join(ids)})
        for index, item in self.objects(self._items(data, path), path, "item"):
            mention = self.convert(f"item {index} of {path}", to_mention, item,
                                   own_handles=self.source.own_handles)
            if mention is not None:
                self.keep(mention)

    def channels(self, ids: Iterable[str]) -> dict[str, int | None]:
        """channel id → subscriberCount, in as few channels.list calls as possible."""
        counts: dict[str, int | None] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), IDS_PER_CALL):
            chunk = wanted[start:start + IDS_PER_CALL]
            data = self.call("/channels", {"part": "statistics", "id": ",".join(chunk)})
            for channel in self._items(data, "/channels"):
                if isinstance(channel, Mapping) and channel.get("id"):
                    counts[str(channel["id"])] = _subscribers(channel)
        return counts


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    skip_without(source.secrets, [API_KEY], source.name)
    terms = require_terms(source)
    poll = _Poll(
        source=source, state=state, pause=RATE_LIMIT_PAUSE, client=client,
        base=source.base(DEFAULT_BASE), key=source.secrets[API_KEY].strip(),
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
    )
    comment_videos = int_param(source, "comment_videos", DEFAULT_COMMENT_VIDEOS, minimum=0)
    per_video = int_param(source, "comments_per_video", DEFAULT_COMMENTS_PER_VIDEO,
                          maximum=MAX_COMMENTS_PER_VIDEO)
    poll.run(lambda term=term: poll.search(term) for term in terms)
    if not poll.stopped and comment_videos:
        poll.run([lambda: poll.comments(comment_videos, per_video)])
    if poll.mentions and poll.deferred_until is None:
        channels = [m.author.id for m in poll.mentions.values() if m.author.id]
        poll.set_followers(poll.enrich(lambda: poll.channels(channels),
                                       "subscriber counts unavailable") or {})
    return poll.result()


def _thread_id(mention: Mention) -> str | None:
    """The comment thread of a comment mention: its stored thread's id (a top-level
    comment's id is its thread's), else the comment id."""
    thread = raw_of(mention).get("id")
    if isinstance(thread, str) and thread:
        return thread
    return mention.external_id.removeprefix("comment:") or None


def refresh(client: httpx.Client, source: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """Re-read videos (`videos.list?part=snippet,statistics&id=`, 50 ids a call) and
    top-level comments (`commentThreads.list?part=snippet&id=`, 50 a call) by id for their
    current views, likes and replies, then the channels' subscriber counts (one
    `channels.list` per 50 channels, as fetch does; when that fails the stored counts stay).
    1 quota unit a call."""
    skip_without(source.secrets, [API_KEY], source.name)
    poll = _Poll(source=source, state=SourceState(source.name), pause=RATE_LIMIT_PAUSE,
                 client=client, base=source.base(DEFAULT_BASE),
                 key=source.secrets[API_KEY].strip(), max_pages=1, overlap=DEFAULT_OVERLAP)
    videos = list(dict.fromkeys(m.external_id.removeprefix("video:") for m in mentions
                                if m.external_id.startswith("video:")))
    threads = list(dict.fromkeys(t for m in mentions if m.external_id.startswith("comment:")
                                 and (t := _thread_id(m))))
    poll.look_up([
        *(lambda chunk=chunk: poll.by_ids("/videos", "snippet,statistics", chunk)
          for chunk in batches([v for v in videos if v], IDS_PER_CALL)),
        *(lambda chunk=chunk: poll.by_ids("/commentThreads", "snippet", chunk)
          for chunk in batches(threads, IDS_PER_CALL)),
    ])
    if poll.mentions:
        channels = [m.author.id for m in poll.mentions.values() if m.author.id]
        poll.set_followers(poll.enrich(lambda: poll.channels(channels),
                                       "subscriber counts unavailable") or {})
    return poll.reread(mentions)


def validate(source: SourceSpec) -> list[str]:
    return int_param_problems(source.params, {
        "max_pages": 1, "overlap_minutes": 0, "comment_videos": 0,
        "comments_per_video": (1, MAX_COMMENTS_PER_VIDEO)}) + terms_problems(source.queries)


CONNECTOR = Connector(
    name=NAME,
    summary="YouTube Data API v3 with an API key: video search (newest first) per term, "
    "view/like/comment counts, top-level comments on the videos found, channel subscribers.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE})",
        "params.query": "search terms (default: the brands' terms and aliases)",
        "params.max_pages": f"search pages of {SEARCH_PAGE} per term and poll "
        f"(default {DEFAULT_MAX_PAGES}; each costs search quota)",
        "params.overlap_minutes": "how far before the newest video seen each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.comment_videos": "videos per poll whose newest comments are read "
        f"(default {DEFAULT_COMMENT_VIDEOS}; 0 turns comments off)",
        "params.comments_per_video": "top-level comments read per video "
        f"(1..{MAX_COMMENTS_PER_VIDEO}, default {DEFAULT_COMMENTS_PER_VIDEO})",
    },
    secrets={API_KEY: "a YouTube Data API v3 key (Google Cloud console → Credentials)"},
    validate=validate,
    refresh=refresh,
)
