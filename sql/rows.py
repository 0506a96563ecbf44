"""Pipeline output as Arrow tables shaped like the store's tables, so a batch is written with
`INSERT ... SELECT` in bulk. No DuckDB here: worker processes build these in parallel."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from sentiment.complaint import MODEL_VERSION as COMPLAINT_MODEL
from triage.scored import ScoredMention
from triage.tickets import TicketDecision

__all__ = ["BatchTables", "batch_tables", "concat_batches"]

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


def batch_tables(
    scored: Sequence[ScoredMention], tickets: Sequence[TicketDecision], now: datetime
) -> BatchTables:
    """Columns for one batch. Duplicate mentions within the batch keep the last copy."""
    latest = {item.mention.id: item for item in scored}
    mention_rows, score_rows, brand_rows = [], [], []
    for mention_id, item in latest.items():
        m, a, e, s, r = (item.mention, item.mention.author, item.mention.engagement,
                         item.sentiment, item.reach)
        mention_rows.append((
            mention_id, m.source, m.external_id, item.source_name, m.url, m.title, m.text,
            a.id, a.handle, a.name, a.url, a.followers, m.published_at, m.lang,
            e.likes, e.reposts, e.replies, e.score, e.views, m.thread_id, m.parent_id,
            m.is_repost, m.is_own, _raw_json(m.raw), now, now, m.listing_ratings,
        ))
        c = item.complaint
        score_rows.append((
            mention_id, s.compound, s.positive, s.neutral, s.negative, s.label,
            r.low, r.expected, r.high, r.method, now, item.lang, s.model,
            c.probability if c else None, c.is_complaint if c else None,
            list(c.reasons) if c else None, COMPLAINT_MODEL if c else None,
            r.per_hour, r.projected, item.rating, item.review_flag,
        ))
        brand_rows.extend((mention_id, b.brand, list(b.terms)) for b in item.brands)
    ticket_rows = {
        t.id: (t.id, t.mention_id, t.brand, t.kind, t.priority, t.risk, t.reason, t.reach,
               t.opened_at, t.due_at, t.resolution_due_at, t.vip, t.vip_name, t.assignee,
               t.sla_factor, t.attach_window_s, t.cooldown_s)
        for t in tickets
    }
    unique_brands = {(row[0], row[1]): row for row in brand_rows}
    return BatchTables(
        mentions=_columns(MENTIONS_SCHEMA, mention_rows),
        scores=_columns(SCORES_SCHEMA, score_rows),
        brands=_columns(BRANDS_SCHEMA, list(unique_brands.values())),
        tickets=_columns(TICKETS_SCHEMA, list(ticket_rows.values())),
    )


def concat_batches(batches: Sequence[BatchTables]) -> BatchTables:
    if not batches:
        return batch_tables([], [], datetime.now().astimezone())
    return BatchTables(*(pa.concat_tables([getattr(b, name) for b in batches])
                         for name in ("mentions", "scores", "brands", "tickets")))
