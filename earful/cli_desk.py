"""`earful tickets ...`: the response desk from the command line. Plain `earful tickets`
lists open tickets; subcommands list, show and act on them (every action is logged on the
ticket as done by --as, default $EARFUL_USER or the login name)."""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from earful.clicommon import ConfigOpt, DbOpt, console, fail, require_database, settings_for

__all__ = ["app"]

app = typer.Typer(help="Response tickets: list, show, assign, acknowledge, respond, resolve, "
                       "dismiss, and the SLA figures.")

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
ActorOpt = Annotated[str | None, typer.Option(
    "--as", help="who does it [env: EARFUL_USER; default: your login name]")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="an internal note to keep with it")]
IdArg = Annotated[str, typer.Argument(help="ticket id, e.g. T-1A2B3C4D5E")]
_SLA_STYLE = {"breached": "bold red", "at_risk": "yellow", "ok": "green"}
_PRIORITY_STYLE = {"P1": "bold red", "P2": "red", "P3": "yellow", "P4": "cyan"}


def _context(config: Any, db: Any) -> tuple[Any, Any]:
    from sql.store import Store

    settings = settings_for(config, db, required=False)
    require_database(settings)
    return settings, Store(settings.db_path)


def _actor(name: str | None) -> str:
    return name or os.environ.get("EARFUL_USER") or getpass.getuser()


def _ticket_id(value: str) -> str:
    value = value.strip()
    return value.upper() if value.lower().startswith("t-") else value


def _dump(value: Any) -> None:
    print(json.dumps(value, default=str, indent=2, ensure_ascii=False))


