"""The hourly follow-up: re-poll open tickets' mentions through a connector that can
(a real HTTP refresh against a loopback server), re-evaluate so priority rises, and the
desk's optional steps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from refresh_support import fixture_route

from conftest import make_settings, write_config
from connectors.base import (
    Author,
    Connector,
    Engagement,
    FetchResult,
    Mention,
    SourceSpec,
    SourceState,
)
from connectors.errors import RetriableError
from connectors.registry import CONNECTORS
from earful.cycle import SourceOutcome, fetch_source, store_outcome
from earful.fixtureserver import FixtureServer, Route
from earful.followup import (
    load_open_mentions,
    reevaluate,
    refresh_engagement,
)
from scenarios import scenarios
from sql.store import Store
from triage.pipeline import Pipeline

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TEXT = "@acme my refund still hasn't arrived after three weeks, this is unacceptable"


def mention(reposts: int = 0) -> Mention:
    return Mention(source="refreshable", external_id="42", url="https://social.test/42",
                   title=None, text=TEXT, published_at=NOW - timedelta(hours=2),
                   author=Author(handle="@loud", followers=50_000),
                   engagement=Engagement(reposts=reposts), raw={"id": "42"})


def _refresh(client: httpx.Client, spec: SourceSpec, mentions: list[Mention]) -> list[Mention]:
    """A connector's refresh as a real one would do it: one GET per post, by id."""
    out = []
    for m in mentions:
        response = client.get(f"{spec.url}/posts/{m.external_id}")
        if response.status_code >= 500:
            raise RetriableError(f"{spec.name}: HTTP {response.status_code}")
        body = response.json()
        out.append(replace(m, engagement=Engagement(reposts=body["reposts"])))
    return out


def _fetch(client: httpx.Client, spec: SourceSpec, state: SourceState) -> FetchResult:
    return FetchResult([], state)


@pytest.fixture
def refreshable(monkeypatch):
    monkeypatch.setitem(CONNECTORS, "refreshable", Connector(
        name="refreshable", summary="test connector with refresh", fetch=_fetch,
        refresh=_refresh))


@pytest.fixture
def posts():
    server = FixtureServer({"/api/posts/42": Route(json.dumps({"reposts": 100}).encode(),
                                                   content_type="application/json",
                                                   conditional=False)}).start()
    yield server
    server.stop()


def seeded(tmp_path, url: str, now: datetime = NOW):
    settings = make_settings(tmp_path, [{"name": "social", "kind": "refreshable", "url": url}])
    store, pipeline = Store(settings.db_path), Pipeline(settings)
    outcome = SourceOutcome("social", "ok", SourceState("social"),
                            FetchResult([mention()], SourceState("social")))
    report = store_outcome(store, pipeline, settings.sources[0], outcome, run_id="r1",
                           now=now - timedelta(hours=1))
    assert report.tickets == 1
    return settings, store, pipeline


def table_counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in ("mentions", "tickets", "ticket_events")}


def test_reevaluating_unchanged_mentions_changes_nothing(tmp_path, refreshable):
    _, store, pipeline = seeded(tmp_path, "http://127.0.0.1:9/api")
    (item,) = load_open_mentions(store)
    assert item.mention == mention() and item.source_name == "social"  # rebuilt as stored
    before = table_counts(store)
    report = reevaluate(store, pipeline, [item], NOW)
    assert (report.mentions, report.raised, report.new_tickets) == (1, {}, 0)
    assert table_counts(store) == before


def test_refreshed_engagement_raises_priority_once(tmp_path, refreshable, posts):
    settings, store, pipeline = seeded(tmp_path, posts.url("/api"))
    (ticket,) = store.query("open_tickets")
    items = load_open_mentions(store)
    with httpx.Client() as client:
        fresh, report = refresh_engagement(client, settings, items)
    assert (report.refreshed, report.errors, report.unsupported) == (1, [], [])
    assert fresh[0].mention.engagement.reposts == 100
    result = reevaluate(store, pipeline, fresh, NOW)
    assert result.raised == {ticket["id"]: (ticket["priority"], "P1")}
    (after,) = store.query("open_tickets")
    assert after["priority"] == "P1" and after["due_at"] < ticket["due_at"]
    with store.connect() as con:
        assert con.execute("SELECT reposts FROM mentions").fetchone() == (100,)
        assert con.execute("SELECT action FROM ticket_events ORDER BY occurred_at").fetchall() \
            == [("opened",), ("priority_raised",)]
    counts = table_counts(store)
    again = reevaluate(store, pipeline, load_open_mentions(store), NOW + timedelta(hours=1))
    assert again.raised == {} and table_counts(store) == counts


