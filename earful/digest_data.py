"""Everything the daily digest shows, read from the store through the named queries
sql/queries/digest_*.sql, plus the numbers computed on top (share of voice, NPS)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from earful.digest_metrics import (
    NpsResult,
    ShareOfVoice,
    bucket_for,
    net_promoter,
    share_of_voice,
)
from earful.settings import Settings
from sql.store import Store

__all__ = [
    "ALL_OWN",
    "MAX_CHART_SPAN",
    "Digest",
    "TrendPoint",
    "collect_digest",
]

# The time charts cover at most this much before the latest post: a review source's first
# poll can bring years of old posts, which would squash the days that matter into a sliver.
# Anchored to the data, not to now, so an old database (the demo) still draws.
MAX_CHART_SPAN = timedelta(days=30)
RISKY_LIMIT = 10
BREACHED_LIMIT = 20
# The NPS row for all of your own brands together.
ALL_OWN = "all own brands"


@dataclass(frozen=True, slots=True)
class TrendPoint:
    bucket: datetime        # start of the hour or day, UTC
    name: str               # brand or source name
    mentions: int
    negative: int
    mean_compound: float | None


@dataclass(frozen=True, slots=True)
class Digest:
    since: datetime
    until: datetime
    bucket: str                         # 'hour' or 'day'
    chart_start: datetime | None        # first bucket on the time charts (None: no data)
    mentions: int                       # distinct mentions first seen in the period
    own_posts: int
    off_chart: int                      # mentions published before chart_start
    competitors: list[str]
    brands: list[dict[str, Any]]        # digest_brands rows + competitor, share
    sources: list[dict[str, Any]]
    share: list[ShareOfVoice]
    nps: list[tuple[str, bool, NpsResult]]  # (brand or ALL_OWN, competitor, result)
    promoter_min: float
    detractor_max: float
    brand_trend: list[TrendPoint]
    source_trend: list[TrendPoint]
    risky: list[dict[str, Any]]
    tickets: list[dict[str, Any]]          # per brand and priority, as of `until`
    breached: list[dict[str, Any]]         # past the desk's active deadline at `until`
    first_response: list[dict[str, Any]]   # priority None: all priorities
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def overall_first_response(self) -> dict[str, Any] | None:
        return next((r for r in self.first_response if r["priority"] is None), None)

    def ticket_totals(self) -> dict[str, int]:
        keys = ("open", "breached", "awaiting", "opened")
        return {k: sum(int(r[k]) for r in self.tickets) for k in keys}

    def numbers(self) -> dict[str, Any]:
        """The figures as plain JSON-able values (digest.json)."""
        overall = self.overall_first_response
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(),
            "generated_at": self.generated_at.isoformat(), "bucket": self.bucket,
            "mentions": self.mentions, "own_posts": self.own_posts,
            "off_chart": self.off_chart, "competitors": self.competitors,
            "share_of_voice": [asdict(s) for s in self.share],
            "nps": [{"brand": b, "competitor": c, **asdict(r)} for b, c, r in self.nps],
            "nps_cutoffs": {"promoter_min": self.promoter_min,
                            "detractor_max": self.detractor_max},
            "tickets": self.ticket_totals(),
            "breached_tickets": [
                {k: r[k] for k in ("ticket_id", "brand", "priority", "status", "deadline",
                                   "due_at", "overdue_seconds")} for r in self.breached],
            "median_first_response_s": overall["median_seconds"] if overall else None,
            "first_responses": overall["responses"] if overall else 0,
            "risky_mentions": [r["mention_id"] for r in self.risky],
        }


def _utc(value: datetime) -> datetime:
    """Naive values from `AT TIME ZONE 'UTC'` are UTC; aware ones are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _trend(rows: list[dict[str, Any]], dimension: str) -> list[TrendPoint]:
    return [TrendPoint(_utc(r["bucket"]), r["name"], int(r["mentions"]), int(r["negative"]),
                       r["mean_compound"]) for r in rows if r["dimension"] == dimension]


def _nps(rows: list[dict[str, Any]], brands: list[str], competitors: set[str],
         promoter_min: float, detractor_max: float) -> list[tuple[str, bool, NpsResult]]:
    means: dict[str | None, list[float]] = defaultdict(list)
    for row in rows:
        means[row["brand"]].append(float(row["mean_compound"]))
    out = [(ALL_OWN, False, net_promoter(means[None], promoter_min, detractor_max))]
    out += [(b, b in competitors, net_promoter(means[b], promoter_min, detractor_max))
            for b in brands]
    return out


def collect_digest(store: Store, settings: Settings, since: datetime, until: datetime
                   ) -> Digest:
    """Read the period [since, until) from the store: mentions first seen in it, tickets as
    of `until`, first responses made in it. Tickets follow the response desk's definitions:
    a first response is `tickets.first_response_at`, and a ticket is breached past
    `ticket_active_due()` (first-response due until answered, then resolution due)."""
    competitors = sorted(b.name for b in settings.brands if b.competitor)
    period = {"since": since, "until": until}
    span = store.query("digest_span", {**period, "max_span": MAX_CHART_SPAN})[0]
    chart_start: datetime | None = None
    bucket = "day"
    if span["mentions"]:
        first = _utc(span["first_published"])
        bucket = bucket_for(_utc(span["last_published"]) - first)
        chart_start = first.replace(minute=0, second=0, microsecond=0)
        if bucket == "day":
            chart_start = chart_start.replace(hour=0)
    trend = store.query("digest_trend", {**period, "bucket": bucket,
                                         "chart_start": chart_start or until})
    source_trend = _trend(trend, "source")

    brand_rows = store.query("digest_brands", period)
    seen = {r["brand"] for r in brand_rows}
    # Configured brands with nothing said about them still belong in the comparison.
    brand_rows += [{"brand": b.name, "mentions": 0, "voice": 0, "negative": 0, "scored": 0,
                    "mean_compound": None, "complaints": 0, "anonymous": 0}
                   for b in settings.brands if b.name not in seen]
    share = share_of_voice({r["brand"]: int(r["voice"]) for r in brand_rows}, competitors)
    shares = {s.brand: s.share for s in share}
    for row in brand_rows:
        row["competitor"] = row["brand"] in competitors
        row["share"] = shares[row["brand"]]
    brand_rows.sort(key=lambda r: (r["competitor"], -r["voice"], r["brand"]))

    thresholds = settings.thresholds
    authors = store.query("digest_authors", {**period, "competitors": competitors})
    nps = _nps(authors, [r["brand"] for r in brand_rows], set(competitors),
               thresholds.positive, thresholds.negative)

    return Digest(
        since=since, until=until, bucket=bucket, chart_start=chart_start,
        mentions=int(span["mentions"]), own_posts=int(span["own_posts"]),
        off_chart=int(span["mentions"]) - sum(p.mentions for p in source_trend),
        competitors=competitors, brands=brand_rows,
        sources=store.query("digest_sources", period), share=share, nps=nps,
        promoter_min=thresholds.positive, detractor_max=thresholds.negative,
        brand_trend=_trend(trend, "brand"), source_trend=source_trend,
        risky=store.query("digest_risky", {**period, "competitors": competitors,
                                           "threshold": thresholds.reach,
                                           "limit": RISKY_LIMIT}),
        tickets=store.query("digest_tickets", {**period, "now": until}),
        breached=store.query("digest_breached", {"now": until, "limit": BREACHED_LIMIT}),
        first_response=store.query("digest_first_response", period),
    )