def _in(due: datetime | None, now: datetime) -> str:
    """'in 2h 5m' or '3h 10m late'."""
    if due is None:
        return "-"
    minutes = int((due - now).total_seconds() // 60)
    span = abs(minutes)
    words = f"{span // 1440}d {span % 1440 // 60}h" if span >= 1440 else (
        f"{span // 60}h {span % 60}m" if span >= 60 else f"{span}m")
    return f"in {words}" if minutes >= 0 else f"{words} late"


def _checked(status: str | None, priority: str | None) -> tuple[str | None, str | None]:
    """The status and priority filters, refused when unknown: a typo ("closed", "p1") would
    otherwise list nothing, which reads as "no such tickets"."""
    from desk.lifecycle import STATUSES

    if status is not None and status not in (*STATUSES, "all"):
        raise fail(f"unknown status {status!r}; one of: {', '.join(STATUSES)}, all")
    if priority is not None:
        priority = priority.upper()
        if priority not in _PRIORITY_STYLE:
            raise fail(f"unknown priority {priority!r}; one of: {', '.join(_PRIORITY_STYLE)}")
    return status, priority


def _list(config: Any, db: Any, as_json: bool, **filters: Any) -> None:
    from desk.queries import queue

    settings, store = _context(config, db)
    now = datetime.now(UTC)
    rows = queue(store, settings, now=now, **filters)
    if as_json:
        _dump(rows)
        return
    if not rows:
        console.print("No tickets match." if any(filters.values()) else "No open tickets.")
        return
    table = Table(title=f"{len(rows)} tickets, breached and at risk first",
                  title_justify="left")
    for column in ("ticket", "P", "status", "SLA", "due", "brand", "author", "assignee",
                   "mention"):
        table.add_column(column, overflow="fold", no_wrap=column in ("ticket", "due"))
    for row in rows:
        # Mention text and names come from strangers: Text objects, never markup.
        author = row["author_name"] or row["author_handle"] or "-"
        table.add_row(
            Text(row["ticket_id"] + (" ★" if row["vip"] else "")),
            Text(row["priority"], style=_PRIORITY_STYLE.get(row["priority"], "")),
            Text(row["status"]),
            Text(row["sla_state"], style=_SLA_STYLE[row["sla_state"]]),
            Text(_in(row["due_at"], now)), Text(row["brand"]), Text(author),
            Text(row["assignee"] or "-"),
            Text(" ".join((row["title"] or row["text"] or "").split())[:100]),
        )
    console.print(table)


@app.callback(invoke_without_command=True)
def tickets(ctx: typer.Context, config: ConfigOpt = None, db: DbOpt = None,
            as_json: JsonOpt = False) -> None:
    """Response tickets. Without a subcommand: the open tickets, most urgent first."""
    ctx.obj = {"config": config, "db": db, "json": as_json}
    if ctx.invoked_subcommand is None:
        _list(config, db, as_json)


def _opts(ctx: typer.Context, config: Any, db: Any) -> tuple[Any, Any]:
    parent = ctx.obj or {}
    return config or parent.get("config"), db or parent.get("db")


def _json(ctx: typer.Context, as_json: bool) -> bool:
    # `earful tickets --json list` asks for JSON as much as `earful tickets list --json`.
    return as_json or bool((ctx.obj or {}).get("json"))


@app.command("list")
def list_command(
    ctx: typer.Context,
    config: ConfigOpt = None,
    db: DbOpt = None,
    brand: Annotated[str | None, typer.Option(help="only this brand")] = None,
    source: Annotated[str | None, typer.Option(help="connector kind or source name")] = None,
    status: Annotated[str | None, typer.Option(
        help="open, acknowledged, responded, resolved, dismissed or all [default: not "
             "resolved or dismissed]")] = None,
    priority: Annotated[str | None, typer.Option(help="P1..P4")] = None,
    assignee: Annotated[str | None, typer.Option(help="assigned to (\"\" = unassigned)")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 500,
    as_json: JsonOpt = False,
) -> None:
    """List tickets: breached first, then at risk, then by risk."""
    config, db = _opts(ctx, config, db)
    status, priority = _checked(status, priority)
    _list(config, db, _json(ctx, as_json), brand=brand, source=source, status=status,
          priority=priority, assignee=assignee, limit=limit)


@app.command()
def show(ctx: typer.Context, ticket: IdArg, config: ConfigOpt = None, db: DbOpt = None,
         as_json: JsonOpt = False) -> None:
    """One ticket: the mention, its reach and reasons, the thread, the events, the templates."""
    from desk.queries import ticket_detail

    settings, store = _context(*_opts(ctx, config, db))
    detail = ticket_detail(store, settings, _ticket_id(ticket))
    if detail is None:
        raise fail(f"no ticket {ticket}")
    if _json(ctx, as_json):
        _dump(detail)
        return
    from earful.render_desk import ticket_view

    console.print(ticket_view(detail, datetime.now(UTC)))


def _act(ctx: typer.Context, config: Any, db: Any, ticket: str, action: str, **kwargs: Any
         ) -> None:
    from desk.lifecycle import TransitionError, apply_action
    from desk.queries import ticket_detail

    settings, store = _context(*_opts(ctx, config, db))
    ticket = _ticket_id(ticket)
    try:
        apply_action(store, settings, ticket, action, **kwargs)
    except TransitionError as exc:
        raise fail(str(exc)) from None
    detail = ticket_detail(store, settings, ticket)
    state = detail["ticket"] if detail else {}
    console.print(Text.assemble(
        (ticket, "bold"), f"  {state.get('status')}  {state.get('priority')}",
        f"  assignee {state.get('assignee') or '-'}"))


@app.command()
def assign(ctx: typer.Context, ticket: IdArg,
           who: Annotated[str, typer.Argument(help="the assignee (\"\" to unassign)")],
           config: ConfigOpt = None, db: DbOpt = None, actor: ActorOpt = None) -> None:
    """Assign a ticket to someone."""
    _act(ctx, config, db, ticket, "assign", actor=_actor(actor), assignee=who)


@app.command()
def ack(ctx: typer.Context, ticket: IdArg, config: ConfigOpt = None, db: DbOpt = None,
        actor: ActorOpt = None) -> None:
    """Acknowledge a ticket (someone is on it; the first-response clock keeps running)."""
    _act(ctx, config, db, ticket, "acknowledge", actor=_actor(actor))


@app.command()
def respond(
    ctx: typer.Context, ticket: IdArg, config: ConfigOpt = None, db: DbOpt = None,
    reply: Annotated[str | None, typer.Option(help="the reply as sent")] = None,
    template: Annotated[str | None, typer.Option(
        help="template id; fills the reply when --reply is not given")] = None,
    actor: ActorOpt = None,
) -> None:
    """Record the reply sent to the author (earful does not post it)."""
    _act(ctx, config, db, ticket, "respond", actor=_actor(actor), reply=reply,
         template_id=template)


@app.command()
def resolve(
    ctx: typer.Context, ticket: IdArg, config: ConfigOpt = None, db: DbOpt = None,
    root_cause: Annotated[str | None, typer.Option(
        "--root-cause", "-r",
        help="one of the config's desk.root_causes; required for complaints")] = None,
    reply: Annotated[str | None, typer.Option(help="the final reply, if one was sent")] = None,
    note: NoteOpt = None, actor: ActorOpt = None,
) -> None:
    """Resolve a ticket with its root cause."""
    _act(ctx, config, db, ticket, "resolve", actor=_actor(actor), root_cause=root_cause,
         reply=reply, note=note)


@app.command()
def dismiss(
    ctx: typer.Context, ticket: IdArg, config: ConfigOpt = None, db: DbOpt = None,
    reason: Annotated[str | None, typer.Option(
        help="not_complaint, spam, duplicate or already_handled")] = None,
    note: NoteOpt = None, actor: ActorOpt = None,
) -> None:
    """Dismiss a ticket, with the reason."""
    _act(ctx, config, db, ticket, "dismiss", actor=_actor(actor), dismiss_reason=reason,
         note=note)


@app.command()
def note(ctx: typer.Context, ticket: IdArg,
         text: Annotated[str, typer.Argument(help="the note")],
         config: ConfigOpt = None, db: DbOpt = None, actor: ActorOpt = None) -> None:
    """Add an internal note to a ticket."""
    _act(ctx, config, db, ticket, "note", actor=_actor(actor), note=text)


@app.command()
def reopen(ctx: typer.Context, ticket: IdArg, config: ConfigOpt = None, db: DbOpt = None,
           note: NoteOpt = None, actor: ActorOpt = None) -> None:
    """Reopen a resolved or dismissed ticket."""
    _act(ctx, config, db, ticket, "reopen", actor=_actor(actor), note=note)


@app.command()
def sla(ctx: typer.Context, config: ConfigOpt = None, db: DbOpt = None,
        days: Annotated[int, typer.Option(min=1, help="tickets opened in the last N days")] = 30,
        as_json: JsonOpt = False) -> None:
    """SLA figures: median first response, share within SLA, open breaches."""
    from desk.queries import sla_figures

    settings, store = _context(*_opts(ctx, config, db))
    figures = sla_figures(store, settings, days=days)
    if _json(ctx, as_json):
        _dump(figures)
        return
    from earful.render_desk import sla_table

    console.print(sla_table(figures))


@app.command()
def escalate(ctx: typer.Context, config: ConfigOpt = None, db: DbOpt = None,
             as_json: JsonOpt = False) -> None:
    """Log breaches and escalate due tickets now (the follow-up flow does it hourly)."""
    from dataclasses import asdict

    from desk.sla import escalate_due

    settings, store = _context(*_opts(ctx, config, db))
    done = escalate_due(store, settings)
    if _json(ctx, as_json):
        _dump([asdict(e) | {"escalated": e.escalated} for e in done])
        return
    if not done:
        console.print("No ticket is past its deadline.")
    for e in done:
        move = (f"escalated to {e.level_name} ({', '.join(e.contacts) or 'no contacts'}), "
                f"{e.priority_from} → {e.priority_to}" if e.escalated
                else f"still with {e.level_name}")
        console.print(Text(f"{e.ticket_id}  {e.deadline_kind} breached; {move}"))
