"""The digest as an HTML page (charts referenced as PNG files beside it) and as Markdown (the
Prefect artifact). Everything that comes from mentions, config or the database is escaped:
a mention's text is written by strangers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from earful.digest_charts import Chart
from earful.digest_data import ALL_OWN, Digest
from earful.digest_metrics import NpsResult

__all__ = ["format_seconds", "render_html", "render_markdown"]

TEXT_CHARS = 280  # a mention's text is cut here in tables: the link has the rest

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:960px;color:#222;line-height:1.4;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.period{color:#555;margin-top:0}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;padding:0;list-style:none}
.kpis li{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.kpis b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}
th,td{border-bottom:1px solid #eee;padding:.3rem .4rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;display:block;margin:.8rem 0}
.note{color:#555;font-size:.9rem}.bad{color:#b00020;font-weight:600}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links: a feed can carry javascript: or data: URLs."""
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, fmt: str = "+.2f") -> str:
    return "–" if value is None else format(value, fmt)


def _nps_words(r: NpsResult) -> str:
    if r.nps is None:
        return "no authors"
    return f"{r.nps:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}], n={r.authors}"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _cut(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """Cells arrive escaped (they may hold a link); headers are escaped here."""
    head = "".join(f'<th{" class=n" if i in numeric else ""}>{_e(h)}</th>'
                   for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{cell}</td>'
                         for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(chart: Chart) -> str:
    return (f'<figure><img src="{_e(chart.filename)}" alt="{_e(chart.alt)}" '
            f'title="{_e(chart.title)}"></figure>')


def _mention_cell(row: dict[str, Any]) -> str:
    title = _cut(row.get("title")) or _cut(row.get("text"))[:80]
    url = _safe_url(row.get("url"))
    head = f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(title)}</a>' if url else _e(title)
    author = row.get("author_handle") or row.get("author_name")
    by = f" — {_e(author)}" if author else ""
    body = _cut(row.get("text"))
    return f"<b>{head}</b>{by}<br>{_e(body)}" if body != title else f"<b>{head}</b>{by}"


def _kpis(d: Digest) -> str:
    totals = d.ticket_totals()
    own = next(r for b, _, r in d.nps if b == ALL_OWN)
    first = d.overall_first_response
    items = [
        ("mentions found", f"{d.mentions:,}"),
        ("tickets opened", f"{totals['opened']:,}"),
        ("open tickets", f"{totals['open']:,}"),
        ("SLA breached", f"{totals['breached']:,}"),
        ("median first response", format_seconds(first["median_seconds"])
         if first and first["responses"] else "none yet"),
        ("social NPS, own brands", "–" if own.nps is None else f"{own.nps:+.0f}"),
    ]
    cells = "".join(
        f'<li{" class=bad" if label == "SLA breached" and value != "0" else ""}>'
        f"<b>{_e(value)}</b>{_e(label)}</li>" for label, value in items)
    return f'<ul class="kpis">{cells}</ul>'


def _brand_rows(d: Digest) -> list[list[str]]:
    nps = {b: r for b, _, r in d.nps}
    out = []
    for r in d.brands:
        scored = r["scored"] or 0
        out.append([
            _e(r["brand"]) + (" <i>(competitor)</i>" if r["competitor"] else ""),
            _e(f"{r['mentions']:,}"), _e(f"{r['voice']:,}"), _e(_pct(r["share"])),
            _e(_pct(r["negative"] / scored if scored else None)),
            _e(_num(r["mean_compound"])), _e(f"{r['complaints']:,}"),
            _e(_nps_words(nps[r["brand"]])),
        ])
    out.append([f"<i>{_e(ALL_OWN)}</i>", "", "", "", "", "", "", _e(_nps_words(nps[ALL_OWN]))])
    return out


def _first_response(d: Digest) -> str:
    overall = d.overall_first_response
    if not overall or not overall["responses"]:
        return ("<p>No first response in this period: no ticket got a reply recorded on the "
                "desk or was resolved (acknowledging or assigning one is not a first "
                "response).</p>")
    rows = [[_e(r["priority"] or "all"), _e(r["responses"]),
             _e(format_seconds(r["median_seconds"]))] for r in d.first_response]
    return _table(["priority", "first responses", "median time to first response"], rows,
                  {1, 2})


def render_html(d: Digest, charts: Sequence[Chart]) -> str:
    by_file = {c.filename: c for c in charts}
    totals = d.ticket_totals()
    off_chart = (f'<p class="note">{d.off_chart:,} mentions published before '
                 f"{_e(_when(d.chart_start))} are counted everywhere but not drawn.</p>"
                 if d.off_chart and d.chart_start else "")
    rival_note = ("" if d.competitors else
                  '<p class="note">No competitor brands configured: mark one with '
                  "<code>competitor = true</code> under its <code>[[brands]]</code>.</p>")
    risky = [[_e(f"{r['risk']:.2f}"), _e(r["brand"]), _mention_cell(r), _e(r["source_name"]),
              _e(f"{r['reach']:,}"), _e(_num(r["compound"])), _e(_num(r["complaint"], ".2f")),
              _e(f"{r['priority']} {r['status']}" if r["ticket_id"] else "no ticket")]
             for r in d.risky]
    tickets = [[_e(r["brand"]), _e(r["priority"]), _e(r["open"]), _e(r["breached"]),
                _e(r["awaiting"]), _e(r["opened"])] for r in d.tickets]
    breached = [[_e(r["ticket_id"]), _e(r["priority"]), _e(r["status"]), _e(r["brand"]),
                 _e(_DEADLINES.get(r["deadline"], r["deadline"])), _e(_when(r["due_at"])),
                 _e(format_seconds(r["overdue_seconds"])), _mention_cell(r)]
                for r in d.breached]
    sources = [[_e(r["source_name"]), _e(r["kind"]), _e(f"{r['mentions']:,}"),
                _e(_pct(r["negative"] / r["mentions"] if r["mentions"] else None)),
                _e(_num(r["mean_compound"]))] for r in d.sources]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>earful digest {_e(f'{d.until:%Y-%m-%d}')}</title><style>{_CSS}</style>",
        "</head><body>", "<h1>earful digest</h1>",
        f'<p class="period">Mentions first seen from {_e(_when(d.since))} to '
        f"{_e(_when(d.until))}; tickets as of the end. Generated {_e(_when(d.generated_at))}."
        "</p>",
        _kpis(d),
        "<h2>Volume and sentiment over time</h2>",
        _img(by_file["brand_trend.png"]), _img(by_file["source_trend.png"]), off_chart,
        "<h2>Brands: share of voice and social NPS</h2>", rival_note,
        _img(by_file["share_of_voice.png"]), _img(by_file["nps.png"]),
        _table(["brand", "mentions", "by others", "share of voice", "negative",
                "mean compound", "complaints", "social NPS [95% CI]"], _brand_rows(d),
               {1, 2, 3, 4, 5, 6}),
        "<h2>Sources</h2>",
        _table(["source", "kind", "mentions", "negative", "mean compound"], sources, {2, 3, 4})
        if sources else "<p>No mentions in this period.</p>",
        "<h2>Top risky mentions</h2>",
        _table(["risk", "brand", "mention", "source", "reach", "compound", "complaint",
                "ticket"], risky, {0, 4, 5, 6})
        if risky else "<p>No complaint or negative mention of your brands in this period.</p>",
        "<h2>Tickets</h2>",
        f"<p>{totals['open']:,} open, <span{' class=bad' if totals['breached'] else ''}>"
        f"{totals['breached']:,} breached</span> (past the deadline that applies), "
        f"{totals['awaiting']:,} awaiting a first "
        f"response; {totals['opened']:,} opened in this period.</p>",
        _table(["brand", "priority", "open", "breached", "awaiting", "opened in period"],
               tickets, {2, 3, 4, 5}) if tickets else "",
        ("<h3>Breached tickets, most overdue first</h3>" + _table(
            ["ticket", "priority", "status", "brand", "deadline", "due", "overdue by",
             "mention"], breached, {6})) if breached else "",
        "<h2>First response</h2>", _first_response(d),
        "<h2>How to read this</h2>", _method_notes(d),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


# Which deadline a breached ticket missed, in words (digest_breached.sql's `deadline`).
_DEADLINES = {"first_response": "first response", "resolution": "resolution"}


def _method_notes(d: Digest) -> str:
    unit = "hour" if d.bucket == "hour" else "day"
    notes = [
        f"Every figure covers the mentions earful first saw in the period, placed on the time "
        f"charts by publication time, one bar per {unit} (UTC).",
        "Share of voice: each brand's mentions by others (its own accounts' posts left out) "
        "over all brands' such mentions, competitors included; a mention naming two brands "
        "counts for both.",
        f"Social NPS counts authors, not posts: each author's mean VADER compound over their "
        f"mentions (reposts, own posts and unscored languages left out) makes them a promoter "
        f"at {d.promoter_min:+.2f} or above, a detractor at {d.detractor_max:+.2f} or below, "
        f"passive between. NPS = % promoters - % detractors; 95% interval ± 1.96 × "
        f"√((p + d - (p - d)²) / n). Few authors give a wide interval.",
        "Risk = strength × √(min(reach / threshold, 100)), strength the complaint likelihood "
        "or -compound, whichever is larger (the ticket's own risk when it has one).",
        "Tickets follow the response desk: a ticket works against its first-response due "
        "time until it has a first response, then against its resolution due time (none "
        "once resolved or dismissed), and is breached once that deadline has passed. First "
        "response: the first reply recorded on the desk, or the resolution when there was "
        "none; acknowledging or assigning a ticket is not one, so such a ticket still awaits "
        "its first response. Median first response: over the first responses made in the "
        "period (dismissed tickets left out), from the ticket's opening.",
    ]
    return "<ul class=note>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")


