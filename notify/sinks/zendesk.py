"""Zendesk: one ticket per notification (Tickets API, `POST /api/v2/tickets.json` with
`{"ticket": {...}}`), authenticated with an API token the way Zendesk documents it: basic
auth as `{email}/token` with the token as password.

Exactly once, twice over: the request carries `Idempotency-Key` (Zendesk returns the ticket
it already created for a repeated key, for two hours), and the ticket's `external_id` is the
outbox id, so after an interrupted send `find` asks `GET /api/v2/tickets.json?external_id=`
and records the ticket instead of creating another."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from connectors.http import parse_json
from notify.messages import Notification
from notify.sinks.base import Delivery, DeliveryError, SendContext, Sink, http_send, require_secret

__all__ = ["SINK", "ticket_payload"]

# earful's priorities onto Zendesk's four.
PRIORITIES = {"P1": "urgent", "P2": "high", "P3": "normal", "P4": "low"}


def _tag(value: str) -> str:
    # Zendesk splits tags on spaces and lower-cases them.
    return re.sub(r"[^a-z0-9_-]+", "_", value.lower()).strip("_")


def _description(note: Notification) -> str:
    lines = [note.summary, ""]
    pairs = [("Brand", note.brand), ("Priority", note.priority),
             ("VIP", "yes" if note.vip else None), ("Author", note.author),
             ("Source", note.source), ("Reach", f"≈ {note.reach:,}" if note.reach else None),
             ("Due", note.due_at), ("Ticket", note.link or note.ticket_id),
             ("Original post", note.url)]
    lines += [f"{label}: {value}" for label, value in pairs if value]
    if note.text:
        lines += ["", *("> " + line for line in note.text.splitlines())]
    for item in note.items:
        lines.append(f"- {item['title']}" + (f" {item['link']}" if item.get("link") else ""))
    if note.more:
        lines.append(f"...and {note.more} more")
    lines += ["", f"earful notification {note.id}"]
    return "\n".join(lines)


def ticket_payload(note: Notification, channel: Any) -> dict[str, Any]:
    tags = [*channel.tags, _tag(note.kind)]
    if note.brand:
        tags.append("brand_" + _tag(note.brand))
    if note.vip:
        tags.append("vip")
    ticket: dict[str, Any] = {
        "subject": note.title,
        # Plain text: Zendesk does not render HTML from `body`, so nothing here can inject.
        "comment": {"body": _description(note), "public": channel.public},
        "external_id": note.id,
        "tags": list(dict.fromkeys(t for t in tags if t)),
    }
    if note.priority in PRIORITIES:
        ticket["priority"] = PRIORITIES[note.priority]
    if channel.group_id is not None:
        ticket["group_id"] = channel.group_id
    return {"ticket": ticket}


def _auth(ctx: SendContext) -> tuple[str, str]:
    return (f"{ctx.channel.email}/token", require_secret(ctx, ctx.channel.token_env))


def _delivery(ctx: SendContext, ticket: dict[str, Any]) -> Delivery:
    ticket_id = ticket.get("id")
    agent_url = f"{ctx.channel.url}/agent/tickets/{ticket_id}" if ticket_id else None
    return Delivery(external_id=str(ticket_id), external_url=agent_url)


def send(ctx: SendContext, note: Notification) -> Delivery:
    response = http_send(ctx, "POST", f"{ctx.channel.url}/api/v2/tickets.json",
                         auth=_auth(ctx), json_body=ticket_payload(note, ctx.channel),
                         headers={"Idempotency-Key": note.id})
    data = _json(response, ctx)
    ticket = data.get("ticket") if isinstance(data, dict) else None
    if not isinstance(ticket, dict) or "id" not in ticket:
        raise DeliveryError(f"{ctx.channel_name}: Zendesk's answer has no ticket id")
    return _delivery(ctx, ticket)


def find(ctx: SendContext, note: Notification, since: datetime) -> Delivery | None:
    """The ticket an interrupted send created, by external id; None if there is none."""
    response = http_send(ctx, "GET", f"{ctx.channel.url}/api/v2/tickets.json",
                         auth=_auth(ctx), params={"external_id": note.id})
    data = _json(response, ctx)
    tickets = data.get("tickets") if isinstance(data, dict) else None
    if not isinstance(tickets, list):
        raise DeliveryError(f"{ctx.channel_name}: Zendesk's ticket list has no tickets")
    found = [t for t in tickets if isinstance(t, dict) and t.get("external_id") == note.id]
    return _delivery(ctx, found[0]) if found else None


def _json(response: Any, ctx: SendContext) -> Any:
    try:
        return parse_json(response, ctx.channel_name)
    except Exception as exc:
        raise DeliveryError(f"{ctx.channel_name}: Zendesk answered with something that is "
                            f"not JSON") from exc


SINK = Sink("zendesk", send, find)
