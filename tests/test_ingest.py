from __future__ import annotations

import json
from dataclasses import fields

from conftest import make_settings
from connectors.base import Engagement
from earful import ingest
from earful.ingest import ingest_file
from sql.store import Store


def line(n: int, text: str, followers: int = 100, **extra) -> str:
    record = {"source": "twitter", "external_id": str(n), "url": f"https://x.test/{n}",
              "author": f"@user{n}", "author_followers": followers,
              "published_at": "2026-11-20T10:00:00Z", "text": text, **extra}
    return json.dumps(record)


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_scores_stores_and_opens_tickets(tmp_path):
    settings = make_settings(tmp_path)
    export = write(tmp_path / "export.jsonl", [
        line(1, "@acme terrible service, my order is lost and I am furious",
             followers=50_000, likes=12),
        line(2, "@acme terrible service, my order is lost and I am furious",
             followers=40),
        line(3, "Loving my new Globex phone!"),
        line(4, "nothing to do with any brand"),
        line(5, "pre-matched export row", brand="Initech"),
    ])
    report = ingest_file(export, settings)
    assert (report.lines, report.stored, report.new, report.unmatched, report.tickets) == \
        (5, 4, 4, 1, 1)
    assert report.errors == []
    store = Store(settings.db_path)
    (ticket,) = store.query("open_tickets")
    assert ticket["brand"] == "Acme" and ticket["reach"] == 7_500  # 50k followers × 0.15
    assert "followers × 0.15" in ticket["reason"]
    with store.connect() as con:
        assert con.execute("SELECT brand FROM mention_brands WHERE mention_id IN "
                           "(SELECT id FROM mentions WHERE external_id = '5')").fetchone() == \
            ("Initech",)
        assert con.execute("SELECT likes, author_followers FROM mentions "
                           "WHERE external_id = '1'").fetchone() == (12, 50_000)


def test_bad_lines_are_reported_and_good_ones_kept(tmp_path):
    settings = make_settings(tmp_path)
    export = write(tmp_path / "export.jsonl", [
        line(1, "Acme is fine"),
        "{not json",
        json.dumps({"source": "x", "text": "Acme"}),
        line(4, "Acme again", author_followers="many"),
        json.dumps([1, 2]),
        line(6, "Acme", published_at="yesterday"),
        line(7, "Acme last"),
    ])
    report = ingest_file(export, settings)
    assert report.stored == 2
    messages = "\n".join(report.errors)
    assert "line 2: not valid JSON" in messages
    assert "line 3: missing external_id" in messages
    assert "line 4: author_followers must be a number" in messages
    assert "line 5: expected a JSON object" in messages
    assert "line 6: published_at is not an ISO 8601 time" in messages
    assert len(report.errors) == 5


def test_numbers_out_of_range_are_bad_lines_not_a_crash(tmp_path):
    settings = make_settings(tmp_path)
    export = write(tmp_path / "export.jsonl", [
        line(1, "Acme one", published_at=1e20),
        line(2, "Acme two").replace('"author_followers": 100', '"author_followers": 1e400'),
        line(3, "Acme three", followers=10**30),
        line(4, "Acme four", likes=float("nan")).replace("NaN", '"NaN"'),
        line(5, "Acme five"),
    ])
    report = ingest_file(export, settings)
    assert report.stored == 1
    messages = "\n".join(report.errors)
    assert "line 1: published_at is out of range" in messages
    assert "line 2: author_followers must be a number" in messages
    assert "line 3: author_followers is out of range" in messages
    assert "line 4: likes must be a number" in messages
    assert len(report.errors) == 4


def test_published_at_in_the_formats_exports_use(tmp_path):
    settings = make_settings(tmp_path)
    formats = ["2026-11-20T10:00:00Z", "2026-11-20T11:00:00+01:00", "2026-11-20 10:00:00",
               1795168800, "1795168800", 1795168800000, "Fri Nov 20 10:00:00 +0000 2026",
               "Fri, 20 Nov 2026 10:00:00 +0000", "20261120T100000Z"]
    export = write(tmp_path / "export.jsonl",
                   [line(n, f"Acme {n}", published_at=value) for n, value in enumerate(formats)])
    report = ingest_file(export, settings)
    assert report.errors == [] and report.stored == len(formats)
    with Store(settings.db_path).connect() as con:
        times = con.execute("SELECT DISTINCT epoch(published_at) FROM mentions").fetchall()
    assert times == [(1795168800.0,)]


