"""Source health: failing several runs in a row, or silent far beyond its usual cadence,
raises one operational alert per episode, shown by `earful sources`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from conftest import make_settings
from connectors.base import FetchResult, Mention, SourceState
from earful.cli import app
from earful.cycle import SourceOutcome, _failed, raise_health_alerts, store_outcome
from sql.store import Store
from triage.health import SourceActivity, check_source
from triage.pipeline import Pipeline

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def activity(**changes) -> SourceActivity:
    values = dict(source_name="feed", error_count=0, last_error=None, failing_since=None,
                  recent_mentions=0, median_gap_hours=None, last_new_at=None)
    values.update(changes)
    return SourceActivity(**values)


def test_three_failures_in_a_row_raise_one_alert_per_streak():
    assert check_source(activity(error_count=2), QUARTER, NOW) == []
    since = NOW - timedelta(hours=1)
    (alert,) = check_source(activity(error_count=3, last_error="HTTP 500",
                                     failing_since=since), QUARTER, NOW)
    assert alert.kind == "source_failing" and "HTTP 500" in alert.message
    later = check_source(activity(error_count=5, failing_since=since), QUARTER,
                         NOW + timedelta(hours=2))
    assert [a.id for a in later] == [alert.id]  # the same episode: the same alert


def test_silence_counts_against_the_sources_own_cadence():
    busy = activity(recent_mentions=40, median_gap_hours=0.5,
                    last_new_at=NOW - timedelta(hours=3))
    (alert,) = check_source(busy, QUARTER, NOW)
    assert alert.kind == "source_silent" and "every 0.5 h" in alert.message
    # A source that brings something every few days is not silent after a day...
    slow = activity(recent_mentions=6, median_gap_hours=48, last_new_at=NOW - timedelta(days=1))
    assert check_source(slow, QUARTER, NOW) == []
    # ...and one without enough history is never judged.
    assert check_source(activity(recent_mentions=2, median_gap_hours=0.1,
                                 last_new_at=NOW - timedelta(days=3)), QUARTER, NOW) == []


def test_failing_source_alert_is_stored_once_and_listed(tmp_path):
    settings = make_settings(tmp_path, [
        {"name": "flaky", "kind": "rss", "url": "https://feeds.test/flaky.xml"},
        {"name": "fine", "kind": "rss", "url": "https://feeds.test/fine.xml"},
    ])
    flaky, fine = settings.sources
    store, pipeline = Store(settings.db_path), Pipeline(settings)
    state = SourceState("flaky")
    for run in range(3):
        now = NOW + timedelta(minutes=15 * run)
        store.start_run(f"r{run}", "listen")
        outcome = _failed(flaky, state, settings, now, "flaky: HTTP 503 from feeds.test")
        state = outcome.state
        store_outcome(store, pipeline, flaky, outcome, run_id=f"r{run}", now=now)
        mention = Mention(source="rss", external_id=f"e{run}", url=None, title=None,
                          text="Acme is fine", published_at=now)
        ok = SourceOutcome("fine", "ok", SourceState("fine").succeeded(now, QUARTER),
                           FetchResult(mentions=[mention], state=SourceState("fine")))
        store_outcome(store, pipeline, fine, ok, run_id=f"r{run}", now=now)

    first = raise_health_alerts(store, settings, NOW + timedelta(hours=1))
    again = raise_health_alerts(store, settings, NOW + timedelta(hours=2))
    assert len(first) == 1 and "flaky has failed 3 polls in a row" in first[0]
    assert again == []
    with store.connect() as con:
        rows = con.execute("SELECT source_name, kind, brand FROM alerts").fetchall()
    assert rows == [("flaky", "source_failing", None)]

    result = CliRunner().invoke(app, ["sources", "--json", "--db", str(settings.db_path),
                                      "--config", str(_config(tmp_path))])
    assert result.exit_code == 0, result.output
    listed = {row["source"]: row for row in json.loads(result.output)}
    assert listed["flaky"]["error_count"] == 3 and "HTTP 503" in listed["flaky"]["last_error"]
    assert listed["fine"]["health"] == "ok" and listed["fine"]["mentions"] == 3
    assert listed["never"]["health"] == "never polled"


def _config(tmp_path):
    path = tmp_path / "earful.toml"
    path.write_text(
        '[[brands]]\nname = "Acme"\nterms = ["Acme"]\n\n'
        + "".join(f'[[sources]]\nname = "{name}"\nkind = "rss"\n'
                  f'url = "https://feeds.test/{name}.xml"\n\n'
                  for name in ("flaky", "fine", "never")))
    return path


def _poll(store, pipeline, source, at, status, mentions=()):
    """One listen run at `at` that polled `source` with this outcome."""
    run_id = f"r-{at:%Y%m%d%H%M}-{status}"
    store.start_run(run_id, "listen")
    with store.connect() as con:  # start_run stamps the wall clock: put it at `at`
        con.execute("UPDATE runs SET started_at = ? WHERE id = ?", [at, run_id])
    state = SourceState(source.name)
    if status == "deferred":  # rate limited: not due again until the limit resets
        state = replace(state, checked_at=at, next_check_at=at + timedelta(hours=12))
        outcome = SourceOutcome(source.name, status, state, message="rate limited")
    else:
        outcome = SourceOutcome(source.name, status, state.succeeded(at, QUARTER),
                                FetchResult(mentions=list(mentions), state=state))
    store_outcome(store, pipeline, source, outcome, run_id=run_id, now=at)


def test_a_source_that_is_not_due_is_not_silent(tmp_path):
    settings = make_settings(tmp_path, [
        {"name": "social", "kind": "rss", "url": "https://feeds.test/social.xml"}])
    (source,) = settings.sources
    store, pipeline = Store(settings.db_path), Pipeline(settings)
    for step in range(7):  # a new mention every 30 min until 3 h ago
        at = NOW - timedelta(hours=6) + timedelta(minutes=30 * step)
        _poll(store, pipeline, source, at, "ok", [Mention(
            source="rss", external_id=f"e{step}", url=None, title=None,
            text="Acme is fine", published_at=at)])
    # Then its rate limit ran out until tonight: nobody asked it anything for 3 hours.
    _poll(store, pipeline, source, NOW - timedelta(minutes=165), "deferred")
    assert raise_health_alerts(store, settings, NOW) == []

    # Polled and answering, with nothing new for as long: that is silence.
    for step in range(1, 4):
        _poll(store, pipeline, source, NOW + timedelta(minutes=15 * step), "not_modified")
    (alert,) = raise_health_alerts(store, settings, NOW + timedelta(minutes=45))
    assert "social has brought no new mention" in alert


def test_a_slow_source_gone_quiet_is_still_judged_by_its_cadence(tmp_path):
    # One new mention every two days for a month, then nothing for ten days: far beyond
    # four times its usual gap (8 days), though the last 14 days hold only 2 arrivals.
    settings = make_settings(tmp_path, [
        {"name": "reviews", "kind": "rss", "url": "https://feeds.test/reviews.xml"}])
    (source,) = settings.sources
    store, pipeline = Store(settings.db_path), Pipeline(settings)
    last = NOW - timedelta(days=10)
    for step in range(15):
        at = last - timedelta(days=2 * step)
        _poll(store, pipeline, source, at, "ok", [Mention(
            source="rss", external_id=f"r{step}", url=None, title=None,
            text="Acme review", published_at=at)])
    for day in range(9, -1, -1):  # polled every day since, nothing new
        _poll(store, pipeline, source, NOW - timedelta(days=day, minutes=1), "not_modified")
    (alert,) = raise_health_alerts(store, settings, NOW)
    assert "reviews has brought no new mention for 240 h" in alert
    assert "every 48.0 h" in alert
