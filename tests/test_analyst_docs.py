"""docs/analysts.md stays true: every table and view of a freshly migrated database has a
section listing exactly its columns (in order, with their types and a meaning), no section
names something that does not exist, and every example query runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sql.store import Store

PAGE = (Path(__file__).parent.parent / "docs" / "analysts.md").read_text(encoding="utf-8")
HEADING = re.compile(r"^### `(\w+)`$", re.MULTILINE)
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \|(.*)\|$", re.MULTILINE)
# information_schema's spelling of the types the page writes short
TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}
EXAMPLES = re.findall(r"^```sql\n(.*?)^```", PAGE, re.DOTALL | re.MULTILINE)


def documented() -> dict[str, list[tuple[str, str, str]]]:
    """Section name → its table's rows (column, type, meaning)."""
    parts = HEADING.split(PAGE)
    return {name: [(c, t.strip(), m.strip()) for c, t, m in ROW.findall(body)]
            for name, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("analysts") / "docs.duckdb")
    store.migrate()
    with store.connect() as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, TYPE_NAMES.get(data_type, data_type)))
    return store, columns


def test_every_table_and_view_is_documented_column_by_column(database):
    _, columns = database
    sections = documented()
    problems = []
    for name, actual in sorted(columns.items()):
        if name not in sections:
            problems.append(f"{name}: no ### `{name}` section")
            continue
        types = dict(actual)
        names = [column for column, _, _ in sections[name]]
        missing = [column for column in types if column not in names]
        extra = [column for column in names if column not in types]
        if missing or extra:
            problems.append(f"{name}: undocumented {missing}, not in the database {extra}")
        elif names != list(types):
            problems.append(f"{name}: columns not in database order {list(types)}")
        for column, type_, meaning in sections[name]:
            if column in types and type_ != types[column]:
                problems.append(f"{name}.{column}: documented as {type_}, is {types[column]}")
            if not meaning:
                problems.append(f"{name}.{column}: no meaning")
    assert not problems, "docs/analysts.md is out of date:\n" + "\n".join(problems)


def test_no_section_names_something_that_does_not_exist(database):
    _, columns = database
    assert sorted(set(documented()) - set(columns)) == []


def test_the_page_has_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("query", EXAMPLES)
def test_example_query_runs(database, query):
    store, _ = database
    with store.connect(read_only=True) as con:
        con.execute(query).fetchall()


def test_the_sla_example_agrees_with_the_desks_figures(tmp_path):
    """An analyst's "share within the SLA" is `earful tickets sla`'s: a ticket still
    unanswered past its deadline has missed it, it is not left out."""
    from datetime import UTC, datetime, timedelta

    from desk.queries import sla_figures
    from earful.settings import settings_from_dict

    (example,) = [q for q in EXAMPLES if "share_in_sla" in q]
    store = Store(tmp_path / "sla.duckdb")
    store.migrate()
    now = datetime.now(UTC)
    tickets = [  # id, opened, first-response due, first response
        ("T-1", now - timedelta(hours=10), now - timedelta(hours=6), now - timedelta(hours=8)),
        ("T-2", now - timedelta(hours=10), now - timedelta(hours=6), None),  # missed it
        ("T-3", now - timedelta(hours=1), now + timedelta(hours=3), None),   # not yet known
    ]
    with store.connect() as con:
        for tid, opened, due, answered in tickets:
            con.execute(
                "INSERT INTO tickets (id, mention_id, brand, kind, status, priority, risk, "
                "reason, reach, opened_at, due_at, resolution_due_at, updated_at, "
                "first_response_at) VALUES (?, ?, 'Acme', 'complaint', ?, 'P2', 1.0, 'test', "
                "6000, ?, ?, ?, ?, ?)",
                [tid, f"m-{tid}", "responded" if answered else "open", opened, due,
                 opened + timedelta(hours=24), opened, answered])
        (row,) = con.execute(example).fetchall()
    desk = sla_figures(store, settings_from_dict({}, "test"), now)["by_priority"]["P2"]
    priority, count, median_minutes, share = row
    assert (priority, count) == ("P2", desk["tickets"])
    assert median_minutes == pytest.approx(desk["median_first_response_minutes"])
    assert share == pytest.approx(desk["first_response_within_sla"]) == 0.5