def test_a_failing_refresh_keeps_the_stored_mentions(tmp_path, refreshable):
    server = FixtureServer({"/api/posts/42": Route(b"down", status=503,
                                                   conditional=False)}).start()
    try:
        settings, store, _ = seeded(tmp_path, server.url("/api"))
        items = load_open_mentions(store)
        with httpx.Client() as client:
            fresh, report = refresh_engagement(client, settings, items)
    finally:
        server.stop()
    assert report.refreshed == 0 and fresh == items
    assert report.errors == ["social: social: HTTP 503"]


def test_a_connector_without_refresh_is_reported(tmp_path):
    settings = make_settings(tmp_path, [{"name": "feed", "kind": "rss",
                                         "url": "http://127.0.0.1:9/feed.xml"}])
    store = Store(settings.db_path)
    outcome = SourceOutcome("feed", "ok", SourceState("feed"),
                            FetchResult([replace(mention(), source="rss")], SourceState("feed")))
    store_outcome(store, Pipeline(settings), settings.sources[0], outcome, run_id="r1",
                  now=NOW)
    items = load_open_mentions(store)
    assert len(items) == 1
    with httpx.Client() as client:
        fresh, report = refresh_engagement(client, settings, items)
    assert report.unsupported == ["feed"] and fresh == items


@pytest.mark.usefixtures("prefect_harness")
def test_followup_flow_runs_every_step(tmp_path, refreshable, posts):
    from flows.followup import followup

    # Seeded an hour before the real clock: the flow re-evaluates at datetime.now().
    settings, store, _ = seeded(tmp_path, posts.url("/api"), now=datetime.now(UTC))
    (ticket,) = store.query("open_tickets")
    config = write_config(tmp_path, f"""
[database]
path = "{settings.db_path}"

[[brands]]
name = "Acme"
terms = ["Acme"]
handles = ["@acme"]

[[sources]]
name = "social"
kind = "refreshable"
url = "{posts.url('/api')}"
""")
    summary = followup(config=str(config))
    assert summary["open_mentions"] == 1
    assert summary["refresh"]["refreshed"] == 1
    assert summary["reevaluation"]["raised"] == {ticket["id"]: f"{ticket['priority']}→P1"}
    assert store.query("open_tickets")[0]["priority"] == "P1"
    assert summary["sla escalation"] == "0 breached, 0 escalated"
    assert summary["rescue checks"] == "0 watched, 0 rescued, 0 followed up without a rescue"
    assert summary["notifications"] == {"enqueued": 0}  # the outbox step ran (no channels)


