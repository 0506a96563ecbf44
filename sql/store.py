"""The only module that talks to DuckDB: migrations, views, named queries, and batch writes
(one transaction per batch, in bulk from Arrow).

DuckDB lets one process hold the file read-write and makes every other open fail at once, so
connections here are short (open, one transaction, close), opens retry on the lock for a
bounded time, and writers inside one process take turns."""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from connectors.base import SourceState
from sql.rows import STATE_FIELDS, BatchTables, alerts_table, states_table
from sql.target import DatabaseTarget
from triage.health import HealthAlert, SourceActivity
from triage.spikes import BASELINE, WINDOW, BrandActivity, SpikeAlert

__all__ = [
    "LockTimeoutError",
    "RunSourceRecord",
    "Store",
    "WriteStats",
    "dict_rows",
    "load_query",
]

log = logging.getLogger("earful.store")

LOCK_TIMEOUT_S = 60.0
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
_MIGRATED: set[str] = set()


class LockTimeoutError(RuntimeError):
    """Another process kept the database file locked for longer than we wait."""


@dataclass(frozen=True, slots=True)
class WriteStats:
    mentions: int
    new_mentions: int
    new_tickets: int


@dataclass(frozen=True, slots=True)
class RunSourceRecord:
    source_key: str
    status: str
    fetched: int
    matched: int
    new_mentions: int
    new_tickets: int
    errors: int
    message: str | None
    next_check_at: datetime | None


def _sql_text(folder: str, name: str) -> str:
    return resources.files("sql").joinpath(folder, name).read_text(encoding="utf-8")


def _sql_files(folder: str) -> list[str]:
    return sorted(
        f.name for f in resources.files("sql").joinpath(folder).iterdir()
        if f.name.endswith(".sql")
    )


@cache
def load_query(name: str) -> str:
    """A named query from sql/queries/<name>.sql."""
    return _sql_text("queries", f"{name}.sql")


