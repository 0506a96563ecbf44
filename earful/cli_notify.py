"""`earful notify`: what the notification outbox holds, and a delivery round on demand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from earful.clicommon import ConfigOpt, DbOpt, console, require_database, settings_for

__all__ = ["app"]

app = typer.Typer(help="The notification outbox: what was sent, what waits, what failed.",
                  no_args_is_help=True)


def _when(value: Any) -> str:
    return value.astimezone(UTC).strftime("%m-%d %H:%M") if isinstance(value, datetime) else "-"


@app.command()
def status(
    config: ConfigOpt = None,
    db: DbOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="include sent rows")] = False,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """List notifications not (yet) sent: pending, held by the budget, failed, uncertain
    (a send interrupted by a crash that the receiver cannot confirm: check it by hand)."""
    from sql.store import Store

    settings = settings_for(config, db, required=False)
    require_database(settings)
    rows = Store(settings.db_path).query("notify_status", {"all": show_all, "limit": limit})
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    if not rows:
        console.print("Nothing waiting: every notification was sent." if not show_all
                      else "The outbox is empty.")
        return
    table = Table(title="Notification outbox", title_justify="left")
    for column in ("created", "channel", "status", "kind", "ticket", "title", "tries",
                   "next try", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(_when(row["created_at"]), escape(row["channel"]), row["status"],
                      row["kind"], row["ticket_id"] or "-", escape(row["title"]),
                      str(row["attempts"]), _when(row["next_attempt_at"]),
                      escape(row["last_error"] or ""))
    console.print(table)


@app.command()
def send(config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Route new ticket events and alerts into the outbox and deliver what is due now (the
    listen and followup flows do this after every run)."""
    from notify.cycle import notify_step
    from sql.store import Store

    settings = settings_for(config, db)
    require_database(settings)
    counts = notify_step(Store(settings.db_path), settings)
    console.print(", ".join(f"{k} {v}" for k, v in counts.items()))
