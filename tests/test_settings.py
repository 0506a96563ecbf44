from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from earful.settings import (
    SIX_THOUSAND_FRIENDS,
    ConfigError,
    Settings,
    load_settings,
    parse_duration,
    settings_from_dict,
)


def test_defaults_follow_the_quote():
    settings = Settings()
    assert SIX_THOUSAND_FRIENDS == 6000 == settings.thresholds.reach
    assert settings.thresholds.negative == -0.05
    assert str(settings.db_path) == "earful.duckdb"


@pytest.mark.parametrize(("data", "expected"), [
    ({"sources": [{"name": "a", "kind": "rsss", "url": "http://x"}]},
     "sources[0].kind: unknown connector 'rsss'"),
    ({"brands": [{"name": "A", "terms": ["a"], "handels": []}]},
     "brands[0].handels: unknown key"),
    ({"brands": [{"name": "A", "terms": []}]}, "brands[0].terms"),
    ({"thresholds": {"reach": -5}}, "thresholds.reach"),
    ({"sla": {"P1": "soon"}}, "sla.P1: expected a duration"),
    ({"sources": [{"name": "a", "kind": "rss"}]}, "a rss source needs a url"),
    ({"sources": [{"name": "a", "kind": "rss", "url": "ftp://x"}]}, "sources[0].url"),
    ({"sources": [{"name": "a", "kind": "rss", "url": "http://x", "brands": ["Nope"]}]},
     "unknown brands ['Nope']"),
    ({"sources": [{"name": "a", "kind": "rss", "url": "http://x"},
                  {"name": "a", "kind": "rss", "url": "http://y"}]}, "duplicate source names"),
])
def test_errors_name_the_bad_key(data, expected):
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data, "earful.toml")
    assert expected in str(info.value)
    assert str(info.value).startswith("earful.toml: invalid configuration")


def test_durations():
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration(30) == timedelta(minutes=30)
    with pytest.raises(ValueError):
        parse_duration("tomorrow")


def test_database_path_precedence(tmp_path, monkeypatch):
    config = tmp_path / "earful.toml"
    config.write_text('[database]\npath = "from-config.duckdb"\n')
    monkeypatch.delenv("EARFUL_DB", raising=False)
    assert str(load_settings(config).db_path) == "from-config.duckdb"
    monkeypatch.setenv("EARFUL_DB", "from-env.duckdb")
    assert str(load_settings(config).db_path) == "from-env.duckdb"
    assert str(load_settings(config, "from-flag.duckdb").db_path) == "from-flag.duckdb"


def test_db_override_keeps_the_snapshot_switch_but_not_the_configured_copy(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv("EARFUL_DB", raising=False)
    config = tmp_path / "earful.toml"
    config.write_text('[database]\npath = "main.duckdb"\nsnapshot = false\n')
    assert load_settings(config, "other.duckdb").snapshot_path is None
    config.write_text('[database]\npath = "main.duckdb"\nsnapshot_path = "/shared/a.duckdb"\n')
    assert load_settings(config).snapshot_path == Path("/shared/a.duckdb")
    assert load_settings(config, "x/other.duckdb").snapshot_path == Path(
        "x/other.snapshot.duckdb")


def test_missing_and_broken_files_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="earful init"):
        load_settings(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[brands\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)


def test_starter_and_demo_configs_are_valid():
    starter = resources.files("earful").joinpath("starter.toml").read_text("utf-8")
    settings_from_dict(tomllib.loads(starter), "starter.toml")
    demo = resources.files("earful.demo").joinpath("demo.toml").read_text("utf-8")
    demo_settings = settings_from_dict(
        tomllib.loads(demo.replace("{base_url}", "http://127.0.0.1:1")), "demo.toml")
    assert len(demo_settings.brands) == 2
