"""The README stays true: every command, connector, table and view is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.registry import names
from earful.cli import app
from sql.store import Store

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(c.name or c.callback.__name__
                                           for c in app.registered_commands))
def test_every_command_is_documented(command):
    assert f"`earful {command}" in README


@pytest.mark.parametrize("connector", names())
def test_every_connector_has_a_section(connector):
    assert f"### {connector}\n" in README


def test_every_table_and_view_is_documented(tmp_path):
    """The README names each table and view and links to the page that documents their
    columns (docs/analysts.md, kept true by tests/test_analyst_docs.py)."""
    assert "](docs/analysts.md)" in README
    store = Store(tmp_path / "docs.duckdb")
    store.migrate()
    with store.connect() as con:
        objects = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()]
    assert objects
    missing = [name for name in objects if f"`{name}`" not in README]
    assert missing == []


def test_readme_shows_the_ci_test_command():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in README and "make demo" in README
