"""The daily digest: `earful report` and the `digest` flow on a synthetic multi-day dataset
(every number computed by hand below) and on the demo database."""

from __future__ import annotations

import json
import math
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from desk.lifecycle import apply_action
from desk.queries import sla_figures
from earful.cli import app
from earful.digest import report_folder, write_report
from earful.digest_data import collect_digest
from earful.digest_metrics import Z_95, net_promoter, parse_since, share_of_voice
from earful.settings import Settings, settings_from_dict
from sql.rows import BRANDS_SCHEMA, MENTIONS_SCHEMA, SCORES_SCHEMA
from sql.store import Store

runner = CliRunner()
CHARTS = ["brand_trend.png", "source_trend.png", "share_of_voice.png", "nps.png"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SINCE = datetime(2026, 11, 7, tzinfo=UTC)
UNTIL = datetime(2026, 11, 10, 12, tzinfo=UTC)
# A competitor whose name would break matplotlib (mathtext '$') and HTML ('<i>').
RIVAL = "Globex $1 <i>"
XSS = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def assert_report_renders(html_path: Path) -> str:
    html = html_path.read_text(encoding="utf-8")
    for chart in CHARTS:
        assert f'src="{chart}"' in html
        path = html_path.parent / chart
        width, height = png_size(path)
        assert width == 900 and height >= 250
        pixels = matplotlib.image.imread(path)  # decodes the whole image
        assert pixels.shape[:2] == (height, width)
        assert pixels.std() > 0  # not a blank picture
    return html


# -- the synthetic dataset --------------------------------------------------------------

def _label(compound: float) -> str:
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def _mention(mid: str, brands: list[str], compound: float, author: str | None, day: int,
             hour: int = 9, **extra: Any) -> dict[str, Any]:
    published = datetime(2026, 11, day, hour, tzinfo=UTC)
    return {"id": mid, "brands": brands, "compound": compound, "author": author,
            "published_at": published,
            "first_seen_at": extra.pop("first_seen_at", published + timedelta(minutes=10)),
            **extra}


MENTIONS = [
    # Acme (own). alice 0.4 P, bob D, carol 0.01 passive, dave -0.2 D, erin P, gina P.
    _mention("a1", ["Acme"], 0.6, "alice", 7),
    _mention("a2", ["Acme"], 0.2, "alice", 8),
    _mention("b1", ["Acme"], -0.5, "bob", 8, 10, complaint=0.8, is_complaint=True,
             reach=24000, text=XSS, url="javascript:alert(1)"),
    _mention("c1", ["Acme"], 0.0, "carol", 8),
    _mention("c2", ["Acme"], 0.02, "carol", 9),
    _mention("d1", ["Acme"], -0.3, "dave", 9, complaint=0.2, reach=600),
    _mention("d2", ["Acme"], -0.1, "dave", 10, 6),
    _mention("e1", ["Acme"], 0.8, "erin", 9),
    _mention("g1", ["Acme"], 0.3, "gina", 10),
    _mention("own", ["Acme"], 0.9, "acme", 9, is_own=True),          # not voice, not NPS
    _mention("rp", ["Acme"], 0.9, "frank", 9, is_repost=True),       # voice, not NPS
    # No author: voice, not NPS; published 40 days before it was found (off the charts).
    _mention("anon", ["Acme"], -0.4, None, 7, first_seen_at=datetime(2026, 11, 7, 8, tzinfo=UTC),
             published_at=UNTIL - timedelta(days=40)),
    # Both own brands, by jane (P for each, counted once in "all own brands").
    _mention("j1", ["Acme", "Initech"], 0.5, "jane", 9),
    # Initech (own): alice D here, hank P at exactly +0.05, ivan D at exactly -0.05.
    _mention("a3", ["Initech"], -0.9, "alice", 9, 8, complaint=0.1, reach=1500),
    _mention("h1", ["Initech"], 0.05, "hank", 8),
    _mention("i1", ["Initech"], -0.05, "ivan", 8),
    # The competitor: kate D, leo D, mia P.
    _mention("k1", [RIVAL], -0.7, "kate", 8, complaint=0.9, is_complaint=True, reach=90000),
    _mention("l1", [RIVAL], -0.2, "leo", 9),
    _mention("m1", [RIVAL], 0.4, "mia", 10),
    # Found before the period: counted nowhere (its old ticket still counts as open).
    _mention("old", ["Acme"], -0.8, "olga", 1),
]

def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# Opened as the pipeline opens them (status open, both deadlines set); everything after
# that goes through the desk's own lifecycle (ACTIONS), so first_response_at and the
# statuses are exactly what the desk writes.
TICKETS = [  # id, mention, brand, priority, opened_at, first-response due, resolution due, risk
    ("T1", "b1", "Acme", "P2", _at(8, 10), _at(8, 14), _at(9, 10), 1.6),
    ("T2", "a3", "Initech", "P1", _at(9, 8), _at(9, 9), _at(9, 16), 0.45),
    ("T3", "d1", "Acme", "P3", _at(10, 6), _at(11, 6), _at(13, 6), 0.1),
    ("T4", "old", "Acme", "P3", _at(1, 10), _at(2, 10), _at(4, 10), 0.7),
    ("T5", "d2", "Acme", "P2", _at(10, 6, 10), _at(10, 10, 10), _at(11, 6, 10), 0.05),
    ("T6", "c2", "Acme", "P4", _at(9, 9, 10), _at(10, 9, 10), _at(16, 9, 10), 0.02),
]

ACTIONS = [  # ticket, when, actor, desk action, its arguments (desk.lifecycle.apply_action)
    ("T4", _at(1, 11), "sam", "acknowledge", {}),           # acknowledged, never answered
    ("T1", _at(8, 10, 30), "sam", "acknowledge", {}),       # not a first response
    ("T1", _at(8, 11), "sam", "respond", {"reply": "Sorry Bob, on it"}),    # 3600 s, in time
    ("T2", _at(9, 9, 30), "pat", "respond", {"reply": "Fixed, alice"}),     # 5400 s, late
    ("T6", _at(9, 9, 40), "sam", "respond", {"reply": "Thanks carol"}),     # 1800 s ...
    ("T2", _at(9, 10), "pat", "resolve", {"root_cause": "billing"}),
    ("T6", _at(9, 10), "sam", "dismiss", {"dismiss_reason": "not_complaint"}),  # ... dismissed
    ("T3", _at(10, 6, 30), "sam", "assign", {"assignee": "sam"}),   # not a first response
    ("T5", _at(10, 9, 10), "pat", "resolve", {"root_cause": "delivery"}),  # no reply: 10800 s
]


def _seed(store: Store, settings: Settings) -> None:
    mentions, scores, brands = [], [], []
    for m in MENTIONS:
        author = m["author"]
        mentions.append({
            "id": m["id"], "source": "mastodon" if author else "rss", "external_id": m["id"],
            "source_name": "social" if author else "news", "url": m.get("url"),
            "title": None, "text": m.get("text", f"about {m['brands'][0]}: {m['id']}"),
            "author_id": f"u-{author}" if author else None,
            "author_handle": f"@{author}" if author else None, "author_name": author,
            "published_at": m["published_at"], "is_repost": m.get("is_repost", False),
            "is_own": m.get("is_own", False), "first_seen_at": m["first_seen_at"],
            "last_seen_at": m["first_seen_at"],
        })
        compound = m["compound"]
        scores.append({
            "mention_id": m["id"], "compound": compound, "positive": max(compound, 0.0),
            "neutral": 1 - abs(compound), "negative": max(-compound, 0.0),
            "label": _label(compound), "reach_low": 0, "reach_expected": m.get("reach", 100),
            "reach_high": 0, "reach_method": "test", "scored_at": m["first_seen_at"],
            "complaint": m.get("complaint", 0.0), "is_complaint": m.get("is_complaint", False),
        })
        brands += [{"mention_id": m["id"], "brand": b, "matched_terms": [b]}
                   for b in m["brands"]]
    tables = {
        "mentions": pa.Table.from_pylist(mentions, schema=MENTIONS_SCHEMA),
        "mention_scores": pa.Table.from_pylist(scores, schema=SCORES_SCHEMA),
        "mention_brands": pa.Table.from_pylist(brands, schema=BRANDS_SCHEMA),
    }
    with store.transaction() as con:
        for name, table in tables.items():
            con.register("seed", table)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM seed")
            con.unregister("seed")
        for tid, mid, brand, priority, opened, due, resolution_due, risk in TICKETS:
            con.execute(
                "INSERT INTO tickets (id, mention_id, brand, kind, status, priority, risk, "
                "reason, reach, opened_at, due_at, resolution_due_at, updated_at) "
                "VALUES (?, ?, ?, 'complaint', 'open', ?, ?, 'test', 100, ?, ?, ?, ?)",
                [tid, mid, brand, priority, risk, opened, due, resolution_due, opened])
            con.execute("INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action) "
                        "VALUES (?, ?, ?, 'earful', 'opened')", [f"{tid}-opened", tid, opened])
    for tid, when, actor, action, args in ACTIONS:
        apply_action(store, settings, tid, action, actor=actor, now=when, **args)


@pytest.fixture
def synthetic(tmp_path):
    settings = settings_from_dict({
        "database": {"path": str(tmp_path / "digest.duckdb")},
        "brands": [{"name": "Acme", "terms": ["Acme"]}, {"name": "Initech", "terms": ["Initech"]},
                   {"name": RIVAL, "terms": ["Globex"], "competitor": True},
                   {"name": "Hooli", "terms": ["Hooli"]}],  # configured, never mentioned
    })
    store = Store(settings.db_path)
    store.migrate()
    _seed(store, settings)
    return settings


def _ci(p: float, d: float, n: int) -> tuple[float, float, float, float]:
    """NPS, SE, CI low, CI high in points, written out from the multinomial formula."""
    se = math.sqrt((p * (1 - p) + d * (1 - d) + 2 * p * d) / n)
    return (100 * (p - d), 100 * se, 100 * max(p - d - Z_95 * se, -1),
            100 * min(p - d + Z_95 * se, 1))


def test_report_on_a_synthetic_multi_day_dataset(synthetic, tmp_path):
    report = write_report(synthetic, since="2026-11-07", out=tmp_path / "out", until=UNTIL)
    assert report.folder == tmp_path / "out" / "digest-2026-11-10"
    html = assert_report_renders(report.html)
    numbers = json.loads((report.folder / "digest.json").read_text())
    assert report.digest.bucket == "day"   # three and a half days of posts
    assert numbers["mentions"] == 19       # 'old' was found before the period
    assert numbers["own_posts"] == 1
    assert numbers["off_chart"] == 1       # 'anon', published 40 days earlier

    # Share of voice: mentions by others. Acme 12 (13 less its own post; the repost and the
    # anonymous one count), Initech 4 (jane's joint mention counts for both), Globex 3.
    share = {s["brand"]: (s["voice"], s["share"]) for s in numbers["share_of_voice"]}
    assert share == {"Acme": (12, pytest.approx(12 / 19)),
                     "Initech": (4, pytest.approx(4 / 19)),
                     RIVAL: (3, pytest.approx(3 / 19)), "Hooli": (0, 0.0)}
    assert numbers["competitors"] == [RIVAL]

    nps = {row["brand"]: row for row in numbers["nps"]}
    expected = {
        # alice (0.6, 0.2 → 0.4) P, bob D, carol (0, 0.02 → 0.01) passive, dave (-0.3, -0.1)
        # D, erin P, gina P, jane P: 7 authors, 4 P, 2 D.
        "Acme": (7, 4, 1, 2),
        # alice -0.9 D, hank +0.05 P (the cut-off is inclusive), ivan -0.05 D, jane P.
        "Initech": (4, 2, 0, 2),
        RIVAL: (3, 1, 0, 2),
        # alice over both brands: (0.6 + 0.2 - 0.9) / 3 < 0.05 → passive; jane once.
        # P: erin gina jane hank; D: bob dave ivan; passive: alice carol.
        "all own brands": (9, 4, 2, 3),
    }
    for brand, (n, promoters, passives, detractors) in expected.items():
        row = nps[brand]
        assert (row["authors"], row["promoters"], row["passives"], row["detractors"]) == (
            n, promoters, passives, detractors), brand
        score, se, low, high = _ci(promoters / n, detractors / n, n)
        assert row["nps"] == pytest.approx(score)
        assert row["se"] == pytest.approx(se)
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    # The same figures, by hand: Acme NPS = 4/7 - 2/7, SE² = (6/7 - (2/7)²) / 7 = 38/343.
    assert nps["Acme"]["nps"] == pytest.approx(100 * 2 / 7)
    assert nps["Acme"]["se"] == pytest.approx(100 * math.sqrt(38 / 343))
    assert nps["all own brands"]["se"] == pytest.approx(100 * math.sqrt(62 / 729))
    assert (nps["Initech"]["ci_low"], nps["Initech"]["ci_high"]) == (
        pytest.approx(-100 * Z_95 * 0.5), pytest.approx(100 * Z_95 * 0.5))
    assert nps["Hooli"]["authors"] == 0 and nps["Hooli"]["nps"] is None

    # Tickets at UNTIL, by the desk's definitions. Open: T1 (responded), T3, T4. Breached,
    # past the deadline that applies: T4 against its first-response due (acknowledged is
    # not answered), T1 against its resolution due (answered in time, not resolved by
    # 9 Nov 10:00); T3 is within its first-response due. Awaiting a first response: T3
    # (assigned only) and T4 (acknowledged only). Opened in the period: all but T4.
    assert numbers["tickets"] == {"open": 3, "breached": 2, "awaiting": 2, "opened": 5}
    by_row = {(r["brand"], r["priority"]): (r["open"], r["breached"], r["awaiting"], r["opened"])
              for r in report.digest.tickets}
    assert by_row == {("Acme", "P2"): (1, 1, 0, 2), ("Acme", "P3"): (2, 1, 2, 1),
                      ("Acme", "P4"): (0, 0, 0, 1), ("Initech", "P1"): (0, 0, 0, 1)}
    breached = [(b["ticket_id"], b["deadline"], b["due_at"], b["overdue_seconds"])
                for b in report.digest.breached]
    assert breached == [("T4", "first_response", _at(2, 10), (8 * 24 + 2) * 3600),
                        ("T1", "resolution", _at(9, 10), 26 * 3600)]
    assert [(b["ticket_id"], b["deadline"]) for b in numbers["breached_tickets"]] == [
        ("T4", "first_response"), ("T1", "resolution")]
    # First responses made in the period (tickets.first_response_at - opened_at): T1's reply
    # after 3600 s (its acknowledgement at 1800 s does not count), T2's after 5400 s, T5's
    # resolution without a reply after 10800 s. T6 answered, then was dismissed: left out,
    # as in the desk's SLA figures. T4 was never answered.
    assert numbers["median_first_response_s"] == pytest.approx(5400)
    assert numbers["first_responses"] == 3
    per_priority = {r["priority"]: (r["responses"], r["median_seconds"])
                    for r in report.digest.first_response}
    assert per_priority == {None: (3, 5400), "P1": (1, 5400), "P2": (2, 7200)}

    # Riskiest own-brand mentions: the ticket's risk when ticketed, else strength ×
    # √(reach / 6000): a3 0.45 (ticketed), d1 ticketed 0.1, anon 0.4 × √(100/6000).
    risky = [(r["mention_id"], round(r["risk"], 4)) for r in report.digest.risky]
    assert risky[:2] == [("b1", 1.6), ("a3", 0.45)]
    assert ("anon", round(0.4 * math.sqrt(100 / 6000), 4)) in risky
    assert "k1" not in dict(risky)   # the competitor's complaint is not our risk

    # Everything from mentions and config is escaped; no javascript: link survives.
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "onerror=alert(1)>" not in html and "javascript:" not in html
    assert "Globex $1 &lt;i&gt;" in html
    assert "1.5 h" in html and "2.0 h" in html    # first response per priority
    assert "<td>first response</td>" in html and "<td>resolution</td>" in html  # deadlines
    assert "8.1 d" in html and "26.0 h" in html   # overdue by
    md = (report.folder / "digest.md").read_text()
    assert md == report.markdown and "<script>" not in md and "Globex $1 &lt;i&gt;" in md


def assert_digest_agrees_with_the_desk(store: Store, settings: Settings, now: datetime,
                                      days: int) -> dict[str, Any]:
    """The digest of the last `days` up to `now` and the desk's SLA figures for the same
    period: the same median first response and the same open breaches, overall and per
    priority."""
    digest = collect_digest(store, settings, now - timedelta(days=days), now)
    desk = sla_figures(store, settings, now, days=days)
    first = {r["priority"]: r for r in digest.first_response}

    def minutes(priority: str | None) -> float | None:
        row = first.get(priority)
        return round(row["median_seconds"] / 60, 1) if row and row["responses"] else None

    def breaches(priority: str | None) -> int:
        return sum(int(r["breached"]) for r in digest.tickets
                   if priority is None or r["priority"] == priority)

    for priority, figures in [(None, desk), *desk["by_priority"].items()]:
        assert minutes(priority) == figures["median_first_response_minutes"], priority
        assert (first[priority]["responses"] if priority in first else 0) == \
            figures["responded"], priority
        assert breaches(priority) == figures["open_breaches"], priority
    assert len(digest.breached) == desk["open_breaches"]
    return desk


def test_the_digest_agrees_with_the_desks_sla_figures(synthetic):
    # Four days to UNTIL: the tickets opened then (the desk's cohort) are the ones first
    # answered then (the digest's): T1, T2, T5; T6 is dismissed, T3 unanswered, T4 older.
    desk = assert_digest_agrees_with_the_desk(Store(synthetic.db_path), synthetic, UNTIL, 4)
    assert desk["median_first_response_minutes"] == 90.0 and desk["open_breaches"] == 2
    assert desk["by_priority"]["P2"]["median_first_response_minutes"] == 120.0


def test_the_digest_agrees_with_the_desk_on_tickets_it_opened(tmp_path):
    from desk_support import NOW, desk_settings, mention, write

    from desk.queries import queue

    settings = desk_settings()
    store = Store(tmp_path / "desk.duckdb")
    write(store, settings, [mention(str(n), handle=f"@user{n}", name=f"User {n}")
                            for n in range(5)])
    ids = [r["ticket_id"] for r in queue(store, settings, now=NOW)]
    assert len(ids) == 5  # all P2: first response within 4 h
    act = [(ids[0], "respond", NOW + timedelta(minutes=30), {"reply": "Hi!"}),
           (ids[1], "acknowledge", NOW + timedelta(minutes=10), {}),
           (ids[1], "respond", NOW + timedelta(hours=5), {"reply": "Hi, sorry!"}),
           (ids[2], "respond", NOW + timedelta(minutes=5), {"reply": "Spam?"}),
           (ids[2], "dismiss", NOW + timedelta(hours=1), {"dismiss_reason": "spam"}),
           (ids[3], "acknowledge", NOW + timedelta(minutes=20), {})]
    for tid, action, when, args in act:
        apply_action(store, settings, tid, action, actor="li", now=when, **args)
    later = NOW + timedelta(hours=6)
    desk = assert_digest_agrees_with_the_desk(store, settings, later, 30)
    assert desk["median_first_response_minutes"] == 165.0  # (30 + 300) / 2
    assert desk["open_breaches"] == 2   # ids[3] (acknowledged only) and ids[4]
    digest = collect_digest(store, settings, later - timedelta(days=1), later)
    assert digest.ticket_totals()["awaiting"] == 2


def test_a_second_run_replaces_the_days_report(synthetic, tmp_path):
    out = tmp_path / "out"
    first = write_report(synthetic, since="2026-11-07", out=out, until=UNTIL)
    second = write_report(synthetic, since=SINCE, out=out, until=UNTIL + timedelta(hours=1))
    assert first.folder == second.folder
    assert sorted(p.name for p in out.iterdir()) == ["digest-2026-11-10"]  # no temp left
    assert sorted(p.name for p in second.folder.iterdir()) == sorted(
        [*CHARTS, "digest.json", "digest.md", "index.html"])


def test_an_empty_period_still_renders(synthetic, tmp_path):
    report = write_report(synthetic, since="2026-10-01", out=tmp_path,
                          until=datetime(2026, 10, 2, tzinfo=UTC))
    html = assert_report_renders(report.html)
    assert report.digest.mentions == 0
    assert "No first response in this period" in html
    assert report.folder == report_folder(tmp_path, datetime(2026, 10, 2, tzinfo=UTC))


def test_hourly_buckets_for_a_day_of_mentions(synthetic, tmp_path):
    report = write_report(synthetic, since="2026-11-09T00:00", out=tmp_path, until=UNTIL)
    assert report.digest.bucket == "hour"
    assert {p.bucket.hour for p in report.digest.brand_trend} == {6, 8, 9}
    assert_report_renders(report.html)


def test_nps_and_share_of_voice_by_hand():
    # 10 authors: 5 promoters, 3 passives, 2 detractors → NPS 30; SE² = (0.7 - 0.09) / 10.
    result = net_promoter([0.9] * 5 + [0.0] * 3 + [-0.6] * 2, 0.05, -0.05)
    assert (result.promoters, result.passives, result.detractors) == (5, 3, 2)
    assert result.nps == pytest.approx(30.0)
    assert result.se == pytest.approx(100 * math.sqrt(0.061))
    assert result.ci_low == pytest.approx(30 - 1.959964 * 100 * math.sqrt(0.061), abs=1e-3)
    assert net_promoter([], 0.05, -0.05).nps is None
    rows = share_of_voice({"Acme": 30, "Globex": 10}, ["Globex"])
    assert [(r.brand, r.competitor, r.share) for r in rows] == [
        ("Acme", False, 0.75), ("Globex", True, 0.25)]


def test_since_accepts_durations_and_dates():
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-11-20", now) == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2026-11-20T08:30+01:00", now) == datetime(2026, 11, 20, 7, 30,
                                                                  tzinfo=UTC)
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday", now)


