"""Engagement re-poll tests: a connector fetches its conformance scenario from a loopback
server, then re-reads what it found (`Connector.refresh`) from the same server, whose routes
now answer the look-ups with a later state of the same posts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import ACME, GLOBEX, make_settings
from connectors.base import Mention, SourceSpec, SourceState
from connectors.http import make_client
from connectors.registry import get_connector
from earful.cycle import source_spec
from earful.fixtureserver import FixtureServer, Route
from scenarios import FIXTURES, scenarios


@dataclass(frozen=True)
class Refreshed:
    spec: SourceSpec
    fetched: list[Mention]
    refreshed: list[Mention]
    requests: list[str]  # the request targets (path and query) of the refresh
    prefix: str  # the scenario's path prefix on the server

    def by_id(self, which: str = "refreshed") -> dict[str, Mention]:
        return {m.external_id: m for m in getattr(self, which)}

    def paths(self) -> list[str]:
        """The paths the refresh asked for, without the scenario's prefix."""
        return [urlsplit(target).path.removeprefix(self.prefix) for target in self.requests]

    def params(self, path: str) -> list[dict[str, list[str]]]:
        """The query parameters of each refresh request to `path` (prefix left out)."""
        found = []
        for target, asked in zip(self.requests, self.paths(), strict=True):
            if asked == path:
                query: dict[str, list[str]] = {}
                for key, value in parse_qsl(urlsplit(target).query, keep_blank_values=True):
                    query.setdefault(key, []).append(value)
                found.append(query)
        return found


def fixture_route(kind: str, name: str, *, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Route:
    body = (FIXTURES / kind / name).read_bytes()
    return Route(body, status=status, content_type="application/json; charset=utf-8",
                 headers=dict(headers or {}), conditional=False)


def fetch_then_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, routes: Mapping[str, Route],
) -> Refreshed:
    """Fetch `kind`'s conformance scenario, add `routes` (paths below the scenario's prefix;
    they replace fetch's routes of the same path), then refresh every mention fetched
    through the registered connector with the same client and spec."""
    (scenario,) = [s for s in scenarios() if s.name == kind]
    for key, value in scenario.env.items():
        monkeypatch.setenv(key, value)
    server = FixtureServer(scenario.routes()).start()
    try:
        settings = make_settings(tmp_path, [scenario.source(server.base_url)],
                                 brands=scenario.brands or [ACME, GLOBEX])
        spec = source_spec(settings.sources[0], settings)
        connector = get_connector(kind)
        assert connector.refresh is not None, f"{kind} has no refresh"
        with make_client() as client:
            fetched = connector.fetch(client, spec, SourceState(spec.name)).mentions
            server.routes.update({scenario.prefix + path: route
                                  for path, route in routes.items()})
            before = len(server.requests)
            fresh = connector.refresh(client, spec, fetched)
            requests = [target for target, _ in server.requests[before:]]
    finally:
        server.stop()
    return Refreshed(spec, fetched, fresh, requests, scenario.prefix)
