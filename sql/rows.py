"""Pipeline output as Arrow tables shaped like the store's tables, so a batch is written with
`INSERT ... SELECT` in bulk. No DuckDB here: worker processes build these in parallel."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from connectors.base import SourceState
from sentiment.complaint import MODEL_VERSION as COMPLAINT_MODEL
from triage.health import HealthAlert
from triage.scored import ScoredMention
from triage.spikes import SpikeAlert
from triage.tickets import TicketDecision

__all__ = ["STATE_FIELDS", "BatchTables", "alerts_table", "batch_tables", "concat_batches",
           "states_table"]

_TS = pa.timestamp("us", tz="UTC")

MENTIONS_SCHEMA = pa.schema(
    [
        ("id", pa.string()), ("source", pa.string()), ("external_id", pa.string()),
        ("source_name", pa.string()), ("url", pa.string()), ("title", pa.string()),
        ("text", pa.string()), ("author_id", pa.string()), ("author_handle", pa.string()),
        ("author_name", pa.string()), ("author_url", pa.string()),
        ("author_followers", pa.int64()), ("published_at", _TS), ("lang", pa.string()),
        ("likes", pa.int64()), ("reposts", pa.int64()), ("replies", pa.int64()),
        ("score", pa.int64()), ("views", pa.int64()), ("thread_id", pa.string()),
        ("parent_id", pa.string()), ("is_repost", pa.bool_()), ("is_own", pa.bool_()),
        ("raw", pa.string()), ("first_seen_at", _TS), ("last_seen_at", _TS),
        ("listing_ratings", pa.int64()),
    ]
)
SCORES_SCHEMA = pa.schema(
    [
        ("mention_id", pa.string()), ("compound", pa.float64()), ("positive", pa.float64()),
        ("neutral", pa.float64()), ("negative", pa.float64()), ("label", pa.string()),
        ("reach_low", pa.int64()), ("reach_expected", pa.int64()), ("reach_high", pa.int64()),
        ("reach_method", pa.string()), ("scored_at", _TS), ("lang", pa.string()),
        ("sentiment_model", pa.string()), ("complaint", pa.float64()),
        ("is_complaint", pa.bool_()), ("complaint_reasons", pa.list_(pa.string())),
        ("complaint_model", pa.string()), ("reach_per_hour", pa.float64()),
        ("reach_projected", pa.int64()), ("rating", pa.float64()),
        ("review_flag", pa.string()),
    ]
)
BRANDS_SCHEMA = pa.schema(
    [("mention_id", pa.string()), ("brand", pa.string()), ("matched_terms", pa.list_(pa.string()))]
)
TICKETS_SCHEMA = pa.schema(
    [
        ("id", pa.string()), ("mention_id", pa.string()), ("brand", pa.string()),
        ("kind", pa.string()), ("priority", pa.string()), ("risk", pa.float64()),
        ("reason", pa.string()), ("reach", pa.int64()), ("opened_at", _TS), ("due_at", _TS),
        ("resolution_due_at", _TS), ("vip", pa.bool_()), ("vip_name", pa.string()),
        ("assignee", pa.string()), ("sla_factor", pa.float64()),
        ("attach_window_s", pa.int64()), ("cooldown_s", pa.int64()),
    ]
)


@dataclass(frozen=True, slots=True)
class BatchTables:
    mentions: pa.Table
    scores: pa.Table
    brands: pa.Table
    tickets: pa.Table

    @property
    def size(self) -> int:
        return self.mentions.num_rows


def _raw_json(raw: object) -> str:
    return raw if isinstance(raw, str) else json.dumps(raw, default=str, ensure_ascii=False)


def _columns(schema: pa.Schema, rows: list[tuple[object, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _table(schema: pa.Schema, columns: Sequence[object]) -> pa.Table:
    return pa.Table.from_arrays(
        [col if isinstance(col, pa.Array) else pa.array(col, type=field.type)
         for col, field in zip(columns, schema, strict=True)],
        schema=schema,
    )


def batch_tables(
    scored: Sequence[ScoredMention], tickets: Sequence[TicketDecision], now: datetime
) -> BatchTables:
    """Columns for one batch. Duplicate mentions within the batch keep the last copy.
    Built column by column in one pass (no row tuples), `now` converted to Arrow once."""
    latest = list({item.mention.id: item for item in scored}.items())
    n = len(latest)
    # pa.repeat, not take(): take loads pyarrow.compute (~30 ms of every worker's start).
    now_col = pa.repeat(pa.scalar(now, type=_TS), n)
    ids = [mention_id for mention_id, _ in latest]
    items = [item for _, item in latest]
    ms = [item.mention for item in items]
    authors = [m.author for m in ms]
    engagement = [m.engagement for m in ms]
    sentiments = [item.sentiment for item in items]
    reaches = [item.reach for item in items]
    complaints = [item.complaint for item in items]
    mentions = _table(MENTIONS_SCHEMA, [
        ids, [m.source for m in ms], [m.external_id for m in ms],
        [item.source_name for item in items], [m.url for m in ms], [m.title for m in ms],
        [m.text for m in ms], [a.id for a in authors], [a.handle for a in authors],
        [a.name for a in authors], [a.url for a in authors], [a.followers for a in authors],
        [m.published_at for m in ms], [m.lang for m in ms],
        [e.likes for e in engagement], [e.reposts for e in engagement],
        [e.replies for e in engagement], [e.score for e in engagement],
        [e.views for e in engagement], [m.thread_id for m in ms], [m.parent_id for m in ms],
        [m.is_repost for m in ms], [m.is_own for m in ms], [_raw_json(m.raw) for m in ms],
        now_col, now_col, [m.listing_ratings for m in ms],
    ])
    scores = _table(SCORES_SCHEMA, [
        ids, [s.compound for s in sentiments], [s.positive for s in sentiments],
        [s.neutral for s in sentiments], [s.negative for s in sentiments],
        [s.label for s in sentiments], [r.low for r in reaches],
        [r.expected for r in reaches], [r.high for r in reaches],
        [r.method for r in reaches], now_col, [item.lang for item in items],
        [s.model for s in sentiments],
        [c.probability if c else None for c in complaints],
        [c.is_complaint if c else None for c in complaints],
        [list(c.reasons) if c else None for c in complaints],
        [COMPLAINT_MODEL if c else None for c in complaints],
        [r.per_hour for r in reaches], [r.projected for r in reaches],
        [item.rating for item in items], [item.review_flag for item in items],
    ])
    unique_brands = {
        (mention_id, b.brand): b.terms for mention_id, item in latest for b in item.brands
    }
    brands = _table(BRANDS_SCHEMA, [
        [key[0] for key in unique_brands], [key[1] for key in unique_brands],
        [list(terms) for terms in unique_brands.values()],
    ])
    ticket_rows = {
        t.id: (t.id, t.mention_id, t.brand, t.kind, t.priority, t.risk, t.reason, t.reach,
               t.opened_at, t.due_at, t.resolution_due_at, t.vip, t.vip_name, t.assignee,
               t.sla_factor, t.attach_window_s, t.cooldown_s)
        for t in tickets
    }
    return BatchTables(
        mentions=mentions,
        scores=scores,
        brands=brands,
        tickets=_columns(TICKETS_SCHEMA, list(ticket_rows.values())),
    )


def concat_batches(batches: Sequence[BatchTables]) -> BatchTables:
    if not batches:
        return batch_tables([], [], datetime.now().astimezone())
    return BatchTables(*(pa.concat_tables([getattr(b, name) for b in batches])
                         for name in ("mentions", "scores", "brands", "tickets")))


# Source state and alerts, shaped like their tables for bulk writes.
STATE_SCHEMA = pa.schema(
    [
        ("source_key", pa.string()), ("etag", pa.string()), ("last_modified", pa.string()),
        ("cursor", pa.string()), ("checked_at", _TS),
        ("next_check_at", _TS), ("error_count", pa.int32()),
        ("last_error", pa.string()), ("rate_limit_remaining", pa.int32()),
        ("rate_limit_reset", _TS),
    ]
)
STATE_FIELDS = [f.name for f in STATE_SCHEMA]
ALERTS_SCHEMA = pa.schema([
    ("id", pa.string()), ("brand", pa.string()), ("kind", pa.string()),
    ("window_start", _TS), ("window_end", _TS), ("observed", pa.float64()),
    ("baseline", pa.float64()), ("threshold", pa.float64()), ("message", pa.string()),
    ("raised_at", _TS), ("source_name", pa.string()),
])


def states_table(states: Sequence[SourceState]) -> pa.Table:
    return pa.Table.from_pylist(
        [{name: getattr(s, name) for name in STATE_FIELDS} for s in states], schema=STATE_SCHEMA
    )


def alerts_table(alerts: Sequence[SpikeAlert | HealthAlert], raised_at: datetime) -> pa.Table:
    return pa.Table.from_pylist([
        {"id": a.id, "brand": a.brand, "kind": a.kind, "window_start": a.window_start,
         "window_end": a.window_end, "observed": float(a.observed),
         "baseline": float(a.baseline), "threshold": float(a.threshold),
         "message": a.message, "raised_at": raised_at,
         "source_name": getattr(a, "source_name", None)} for a in alerts
    ], schema=ALERTS_SCHEMA)
