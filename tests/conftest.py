from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from earful.fixtureserver import FixtureServer, Route, routes_from_dir
from earful.settings import Settings, settings_from_dict

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The shared connector checks assert in a helper module: show their values on failure too.
pytest.register_assert_rewrite("connector_support")

FIXTURES = Path(__file__).parent / "fixtures"

ACME = {
    "name": "Acme",
    "terms": ["Acme"],
    "aliases": ["Acme Cloud", "#acme"],
    "exclude": ["acme of skill"],
    "handles": ["@acme"],
}
GLOBEX = {"name": "Globex", "terms": ["Globex"], "handles": ["@globex"]}


@pytest.fixture
def rss_server() -> Iterator[FixtureServer]:
    server = FixtureServer(routes_from_dir(FIXTURES / "rss", "/feeds/")).start()
    yield server
    server.stop()


def make_settings(tmp_path: Path, sources: list[dict[str, Any]] | None = None,
                  **overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "database": {"path": str(tmp_path / "earful.duckdb")},
        "brands": [ACME, GLOBEX],
        "sources": sources or [],
    }
    data.update(overrides)
    return settings_from_dict(data, "test config")


def write_config(tmp_path: Path, settings_toml: str) -> Path:
    path = tmp_path / "earful.toml"
    path.write_text(settings_toml, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


__all__ = ["ACME", "FIXTURES", "GLOBEX", "Route", "make_settings", "write_config"]
