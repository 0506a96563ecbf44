"""Every connector inside one `listen` flow run against a loopback server replaying its
fixtures; a rerun adds nothing; a 429 with Retry-After defers only that source."""

from __future__ import annotations

import pytest

from conftest import ACME, GLOBEX, write_config
from earful.fixtureserver import FixtureServer, Route
from scenarios import scenarios
from sql.store import Store

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _toml_key(key: str) -> str:
    import json
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value) -> str:
    import json

    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def test_all_connectors_in_one_listen_run(tmp_path, monkeypatch):
    from flows.listen import listen

    all_scenarios = scenarios()
    routes = {}
    for scenario in all_scenarios:
        routes.update(scenario.routes())
        for key, value in scenario.env.items():
            monkeypatch.setenv(key, value)
    routes["/limited/feed.xml"] = Route(b"slow down", status=429, content_type="text/plain",
                                        headers={"Retry-After": "3600"}, conditional=False)
    server = FixtureServer(routes).start()
    try:
        sources = [s.source(server.base_url) for s in all_scenarios]
        sources.append({"name": "limited", "kind": "rss",
                         "url": server.url("/limited/feed.xml")})
        lines = [f'[database]\npath = "{tmp_path / "all.duckdb"}"\n']
        for brand in (ACME, GLOBEX):
            lines.append("[[brands]]\n" + "".join(
                f"{k} = {_toml_value(v)}\n" for k, v in brand.items()))
        for source in sources:
            lines.append("[[sources]]\n" + "".join(
                f"{k} = {_toml_value(v)}\n" for k, v in source.items()))
        config = write_config(tmp_path, "\n".join(lines))

        summary = listen(config=str(config))
        by_source = {line["source"]: line for line in summary["sources"]}
        assert by_source["limited"]["status"] == "deferred"
        assert "retry after 3600s" in by_source["limited"]["message"]
        for scenario in all_scenarios:
            line = by_source[scenario.name]
            assert line["status"] == "ok", (scenario.name, line["message"])
            assert line["new"] == scenario.expect.get("matched", scenario.expect["mentions"])
        store = Store(tmp_path / "all.duckdb")
        stored = store.count("mentions")
        assert stored == sum(line["new"] for line in summary["sources"])
        with store.connect() as con:
            rated = dict(con.execute(
                "SELECT source, count(*) FROM mention_feed WHERE rating IS NOT NULL GROUP BY ALL"
            ).fetchall())
            one_star_tickets = con.execute(
                "SELECT t.reason FROM tickets t JOIN mention_scores s USING (mention_id) "
                "WHERE s.rating <= 2").fetchall()
        # Every review source stores its star ratings, and a low-rated review whose listing
        # audience qualifies opens a ticket that says so.
        assert {"appstore", "googleplay", "trustpilot", "yelp"} <= set(rated)
        assert one_star_tickets and all("★" in reason for (reason,) in one_star_tickets)
        state = store.source_states(["limited"])["limited"]
        assert state.error_count == 0 and state.rate_limit_remaining == 0

        rerun = listen(config=str(config), force=True)
        assert rerun["totals"]["new"] == 0 and rerun["totals"]["tickets"] == 0
        assert store.count("mentions") == stored
    finally:
        server.stop()
