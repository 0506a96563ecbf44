from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from connectors.base import Author, Engagement, Mention, SourceState
from sql.rows import batch_tables
from sql.store import LockTimeoutError, Store
from triage.brands import BrandMatch
from triage.reach import Reach
from triage.scored import ScoredMention
from triage.tickets import decide_tickets

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def item(n: int, text: str = "Acme is terrible, I hate it", followers: int = 10_000,
         likes: int = 1) -> ScoredMention:
    from sentiment.vader import score

    mention = Mention(source="test", external_id=f"post-{n}", url=f"https://x.test/{n}",
                      title=None, text=text, published_at=NOW,
                      author=Author(handle=f"@user{n}", followers=followers),
                      engagement=Engagement(likes=likes), raw={"n": n})
    return ScoredMention(mention, "src", (BrandMatch("Acme", ("acme",)),), score(text),
                         Reach(followers, followers, followers, "author followers"))


def tables(items):
    from earful.settings import SlaConfig, Thresholds

    return batch_tables(items, decide_tickets(items, Thresholds(), SlaConfig(), NOW), NOW)


def counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in
            ("mentions", "mention_scores", "mention_brands", "tickets", "ticket_events")}


def test_migrations_apply_once_and_are_recorded(tmp_path):
    files = sorted(p.name for p in (Path(__file__).parent.parent / "sql" / "migrations")
                   .glob("*.sql"))
    assert files[:3] == ["0001_core.sql", "0002_detection.sql", "0003_reviews.sql"]
    store = Store(tmp_path / "a.duckdb")
    assert store.migrate() == files
    assert store.migrate() == []
    with store.connect() as con:
        assert con.execute("SELECT version, name FROM schema_migrations").fetchall() == [
            (int(f[:4]), f[5:-4]) for f in files]
        views = {r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"mention_feed", "ticket_queue", "daily_brand_sentiment", "source_health"} <= views


def test_batch_write_is_idempotent(tmp_path):
    store = Store(tmp_path / "a.duckdb")
    batch = tables([item(i) for i in range(50)])
    first = store.write_batch(batch)
    assert (first.new_mentions, first.new_tickets) == (50, 50)
    before = counts(store)
    second = store.write_batch(tables([item(i) for i in range(50)]))
    assert (second.new_mentions, second.new_tickets) == (0, 0)
    assert counts(store) == before == {"mentions": 50, "mention_scores": 50,
                                       "mention_brands": 50, "tickets": 50, "ticket_events": 50}


def test_repoll_updates_engagement_but_keeps_first_seen(tmp_path):
    store = Store(tmp_path / "a.duckdb")
    store.write_batch(tables([item(1, likes=1)]))
    later = batch_tables([item(1, likes=99)], [], datetime(2026, 11, 23, tzinfo=UTC))
    store.write_batch(later)
    with store.connect() as con:
        likes, first_seen, last_seen = con.execute(
            "SELECT likes, first_seen_at, last_seen_at FROM mentions").fetchone()
    assert likes == 99
    assert first_seen == NOW and last_seen == datetime(2026, 11, 23, tzinfo=UTC)


def test_duplicates_inside_one_batch_are_one_row(tmp_path):
    store = Store(tmp_path / "a.duckdb")
    batch = tables([item(1), item(2)])
    doubled = replace(batch, mentions=pa.concat_tables([batch.mentions, batch.mentions]))
    assert store.write_batch(doubled).new_mentions == 2
    assert store.count("mentions") == 2


def test_a_failing_batch_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "a.duckdb")
    batch = tables([item(i) for i in range(10)])
    # A ticket without a reason violates NOT NULL after the mentions were inserted.
    broken = batch.tickets.set_column(
        batch.tickets.schema.get_field_index("reason"), "reason",
        pa.array([None] * batch.tickets.num_rows, pa.string()))
    with pytest.raises(duckdb.Error):
        store.write_batch(replace(batch, tickets=broken),
                          states=[SourceState("src", cursor="advanced")])
    assert counts(store) == dict.fromkeys(counts(store), 0)
    assert store.source_states(["src"])["src"].cursor is None


def test_source_state_round_trip(tmp_path):
    store = Store(tmp_path / "a.duckdb")
    state = SourceState("src", etag='"abc"', last_modified="Sat, 21 Nov 2026 09:00:00 GMT",
                        checked_at=NOW, next_check_at=NOW, error_count=2, last_error="boom")
    store.write_batch(tables([]), states=[state])
    assert store.source_states(["src", "other"]) == {"src": state,
                                                     "other": SourceState("other")}


_HOLD_LOCK = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS hold (x INTEGER)")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def _hold_lock(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_writer_waits_for_another_process_lock(tmp_path):
    path = tmp_path / "a.duckdb"
    Store(path).migrate()
    holder = _hold_lock(path, 1.0)
    try:
        stats = Store(path, lock_timeout_s=30).write_batch(tables([item(1)]))
    finally:
        holder.wait(timeout=30)
    assert stats.new_mentions == 1


def test_lock_wait_is_bounded(tmp_path):
    path = tmp_path / "b.duckdb"
    Store(path).migrate()
    holder = _hold_lock(path, 5.0)
    try:
        with pytest.raises(LockTimeoutError, match="stayed locked"):
            Store(path, lock_timeout_s=0.5).write_batch(tables([item(1)]))
    finally:
        holder.kill()
        holder.wait(timeout=30)