@pytest.mark.usefixtures("prefect_harness")
def test_followup_flow_refreshes_a_real_connector_from_its_lookup_fixture(tmp_path,
                                                                         monkeypatch):
    """Bluesky end to end: listen's fetch and store from the search fixtures an hour ago,
    then the followup flow re-reads the open ticket's post with app.bsky.feed.getPosts
    (posts.json: more likes and reposts), so its reach grows and its priority rises."""
    from flows.followup import followup

    (scenario,) = [s for s in scenarios() if s.name == "bluesky"]
    for key, value in scenario.env.items():
        monkeypatch.setenv(key, value)
    server = FixtureServer(scenario.routes()).start()
    server.routes[scenario.prefix + "/xrpc/app.bsky.feed.getPosts"] = fixture_route(
        "bluesky", "posts.json")
    try:
        source = scenario.source(server.base_url)
        settings = make_settings(tmp_path, [source])
        store, pipeline = Store(settings.db_path), Pipeline(settings)
        listened = datetime.now(UTC) - timedelta(hours=1)
        with httpx.Client() as client:  # what listen does for each due source
            outcome = fetch_source(client, settings.sources[0], SourceState(source["name"]),
                                   settings, now=listened)
        assert store_outcome(store, pipeline, settings.sources[0], outcome, run_id="r1",
                             now=listened).tickets == 1
        (ticket,) = store.query("open_tickets")
        carol = "at://did:plc:carolexampleaaaaaaaaaaaa/app.bsky.feed.post/3lbac3fw6ts2p"
        with store.connect() as con:
            before = con.execute(
                "SELECT s.reach_projected FROM mention_scores s JOIN mentions m "
                "ON m.id = s.mention_id WHERE m.external_id = ?", [carol]).fetchone()[0]
        config = write_config(tmp_path, f"""
[database]
path = "{settings.db_path}"

[[brands]]
name = "Acme"
terms = ["Acme"]
aliases = ["Acme Cloud", "#acme"]
exclude = ["acme of skill"]
handles = ["@acme"]

[[brands]]
name = "Globex"
terms = ["Globex"]
handles = ["@globex"]

[[sources]]
name = "{source['name']}"
kind = "bluesky"
url = "{source['url']}"
""")
        summary = followup(config=str(config))
        asked = [target for target, _ in server.requests if "getPosts" in target]
    finally:
        server.stop()
    assert summary["refresh"] == {"refreshed": 1, "errors": [], "unsupported": []}
    assert len(asked) == 1 and "uris=at%3A%2F%2Fdid%3Aplc%3Acarol" in asked[0]
    assert summary["reevaluation"]["raised"] == {ticket["id"]: f"{ticket['priority']}→P1"}
    with store.connect() as con:
        likes, reposts, projected, per_hour = con.execute(
            "SELECT m.likes, m.reposts, s.reach_projected, s.reach_per_hour FROM mentions m "
            "JOIN mention_scores s ON m.id = s.mention_id WHERE m.external_id = ?",
            [carol]).fetchone()
    assert (likes, reposts) == (410, 150 + 12)
    assert per_hour > 0 and projected > before


def test_an_unexpected_refresh_error_is_that_sources_error(tmp_path, monkeypatch):
    """A connector bug in refresh (a payload it cannot parse) is reported like a fetch's
    unexpected error: the stored mentions are kept, and the follow-up goes on (SLA escalation
    must not wait for a connector fix)."""
    def broken(client, spec, mentions):
        raise KeyError("reposts")

    monkeypatch.setitem(CONNECTORS, "refreshable", Connector(
        name="refreshable", summary="test connector whose refresh breaks", fetch=_fetch,
        refresh=broken))
    settings, store, _ = seeded(tmp_path, "http://127.0.0.1:9/api")
    items = load_open_mentions(store)
    with httpx.Client() as client:
        fresh, report = refresh_engagement(client, settings, items)
    assert fresh == items and report.refreshed == 0
    assert report.errors == ["social: unexpected KeyError: 'reposts'"]


def test_a_source_that_cannot_be_reevaluated_does_not_stop_the_others(tmp_path, refreshable,
                                                                     monkeypatch):
    settings = make_settings(tmp_path, [
        {"name": "social", "kind": "refreshable", "url": "http://127.0.0.1:9/api"},
        {"name": "other", "kind": "refreshable", "url": "http://127.0.0.1:9/api"}])
    store, pipeline = Store(settings.db_path), Pipeline(settings)
    for source in settings.sources:
        m = replace(mention(), external_id=f"{source.name}-42",
                    author=Author(handle=f"@loud-{source.name}", followers=50_000))
        outcome = SourceOutcome(source.name, "ok", SourceState(source.name),
                                FetchResult([m], SourceState(source.name)))
        store_outcome(store, pipeline, source, outcome, run_id="r1", now=NOW - timedelta(hours=1))
    items = load_open_mentions(store)
    assert {i.source_name for i in items} == {"social", "other"}
    process = Pipeline.process

    def failing_for_social(self, mentions, *, source_name, **kwargs):
        if source_name == "social":
            raise ValueError("scoring bug")
        return process(self, mentions, source_name=source_name, **kwargs)

    monkeypatch.setattr(Pipeline, "process", failing_for_social)
    report = reevaluate(store, pipeline, [replace(i, mention=replace(
        i.mention, engagement=Engagement(reposts=100))) for i in items], NOW)
    assert report.errors == ["social: ValueError: scoring bug"]
    assert report.mentions == 1 and len(report.raised) == 1  # "other" was re-evaluated
