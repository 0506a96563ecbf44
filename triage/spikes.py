"""Spike alerts: per brand, the last hour's mention volume and negative share against a
rolling baseline. A warm-up keeps a new brand quiet until its baseline means something, and
a cooldown makes one spike one alert, however many runs see it."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "BASELINE",
    "COOLDOWN",
    "WARMUP",
    "WINDOW",
    "BrandActivity",
    "SpikeAlert",
    "detect_spikes",
]

WINDOW = timedelta(hours=1)
BASELINE = timedelta(days=7)  # the rolling baseline the last hour is compared with
WARMUP = timedelta(hours=24)  # no alert before a brand has this much history
COOLDOWN = timedelta(hours=6)  # after an alert, the same brand and kind stay quiet this long
# Volume: Poisson counts, so "unusual" is the baseline rate plus Z standard deviations
# (sqrt of the rate), and at least RATIO times the rate and MIN_MENTIONS mentions, so a
# quiet brand going from 0.2 to 3 mentions an hour does not page anyone.
Z = 3.0
RATIO = 2.0
MIN_MENTIONS = 10
# Negative share: at least this many points above the baseline share, with at least
# MIN_NEGATIVE negative mentions in the hour.
SHARE_JUMP = 0.25
MIN_NEGATIVE = 5


@dataclass(frozen=True, slots=True)
class BrandActivity:
    brand: str
    window_mentions: int
    window_negative: int
    baseline_mentions: int
    baseline_negative: int
    baseline_hours: float  # hours of history inside the baseline period
    last_volume_alert: datetime | None = None
    last_negative_alert: datetime | None = None


@dataclass(frozen=True, slots=True)
class SpikeAlert:
    id: str
    brand: str
    kind: str
    window_start: datetime
    window_end: datetime
    observed: float
    baseline: float
    threshold: float
    message: str


def _alert_id(brand: str, kind: str, window_start: datetime) -> str:
    key = f"{brand}\x1f{kind}\x1f{window_start.replace(minute=0, second=0, microsecond=0)}"
    return "A-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def _cooling(last: datetime | None, now: datetime) -> bool:
    return last is not None and now - last < COOLDOWN


def detect_spikes(activity: BrandActivity, now: datetime) -> list[SpikeAlert]:
    if activity.baseline_hours < WARMUP / timedelta(hours=1):
        return []
    start = now - WINDOW
    alerts = []
    rate = activity.baseline_mentions / activity.baseline_hours
    volume_threshold = max(rate + Z * math.sqrt(rate), RATIO * rate, MIN_MENTIONS)
    if (activity.window_mentions >= volume_threshold
            and not _cooling(activity.last_volume_alert, now)):
        alerts.append(SpikeAlert(
            _alert_id(activity.brand, "volume", start), activity.brand, "volume", start, now,
            activity.window_mentions, round(rate, 2), round(volume_threshold, 2),
            f"{activity.brand}: {activity.window_mentions} mentions in the last hour against "
            f"a usual {rate:.1f}/h (alert at {volume_threshold:.0f})",
        ))
    if activity.window_mentions and activity.baseline_mentions:
        share = activity.window_negative / activity.window_mentions
        base_share = activity.baseline_negative / activity.baseline_mentions
        share_threshold = min(1.0, base_share + SHARE_JUMP)
        if (share >= share_threshold and activity.window_negative >= MIN_NEGATIVE
                and not _cooling(activity.last_negative_alert, now)):
            alerts.append(SpikeAlert(
                _alert_id(activity.brand, "negative_share", start), activity.brand,
                "negative_share", start, now, round(share, 3), round(base_share, 3),
                round(share_threshold, 3),
                f"{activity.brand}: {share:.0%} of the last hour's {activity.window_mentions} "
                f"mentions are negative against a usual {base_share:.0%}",
            ))
    return alerts
