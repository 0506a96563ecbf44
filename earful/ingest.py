"""`earful ingest`: the bulk path for backfills and exports. JSON lines go through the same
pipeline and store as the listen flow; parsing, matching and scoring run on every core, the
writes go to DuckDB in bulk, one transaction per chunk (or per run of chunks scored
together)."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from connectors.base import Author, Engagement, Mention
from connectors.fields import written_time
from earful.settings import Settings
from sql.rows import BatchTables, batch_tables, concat_batches
from sql.store import Store
from triage.pipeline import Pipeline, ProcessedBatch

__all__ = ["CHUNK_LINES", "WRITE_MAX_LINES", "WRITE_MIN_LINES", "IngestReport", "ingest_file",
           "parse_line"]

# Lines a worker scores at a time: small, so the last chunks finish together and the final
# write, the one no scoring overlaps, is short.
CHUNK_LINES = 2_000
# Scored chunks are written together, one transaction for at least WRITE_MIN_LINES (fewer
# only at the end) and at most WRITE_MAX_LINES: each write has a fixed cost (~30 ms of
# planning and commit) whatever its size.
WRITE_MIN_LINES = 10_000
WRITE_MAX_LINES = 20_000
# Below about two chunks of tweet-length lines, worker processes cost more than they save.
_PARALLEL_MIN_BYTES = 1_000_000
# In Engagement's field order: parse_line passes them positionally.
_ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "score", "views")
_REQUIRED = ("source", "external_id", "text")
# Counts are stored as BIGINT: a larger one is an error in the export, not a count.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Epoch seconds as a string: nine digits or more (from 1973 on), so an ISO basic date
# ("20261123") is not one.
_EPOCH = re.compile(r"-?\d{9,}(?:\.\d+)?")
# Epoch seconds this large would be after the year 5000: milliseconds, surely.
_EPOCH_MS_FROM = 1e11
INGEST_SOURCE_NAME = "ingest"


class LineError(ValueError):
    pass


@dataclass(slots=True)
class IngestReport:
    run_id: str
    lines: int = 0
    stored: int = 0
    new: int = 0
    unmatched: int = 0
    tickets: int = 0
    errors: list[str] = field(default_factory=list)


def _int_or_none(record: dict[str, Any], key: str) -> int | None:
    value = record.get(key)
    if value.__class__ is int and _INT64_MIN <= value <= _INT64_MAX:  # the common case
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise LineError(f"{key} must be a number, got {value!r}")
    try:
        number = int(value) if isinstance(value, int) else int(float(value))
    except (ValueError, OverflowError):  # "many", NaN, 1e400 (infinity)
        raise LineError(f"{key} must be a number, got {value!r}") from None
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise LineError(f"{key} is out of range: {value!r}")
    return number


def _timestamp(value: Any) -> datetime:
    """ISO 8601, epoch seconds (milliseconds from 1e11 on: JavaScript's and many exports'),
    as a number or a string, or the two formats exports carry besides: RFC 2822 (e-mail,
    RSS) and Twitter's own ("Wed Oct 10 20:19:24 +0000 2018", an X archive's created_at)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(value)
    if not isinstance(value, str) or not value.strip():
        raise LineError(f"published_at must be an ISO 8601 time or epoch seconds, got {value!r}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        if _EPOCH.fullmatch(text):
            return _epoch(float(text))
        parsed = written_time(text)
        if parsed is None:
            raise LineError(f"published_at is not an ISO 8601 time: {value!r}") from None
    # Exports without an offset are taken as UTC (documented in the README).
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _epoch(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= _EPOCH_MS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):  # NaN, infinity, past the year 9999
        raise LineError(f"published_at is out of range: {value!r}") from None




def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value.__class__ is str:
        return value
    if not isinstance(value, str | int | float):
        raise LineError(f"{key} must be a string, got {type(value).__name__}")
    return str(value)


def parse_line(line: str, now: datetime) -> tuple[Mention, str | None]:
    """One export line as a Mention and its pre-matched brand, if the export names one."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise LineError("expected a JSON object")
    missing = [k for k in _REQUIRED if record.get(k) in (None, "")]
    if missing:
        raise LineError(f"missing {', '.join(missing)}")
    published = record.get("published_at")
    author = record.get("author")
    author_name = record.get("author_name")
    if isinstance(author, dict):
        author_handle = _text(author, "handle")
        author_name = author_name or _text(author, "name")
    else:
        author_handle = _text(record, "author")
    mention = Mention(
        source=str(record["source"]),
        external_id=str(record["external_id"]),
        url=_text(record, "url"),
        title=_text(record, "title"),
        text=str(_text(record, "text")),
        published_at=_timestamp(published) if published not in (None, "") else now,
        author=Author(
            id=_text(record, "author_id"),
            handle=author_handle,
            name=author_name if isinstance(author_name, str) else None,
            url=_text(record, "author_url"),
            followers=_int_or_none(record, "author_followers"),
        ),
        engagement=Engagement(*[_int_or_none(record, k) for k in _ENGAGEMENT_FIELDS]),
        lang=_text(record, "lang"),
        thread_id=_text(record, "thread_id"),
        parent_id=_text(record, "parent_id"),
        is_repost=bool(record.get("is_repost", False)),
        raw=line.strip(),
    )
    return mention, _text(record, "brand")


@dataclass(slots=True)
class _ChunkResult:
    tables: BatchTables
    unmatched: int
    errors: list[str]
    bytes_read: int


_worker_pipeline: Pipeline | None = None


def _init_worker(settings: Settings, pool_worker: bool = False) -> None:
    global _worker_pipeline
    _worker_pipeline = Pipeline(settings)
    if pool_worker:
        # What a worker process inherited or loaded lives as long as it does: the cyclic
        # collector need not walk it again on every collection.
        gc.freeze()


def _process_chunk(first_line_no: int, lines: list[str], now: datetime) -> _ChunkResult:
    pipeline = _worker_pipeline
    if pipeline is None:
        raise RuntimeError("ingest worker was not initialised")
    # A chunk allocates a few hundred thousand objects, freed by reference counting: the
    # cyclic collector, triggered every 700 allocations, costs ~5% of the scoring here.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _score_chunk(pipeline, first_line_no, lines, now)
    finally:
        if gc_was_enabled:
            gc.enable()


def _score_chunk(pipeline: Pipeline, first_line_no: int, lines: list[str], now: datetime
                 ) -> _ChunkResult:
    processed = ProcessedBatch()
    errors: list[str] = []
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            mention, brand = parse_line(line, now)
        except (LineError, ValueError, OverflowError) as exc:
            errors.append(f"line {first_line_no + offset}: {exc}")
            continue
        item = pipeline.score_one(mention, source_name=INGEST_SOURCE_NAME, known_brand=brand)
        if item is None:
            processed.unmatched += 1
        else:
            processed.scored.append(item)
    tickets = pipeline.decide(processed.scored, now)
    return _ChunkResult(batch_tables(processed.scored, tickets, now), processed.unmatched,
                        errors, sum(len(line.encode()) for line in lines))


def _chunks(handle: IO[str], size: int) -> Iterator[tuple[int, list[str]]]:
    chunk: list[str] = []
    first = 1
    for line_no, line in enumerate(handle, start=1):
        if not chunk:
            first = line_no
        chunk.append(line)
        if len(chunk) >= size:
            yield first, chunk
            chunk = []
    if chunk:
        yield first, chunk


def _executor(workers: int, settings: Settings) -> Executor:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(settings, True),
    )


def ingest_file(
    path: Path | str,
    settings: Settings,
    *,
    workers: int | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest a JSON-lines file ('-' for stdin). Bad lines are reported with their line
    number and skipped; every good line is stored."""
    store = Store(settings.db_path)
    store.migrate()
    now = datetime.now(UTC)
    report = IngestReport(run_id=f"ingest-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
    source = Path(path)
    # One connection for the run record and every batch: opening the file costs ~15 ms.
    with store.session():
        store.start_run(report.run_id, "ingest")
        status = "failed"
        try:
            with _open(source) as handle:
                size_hint = source.stat().st_size if str(path) != "-" else 0
                workers = workers or (os.cpu_count() or 1)
                parallel = workers > 1 and size_hint > _PARALLEL_MIN_BYTES
                results = _run_chunks(_chunks(handle, CHUNK_LINES), settings, now, workers,
                                      parallel)
                for group in results:
                    for tables in _write_units([result.tables for _, result in group]):
                        stats = store.write_batch(tables, run_id=report.run_id)
                        report.stored += stats.mentions
                        report.new += stats.new_mentions
                        report.tickets += stats.new_tickets
                    for lines, result in group:
                        report.lines += lines
                        report.unmatched += result.unmatched
                        report.errors.extend(result.errors)
                        if on_chunk:
                            on_chunk(lines, result.bytes_read)
            status = "completed"
        finally:
            store.finish_run(report.run_id, status)
    return report


def _run_chunks(
    chunks: Iterable[tuple[int, list[str]]],
    settings: Settings,
    now: datetime,
    workers: int,
    parallel: bool,
) -> Iterator[list[tuple[int, _ChunkResult]]]:
    """Scored chunks in input order, in groups of those that were ready together."""
    if not parallel:
        _init_worker(settings)
        group: list[tuple[int, _ChunkResult]] = []
        grouped = 0
        for first, lines in chunks:
            group.append((len(lines), _process_chunk(first, lines, now)))
            grouped += len(lines)
            if grouped >= WRITE_MIN_LINES:
                yield group
                group, grouped = [], 0
        if group:
            yield group
        return
    with _executor(workers, settings) as pool:
        pending: deque[tuple[int, Future[_ChunkResult]]] = deque()
        for first, lines in chunks:
            pending.append((len(lines), pool.submit(_process_chunk, first, lines, now)))
            # Keep a bounded window in flight so memory stays flat on huge files.
            while len(pending) > workers * 4:
                yield _ready_group(pending, WRITE_MIN_LINES)
        # The last chunks are written as they come: the final write is the one no scoring
        # overlaps, so it is kept small.
        while pending:
            yield _ready_group(pending, 0)


def _ready_group(pending: deque[tuple[int, Future[_ChunkResult]]], minimum: int
                 ) -> list[tuple[int, _ChunkResult]]:
    """The oldest chunks, waited for up to `minimum` lines, and the ones after them already
    scored."""
    count, future = pending.popleft()
    group, lines = [(count, future.result())], count
    while pending and lines + pending[0][0] <= WRITE_MAX_LINES and (
            lines < minimum or pending[0][1].done()):
        count, future = pending.popleft()
        group.append((count, future.result()))
        lines += count
    return group


def _write_units(tables: list[BatchTables]) -> list[BatchTables]:
    """The chunks' tables as one batch, or one by one when a mention appears in two of them
    (written in order, the later copy updates the earlier, as separate chunks always did)."""
    if len(tables) == 1:
        return tables
    ids: set[str] = set()
    for table in tables:
        chunk_ids = table.mentions.column("id").to_pylist()
        if not ids.isdisjoint(chunk_ids):
            return tables
        ids.update(chunk_ids)
    return [concat_batches(tables)]


def _open(path: Path) -> IO[str]:
    if str(path) == "-":
        import sys

        return sys.stdin
    if not path.exists():
        raise FileNotFoundError(f"ingest: no such file {path}")
    return path.open("r", encoding="utf-8")
