"""GitHub Issues: one issue per notification (REST `POST /repos/{owner}/{repo}/issues`, with
the headers GitHub documents: `Accept: application/vnd.github+json`, `Authorization: Bearer`,
`X-GitHub-Api-Version: 2022-11-28`).

GitHub has no idempotency key, so the issue body carries a hidden marker with the outbox id
(`<!-- earful:N-... -->`); after an interrupted send, `find` lists the repository's issues
updated since the send began and looks for the marker: found, it is recorded, not recreated.

The mention is untrusted Markdown: it goes into a fenced block (no @mention pings, no #refs,
no HTML), and one-line fields are entity-encoded."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.http import parse_json
from notify.messages import Notification, safe_url
from notify.sinks.base import Delivery, DeliveryError, SendContext, Sink, http_send, require_secret

__all__ = ["SINK", "issue_body", "marker"]

API_VERSION = "2022-11-28"
TITLE_LIMIT = 256
# Issues listed per page, and pages read, when looking for an interrupted send's issue.
PAGE_SIZE = 100
MAX_PAGES = 5
# Clocks differ: look a little before the send began.
CLOCK_SKEW = timedelta(minutes=5)

_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>#@|~&]")


def marker(note: Notification) -> str:
    return f"<!-- earful:{note.id} -->"


def md_inline(text: object) -> str:
    """One untrusted line as inert Markdown: every special character (and @, #) becomes a
    numeric entity, so it renders as written and pings nobody."""
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", " ".join(str(text).split()))


def _fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"~+", text)), default=0)
    fence = "~" * max(4, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _md_link(url: str | None, label: str) -> str | None:
    url = safe_url(url)
    if url is None:
        return None
    return f"[{md_inline(label)}](<{url.replace('<', '%3C').replace('>', '%3E')}>)"


def issue_body(note: Notification) -> str:
    rows = [("Brand", note.brand), ("Priority", note.priority),
            ("VIP", "yes" if note.vip else None), ("Author", note.author),
            ("Source", note.source), ("Reach", f"≈ {note.reach:,}" if note.reach else None),
            ("Due", note.due_at), ("Ticket", note.ticket_id)]
    parts = [f"**{md_inline(note.summary)}**" if note.summary else "", "",
             "| | |", "|---|---|"]
    parts += [f"| {label} | {md_inline(value)} |" for label, value in rows if value]
    if note.text:
        parts += ["", _fenced(note.text)]
    if note.items:
        parts.append("")
        for item in note.items:
            parts.append("- " + (_md_link(item.get("link"), item["title"])
                                 or md_inline(item["title"])))
        if note.more:
            parts.append(f"- …and {note.more} more")
    links = [x for x in (_md_link(note.link, "Open in earful"),
                         _md_link(note.url, "Original post")) if x]
    if links:
        parts += ["", " · ".join(links)]
    parts += ["", marker(note)]
    return "\n".join(parts)


def _headers(ctx: SendContext) -> dict[str, str]:
    return {"Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {require_secret(ctx, ctx.channel.token_env)}",
            "X-GitHub-Api-Version": API_VERSION}


def _issues_url(ctx: SendContext) -> str:
    return f"{ctx.channel.api_url}/repos/{ctx.channel.repo}/issues"


def _delivery(issue: dict[str, Any]) -> Delivery:
    return Delivery(external_id=str(issue.get("number")), external_url=issue.get("html_url"))


def send(ctx: SendContext, note: Notification) -> Delivery:
    payload: dict[str, Any] = {"title": note.title[:TITLE_LIMIT], "body": issue_body(note)}
    if ctx.channel.labels:
        payload["labels"] = list(ctx.channel.labels)
    if ctx.channel.assignees:
        payload["assignees"] = list(ctx.channel.assignees)
    response = http_send(ctx, "POST", _issues_url(ctx), headers=_headers(ctx),
                         json_body=payload)
    issue = _json(response, ctx)
    if not isinstance(issue, dict) or "number" not in issue:
        raise DeliveryError(f"{ctx.channel_name}: GitHub's answer has no issue number")
    return _delivery(issue)


def find(ctx: SendContext, note: Notification, since: datetime) -> Delivery | None:
    """The issue an interrupted send created, by its marker; None if there is none."""
    wanted = marker(note)
    # In UTC before the "Z": the outbox's times come back in the machine's zone, and east of
    # UTC a local time labelled Z lies in the future, so the issue was missed and sent again.
    since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    after = (since - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
    for page in range(1, MAX_PAGES + 1):
        response = http_send(ctx, "GET", _issues_url(ctx), headers=_headers(ctx), params={
            "state": "all", "since": after, "sort": "created", "direction": "desc",
            "per_page": PAGE_SIZE, "page": page})
        issues = _json(response, ctx)
        if not isinstance(issues, list):
            raise DeliveryError(f"{ctx.channel_name}: GitHub's issue list is not a list")
        for issue in issues:
            if isinstance(issue, dict) and wanted in (issue.get("body") or ""):
                return _delivery(issue)
        if len(issues) < PAGE_SIZE:
            return None
    raise DeliveryError(f"{ctx.channel_name}: too many recent issues to be sure an "
                        f"interrupted send created none")


def _json(response: Any, ctx: SendContext) -> Any:
    try:
        return parse_json(response, ctx.channel_name)
    except Exception as exc:
        raise DeliveryError(f"{ctx.channel_name}: GitHub answered with something that is not "
                            f"JSON") from exc


SINK = Sink("github", send, find)
