"""What a notification says: built once, when it is enqueued, from a ticket event or an alert,
and stored as the outbox row's payload. Sinks only render it. Pure: no database, no network.

Mention text, author names and URLs are untrusted: they are cut to size and whitespace-folded
here, and each sink escapes them for its own format."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DIGEST_ITEMS",
    "TEXT_LIMIT",
    "TITLE_LIMIT",
    "Notification",
    "digest_notification",
    "from_alert",
    "from_ticket_event",
    "safe_url",
    "single_line",
]

# Slack's header block takes 150 characters; a title longer than that is noise anyway.
TITLE_LIMIT = 150
# Enough of the mention to judge it without opening it.
TEXT_LIMIT = 600
# A digest lists this many held notifications and counts the rest.
DIGEST_ITEMS = 20

_SPACE = re.compile(r"\s+")


def single_line(value: object, limit: int = 300) -> str:
    """Whitespace (newlines included) folded to single spaces, cut to `limit` with '…'."""
    text = _SPACE.sub(" ", str(value or "")).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def clip(value: object, limit: int = TEXT_LIMIT) -> str:
    text = str(value or "").strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def safe_url(value: object) -> str | None:
    """Only http(s) URLs without whitespace or control characters are ever linked."""
    url = str(value or "").strip()
    if not re.match(r"^https?://[^\s\x00-\x1f\x7f]+$", url, re.IGNORECASE):
        return None
    return url


@dataclass(frozen=True, slots=True)
class Notification:
    """One thing to tell people. `id` is the outbox row's id (the idempotency key)."""

    kind: str  # opened, priority_raised, ..., volume, source_failing, ..., digest
    title: str
    summary: str  # one line: the ticket's reason, the alert's message
    occurred_at: str  # ISO 8601, UTC
    brand: str | None = None
    priority: str | None = None
    vip: bool = False
    ticket_id: str | None = None
    link: str | None = None  # the ticket in the review web app
    url: str | None = None  # the original post (http(s) only)
    author: str | None = None  # "@handle (Name)"
    source: str | None = None
    text: str | None = None  # the mention, cut to TEXT_LIMIT
    reach: int | None = None
    due_at: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)  # digests: held notifications
    more: int = 0  # digests: held notifications beyond `items`
    id: str = ""

    @property
    def is_ticket(self) -> bool:
        return self.ticket_id is not None

    @property
    def is_digest(self) -> bool:
        return self.kind == "digest"

    def payload_json(self) -> str:
        data = asdict(self)
        data.pop("id")
        return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Notification:
        """The notification stored on an outbox row."""
        data = row["payload"]
        data = json.loads(data) if isinstance(data, str) else dict(data)
        return cls(**data, id=row["id"])


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return str(value)
    # DuckDB returns TIMESTAMPTZ in the machine's zone; receivers are promised UTC.
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat()


def _detail(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value)) if value else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _author(handle: object, name: object) -> str | None:
    handle = single_line(handle, 80)
    name = single_line(name, 80)
    if handle and name and name.lower() != handle.lstrip("@").lower():
        return f"{handle} ({name})"
    return handle or name or None


def event_priority(kind: str, detail: dict[str, Any], ticket_priority: str | None) -> str | None:
    """The priority the event is about: an 'opened' event carries the priority it opened at,
    a raise the new one; other events use the ticket's current priority."""
    if kind == "opened" and detail.get("priority"):
        return str(detail["priority"])
    if kind == "priority_raised" and detail.get("to"):
        return str(detail["to"])
    return ticket_priority


def _event_headline(kind: str, detail: dict[str, Any], ticket_kind: str) -> str:
    if kind == "opened":
        return f"new {ticket_kind} ticket"
    if kind == "priority_raised":
        return f"raised {detail.get('from', '?')} → {detail.get('to', '?')}"
    if kind == "escalated":
        level = detail.get("to") or detail.get("level")
        return f"escalated to {level}" if level not in (None, "") else "escalated"
    if kind == "breached":
        what = detail.get("sla") or detail.get("deadline")
        return f"{what} SLA breached" if what else "SLA breached"
    return f"ticket {kind}"