def test_report_command_explains_a_missing_database(tmp_path):
    result = runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no database" in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_report_on_the_demo_database(tmp_path):
    db = tmp_path / "demo.duckdb"
    assert runner.invoke(app, ["demo", "--db", str(db)]).exit_code == 0
    out = tmp_path / "reports"
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(out)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    assert_report_renders(folder / "index.html")
    numbers = json.loads((folder / "digest.json").read_text())
    # The demo's 6 mentions: 4 name Nimbus Mobile, 2 Larkspur Coffee; its two tickets are
    # open, not yet due, unanswered.
    assert numbers["mentions"] == 6
    assert {s["brand"]: s["voice"] for s in numbers["share_of_voice"]} == {
        "Nimbus Mobile": 4, "Larkspur Coffee": 2}
    assert numbers["tickets"] == {"open": 2, "breached": 0, "awaiting": 2, "opened": 2}
    assert numbers["median_first_response_s"] is None
    own = numbers["nps"][0]
    assert own["brand"] == "all own brands" and own["authors"] >= 1
    assert own["nps"] == pytest.approx(100 * (own["promoters"] - own["detractors"])
                                       / own["authors"])


@pytest.mark.usefixtures("prefect_harness")
def test_digest_flow_writes_the_report_and_publishes_an_artifact(synthetic, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.digest import ARTIFACT_KEY, digest, publish_markdown

    summary = digest(db=str(synthetic.db_path), since="2026-11-07", out=str(tmp_path / "o"))
    assert_report_renders(Path(summary["html"]))
    assert summary["mentions"] == 19 and summary["artifact_id"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])))
    assert any(str(a.id) == summary["artifact_id"] for a in artifacts)
    (mine,) = [a for a in artifacts if str(a.id) == summary["artifact_id"]]
    assert mine.type == "markdown" and "earful digest" in mine.data
    assert "<script>" not in mine.data and "&lt;script&gt;" in mine.data
    # Outside a flow run there is nothing to attach an artifact to: no error, no artifact.
    assert publish_markdown("# x", "outside") is None


def test_busy_time_charts_keep_eight_series_and_sum_the_rest():
    from earful.digest_charts import MAX_SERIES, _top_series
    from earful.digest_data import TrendPoint

    day = datetime(2026, 11, 9, tzinfo=UTC)
    points = [TrendPoint(day, f"source-{i:02d}", 20 - i, 0, 0.1) for i in range(12)]
    kept = _top_series(points)
    names = [p.name for p in kept]
    assert names[:MAX_SERIES] == [f"source-{i:02d}" for i in range(MAX_SERIES)]
    (other,) = [p for p in kept if p.name == "other"]
    assert other.mentions == 12 + 11 + 10 + 9 and other.mean_compound == pytest.approx(0.1)
