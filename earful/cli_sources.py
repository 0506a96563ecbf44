"""`earful sources`: each configured source, its polling state and its health."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from earful.clicommon import ConfigOpt, DbOpt, console, require_database, settings_for

__all__ = ["sources"]


def _when(value: Any) -> str:
    return value.astimezone(UTC).strftime("%m-%d %H:%M") if isinstance(value, datetime) else "-"


def source_rows(settings: Any, now: datetime) -> list[dict[str, Any]]:
    """One row per configured source: config, state and health (a source never polled has
    no state yet)."""
    from sql.store import Store

    store = Store(settings.db_path)
    states = {row["source"]: row for row in store.query("source_overview", {"now": now})}
    rows = []
    for source in settings.sources:
        state = states.get(source.name, {})
        errors = state.get("error_count") or 0
        health = ("disabled" if not source.enabled else
                  state.get("recent_alerts") or ("failing" if errors else
                                                 "ok" if state else "never polled"))
        rows.append({
            "source": source.name, "kind": source.kind, "enabled": source.enabled,
            "health": health, "error_count": errors, "last_error": state.get("last_error"),
            "checked_at": state.get("checked_at"), "next_check_at": state.get("next_check_at"),
            "last_new_mention_at": state.get("last_new_mention_at"),
            "mentions": state.get("mentions") or 0,
            "rate_limit_remaining": state.get("rate_limit_remaining"),
            "rate_limit_reset": state.get("rate_limit_reset"),
        })
    return rows


def sources(
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List each configured source's state: last and next check, errors, health."""
    settings = settings_for(config, db)
    require_database(settings, "run `earful run` first")
    rows = source_rows(settings, datetime.now(UTC))
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
        return
    table = Table(title=f"{len(rows)} sources")
    for column in ("source", "kind", "health", "checked", "next", "errors", "mentions",
                   "last new", "last error"):
        table.add_column(column)
    for row in rows:
        colour = "green" if row["health"] == "ok" else "yellow" if row["health"] in (
            "never polled", "disabled") else "red"
        table.add_row(
            escape(row["source"]), row["kind"], f"[{colour}]{escape(row['health'])}[/]",
            _when(row["checked_at"]), _when(row["next_check_at"]), str(row["error_count"]),
            str(row["mentions"]), _when(row["last_new_mention_at"]),
            escape((row["last_error"] or "")[:80]))
    console.print(table)
