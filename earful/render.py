"""Rich renderings for the CLI: run summaries and tickets. Mention text is untrusted, so
everything from a source is escaped before it reaches rich markup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

__all__ = ["summary_table", "tickets_view"]

_STATUS_STYLE = {"ok": "green", "not_modified": "cyan", "error": "red", "skipped": "yellow",
                 "deferred": "yellow", "not_due": "dim"}
_PRIORITY_STYLE = {"P1": "bold red", "P2": "red", "P3": "yellow", "P4": "cyan"}
_NUMBERS = ("fetched", "matched", "new", "tickets", "errors")


def _when(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%m-%d %H:%M") if isinstance(value, datetime) else "-"


def summary_table(summary: Mapping[str, Any]) -> Group:
    table = Table(title=f"Listening run {summary['run_id']}", title_justify="left")
    table.add_column("source", overflow="fold")
    table.add_column("status")
    for column in _NUMBERS:
        table.add_column(column, justify="right")
    table.add_column("next check (UTC)")
    problems = []
    for line in summary["sources"]:
        style = _STATUS_STYLE.get(line["status"], "")
        table.add_row(escape(line["source"]), f"[{style}]{line['status']}[/]",
                      *(str(line[k]) for k in _NUMBERS), _when(line["next_check_at"]))
        if line["message"]:
            problems.append(Text.assemble((f"{line['source']}: ", "bold"), line["message"]))
    totals = summary["totals"]
    table.add_section()
    table.add_row("total", "", *(str(totals[k]) for k in _NUMBERS), "")
    return Group(table, *problems)


def tickets_view(tickets: Sequence[Mapping[str, Any]], title: str) -> Group:
    """One block per ticket: id, priority, brand, due time; the mention; why it was opened."""
    parts: list[Any] = [Text(title, style="bold")]
    for t in tickets:
        mention = t.get("title") or (t.get("text") or "")[:160]
        style = _PRIORITY_STYLE.get(t["priority"], "")
        parts.append(Text.assemble(
            "\n", (t["id"], "bold"), "  ", (t["priority"], style), "  ", t["brand"],
            f"  due {_when(t['due_at'])} UTC  ({t['status']})",
        ))
        parts.append(Text.assemble("  “", mention, "”  ",
                                   (f"{t.get('source_name') or t.get('source')} "
                                    f"{t.get('url') or ''}", "dim")))
        parts.append(Text.assemble("  why: ", (t["reason"], "italic")))
    if not tickets:
        parts.append(Text("  none"))
    return Group(*parts)
