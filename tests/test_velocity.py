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


def test_reach_is_never_negative_and_always_fits_the_stores_bigint(tmp_path):
    from sql.rows import batch_tables
    from triage.reach import estimate_reach, project_reach

    def mention(source: str, **fields) -> Mention:
        return Mention(source=source, external_id="1", url=None, title=None, text=TEXT,
                       published_at=NOW, **fields)

    # An export line can say anything in range: a negative outlet audience...
    news = estimate_reach(mention("googlenews", author=Author(followers=-500)))
    assert (news.low, news.expected, news.high) == (0, 0, 0)
    # ...or a score whose readers (× 50 at the high end) no BIGINT can hold.
    huge = [estimate_reach(mention("reddit", engagement=Engagement(score=10**18))),
            estimate_reach(mention("hackernews", engagement=Engagement(score=10**17))),
            estimate_reach(mention("x", author=Author(followers=2**62),
                                   engagement=Engagement(reposts=2**62))),
            project_reach(estimate_reach(mention("x", author=Author(followers=2**62))),
                          (0, 0.001), 4)]
    for reach in huge:
        assert 0 <= reach.low <= reach.expected <= reach.high <= 2**63 - 1
        assert reach.projected <= 2**63 - 1
    settings = make_settings(tmp_path)
    item = Pipeline(settings).score_one(mention("reddit", engagement=Engagement(score=10**18)),
                                        source_name="ingest")
    Store(settings.db_path).write_batch(batch_tables([item], [], NOW))  # no OverflowError
