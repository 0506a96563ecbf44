"""Source health: a source failing several runs in a row, or silent for much longer than its
usual cadence, raises an operational alert. One alert per episode: its id is derived from
the source, the kind and when the episode began, so every later run sees the same alert."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "FAILURES_IN_A_ROW",
    "MIN_HISTORY",
    "SILENCE_FACTOR",
    "HealthAlert",
    "SourceActivity",
    "check_source",
]

# Three failed polls in a row: one is a blip, two can be a deploy, three is broken.
FAILURES_IN_A_ROW = 3
# Silent = no new mention for this many times the source's usual gap between new mentions
# (its median over the two weeks before the last one), and never less than this many poll
# intervals.
SILENCE_FACTOR = 4.0
# A source needs this many new mentions in the period before its cadence means anything.
MIN_HISTORY = 5


@dataclass(frozen=True, slots=True)
class SourceActivity:
    source_name: str
    error_count: int
    last_error: str | None
    failing_since: datetime | None  # first failure of the current streak (approximate)
    recent_mentions: int  # new mentions in the history period
    median_gap_hours: float | None  # median time between consecutive new mentions
    last_new_at: datetime | None
    # Start of the last run that polled it and got an answer (ok or 304). Silence is judged
    # up to then: a source deferred by its rate limit, skipped or failing was not asked, so
    # its quiet says nothing (failing has its own alert). None: judged up to now.
    last_polled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HealthAlert:
    """Stored in `alerts` next to spike alerts, with the same measure columns."""

    id: str
    source_name: str
    kind: str  # source_failing | source_silent
    window_start: datetime  # when the episode began
    window_end: datetime  # when it was seen
    observed: float  # failures in a row, or hours without a new mention
    baseline: float  # 0, or the usual hours between new mentions
    threshold: float  # what observed had to reach
    message: str
    brand: str | None = None


def _alert_id(source: str, kind: str, since: datetime) -> str:
    key = f"{source}\x1f{kind}\x1f{since.isoformat()}"
    return "A-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def check_source(activity: SourceActivity, poll_interval: timedelta, now: datetime,
                 failures_in_a_row: int = FAILURES_IN_A_ROW,
                 silence_factor: float = SILENCE_FACTOR) -> list[HealthAlert]:
    alerts = []
    name = activity.source_name
    if activity.error_count >= failures_in_a_row:
        since = activity.failing_since or now
        alerts.append(HealthAlert(
            _alert_id(name, "source_failing", since), name, "source_failing", since, now,
            float(activity.error_count), 0.0, float(failures_in_a_row),
            f"source {name} has failed {activity.error_count} polls in a row; last error: "
            f"{activity.last_error or 'unknown'}"))
    if (activity.recent_mentions >= MIN_HISTORY and activity.median_gap_hours is not None
            and activity.last_new_at is not None):
        usual = timedelta(hours=activity.median_gap_hours)
        allowed = max(usual * silence_factor, poll_interval * silence_factor)
        asked_until = min(now, activity.last_polled_at or now)
        silent_for = asked_until - activity.last_new_at
        if silent_for > allowed:
            hours = silent_for.total_seconds() / 3600
            alerts.append(HealthAlert(
                _alert_id(name, "source_silent", activity.last_new_at), name,
                "source_silent", activity.last_new_at, now, round(hours, 2),
                activity.median_gap_hours, allowed.total_seconds() / 3600,
                f"source {name} has brought no new mention for {hours:.0f} h; it usually "
                f"brings one every {activity.median_gap_hours:.1f} h"))
    return alerts