def test_ingest_twice_changes_nothing(tmp_path):
    settings = make_settings(tmp_path)
    export = write(tmp_path / "export.jsonl",
                   [line(n, "@acme terrible service, refund me now", followers=90_000)
                    for n in range(30)])
    first = ingest_file(export, settings)
    second = ingest_file(export, settings)
    assert (first.new, first.tickets) == (30, 30)
    assert (second.new, second.tickets) == (0, 0)
    store = Store(settings.db_path)
    assert store.count("mentions") == 30 and store.count("tickets") == 30


def test_parallel_and_serial_ingest_store_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr("earful.ingest.CHUNK_LINES", 50)
    monkeypatch.setattr("earful.ingest._PARALLEL_MIN_BYTES", 0)
    lines = [line(n, f"Acme message {n} {'great' if n % 3 else 'awful'}",
                  followers=n * 100) for n in range(400)]
    export = write(tmp_path / "export.jsonl", lines)
    results = {}
    for workers in (1, 2):
        settings = make_settings(tmp_path / f"w{workers}")
        report = ingest_file(export, settings, workers=workers)
        with Store(settings.db_path).connect() as con:
            results[workers] = con.execute(
                "SELECT m.external_id, s.compound, s.label FROM mentions m "
                "JOIN mention_scores s ON s.mention_id = m.id ORDER BY 1").fetchall()
        assert report.stored == 400
    assert results[1] == results[2]


def test_chunks_written_together_keep_the_later_copy_of_a_repeated_mention(tmp_path,
                                                                          monkeypatch):
    """Parallel chunks are written several to a transaction; a mention repeated in two of
    them must still end as the later line says, as when every chunk was its own write."""
    monkeypatch.setattr("earful.ingest.CHUNK_LINES", 40)
    monkeypatch.setattr("earful.ingest.WRITE_MIN_LINES", 120)
    monkeypatch.setattr("earful.ingest._PARALLEL_MIN_BYTES", 0)
    lines = [line(n, f"Acme note {n} {'great' if n % 2 else 'awful'}", likes=n)
             for n in range(300)]
    # in the second chunk, the first copy in the first: the two chunks meet in one write group
    lines[60] = line(7, "Acme is awful, refund me now", followers=90_000, likes=999)
    export = write(tmp_path / "export.jsonl", lines)
    write_sizes: list[int] = []
    real_write = Store.write_batch

    def counted_write(self, tables, **kwargs):
        write_sizes.append(tables.size)
        return real_write(self, tables, **kwargs)

    monkeypatch.setattr(Store, "write_batch", counted_write)
    stored = {}
    for workers in (1, 2):
        settings = make_settings(tmp_path / f"w{workers}")
        write_sizes.clear()
        report = ingest_file(export, settings, workers=workers)
        assert (report.lines, report.stored, report.new) == (300, 300, 299)
        if workers == 2:
            assert max(write_sizes) >= 120  # several chunks in one transaction
        with Store(settings.db_path).connect() as con:
            stored[workers] = con.execute(
                "SELECT m.external_id, m.text, m.likes, s.label, s.reach_expected "
                "FROM mentions m JOIN mention_scores s ON s.mention_id = m.id "
                "ORDER BY 1").fetchall()
    assert stored[1] == stored[2]
    repeated = next(row for row in stored[2] if row[0] == "7")
    assert repeated[1:3] == ("Acme is awful, refund me now", 999)


def test_engagement_fields_follow_the_dataclass_order():
    # parse_line passes the engagement counts positionally.
    assert tuple(f.name for f in fields(Engagement)) == ingest._ENGAGEMENT_FIELDS
