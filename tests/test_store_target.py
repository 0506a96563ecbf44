"""database.path as a connection string: a DuckDB file, MotherDuck (`md:`) or DuckLake
(`ducklake:`). No network here: the dispatch is checked through `plan()` and the errors
raised before anything is opened."""

from __future__ import annotations

import pytest

from conftest import write_config
from earful.settings import load_settings
from sql.store import Store
from sql.target import LAKE_ALIAS, ConnectPlan, DatabaseTarget


@pytest.mark.parametrize(("text", "kind"), [
    ("earful.duckdb", "file"),
    ("/var/lib/earful/earful.duckdb", "file"),
    ("md:earful", "motherduck"),
    ("MD:earful", "motherduck"),
    ("motherduck:earful", "motherduck"),
    ("md:", "motherduck"),  # MotherDuck's default database
    ("ducklake:lake.ducklake", "ducklake"),
    ("ducklake:postgres:dbname=earful host=db.internal", "ducklake"),
])
def test_kinds(text, kind):
    target = DatabaseTarget.parse(text)
    assert (target.kind, target.text) == (kind, text)
    assert target.is_file == (kind == "file")
    assert target.writable == (kind != "ducklake")


def test_plans():
    assert DatabaseTarget.parse("x.duckdb").plan(read_only=True) == ConnectPlan("x.duckdb", True)
    assert DatabaseTarget.parse("md:earful").plan(read_only=True) == ConnectPlan("md:earful",
                                                                                  False)
    lake = DatabaseTarget.parse("ducklake:postgres:dbname=earful password='x'").plan(False)
    assert lake == ConnectPlan(":memory:", False, (
        f"ATTACH 'ducklake:postgres:dbname=earful password=''x''' AS {LAKE_ALIAS} (READ_ONLY)",
        f"USE {LAKE_ALIAS}",
    ))


@pytest.mark.parametrize(("text", "message"), [
    ("md:earful?motherduck_token=abc", "motherduck_token environment variable"),
    ("ducklake:", "needs its catalog"),
])
def test_refused_paths(text, message):
    with pytest.raises(ValueError, match=message):
        DatabaseTarget.parse(text)


def test_motherduck_without_a_token_fails_before_connecting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("motherduck_token", "MOTHERDUCK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    store = Store("md:earful")
    with pytest.raises(RuntimeError, match="needs a MotherDuck token"), store.connect():
        pass
    assert list(tmp_path.iterdir()) == []  # no file named "md:earful" appeared


def test_a_ducklake_store_refuses_migrations():
    with pytest.raises(ValueError, match="no PRIMARY KEY/UNIQUE constraints"):
        Store("ducklake:lake.ducklake").migrate()


def test_the_config_and_env_reach_the_store_unchanged(tmp_path, monkeypatch):
    monkeypatch.delenv("EARFUL_DB", raising=False)
    config = write_config(tmp_path, '[database]\npath = "md:earful"\n')
    assert Store(load_settings(config).db_path).target == DatabaseTarget("motherduck",
                                                                          "md:earful")
    monkeypatch.setenv("EARFUL_DB", "ducklake:postgres:dbname=earful host=db")
    assert Store(load_settings(config).db_path).target.kind == "ducklake"


def test_a_file_store_works_as_before(tmp_path):
    store = Store(tmp_path / "sub" / "earful.duckdb")
    assert store.target.kind == "file"
    store.migrate()
    assert store.count("mentions") == 0
