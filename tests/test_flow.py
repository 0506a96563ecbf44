"""The listen flow under a real (test) Prefect server, against the loopback fixture server."""

from __future__ import annotations

import pytest

from conftest import write_config
from sql.store import Store

pytestmark = pytest.mark.usefixtures("prefect_harness")


def config_for(tmp_path, server) -> str:
    return write_config(tmp_path, f"""
[database]
path = "{tmp_path / 'flow.duckdb'}"

[[brands]]
name = "Acme"
terms = ["Acme"]

[[sources]]
name = "liftoff"
kind = "rss"
url = "{server.url('/feeds/rss2.xml')}"
audience = 20000

[[sources]]
name = "blog"
kind = "rss"
url = "{server.url('/feeds/atom.xml')}"
audience = 100

[[sources]]
name = "alerts"
kind = "rss"
url = "{server.url('/feeds/google-alerts.xml')}"
audience = 7000

[[sources]]
name = "broken"
kind = "rss"
url = "{server.url('/feeds/not-a-feed.html')}"
""")


def by_source(summary):
    return {line["source"]: line for line in summary["sources"]}


def snapshot(store: Store):
    with store.connect() as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("mentions", "mention_brands", "tickets", "ticket_events")
        }


def test_listen_stores_mentions_opens_tickets_and_survives_a_broken_source(tmp_path,
                                                                          rss_server):
    from flows.listen import listen

    config = config_for(tmp_path, rss_server)
    summary = listen(config=str(config))
    lines = by_source(summary)
    assert lines["broken"]["status"] == "error"
    assert "malformed feed" in lines["broken"]["message"]
    assert {k: lines["liftoff"][k] for k in ("status", "fetched", "matched", "new")} == \
        {"status": "ok", "fetched": 4, "matched": 3, "new": 3}
    assert lines["blog"]["new"] == 2 and lines["alerts"]["new"] == 1
    assert summary["totals"]["tickets"] == 2
    store = Store(tmp_path / "flow.duckdb")
    tickets = {t["source_name"]: t for t in store.query("open_tickets")}
    assert set(tickets) == {"liftoff", "alerts"}  # the blog's 100 readers are below 6,000
    assert "configured audience of liftoff" in tickets["liftoff"]["reason"]
    states = store.source_states(["broken", "liftoff"])
    assert states["broken"].error_count == 1 and states["liftoff"].etag
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM run_sources").fetchone()[0] == 4
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]

    before = snapshot(store)
    again = listen(config=str(config))  # nothing is due yet
    assert {line["status"] for line in again["sources"]} == {"not_due"}
    forced = listen(config=str(config), force=True)  # 304s, and the broken one fails again
    forced_lines = by_source(forced)
    assert forced_lines["liftoff"]["status"] == "not_modified"
    assert forced["totals"]["new"] == forced["totals"]["tickets"] == 0
    assert snapshot(store) == before
    assert store.source_states(["broken"])["broken"].error_count == 2


def test_a_source_whose_mentions_cannot_be_stored_does_not_stop_the_others(
        tmp_path, rss_server, monkeypatch):
    """A bug scoring or storing one source's mentions is that source's error: the sources
    after it are still stored, and its cursor stays where it was so the next poll re-reads
    what could not be stored."""
    from flows.listen import listen
    from triage.pipeline import Pipeline

    process = Pipeline.process

    def failing_for_blog(self, mentions, *, source_name, **kwargs):
        if source_name == "blog":
            raise ValueError("scoring bug")
        return process(self, mentions, source_name=source_name, **kwargs)

    monkeypatch.setattr(Pipeline, "process", failing_for_blog)
    summary = listen(config=str(config_for(tmp_path, rss_server)))
    lines = by_source(summary)
    assert lines["blog"]["status"] == "error" and "scoring bug" in lines["blog"]["message"]
    assert lines["alerts"]["new"] == 1 and lines["liftoff"]["new"] == 3  # after it, before it
    assert lines["broken"]["status"] == "error"
    store = Store(tmp_path / "flow.duckdb")
    blog = store.source_states(["blog"])["blog"]
    assert blog.error_count == 1 and "scoring bug" in blog.last_error
    assert blog.etag is None and blog.last_modified is None  # the next poll re-reads it
    with store.connect() as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]
        assert con.execute("SELECT status FROM run_sources WHERE source_key = 'blog'"
                           ).fetchall() == [("error",)]


def test_a_snapshot_that_cannot_be_written_does_not_fail_the_run(tmp_path, rss_server):
    """The analysts' copy is secondary: a snapshot folder that cannot be written is logged
    and reported, while the mentions are stored and notifications still go out."""
    from flows.listen import listen

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the snapshot's folder should be", encoding="utf-8")
    config = config_for(tmp_path, rss_server)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[database]\n", f'[database]\nsnapshot_path = "{blocker / "snap.duckdb"}"\n'),
        encoding="utf-8")
    summary = listen(config=str(config))
    assert summary["totals"]["new"] == 6
    assert "notifications" in summary and "error" not in summary["notifications"]
    assert summary["snapshot"].startswith("failed:")
