"""How many people a mention may reach: a low / expected / high estimate of its potential
audience and the formula that produced it, stored with the mention so a reviewer can judge
the number. Sources differ, so does the method; every constant says where it comes from."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from connectors.base import Mention

__all__ = ["MAX_REACH", "Reach", "estimate_reach", "project_reach", "visibility_factor"]

# Actual impressions are typically 1-20% of followers (Union Metrics); Sprinklr's
# earned-impressions factor is 0.15 under 100k followers, falling to 0.06 over 10M.
LOW_VISIBILITY = 0.01
HIGH_VISIBILITY = 0.20
SMALL_ACCOUNT_VISIBILITY = 0.15
LARGE_ACCOUNT_VISIBILITY = 0.06
# A repost shows the post to the reposter's followers: a typical active account has a few
# hundred (order of magnitude; median follower counts on X and Mastodon are in the low
# hundreds).
REPOSTER_AUDIENCE = 200
# Reddit: only a few percent of viewers vote, so each net upvote stands for ~25 views
# (low 10, high 50), capped by the subreddit's subscribers.
REDDIT_VIEWS_PER_POINT = (10, 25, 50)
# Hacker News: a story with ~100 points draws ~10,000 visitors (widely reported by authors
# of front-page posts): ~100 per point (low 30, high 300).
HN_VIEWS_PER_POINT = (30, 100, 300)
# Reviews have no followers: their audience is the listing's. Roughly 1 user in 100 rates an
# app or business, so a listing with N ratings has ~100·N users; a review sits among the
# newest or most helpful for a while, read by ~10% of them: N × 10 (low 1%: × 2, high: × 50).
# Each helpful vote stands for ~25 readers, as a Reddit point does.
LISTING_READERS_PER_RATING = (2, 10, 50)
READERS_PER_HELPFUL_VOTE = 25
# A reply or comment is read by the thread's readers: count each as a handful of readers.
READERS_PER_REPLY = 20
# Follower counts are gameable: an account that looks automated keeps a fifth of its reach.
BOT_DISCOUNT = 0.2
_BOT_HANDLE = re.compile(r"\d{6,}$")
# Estimates are stored as BIGINT (mention_scores.reach_*): an export's absurd but in-range
# count times readers per point must saturate there rather than fail the whole batch.
MAX_REACH = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Reach:
    low: int
    expected: int
    high: int
    method: str
    per_hour: float = 0.0  # growth of the expected reach since the previous poll
    projected: int = 0  # expected reach at the end of the projection window

    def scaled(self, factor: float, note: str) -> Reach:
        return replace(self, low=round(self.low * factor), expected=round(self.expected * factor),
                       high=round(self.high * factor), method=f"{self.method}; {note}")


def visibility_factor(followers: int) -> float:
    """Share of followers who see a post: 0.15 up to 100k followers, log-linearly down to
    0.06 at 10M and beyond."""
    if followers <= 100_000:
        return SMALL_ACCOUNT_VISIBILITY
    if followers >= 10_000_000:
        return LARGE_ACCOUNT_VISIBILITY
    position = (math.log10(followers) - 5) / 2
    return SMALL_ACCOUNT_VISIBILITY - position * (SMALL_ACCOUNT_VISIBILITY -
                                                  LARGE_ACCOUNT_VISIBILITY)


def _n(value: int | None) -> int:
    return max(0, value or 0)


def _bounded(reach: Reach) -> Reach:
    if reach.low >= 0 and reach.high <= MAX_REACH and 0 <= reach.expected <= MAX_REACH:
        return reach
    low, expected, high = (min(max(0, v), MAX_REACH)
                           for v in (reach.low, reach.expected, reach.high))
    return replace(reach, low=low, expected=expected, high=high)


def _looks_automated(mention: Mention) -> bool:
    raw = mention.raw
    # Bulk paths keep the raw payload as a JSON string: only the handle can tell then.
    if isinstance(raw, Mapping):
        account = raw.get("account") if isinstance(raw.get("account"), Mapping) else {}
        creator = raw.get("creator") if isinstance(raw.get("creator"), Mapping) else {}
        user = raw.get("user") if isinstance(raw.get("user"), Mapping) else {}
        if account.get("bot") or creator.get("bot_account") or user.get("type") == "Bot":
            return True
    handle = mention.author.handle
    return bool(handle and _BOT_HANDLE.search(handle))


def _followers_reach(mention: Mention) -> Reach:
    followers = _n(mention.author.followers)
    reposts = _n(mention.engagement.reposts)
    factor = visibility_factor(followers)
    expected = followers * factor + reposts * REPOSTER_AUDIENCE * factor
    method = f"followers × {factor:.2f}"
    if reposts:
        method += f" + reposts × {REPOSTER_AUDIENCE} × {factor:.2f}"
    return Reach(
        low=round(followers * LOW_VISIBILITY + reposts * REPOSTER_AUDIENCE * LOW_VISIBILITY),
        expected=round(expected),
        high=round(followers * HIGH_VISIBILITY + reposts * REPOSTER_AUDIENCE * HIGH_VISIBILITY),
        method=method,
    )


def _points_reach(points: int, replies: int, per_point: tuple[int, int, int], name: str,
                  cap: int | None = None) -> Reach:
    low, mid, high = (points * k + replies * READERS_PER_REPLY for k in per_point)
    if cap:
        low, mid, high = min(low, cap), min(mid, cap), min(high, cap)
    return Reach(low, mid, high, f"{name} × {per_point[1]} + replies × {READERS_PER_REPLY}")


def _review_reach(mention: Mention) -> Reach | None:
    listing, votes = mention.listing_ratings, _n(mention.engagement.likes)
    if listing is None and not votes:
        return None
    low, mid, high = (_n(listing) * k + votes * READERS_PER_HELPFUL_VOTE
                      for k in LISTING_READERS_PER_RATING)
    method = (f"listing ratings × {LISTING_READERS_PER_RATING[1]}"
              if listing is not None else "")
    if votes:
        method += f"{' + ' if method else ''}helpful votes × {READERS_PER_HELPFUL_VOTE}"
    return Reach(low, mid, high, method)


def _engagement_reach(mention: Mention) -> Reach | None:
    e = mention.engagement
    source = mention.source
    if mention.rating is not None:
        return _review_reach(mention)
    if source == "googlenews" and mention.author.followers:
        # The outlet's configured readership (params.outlet_audience), taken whole as a
        # feed's `audience` is: an article is published to all of its readers.
        readers = _n(mention.author.followers)
        return Reach(readers, readers, readers, "outlet audience")
    if source == "reddit" and e.score is not None:
        raw = mention.raw if isinstance(mention.raw, Mapping) else {}
        subscribers = raw.get("subreddit_subscribers")
        cap = subscribers if isinstance(subscribers, int) and subscribers > 0 else None
        return _points_reach(_n(e.score), _n(e.replies), REDDIT_VIEWS_PER_POINT, "score", cap)
    if source == "hackernews":
        # The author's karma (kept as `followers`) is standing, not an audience: a comment
        # without points of its own is read by its thread, counted through its replies.
        return _points_reach(_n(e.score), _n(e.replies), HN_VIEWS_PER_POINT, "points")
    return None


def estimate_reach(mention: Mention, *, source_audience: int | None = None) -> Reach:
    """Potential audience of one mention, by the best method its source allows:

    - a configured `audience` (feeds, news, review listings): that readership;
    - reviews: the listing's audience from its rating count, plus helpful votes;
    - views reported by the source (YouTube, Stack Exchange, X impressions): the views,
      the floor of every other estimate too;
    - Reddit and Hacker News: votes and comments (see the constants above);
    - followers: followers × the visibility factor, plus reposts × a reposter's audience;
    - nothing known: 0, method "unknown" (such a mention can only open a ticket by growth).
    Automated-looking accounts keep BOT_DISCOUNT of the estimate."""
    if source_audience is not None:
        return _bounded(Reach(source_audience, source_audience, source_audience,
                              "source audience"))
    reach = _engagement_reach(mention)
    if reach is None and mention.author.followers is not None:
        reach = _followers_reach(mention)
    views = mention.engagement.views
    if views is not None and views > 0 and (reach is None or reach.expected < views):
        reach = Reach(views, views, max(views, reach.high if reach else views), "views")
    if reach is None:
        return Reach(0, 0, 0, "unknown")
    if _looks_automated(mention):
        reach = reach.scaled(BOT_DISCOUNT, f"bot-like account × {BOT_DISCOUNT}")
    return _bounded(reach)


def project_reach(reach: Reach, previous: tuple[int, float] | None,
                  window_hours: float) -> Reach:
    """Velocity: growth of the expected reach since the previous poll (`previous` =
    (expected then, hours ago)), projected over the window ahead."""
    if previous is None or previous[1] <= 0:
        # The constructor, not dataclasses.replace: this runs once per mention.
        return Reach(reach.low, reach.expected, reach.high, reach.method, reach.per_hour,
                     reach.expected)
    per_hour = max(0.0, (reach.expected - previous[0]) / previous[1])
    return replace(reach, per_hour=round(per_hour, 1),
                   projected=min(round(reach.expected + per_hour * window_hours), MAX_REACH))
