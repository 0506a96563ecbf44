"""Breaches and escalation, run hourly by the follow-up flow.

A ticket past the deadline that applies to it (first response, then resolution) is
breached: logged once per deadline, moved one level up the escalation path
(agent → lead → comms by default) and raised one priority step. Still breached
`escalation.interval` after its last escalation, it moves up again, to the last level at
most. Everything is derived from the ticket and the time, so running it twice an hour, or
after a crash, changes nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from sql.store import Store, dict_rows, load_query

__all__ = ["Escalation", "escalate_due", "next_priority"]

_PRIORITIES = ("P1", "P2", "P3", "P4")
_TS = pa.timestamp("us", tz="UTC")
_SCHEMA = pa.schema([
    ("id", pa.string()), ("at", _TS), ("deadline_kind", pa.string()), ("deadline", _TS),
    ("level_from", pa.int32()), ("level", pa.int32()), ("level_name", pa.string()),
    ("contacts", pa.list_(pa.string())), ("priority_from", pa.string()),
    ("priority_to", pa.string()), ("assignee", pa.string()),
])


@dataclass(frozen=True, slots=True)
class Escalation:
    """One ticket that breached and/or moved up the path in this run."""

    ticket_id: str
    brand: str
    deadline_kind: str        # "first_response" | "resolution"
    deadline: datetime
    level_from: int
    level: int                # index in settings.desk.escalation.path
    level_name: str           # e.g. "lead"
    contacts: tuple[str, ...]
    priority_from: str
    priority_to: str
    assignee: str | None
    vip: bool

    @property
    def escalated(self) -> bool:
        return self.level > self.level_from


def next_priority(priority: str) -> str:
    """One step more urgent; P1 stays P1."""
    index = _PRIORITIES.index(priority)
    return _PRIORITIES[max(index - 1, 0)]


def _plan(row: dict[str, Any], settings: Any, now: datetime) -> Escalation:
    escalation = settings.desk.escalation
    path = escalation.path
    level_from = int(row["escalation_level"])
    top = len(path) - 1
    due_again = (row["escalated_at"] is None
                 or row["escalated_at"] + escalation.interval <= now
                 # a deadline missed after the last escalation: a new breach escalates now
                 or row["escalated_at"] < row["active_due_at"])
    # A path shortened in the config since the ticket climbed it: the ticket is at its top.
    current = min(level_from, top)
    level = min(current + 1, top) if due_again else current
    moved = level > level_from
    priority = str(row["priority"])
    raised = next_priority(priority) if moved and escalation.raise_priority else priority
    kind = "first_response" if row["first_response_at"] is None else "resolution"
    return Escalation(
        ticket_id=row["id"], brand=row["brand"], deadline_kind=kind,
        deadline=row["active_due_at"], level_from=level_from, level=level,
        level_name=path[level].name, contacts=tuple(path[level].contacts),
        priority_from=priority, priority_to=raised, assignee=row["assignee"],
        vip=bool(row["vip"]),
    )


def escalate_due(store: Store, settings: Any, now: datetime | None = None
                 ) -> list[Escalation]:
    """Log breaches and escalate the tickets that are due; return what happened (every
    breached ticket, `escalated` telling which moved up in this run)."""
    now = now or datetime.now(UTC)
    with store.transaction() as con:
        rows = dict_rows(con.execute(load_query("desk_escalation_candidates"), {"now": now}))
        plans = [_plan(row, settings, now) for row in rows]
        if not plans:
            return []
        table = pa.Table.from_pylist([
            {"id": p.ticket_id, "at": now, "deadline_kind": p.deadline_kind,
             "deadline": p.deadline, "level_from": p.level_from, "level": p.level,
             "level_name": p.level_name, "contacts": list(p.contacts),
             "priority_from": p.priority_from, "priority_to": p.priority_to,
             "assignee": p.assignee} for p in plans], schema=_SCHEMA)
        con.register("desk_escalations", table)
        try:
            con.execute(load_query("desk_escalate"))
        finally:
            con.unregister("desk_escalations")
    return plans
