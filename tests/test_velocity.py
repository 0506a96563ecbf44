from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import make_settings
from connectors.base import Author, Engagement, FetchResult, Mention, SourceState
from earful.cycle import SourceOutcome, store_outcome
from sql.store import Store
from triage.pipeline import Pipeline

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TEXT = "@acme my refund still hasn't arrived after three weeks, this is unacceptable"


def poll(reposts: int) -> SourceOutcome:
    mention = Mention(source="x", external_id="42", url="https://x.test/42", title=None,
                      text=TEXT, published_at=NOW - timedelta(hours=2),
                      author=Author(handle="@mid", followers=30_000),
                      engagement=Engagement(reposts=reposts))
    return SourceOutcome("social", "ok", SourceState("social"),
                         FetchResult([mention], SourceState("social")))


def test_growth_between_polls_projects_reach_and_opens_a_ticket(tmp_path):
    settings = make_settings(tmp_path, [{"name": "social", "kind": "rss",
                                         "url": "http://feeds.test/x"}])
    store, pipeline, source = Store(settings.db_path), Pipeline(settings), settings.sources[0]
    first = store_outcome(store, pipeline, source, poll(0), run_id="r1", now=NOW)
    assert first.tickets == 0  # 30k followers × 0.15 = 4,500 < 6,000
    second = store_outcome(store, pipeline, source, poll(30), run_id="r2",
                           now=NOW + timedelta(hours=1))
    assert second.tickets == 1
    (ticket,) = store.query("open_tickets")
    assert "+900/h → ≈ 9,000 projected" in ticket["reason"]  # 30 reposts × 200 × 0.15 in 1h
    with store.connect() as con:
        per_hour, projected, likes = con.execute(
            "SELECT reach_per_hour, reach_projected, reposts FROM mention_scores "
            "JOIN mentions ON id = mention_id").fetchone()
    assert (per_hour, projected, likes) == (900.0, 9000, 30)
