"""The ticket lifecycle: open → acknowledged → responded → resolved, or dismissed with a
reason; reopen undoes either. Each action updates the ticket and appends one event (who,
when, what, detail) in the same transaction; repeating an action that already took effect
changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from desk.hours import deadline
from desk.templates import find_template, placeholders
from sql.store import Store, dict_rows, load_query

__all__ = [
    "ACTIONS",
    "CLOSED",
    "DISMISS_REASONS",
    "STATUSES",
    "TransitionError",
    "apply_action",
    "event_id",
]

STATUSES = ("open", "acknowledged", "responded", "resolved", "dismissed")
CLOSED = ("resolved", "dismissed")
DISMISS_REASONS = ("not_complaint", "spam", "duplicate", "already_handled")
ACTIONS = ("acknowledge", "assign", "note", "respond", "resolve", "dismiss", "reopen")
# Event names in the log (the notification helper routes on some of these).
_EVENT = {"acknowledge": "acknowledged", "assign": "assigned", "note": "note",
          "respond": "responded", "resolve": "resolved", "dismiss": "dismissed",
          "reopen": "reopened"}
_MUTABLE = ("status", "assignee", "acknowledged_at", "first_response_at", "resolved_at",
            "dismissed_at", "root_cause", "dismiss_reason", "template_id", "reply", "due_at",
            "resolution_due_at", "rescue_until", "rescue_min_compound", "sentiment_before",
            "sentiment_after", "rescued", "recovered_at")


class TransitionError(ValueError):
    """The action cannot apply to this ticket; the message says why, in words for people."""


def event_id(ticket_id: str, action: str, occurred_at: datetime, actor: str,
             detail: dict[str, Any]) -> str:
    """Derived from everything the event says, so a retried action is logged once."""
    digest = hashlib.sha256(json.dumps(
        [ticket_id, action, occurred_at.isoformat(), actor, detail],
        sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"E-{ticket_id}-{action}-{digest}"


class _Action:
    """One action's inputs and the ticket it works on; each handler edits `new` and returns
    the event detail, or None when the action has already taken effect."""

    def __init__(self, settings: Any, row: dict[str, Any], now: datetime, actor: str,
                 args: dict[str, Any]):
        self.settings = settings
        self.desk = settings.desk
        self.row = row
        self.new = {key: row[key] for key in _MUTABLE}
        self.now = now
        self.actor = actor
        self.args = args

    @property
    def status(self) -> str:
        return str(self.row["status"])

    def _not_closed(self, verb: str) -> None:
        if self.status in CLOSED:
            raise TransitionError(
                f"ticket {self.row['id']} is {self.status}: reopen it before you {verb} it")

    def _text(self, name: str) -> str | None:
        value = self.args.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    # -- the actions ----------------------------------------------------------------------

    def acknowledge(self) -> dict[str, Any] | None:
        self._not_closed("acknowledge")
        if self.status != "open":
            return None  # already acknowledged, or past that
        self.new["status"] = "acknowledged"
        self.new["acknowledged_at"] = self.now
        return {}

    def assign(self) -> dict[str, Any] | None:
        self._not_closed("assign")
        if self.args.get("assignee") is None:
            raise TransitionError("assign needs an assignee (an empty one unassigns)")
        assignee = self._text("assignee")
        if assignee == self.row["assignee"]:
            return None
        self.new["assignee"] = assignee
        return {"from": self.row["assignee"], "to": assignee}

    def note(self) -> dict[str, Any] | None:
        note = self._text("note")
        if not note:
            raise TransitionError("a note needs some text")
        return {"note": note}

    def _reply_text(self) -> tuple[str | None, str | None]:
        template_id = self._text("template_id")
        reply = self._text("reply")
        if template_id:
            template = find_template(self.desk, template_id)
            if template is None:
                raise TransitionError(f"no template {template_id!r}")
            if reply is None:
                mention = {k: self.row.get(k) for k in (
                    "source", "source_name", "url", "title", "text", "author_handle",
                    "author_name", "published_at")}
                reply = template.body.format_map(placeholders(self.row, mention, self.actor,
                                                              self.desk))
        return reply, template_id

    def respond(self) -> dict[str, Any] | None:
        self._not_closed("respond to")
        reply, template_id = self._reply_text()
        if not reply:
            raise TransitionError("respond needs the reply that was sent (or a template)")
        if self.status == "responded" and reply == self.row["reply"]:
            return None  # the same reply submitted twice
        self.new.update(status="responded", reply=reply, template_id=template_id,
                        first_response_at=self.row["first_response_at"] or self.now)
        return {"reply": reply, "template_id": template_id}

    def resolve(self) -> dict[str, Any] | None:
        root_cause = self._text("root_cause")
        if self.status == "resolved" and root_cause in (None, self.row["root_cause"]):
            return None
        self._not_closed("resolve")
        kind = self.row["kind"]
        if root_cause is None and kind in self.desk.root_cause_required:
            raise TransitionError(
                f"resolve needs a root cause for a {kind} ticket (one of: "
                f"{', '.join(self.desk.root_causes)})")
        if root_cause is not None and root_cause not in self.desk.root_causes:
            raise TransitionError(f"unknown root cause {root_cause!r}; known: "
                                  f"{', '.join(self.desk.root_causes)}")
        detail: dict[str, Any] = {"root_cause": root_cause}
        reply, template_id = self._reply_text()
        if reply and reply != self.row["reply"]:
            self.new.update(reply=reply, template_id=template_id)
            detail.update(reply=reply, template_id=template_id)
        if note := self._text("note"):
            detail["note"] = note
        # A ticket resolved without a recorded reply was still answered then (by DM, by
        # phone): the resolution is its first response.
        self.new.update(status="resolved", resolved_at=self.now, root_cause=root_cause,
                        first_response_at=self.row["first_response_at"] or self.now,
                        sentiment_before=self.row["mention_compound"])
        if kind != "thank":  # the rescue loop watches what the customer says next
            self.new.update(rescue_until=self.now + self.desk.rescue.window,
                            rescue_min_compound=self.desk.rescue.min_compound,
                            sentiment_after=None, rescued=None, recovered_at=None)
        return detail

    def dismiss(self) -> dict[str, Any] | None:
        reason = self._text("dismiss_reason")
        if reason is not None and reason not in DISMISS_REASONS:
            raise TransitionError(f"unknown dismiss reason {reason!r}; one of: "
                                  f"{', '.join(DISMISS_REASONS)}")
        if self.status == "dismissed" and reason in (None, self.row["dismiss_reason"]):
            return None
        self._not_closed("dismiss")
        if reason is None:
            raise TransitionError(f"dismiss needs a reason: {', '.join(DISMISS_REASONS)}")
        self.new.update(status="dismissed", dismissed_at=self.now, dismiss_reason=reason)
        detail: dict[str, Any] = {"reason": reason}
        if note := self._text("note"):
            detail["note"] = note
        return detail

    def reopen(self) -> dict[str, Any] | None:
        if self.status not in CLOSED:
            return None
        priority = str(self.row["priority"])
        resolution = self.desk.resolution.for_priority(priority) * float(self.row["sla_factor"])
        self.new.update(status="open", resolved_at=None, dismissed_at=None, root_cause=None,
                        dismiss_reason=None, rescue_until=None, rescue_min_compound=None,
                        sentiment_after=None, rescued=None, recovered_at=None,
                        resolution_due_at=deadline(self.now, resolution, priority, self.desk))
        if self.row.get("first_response_at") is None:
            # Dismissed before anyone answered: the author is owed a first response from
            # now, not from a deadline that passed while the ticket was closed (it would show
            # breached and escalate the moment it was reopened).
            first = self.settings.sla.for_priority(priority) * float(self.row["sla_factor"])
            self.new["due_at"] = max(self.row["due_at"],
                                     deadline(self.now, first, priority, self.desk))
        detail: dict[str, Any] = {"from": self.status}
        if note := self._text("note"):
            detail["note"] = note
        return detail


def apply_action(
    store: Store,
    settings: Any,
    ticket_id: str,
    action: str,
    *,
    actor: str,
    now: datetime | None = None,
    assignee: str | None = None,
    note: str | None = None,
    reply: str | None = None,
    template_id: str | None = None,
    root_cause: str | None = None,
    dismiss_reason: str | None = None,
) -> None:
    """Apply one action to a ticket: acknowledge, assign, note, respond, resolve, dismiss or
    reopen. Raises TransitionError, saying why, when the action does not apply."""
    if action not in ACTIONS:
        raise TransitionError(f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    actor = (actor or "").strip()
    if not actor:
        raise TransitionError("every action needs the name of who does it")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise TransitionError("the time of an action must be timezone-aware")
    args = {"assignee": assignee, "note": note, "reply": reply, "template_id": template_id,
            "root_cause": root_cause, "dismiss_reason": dismiss_reason}
    with store.transaction() as con:
        found = dict_rows(con.execute(load_query("desk_ticket_row"), {"id": ticket_id}))
        if not found:
            raise TransitionError(f"no ticket {ticket_id!r}")
        state = _Action(settings, found[0], now, actor, args)
        handler: Callable[[], dict[str, Any] | None] = getattr(state, action)
        detail = handler()
        if detail is None:
            return
        if action == "note" or state.new != {k: state.row[k] for k in _MUTABLE}:
            con.execute(load_query("desk_update_ticket"),
                        {"id": ticket_id, "updated_at": now, **state.new})
        name = _EVENT[action]
        con.execute(load_query("desk_insert_event"), {
            "id": event_id(ticket_id, name, now, actor, detail), "ticket_id": ticket_id,
            "occurred_at": now, "actor": actor, "action": name,
            "detail": json.dumps(detail, default=str, ensure_ascii=False),
        })
        if action == "reopen":
            con.execute(load_query("desk_reopen_links"), {"id": ticket_id})
        if action == "resolve" and state.new.get("rescue_until") is not None:
            # The author may already have spoken again (mentions stored before the resolve
            # was recorded, or a resolve dated in the past).
            con.execute(load_query("desk_link_rescue_ticket"), {"id": ticket_id})
            con.execute(load_query("desk_update_rescue"))
