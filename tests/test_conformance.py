"""One test for every connector, over its recorded-format fixtures: valid mentions, stable
ids, aware timestamps, no duplicates, the cursor advances and a re-poll adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conftest import ACME, GLOBEX, make_settings
from connectors.base import SourceState
from connectors.http import make_client
from connectors.registry import names
from earful.cycle import fetch_source, store_outcome
from earful.fixtureserver import FixtureServer
from scenarios import scenarios
from sql.store import Store
from triage.pipeline import Pipeline

SCENARIOS = scenarios()


def test_every_registered_connector_has_a_scenario():
    assert sorted({s.kind for s in SCENARIOS}) == names()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_connector_conformance(scenario, tmp_path, monkeypatch):
    for key, value in scenario.env.items():
        monkeypatch.setenv(key, value)
    server = FixtureServer(scenario.routes()).start()
    try:
        settings = make_settings(tmp_path, [scenario.source(server.base_url)],
                                 **({"brands": scenario.brands} if scenario.brands else
                                    {"brands": [ACME, GLOBEX]}))
        source = settings.sources[0]
        store, pipeline = Store(settings.db_path), Pipeline(settings)
        now = datetime.now(UTC)
        with make_client() as client:
            first = fetch_source(client, source, SourceState(source.name), settings, now=now)
            assert first.status == "ok", first.message
            mentions = first.result.mentions
            assert len(mentions) == scenario.expect["mentions"]
            for m in mentions:
                assert m.source == scenario.kind and m.external_id and m.id.startswith("m_")
                assert m.published_at.tzinfo is not None
                assert m.published_at.utcoffset() == timedelta(0)
                assert isinstance(m.text, str) and "<p>" not in m.text and "</" not in m.text
                assert m.url is None or m.url.startswith(("http://", "https://"))
            assert len({m.external_id for m in mentions}) == len(mentions)
            report = store_outcome(store, pipeline, source, first, run_id="r1", now=now)
            assert report.new == scenario.expect.get("matched", len(mentions))

            if "second_poll_routes" in scenario.data:
                server.routes.update(scenario.routes("second_poll_routes"))
            later = now + timedelta(hours=1)
            second = fetch_source(client, source, first.state, settings, now=later)
        assert second.status in ("ok", "not_modified"), second.message
        assert first.state != SourceState(source.name)  # a cursor or validator was kept
        again = second.result.mentions if second.result else []
        if "second_poll_routes" not in scenario.data:  # same payloads: the same ids
            assert {m.external_id for m in again} <= {m.external_id for m in mentions}
        report = store_outcome(store, pipeline, source, second, run_id="r2", now=later)
        assert report.new == scenario.expect.get("new_on_second_poll", 0)
        assert store.count("mentions") == report.new + scenario.expect.get(
            "matched", len(mentions))
    finally:
        server.stop()