def dict_rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rest of an executed query's rows as dicts (inside a transaction, where
    `Store.query`, which opens its own connection, cannot be used)."""
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _write_lock(path: str) -> threading.Lock:
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path, threading.Lock())


class Store:
    def __init__(self, path: str | Path, *, lock_timeout_s: float = LOCK_TIMEOUT_S,
                 write_guard: Callable[[], AbstractContextManager[object]] | None = None):
        self.path = Path(path)
        # A DuckDB file, or a connection string (md:NAME, ducklake:CATALOG): sql/target.py.
        self.target = DatabaseTarget.parse(str(path))
        self.lock_timeout_s = lock_timeout_s
        self._held: duckdb.DuckDBPyConnection | None = None
        # Held around every write across processes (flows pass a Prefect global concurrency
        # slot): writers then queue for the slot instead of fighting over the file lock.
        self._write_guard = write_guard or nullcontext

    # -- connections --------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        while True:
            try:
                return self.target.connect(read_only)
            except duckdb.Error as exc:
                if not _is_lock_error(exc) or time.monotonic() >= deadline:
                    if _is_lock_error(exc):
                        raise LockTimeoutError(
                            f"store: {self.path} stayed locked by another process for "
                            f"{self.lock_timeout_s:.0f}s: {exc}"
                        ) from exc
                    raise
            log.info("store: %s is locked by another process; retrying in %.2fs", self.path, delay)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)

    @contextmanager
    def connect(
        self, *, read_only: bool = False, auto_migrate: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; the schema is brought up to date on first write use.
        Inside `session()`, the session's connection."""
        if self._held is not None and not read_only:
            yield self._held
            return
        if read_only and self.target.is_file and not self.path.exists():
            raise FileNotFoundError(f"store: no database at {self.path} (run earful first)")
        if not read_only and self.target.is_file:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only)
        try:
            if (auto_migrate and not read_only and self.target.writable
                    and str(self.path.resolve()) not in _MIGRATED):
                self._migrate(con)
                _MIGRATED.add(str(self.path.resolve()))
            yield con
        finally:
            con.close()

    @contextmanager
    def session(self) -> Iterator[Store]:
        """Keep one write connection open for a sequence of transactions (a bulk ingest),
        saving an open and a checkpoint per batch. Other processes wait meanwhile, so only
        short bulk jobs use it; flows do not."""
        with self.connect() as con:
            # The worker processes scoring the next chunks need the cores more than DuckDB's
            # parallel insert does.
            con.execute("SET threads = 1")
            self._held = con
            try:
                yield self
            finally:
                self._held = None

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: everything in it lands, or nothing does."""
        with self._write_guard(), _write_lock(str(self.path.resolve())), \
                self.connect() as con:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def publish_snapshot(self, target: str | Path) -> Path:
        """Copy the whole database to `target` for analysts, atomically: readers of the
        snapshot never hold the live file's lock (DuckDB lets one process open a file
        for writing, and a reader there would stall every flow), and a reader with the old
        snapshot open keeps reading it while the new one replaces it."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        quoted = str(partial).replace("'", "''")
        with self._write_guard(), _write_lock(str(self.path.resolve())), \
                self.connect() as con:
            catalog = con.execute("SELECT current_database()").fetchone()[0]
            con.execute(f"ATTACH '{quoted}' AS earful_snapshot")
            try:
                con.execute(f'COPY FROM DATABASE "{catalog}" TO earful_snapshot')
            finally:
                con.execute("DETACH earful_snapshot")
        os.replace(partial, target)
        return target

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply pending migrations (each once, in order, recorded) and refresh the views."""
        if not self.target.writable:
            raise ValueError(f"store: {self.target.text} is a DuckLake, which has no PRIMARY "
                             "KEY/UNIQUE constraints for earful's upserts: earful reads a lake "
                             "(a published copy) but writes to a DuckDB file or MotherDuck")
        with _write_lock(str(self.path.resolve())), self.connect(auto_migrate=False) as con:
            applied = self._migrate(con)
        _MIGRATED.add(str(self.path.resolve()))
        return applied

    @staticmethod
    def _migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
        applied = []
        for filename in _sql_files("migrations"):
            match = re.match(r"^(\d+)_(.+)\.sql$", filename)
            if not match:
                raise ValueError(f"store: migration {filename} must be named NNNN_name.sql")
            version = int(match.group(1))
            if version in done:
                continue
            con.begin()
            try:
                con.execute(_sql_text("migrations", filename))
                con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, match.group(2), datetime.now(UTC)],
                )
            except BaseException:
                con.rollback()
                raise
            con.commit()
            applied.append(filename)
            log.info("store: applied migration %s", filename)
        for filename in _sql_files("views"):
            con.execute(_sql_text("views", filename))
        return applied

    # -- reads --------------------------------------------------------------------------

    def query(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a named query as dicts."""
        with self.connect() as con:
            return dict_rows(con.execute(load_query(name), params or {}))

    def count(self, table: str) -> int:
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(f"store: not a table name: {table!r}")
        with self.connect() as con:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def source_states(self, keys: Sequence[str]) -> dict[str, SourceState]:
        with self.connect() as con:
            rows = con.execute(load_query("source_states_for"), {"keys": list(keys)}).fetchall()
        found = {row[0]: SourceState(**dict(zip(STATE_FIELDS, row, strict=True))) for row in rows}
        return {key: found.get(key) or SourceState(source_key=key) for key in keys}

    # -- writes -------------------------------------------------------------------------

    def write_batch(
        self,
        tables: BatchTables,
        *,
        states: Sequence[SourceState] = (),
        run_id: str | None = None,
        run_source: RunSourceRecord | None = None,
    ) -> WriteStats:
        """Upsert a batch of mentions with their scores, brands and new tickets, and save the
        sources' state and run record, in one transaction: all of it lands or none of it.
        `run_source` counts what earlier batches of the same source added; this batch's new
        mentions and tickets are added to it."""
        with self.transaction() as con:
            return self._write(con, tables, states, run_id, run_source)

    def _write(
        self,
        con: duckdb.DuckDBPyConnection,
        tables: BatchTables,
        states: Sequence[SourceState],
        run_id: str | None,
        run_source: RunSourceRecord | None,
    ) -> WriteStats:
        con.register("batch_mentions", tables.mentions)
        con.register("batch_scores", tables.scores)
        con.register("batch_brands", tables.brands)
        con.register("batch_tickets", tables.tickets)
        try:
            new_mentions, distinct_mentions, rows = con.execute(
                load_query("count_new_mentions")).fetchone()
            # An all-new batch with no id twice (a fresh backfill) needs neither conflict
            # handling nor de-duplication: same rows, inserted in a third of the time.
            # Anything already stored takes the upsert.
            all_new = new_mentions == distinct_mentions == rows
            con.execute(load_query("insert_mentions" if all_new else "upsert_mentions"))
            # Nothing of these mentions stored yet: their scores and brand matches are
            # inserted plainly too (scores and matches land with their mention, in one
            # transaction).
            nothing_stored = all_new and not con.execute(
                load_query("count_stored_scores")).fetchone()[0]
            con.execute(load_query("insert_scores" if nothing_stored else "upsert_scores"))
            con.execute(load_query("insert_brands_new" if nothing_stored else "insert_brands"))
            new_tickets = 0
            if tables.tickets.num_rows:
                # The desk decides which decisions open a ticket and which attach (desk_plan);
                # planning that query alone costs ~15 ms, so a batch without decisions skips it.
                con.execute(load_query("desk_plan_tickets"))
                new_tickets = con.execute(load_query("count_new_tickets")).fetchone()[0]
                con.execute(load_query("raise_ticket_priority"))
                con.execute(load_query("insert_ticket_events_opened"))
                con.execute(load_query("insert_tickets"))
                con.execute(load_query("desk_link_plan"))
            con.execute(load_query("desk_link_context"))
            con.execute(load_query("desk_update_rescue"))
            if states:
                con.register("batch_states", states_table(states))
                con.execute(load_query("upsert_source_state"))
                con.unregister("batch_states")
            if run_id and run_source:
                r = run_source
                con.execute(load_query("upsert_run_source"), [
                    run_id, r.source_key, r.status, r.fetched, r.matched,
                    r.new_mentions + new_mentions, r.new_tickets + new_tickets, r.errors,
                    r.message, r.next_check_at,
                ])
        finally:
            for name in ("batch_mentions", "batch_scores", "batch_brands", "batch_tickets"):
                con.unregister(name)
        return WriteStats(tables.size, int(new_mentions), int(new_tickets))

    def brand_activity(self, now: datetime) -> list[BrandActivity]:
        """Per-brand volume for the spike detector (last hour and the baseline before it)."""
        window_start = now - WINDOW
        rows = self.query("brand_activity", {
            "now": now, "window_start": window_start, "baseline_start": window_start - BASELINE,
        })
        return [BrandActivity(**row) for row in rows]

    def write_alerts(self, alerts: Sequence[SpikeAlert | HealthAlert], raised_at: datetime
                     ) -> set[str]:
        """Store new alerts (spikes, source health); an alert already stored (same id: same
        subject, kind and episode) is left alone. Returns the ids of the new ones."""
        if not alerts:
            return set()
        with self.transaction() as con:
            con.register("batch_alerts", alerts_table(alerts, raised_at))
            new = {row[0] for row in con.execute(load_query("new_alert_ids")).fetchall()}
            con.execute(load_query("insert_alerts"))
            con.unregister("batch_alerts")
        return new

    def source_activity(self, sources: Sequence[str], now: datetime) -> list[SourceActivity]:
        rows = self.query("source_activity", {"sources": list(sources), "now": now})
        return [SourceActivity(**row) for row in rows]

    def previous_reach(self, mention_ids: Sequence[str], now: datetime
                       ) -> dict[str, tuple[int, float]]:
        """Mention id → (expected reach when last scored, hours since), for velocity."""
        if not mention_ids:
            return {}
        with self.connect() as con:
            rows = con.execute(load_query("previous_reach"),
                               {"ids": list(mention_ids)}).fetchall()
        return {mid: (int(reach), (now - at).total_seconds() / 3600) for mid, reach, at in rows
                if at is not None and at < now}

    def start_run(self, run_id: str, kind: str, flow_run_id: str | None = None) -> None:
        with self.transaction() as con:
            con.execute(load_query("start_run"), {"id": run_id, "kind": kind,
                                                  "flow_run_id": flow_run_id,
                                                  "now": datetime.now(UTC)})

    def finish_run(self, run_id: str, status: str) -> None:
        with self.transaction() as con:
            con.execute(load_query("finish_run"),
                        {"id": run_id, "status": status, "now": datetime.now(UTC)})
