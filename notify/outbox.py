"""Filling the outbox: recent ticket events and alerts, routed to channels by the configured
rules, written in one bulk insert. A row's id is derived from (channel, source kind, source
id), so enqueueing the same event again is a no-op, whatever state its row is in."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

import pyarrow as pa

from notify.messages import Notification, from_alert, from_ticket_event
from notify.vip import matches_vip_config
from sql.store import Store, load_query

__all__ = ["OUTBOX_SCHEMA", "enqueue", "outbox_id", "outbox_row", "outbox_rows_table"]

log = logging.getLogger("earful.notify")

OUTBOX_SCHEMA = pa.schema([
    ("id", pa.string()), ("channel", pa.string()), ("sink", pa.string()),
    ("source_kind", pa.string()), ("source_id", pa.string()), ("kind", pa.string()),
    ("ticket_id", pa.string()), ("brand", pa.string()), ("priority", pa.string()),
    ("vip", pa.bool_()), ("title", pa.string()), ("payload", pa.string()),
    ("status", pa.string()), ("attempts", pa.int32()),
    ("next_attempt_at", pa.timestamp("us", tz="UTC")),
    ("created_at", pa.timestamp("us", tz="UTC")), ("updated_at", pa.timestamp("us", tz="UTC")),
])


def outbox_id(channel: str, source_kind: str, source_id: str) -> str:
    """The idempotency key: the same event for the same channel is always the same row, and
    the key sent to receivers that dedupe (webhook, Zendesk) is this id."""
    key = f"{channel}\x1f{source_kind}\x1f{source_id}".encode()
    return "N-" + hashlib.sha256(key).hexdigest()[:24]


def outbox_row(channel: str, sink: str, source_kind: str, source_id: str,
               note: Notification, now: datetime) -> dict[str, Any]:
    return {
        "id": outbox_id(channel, source_kind, source_id), "channel": channel, "sink": sink,
        "source_kind": source_kind, "source_id": source_id, "kind": note.kind,
        "ticket_id": note.ticket_id, "brand": note.brand, "priority": note.priority,
        "vip": note.vip, "title": note.title, "payload": note.payload_json(),
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        "updated_at": now,
    }


def outbox_rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=OUTBOX_SCHEMA)


def _vip_tickets(store: Store, settings: Any, events: list[dict[str, Any]]) -> set[str]:
    ids = sorted({e["ticket_id"] for e in events})
    if not ids:
        return set()
    flagged = {e["ticket_id"] for e in events if matches_vip_config(e, settings)}
    if _has_vip_column(store):
        flagged |= {r["id"] for r in store.query("notify_ticket_vips", {"ids": ids})}
    return flagged


# Databases known to have tickets.vip. Only a yes is remembered: columns are never dropped,
# but a database without the desk's migration may get it later.
_VIP_COLUMN: set[str] = set()


def _has_vip_column(store: Store) -> bool:
    key = str(store.path.resolve())
    if key not in _VIP_COLUMN and any(
            r["column_name"] == "vip" for r in store.query("notify_ticket_columns")):
        _VIP_COLUMN.add(key)
    return key in _VIP_COLUMN


def enqueue(store: Store, settings: Any, now: datetime) -> int:
    """Route recent ticket events and alerts into the outbox. Returns the rows added."""
    config = settings.notifications
    if not config.active:
        return 0
    since = now - config.max_age
    kinds = config.wanted_kinds()
    events = store.query("notify_event_candidates", {"since": since, "kinds": kinds})
    alerts = store.query("notify_alert_candidates", {"since": since, "kinds": kinds})
    vips = _vip_tickets(store, settings, events)

    rows: list[dict[str, Any]] = []
    notes = [("ticket_event", e["event_id"],
              from_ticket_event(e, vip=e["ticket_id"] in vips, base_url=config.base_url))
             for e in events]
    notes += [("alert", a["id"], from_alert(a)) for a in alerts]
    for source_kind, source_id, note in notes:
        for channel in config.channels_for(kind=note.kind, brand=note.brand,
                                           priority=note.priority):
            rows.append(outbox_row(channel, config.channels[channel].sink, source_kind,
                                   source_id, note, now))
    if not rows:
        return 0
    with store.transaction() as con:
        con.register("batch_outbox", outbox_rows_table(rows))
        try:
            added = int(con.execute(load_query("notify_count_new_outbox")).fetchone()[0])
            con.execute(load_query("notify_insert_outbox"))
        finally:
            con.unregister("batch_outbox")
    if added:
        log.info("notify: enqueued %d notification(s)", added, extra={"added": added})
    return added
