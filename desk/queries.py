"""The desk's read side, for the web app and the CLI: the work queue, one ticket with
everything a person needs to answer it, and the SLA figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from desk.templates import fill, placeholders, templates_for
from sql.store import Store

__all__ = ["QUEUE_FIELDS", "escalation_level_name", "queue", "sla_figures", "ticket_detail"]

QUEUE_FIELDS = ("ticket_id", "brand", "source", "status", "priority", "risk", "reason", "reach",
                "assignee", "opened_at", "due_at", "sla_state", "author_handle", "author_name",
                "url", "text", "vip")
_MENTION_FIELDS = ("mention_id", "source", "source_name", "external_id", "url", "title", "text",
                   "author_id", "author_handle", "author_name", "author_url", "author_followers",
                   "published_at", "lang", "likes", "reposts", "replies", "views", "thread_id",
                   "parent_id", "compound", "label", "complaint", "review_flag")


def _share(settings: Any) -> float:
    return float(settings.desk.escalation.at_risk_share)


def escalation_level_name(settings: Any, level: int) -> str:
    path = settings.desk.escalation.path
    return path[min(max(level, 0), len(path) - 1)].name


def queue(
    store: Store,
    settings: Any,
    *,
    brand: str | None = None,
    source: str | None = None,
    status: str | None = None,
    priority: str | None = None,
    assignee: str | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Open work (or `status`: one status, or "all"), breached first, then at risk, then by
    risk. `assignee=""` lists the unassigned. `source` is a connector kind or a configured
    source name. Each row has QUEUE_FIELDS and more (kind, first_response_due_at,
    resolution_due_at, escalation_level, vip_name, title, attached)."""
    return store.query("desk_queue", {
        "brand": brand or None, "source": source or None, "status": status or None,
        "priority": priority or None, "assignee": assignee, "now": now or datetime.now(UTC),
        "share": _share(settings), "limit": int(limit),
    })


def ticket_detail(store: Store, settings: Any, ticket_id: str,
                  now: datetime | None = None) -> dict[str, Any] | None:
    """Everything about one ticket, or None when there is no such ticket."""
    now = now or datetime.now(UTC)
    rows = store.query("desk_ticket_detail", {"id": ticket_id, "now": now,
                                              "share": _share(settings)})
    if not rows:
        return None
    row = rows[0]
    mention = {key: row.get(key) for key in _MENTION_FIELDS}
    mention["mention_id"] = row["mention_id"]
    ticket = {key: value for key, value in row.items()
              if key not in _MENTION_FIELDS or key == "mention_id"}
    ticket["ticket_id"] = ticket["id"]
    ticket["escalation_level_name"] = escalation_level_name(settings, ticket["escalation_level"])
    events = store.query("desk_ticket_events", {"id": ticket_id})
    for event in events:
        event["detail"] = json.loads(event["detail"]) if event["detail"] else {}
    values = placeholders(ticket, mention, ticket.get("assignee"), settings.desk)
    templates = [{"id": t.id, "name": t.name, "text": fill(t, values)}
                 for t in templates_for(settings.desk, ticket["brand"], ticket["kind"])]
    thread = store.query("desk_ticket_thread", {"id": ticket_id})
    return {
        "ticket": ticket,
        "mention": mention,
        "reach": {"low": row["reach_low"], "expected": row["reach_expected"],
                  "high": row["reach_high"], "method": row["reach_method"],
                  "projected": row["reach_projected"], "per_hour": row["reach_per_hour"]},
        "reasons": list(row["complaint_reasons"] or []),
        "rating": row["rating"],
        "thread": thread,
        "events": events,
        "templates": templates,
        "rescue": _rescue(ticket, thread),
    }


def _rescue(ticket: dict[str, Any], thread: list[dict[str, Any]]) -> dict[str, Any] | None:
    if ticket["kind"] == "thank" or ticket["rescue_until"] is None:
        return None
    return {
        "until": ticket["rescue_until"],
        "sentiment_before": ticket["sentiment_before"],
        "sentiment_after": ticket["sentiment_after"],
        "rescued": ticket["rescued"],
        "recovered_at": ticket["recovered_at"],
        # a ticket reopened and resolved again keeps earlier follow-ups that opened tickets
        # of their own: only what came after this resolution counts
        "followups": sum(1 for m in thread if m["relation"] == "rescue"
                         and m["published_at"] > ticket["resolved_at"]),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def sla_figures(store: Store, settings: Any, now: datetime | None = None, *,
                days: int = 30) -> dict[str, Any]:
    """Median first response (minutes), share within the first-response and resolution SLAs
    (tickets opened in the last `days`, dismissed ones left out), and the open breaches and
    at-risk tickets now; overall and per priority."""
    now = now or datetime.now(UTC)
    rows = store.query("desk_sla_figures", {"now": now, "since": now - timedelta(days=days),
                                            "share": _share(settings)})

    def shaped(row: dict[str, Any]) -> dict[str, Any]:
        median = row["median_first_response_minutes"]
        return {
            "tickets": row["tickets"], "responded": row["responded"],
            "median_first_response_minutes": round(median, 1) if median is not None else None,
            "first_response_within_sla": _ratio(row["first_response_in_sla"],
                                                row["first_response_known"]),
            "resolution_within_sla": _ratio(row["resolved_in_sla"], row["resolution_known"]),
            "open": row["open"], "open_breaches": row["open_breaches"],
            "at_risk": row["at_risk"],
        }

    overall = next((r for r in rows if r["priority"] is None), None)
    empty = {"tickets": 0, "responded": 0, "median_first_response_minutes": None,
             "first_response_within_sla": None, "resolution_within_sla": None, "open": 0,
             "open_breaches": 0, "at_risk": 0}
    return {
        "period_days": days,
        "as_of": now,
        **(shaped(overall) if overall else empty),
        "by_priority": {r["priority"]: shaped(r) for r in rows if r["priority"] is not None},
    }
