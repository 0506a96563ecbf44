"""Rich renderings of the desk for the CLI: one ticket in full, and the SLA figures. Mention
text, names and URLs are untrusted: they only ever go into Text objects, never markup."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

__all__ = ["sla_table", "ticket_view"]

_SLA_STYLE = {"breached": "bold red", "at_risk": "yellow", "ok": "green"}


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else "-"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def ticket_view(detail: dict[str, Any], now: datetime) -> Group:
    t, m, reach = detail["ticket"], detail["mention"], detail["reach"]
    parts: list[Any] = [
        Text.assemble((t["id"], "bold"), f"  {t['priority']}  {t['kind']}  {t['status']}  ",
                      (t["sla_state"], _SLA_STYLE.get(t["sla_state"], "")),
                      ("  VIP " + (t["vip_name"] or "") if t["vip"] else "", "magenta")),
        Text(f"brand {t['brand']} · assignee {t['assignee'] or '-'} · escalation "
             f"{t['escalation_level_name']} · opened {_when(t['opened_at'])}"),
        Text(f"first response due {_when(t['due_at'])}"
             + (f" (answered {_when(t['first_response_at'])})" if t["first_response_at"]
                else "")
             + f" · resolution due {_when(t['resolution_due_at'])}"),
        Text.assemble("why: ", (t["reason"], "italic")),
        Text(""),
        Text.assemble(("mention ", "bold"),
                      f"{m['source_name'] or m['source']} · "
                      f"{m['author_name'] or m['author_handle'] or 'unknown author'}"
                      f" · {_when(m['published_at'])}"),
        Text(m["url"] or "", style="dim"),
        Text("  " + (m["title"] + " — " if m["title"] else "") + (m["text"] or "")),
        Text(f"reach ≈ {reach['expected'] or 0:,} (low {reach['low'] or 0:,}, high "
             f"{reach['high'] or 0:,}; {reach['method']})"),
    ]
    if detail["reasons"]:
        parts.append(Text("reasons: " + "; ".join(detail["reasons"])))
    if detail["rating"] is not None:
        parts.append(Text(f"rating: {detail['rating']:g}★"))
    if t["root_cause"] or t["dismiss_reason"]:
        parts.append(Text(f"root cause: {t['root_cause'] or '-'} · dismissed as: "
                          f"{t['dismiss_reason'] or '-'}"))
    if t["reply"]:
        parts.append(Text.assemble(("reply sent: ", "bold"), t["reply"]))
    if detail["thread"]:
        parts.append(Text("\nthread and follow-ups", style="bold"))
        for item in detail["thread"]:
            who = item["author_name"] or item["author_handle"] or "-"
            text = " ".join((item["text"] or "").split())[:140]
            parts.append(Text(f"  [{item['relation']}] {_when(item['published_at'])} {who}: "
                              f"{text}"))
    if detail["rescue"]:
        r = detail["rescue"]
        state = {True: "rescued", False: "not rescued (yet)", None: "no follow-up yet"}
        parts.append(Text(f"\nrescue: {state[r['rescued']]} · sentiment before "
                          f"{r['sentiment_before']} after {r['sentiment_after']} · watching "
                          f"until {_when(r['until'])}"))
    parts.append(Text("\nevents", style="bold"))
    for event in detail["events"]:
        info = ", ".join(f"{k}={v}" for k, v in event["detail"].items() if v not in (None, ""))
        parts.append(Text(f"  {_when(event['occurred_at'])}  {event['actor']}  "
                          f"{event['action']}  {info}"))
    parts.append(Text("\ntemplates", style="bold"))
    for template in detail["templates"]:
        parts.append(Text.assemble(f"  {template['id']} ({template['name']}): ",
                                   (template["text"], "dim")))
    return Group(*parts)


def sla_table(figures: dict[str, Any]) -> Table:
    table = Table(title=f"SLA, tickets opened in the last {figures['period_days']} days",
                  title_justify="left")
    for column in ("priority", "tickets", "median first response", "first response in SLA",
                   "resolved in SLA", "open", "breached", "at risk"):
        table.add_column(column, justify="left" if column == "priority" else "right")

    def row(name: str, f: dict[str, Any]) -> None:
        median = f["median_first_response_minutes"]
        table.add_row(name, str(f["tickets"]), "-" if median is None else f"{median:.0f} min",
                      _pct(f["first_response_within_sla"]), _pct(f["resolution_within_sla"]),
                      str(f["open"]),
                      Text(str(f["open_breaches"]), style="bold red" if f["open_breaches"]
                           else ""),
                      str(f["at_risk"]))

    for priority, f in figures["by_priority"].items():
        row(priority, f)
    table.add_section()
    row("all", figures)
    return table
