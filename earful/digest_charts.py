"""The digest's charts as PNG files, drawn on matplotlib's Agg canvas explicitly (Figure +
FigureCanvasAgg): no display needed, and no pyplot, so no global backend or figure registry
is touched (a notebook importing earful keeps its own backend; flows can draw in threads)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from earful.digest_data import ALL_OWN, Digest, TrendPoint

__all__ = ["CHART_DPI", "Chart", "render_charts"]

CHART_DPI = 100
WIDTH_IN = 9.0
# Beyond this many brands or sources on one time chart the rest are summed as "other":
# the tab10 palette has ten colours and a legend of thirty says nothing.
MAX_SERIES = 8
OWN_COLOUR, RIVAL_COLOUR, TOTAL_COLOUR = "#1f77b4", "#ff7f0e", "#444444"


@dataclass(frozen=True, slots=True)
class Chart:
    filename: str   # PNG file name, next to the HTML
    title: str
    alt: str        # what the picture shows, for the img alt text


def _label(text: str) -> str:
    """Plain text for matplotlib: '$' would start mathtext, a leading '_' hides a legend
    entry."""
    text = text.replace("\\", "\\\\").replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def _save(fig: Figure, folder: Path, filename: str) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(folder / filename, dpi=CHART_DPI, format="png")


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            fontsize=12, color="#666666")
    ax.set_axis_off()


def _top_series(points: Sequence[TrendPoint]) -> list[TrendPoint]:
    """Keep the MAX_SERIES busiest names; sum the rest into 'other' per bucket (its mean
    compound weighted by mentions)."""
    totals: dict[str, int] = defaultdict(int)
    for p in points:
        totals[p.name] += p.mentions
    keep = set(sorted(totals, key=lambda n: (-totals[n], n))[:MAX_SERIES])
    if len(totals) <= MAX_SERIES:
        return list(points)
    kept = [p for p in points if p.name in keep]
    other: dict = defaultdict(lambda: [0, 0, 0.0, 0])
    for p in points:
        if p.name not in keep:
            acc = other[p.bucket]
            acc[0] += p.mentions
            acc[1] += p.negative
            if p.mean_compound is not None:
                acc[2] += p.mean_compound * p.mentions
                acc[3] += p.mentions
    kept += [TrendPoint(b, "other", m, n, s / w if w else None)
             for b, (m, n, s, w) in other.items()]
    return kept


def _locator(bucket: str, span: timedelta) -> mdates.DateLocator:
    """Ticks on whole hours or days, about eight of them."""
    if bucket == "hour":
        hours = span.total_seconds() / 3600
        step = next((h for h in (1, 2, 3, 6, 12) if hours / h <= 10), 24)
        return mdates.HourLocator(byhour=range(0, 24, step))
    return mdates.DayLocator(interval=max(1, round(span.days / 8)))


def _trend_chart(digest: Digest, points: Sequence[TrendPoint], what: str, folder: Path,
                 filename: str) -> Chart:
    fig = Figure(figsize=(WIDTH_IN, 6.0))
    volume, sentiment = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    unit = "hour" if digest.bucket == "hour" else "day"
    title = f"Mentions per {unit} and mean sentiment, by {what} (UTC)"
    if not points:
        _empty(volume, "No mentions in this period")
        _empty(sentiment, "")
        fig.suptitle(title)
        _save(fig, folder, filename)
        return Chart(filename, title, f"No mentions by {what} in this period")
    series = _top_series(points)
    step = timedelta(hours=1) if digest.bucket == "hour" else timedelta(days=1)
    width = step.total_seconds() / 86400 * 0.8
    buckets = sorted({p.bucket for p in series})
    totals: dict[str, int] = defaultdict(int)
    for p in series:
        totals[p.name] += p.mentions
    names = sorted(totals, key=lambda n: (n == "other", -totals[n], n))
    bottom = dict.fromkeys(buckets, 0)
    colours = matplotlib.colormaps["tab10"].colors
    for i, name in enumerate(names):
        mine = {p.bucket: p for p in series if p.name == name}
        xs = [b for b in buckets if b in mine]
        counts = [mine[b].mentions for b in xs]
        colour = colours[i % len(colours)]
        volume.bar([mdates.date2num(b + step / 2) for b in xs], counts, width=width,
                   bottom=[bottom[b] for b in xs], color=colour,
                   label=_label(f"{name} ({totals[name]})"))
        for b, c in zip(xs, counts, strict=True):
            bottom[b] += c
        scored = [(b, mine[b].mean_compound) for b in xs if mine[b].mean_compound is not None]
        if scored:
            sentiment.plot([mdates.date2num(b + step / 2) for b, _ in scored],
                           [c for _, c in scored], marker="o", linewidth=1.2, color=colour)
    volume.set_ylabel("mentions")
    volume.yaxis.get_major_locator().set_params(integer=True)
    # Beside the plot, not on it: a legend inside covers the busiest bars.
    volume.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    sentiment.axhline(0, color="#999999", linewidth=0.8)
    sentiment.set_ylim(-1.05, 1.05)
    sentiment.set_ylabel("mean compound")
    start = digest.chart_start or buckets[0]
    end = max(buckets) + step
    locator = _locator(digest.bucket, end - start)
    sentiment.xaxis.set_major_locator(locator)
    sentiment.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    sentiment.set_xlim(mdates.date2num(start), mdates.date2num(end))
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, folder, filename)
    alt = (f"Stacked bars of mentions per {unit} for {len(names)} {what}s "
           f"({', '.join(names[:5])}{'…' if len(names) > 5 else ''}), and lines of their "
           f"mean VADER compound")
    return Chart(filename, title, alt)


def _share_chart(digest: Digest, folder: Path, filename: str) -> Chart:
    rows = digest.share
    fig = Figure(figsize=(WIDTH_IN, max(2.5, 0.45 * len(rows) + 1.4)))
    ax = fig.subplots()
    title = "Share of voice (mentions by others, own brands and competitors)"
    if not rows or not sum(r.voice for r in rows):
        _empty(ax, "No brand mentions in this period")
    else:
        ordered = list(reversed(rows))
        ys = range(len(ordered))
        ax.barh(ys, [100 * r.share for r in ordered],
                color=[RIVAL_COLOUR if r.competitor else OWN_COLOUR for r in ordered])
        ax.set_yticks(list(ys), [_label(r.brand + (" (competitor)" if r.competitor else ""))
                                 for r in ordered])
        for y, r in zip(ys, ordered, strict=True):
            ax.text(100 * r.share + 1, y, f"{100 * r.share:.1f}% ({r.voice})", va="center",
                    fontsize=9)
        ax.set_xlim(0, 115)
        ax.set_xlabel("% of all brands' mentions")
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, folder, filename)
    return Chart(filename, title, "Horizontal bars: each brand's percentage of all mentions")


def _nps_chart(digest: Digest, folder: Path, filename: str) -> Chart:
    rows = digest.nps
    fig = Figure(figsize=(WIDTH_IN, max(2.5, 0.5 * len(rows) + 1.4)))
    ax = fig.subplots()
    title = "Social NPS per author, with 95% confidence interval"
    ordered = list(reversed(rows))
    ys = list(range(len(ordered)))
    for y, (brand, competitor, r) in zip(ys, ordered, strict=True):
        if r.nps is None:
            ax.text(0, y, "no authors", ha="center", va="center", fontsize=9, color="#666666")
            continue
        colour = TOTAL_COLOUR if brand == ALL_OWN else RIVAL_COLOUR if competitor else OWN_COLOUR
        ax.barh(y, r.nps, color=colour, alpha=0.8)
        ax.errorbar(r.nps, y, xerr=[[r.nps - r.ci_low], [r.ci_high - r.nps]], fmt="none",
                    ecolor="black", capsize=4, linewidth=1)
        ax.text(106, y, f"{r.nps:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}] n={r.authors}",
                va="center", fontsize=9)
    ax.set_yticks(ys, [_label(b + (" (competitor)" if c else "")) for b, c, _ in ordered])
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlim(-100, 160)
    ax.set_xticks([-100, -50, 0, 50, 100])
    ax.set_xlabel("NPS (% promoters - % detractors)")
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, folder, filename)
    return Chart(filename, title,
                 "Horizontal bars: NPS per brand with its 95% confidence interval")


def render_charts(digest: Digest, folder: Path) -> list[Chart]:
    """Draw every chart into `folder`; returns them in the order the report shows them."""
    return [
        _trend_chart(digest, digest.brand_trend, "brand", folder, "brand_trend.png"),
        _trend_chart(digest, digest.source_trend, "source", folder, "source_trend.png"),
        _share_chart(digest, folder, "share_of_voice.png"),
        _nps_chart(digest, folder, "nps.png"),
    ]
