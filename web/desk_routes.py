"""The review queue, the ticket page and the actions on a ticket. Reads come from
desk.queries and every action goes through desk.lifecycle.apply_action, which writes the
ticket and its event in one DuckDB transaction before the page comes back."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.accounts import list_users
from web.deps import CsrfForm, SignedIn, render
from web.security import local_path

__all__ = ["ACTIONS", "PRIORITIES", "UNASSIGNED", "router"]

router = APIRouter()
ACTIONS = ("acknowledge", "assign", "note", "respond", "resolve", "dismiss", "reopen")
PRIORITIES = ("P1", "P2", "P3", "P4")
UNASSIGNED = "(nobody)"
_FILTERS = ("brand", "source", "status", "priority", "assignee")
_HISTORY_LIMIT = 20
Filter = Annotated[str | None, Query(max_length=200)]


def _statuses() -> tuple[str, ...]:
    from desk.lifecycle import STATUSES

    return STATUSES


@router.get("/")
def home(session: SignedIn) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(request: Request, session: SignedIn, brand: Filter = None, source: Filter = None,
               status: Filter = None, priority: Filter = None,
               assignee: Filter = None) -> Response:
    from desk.queries import queue

    store, settings = request.state.store, request.app.state.settings
    filters = {"brand": brand, "source": source, "status": status, "priority": priority,
               "assignee": assignee}
    # Empty selects mean "any"; values outside the known sets are ignored, not errors.
    filters = {k: (v or None) for k, v in filters.items()}
    if filters["status"] not in (None, "all", *_statuses()):
        filters["status"] = None
    if filters["priority"] not in (None, *PRIORITIES):
        filters["priority"] = None
    query = dict(filters)
    if query["assignee"] == UNASSIGNED:  # desk.queries.queue reads "" as "nobody"
        query["assignee"] = ""
    rows = queue(store, settings, **query)
    options: dict[str, list[str]] = {"brand": [], "source": [], "assignee": []}
    for row in store.query("web_filter_options"):
        options[row["field"]].append(row["value"])
    options["assignee"].insert(0, UNASSIGNED)
    options["status"] = [*_statuses(), "all"]
    options["priority"] = list(PRIORITIES)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "queue.html", {
        "rows": rows, "filters": filters, "options": options, "filter_names": _FILTERS,
        "return_to": local_path(here, "/queue"),
    })


def _author_history(request: Request, detail: dict[str, Any]) -> list[dict[str, Any]]:
    mention = detail.get("mention") or {}
    if not mention.get("mention_id") or not (mention.get("author_id")
                                             or mention.get("author_handle")):
        return []
    return request.state.store.query("web_author_history", {
        "source": mention.get("source"), "mention_id": mention["mention_id"],
        "author_id": mention.get("author_id"), "author_handle": mention.get("author_handle"),
        "limit": _HISTORY_LIMIT,
    })


def _ticket_page(request: Request, ticket_id: str, *, error: str | None = None,
                 status_code: int = 200) -> Response:
    from desk.lifecycle import DISMISS_REASONS
    from desk.queries import ticket_detail

    store, settings = request.state.store, request.app.state.settings
    detail = ticket_detail(store, settings, ticket_id)
    if detail is None:
        raise HTTPException(404, "No such ticket.")
    return render(request, "ticket.html", {
        "d": detail, "t": detail.get("ticket") or {}, "m": detail.get("mention") or {},
        "history": _author_history(request, detail),
        "root_causes": settings.desk.root_causes, "dismiss_reasons": DISMISS_REASONS,
        "users": [u["name"] for u in list_users(store) if not u["disabled"]],
        "error": error, "ticket_path": f"/tickets/{quote(ticket_id, safe='')}",
    }, status_code)


@router.get("/tickets/{ticket_id}")
def ticket_page(request: Request, session: SignedIn, ticket_id: str) -> Response:
    return _ticket_page(request, ticket_id)


def _field(form: dict[str, str], name: str, limit: int = 10_000) -> str | None:
    value = form.get(name, "").strip()
    return value[:limit] or None


@router.post("/tickets/{ticket_id}/actions")
def ticket_action(request: Request, session: SignedIn, form: CsrfForm,
                  ticket_id: str) -> Response:
    from desk.lifecycle import TransitionError, apply_action

    action = form.get("action", "")
    if action not in ACTIONS:
        raise HTTPException(400, f"Unknown action. Known: {', '.join(ACTIONS)}.")
    try:
        apply_action(
            request.state.store, request.app.state.settings, ticket_id, action,
            actor=session.user,
            # For assign an empty name is meaningful (unassign), so it is passed as ''.
            assignee=form.get("assignee", "").strip()[:64] if action == "assign" else None,
            note=_field(form, "note"),
            reply=_field(form, "reply"), template_id=_field(form, "template_id", 200),
            root_cause=_field(form, "root_cause", 200),
            dismiss_reason=_field(form, "dismiss_reason", 200),
        )
    except TransitionError as exc:
        return _ticket_page(request, ticket_id, error=str(exc), status_code=409)
    except LookupError:
        raise HTTPException(404, "No such ticket.") from None
    default = f"/tickets/{quote(ticket_id, safe='')}"
    return RedirectResponse(local_path(form.get("return_to"), default), status_code=303)
