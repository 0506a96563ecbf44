"""The digest's numbers that are more than a SQL aggregate: the reporting period, share of
voice, and social NPS per author with its confidence interval. Pure functions."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from earful.settings import parse_duration

__all__ = [
    "Z_95",
    "NpsResult",
    "ShareOfVoice",
    "bucket_for",
    "classify_author",
    "net_promoter",
    "parse_since",
    "share_of_voice",
]

# Two-sided 95% normal quantile, for the Wald interval of the NPS.
Z_95 = 1.959963984540054

# Longest publication span still charted hour by hour.
HOURLY_MAX_SPAN = timedelta(hours=36)

_HAS_UNIT = re.compile(r"^\s*\d+(?:\.\d+)?\s*(s|sec|m|min|h|d)\s*$")


def parse_since(value: str, now: datetime) -> datetime:
    """'24h', '7d', '90m' (before `now`), an ISO date (midnight UTC) or an ISO date-time
    (UTC unless it carries an offset)."""
    text = value.strip()
    if _HAS_UNIT.match(text):
        return now - parse_duration(text)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--since: expected a duration such as '24h' or '7d', or an ISO date or date-time "
            f"such as 2026-11-20 or 2026-11-20T08:00, got {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ShareOfVoice:
    brand: str
    competitor: bool
    voice: int          # mentions by others (not the brand's own posts) in the period
    share: float        # voice / all brands' voice, 0..1


def share_of_voice(voice: Mapping[str, int], competitors: Iterable[str]) -> list[ShareOfVoice]:
    """Each brand's share of all brands' voice (own and competitors together), largest
    first. A mention naming two brands counts for each, so shares always add up to 1."""
    rivals = set(competitors)
    total = sum(voice.values())
    rows = [ShareOfVoice(brand, brand in rivals, count, count / total if total else 0.0)
            for brand, count in voice.items()]
    return sorted(rows, key=lambda r: (-r.voice, r.brand))


def classify_author(mean_compound: float, promoter_min: float, detractor_max: float) -> str:
    """promoter, passive or detractor from an author's mean compound: at or above
    `promoter_min` a promoter, at or below `detractor_max` a detractor, passive between."""
    if mean_compound >= promoter_min:
        return "promoter"
    if mean_compound <= detractor_max:
        return "detractor"
    return "passive"


@dataclass(frozen=True, slots=True)
class NpsResult:
    authors: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None       # % promoters - % detractors, -100..100; None with no authors
    se: float | None        # its standard error, in points
    ci_low: float | None    # 95% confidence interval, in points, clipped to -100..100
    ci_high: float | None


def net_promoter(means: Sequence[float], promoter_min: float, detractor_max: float
                 ) -> NpsResult:
    """NPS over authors (one mean compound each) with a 95% Wald interval.

    With p and d the promoter and detractor proportions of n authors, NPS = p - d and, the
    three classes being one multinomial draw, Var(p - d) = (p(1-p) + d(1-d) + 2pd) / n =
    (p + d - (p - d)²) / n. Small n makes the interval wide (and at p or d = 1, zero-width:
    read it with the author count)."""
    kinds = [classify_author(m, promoter_min, detractor_max) for m in means]
    n = len(kinds)
    promoters, detractors = kinds.count("promoter"), kinds.count("detractor")
    if n == 0:
        return NpsResult(0, 0, 0, 0, None, None, None, None)
    p, d = promoters / n, detractors / n
    score = p - d
    se = math.sqrt(max(p + d - score * score, 0.0) / n)
    low, high = max(score - Z_95 * se, -1.0), min(score + Z_95 * se, 1.0)
    return NpsResult(n, promoters, n - promoters - detractors, detractors,
                     100 * score, 100 * se, 100 * low, 100 * high)


def bucket_for(span: timedelta) -> str:
    """Hourly buckets when the data spans a day and a half at most (a daily digest), daily
    beyond (a weekly report, a first poll that brought older posts)."""
    return "hour" if span <= HOURLY_MAX_SPAN else "day"