def _md(value: Any) -> str:
    """Text for a Markdown table cell: no HTML, no Markdown syntax, one line."""
    text = " ".join(("" if value is None else str(value)).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render_markdown(d: Digest, html_path: str) -> str:
    totals = d.ticket_totals()
    first = d.overall_first_response
    lines = [
        f"# earful digest {d.until:%Y-%m-%d}",
        "",
        f"Mentions first seen {_when(d.since)} – {_when(d.until)}: **{d.mentions:,}**. "
        f"Tickets: {totals['opened']:,} opened, {totals['open']:,} open, "
        f"**{totals['breached']:,} breached**, {totals['awaiting']:,} awaiting a first "
        f"response. Median first response: "
        + (format_seconds(first["median_seconds"]) + f" ({first['responses']} tickets)."
           if first and first["responses"] else "none in this period."),
        "",
        "| brand | mentions | share of voice | social NPS [95% CI] |",
        "|---|---:|---:|---:|",
    ]
    nps = {b: r for b, _, r in d.nps}
    for r in d.brands:
        name = _md(r["brand"]) + (" (competitor)" if r["competitor"] else "")
        lines.append(f"| {name} | {r['mentions']:,} | {_pct(r['share'])} | "
                     f"{_md(_nps_words(nps[r['brand']]))} |")
    lines.append(f"| *{ALL_OWN}* | | | {_md(_nps_words(nps[ALL_OWN]))} |")
    if d.risky:
        lines += ["", "**Top risky mentions**", "", "| risk | brand | mention | ticket |",
                  "|---:|---|---|---|"]
        lines += [f"| {r['risk']:.2f} | {_md(r['brand'])} | "
                  f"{_md(_cut(r.get('title') or r.get('text'))[:120])} | "
                  f"{_md(r['ticket_id'] or 'none')} |" for r in d.risky[:5]]
    lines += ["", f"Full report with charts: `{html_path.replace('`', '')}`", ""]
    return "\n".join(lines)