def ticket_link(base_url: str | None, ticket_id: str) -> str | None:
    return f"{base_url}/tickets/{ticket_id}" if base_url else None


def from_ticket_event(row: dict[str, Any], *, vip: bool, base_url: str | None) -> Notification:
    """A notification for one ticket_events row joined with its ticket and mention."""
    kind = row["kind"]
    detail = _detail(row.get("detail"))
    priority = event_priority(kind, detail, row.get("ticket_priority"))
    author = _author(row.get("author_handle"), row.get("author_name"))
    brand = row.get("brand")
    headline = _event_headline(kind, detail, row.get("ticket_kind") or "complaint")
    reach = row.get("reach")
    parts = [f"[{priority}]" if priority else "", "VIP" if vip else "", f"{brand}:", headline]
    if author:
        parts.append(f"— {author}")
    if kind == "opened" and reach:
        parts.append(f"(reach ≈ {int(reach):,})")
    return Notification(
        kind=kind,
        title=single_line(" ".join(p for p in parts if p), TITLE_LIMIT),
        summary=single_line(detail.get("reason") or row.get("reason"), 500),
        occurred_at=_iso(row["occurred_at"]) or "",
        brand=brand,
        priority=priority,
        vip=vip,
        ticket_id=row["ticket_id"],
        link=ticket_link(base_url, row["ticket_id"]),
        url=safe_url(row.get("url")),
        author=author,
        source=row.get("source"),
        text=clip(row.get("text")) or None,
        reach=int(reach) if reach is not None else None,
        due_at=_iso(row.get("due_at")),
        detail={k: v for k, v in detail.items() if isinstance(v, str | int | float | bool)},
    )


_ALERT_HEADLINES = {
    "volume": "mention volume spike",
    "negative_share": "negative share spike",
    "source_failing": "source failing",
    "source_silent": "source silent",
}


def from_alert(row: dict[str, Any]) -> Notification:
    """A notification for one `alerts` row (spike or source health)."""
    kind = row["kind"]
    subject = row.get("brand") or row.get("source_name") or "earful"
    headline = _ALERT_HEADLINES.get(kind, kind.replace("_", " "))
    return Notification(
        kind=kind,
        title=single_line(f"{subject}: {headline}", TITLE_LIMIT),
        summary=single_line(row.get("message"), 500),
        occurred_at=_iso(row.get("raised_at")) or "",
        brand=row.get("brand"),
        source=row.get("source_name"),
        detail={key: _iso(row.get(key)) if key.startswith("window") else row.get(key)
                for key in ("observed", "baseline", "threshold", "window_start", "window_end")
                if row.get(key) is not None},
    )


def digest_notification(channel: str, hour: datetime, held: list[dict[str, Any]],
                        occurred_at: datetime) -> Notification:
    """One message for the notifications a channel's budget held back during `hour`."""
    # Most urgent first, as deliveries go (notify_due.sql): alerts rank with P2, not after
    # every ticket, or a spike would fall out of the listed 20 behind P4 complaints.
    ordered = sorted(held, key=lambda r: (not r.get("vip"), r.get("priority") or "P2",
                                          str(r.get("created_at")), r["id"]))
    items = [{"title": r["title"], "kind": r["kind"], "brand": r.get("brand"),
              "priority": r.get("priority"), "ticket_id": r.get("ticket_id"),
              "link": Notification.from_row(r).link} for r in ordered[:DIGEST_ITEMS]]
    count = len(held)
    end = hour.replace(hour=(hour.hour + 1) % 24)
    title = (f"earful digest: {count} more notification{'s' if count != 1 else ''} "
             f"held by the budget, {hour:%H:%M}–{end:%H:%M} UTC")
    brands = sorted({r["brand"] for r in held if r.get("brand")})
    return Notification(
        kind="digest",
        title=single_line(title, TITLE_LIMIT),
        summary=single_line(f"Channel {channel} reached its hourly budget on {hour:%Y-%m-%d}; "
                            f"these were rolled into this one message"
                            + (f" (brands: {', '.join(brands)})" if brands else "") + ".", 500),
        occurred_at=occurred_at.isoformat(),
        items=items,
        more=max(0, count - len(items)),
        detail={"channel": channel, "hour": hour.isoformat(), "count": count},
    )
