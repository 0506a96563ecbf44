"""Slack incoming webhook: a Block Kit message (header, sections with fields, the mention as
a quote, a context line with the links), with `text` as the notification fallback.

Untrusted text is escaped as Slack asks (&, <, > become entities), so a mention cannot
inject `<!channel>` or a link; only http(s) URLs are linked. Limits from Slack's reference:
header text 150 characters, section text 3,000, at most 10 fields, 50 blocks."""

from __future__ import annotations

from typing import Any

from notify.messages import Notification, safe_url
from notify.sinks.base import Delivery, DeliveryError, SendContext, Sink, http_send, require_secret

__all__ = ["SINK", "blocks_message"]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000


def escape(text: object) -> str:
    """Slack's three control characters as entities (its 'Escaping text' rules)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def link(url: str | None, label: str) -> str | None:
    url = safe_url(url)
    if url is None:
        return None
    # Inside <url|label>, a '|' or '>' in the URL would end it early.
    return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{escape(label)}>"


def _quote(text: str) -> str:
    return "\n".join("> " + escape(line) for line in text.splitlines() if line.strip())


def _fields(note: Notification) -> list[dict[str, str]]:
    pairs = [("Brand", note.brand), ("Priority", note.priority),
             ("Author", note.author), ("Source", note.source),
             ("Reach", f"≈ {note.reach:,}" if note.reach else None),
             ("Due", note.due_at), ("VIP", "yes" if note.vip else None)]
    return [{"type": "mrkdwn", "text": _cut(f"*{label}*\n{escape(value)}", FIELD_LIMIT)}
            for label, value in pairs if value][:10]


def _digest_sections(note: Notification) -> list[dict[str, Any]]:
    """The held notifications as as many sections as their lines need: 20 linked titles
    run past one section's 3,000 characters, and a cut there would drop the last items and
    the "…and N more" count, and leave a <link| open. Lines are never split."""
    lines = []
    for item in note.items:
        line = f"• {link(item.get('link'), item['title']) or escape(item['title'])}"
        lines.append(line if len(line) <= SECTION_LIMIT
                     else _cut(f"• {escape(item['title'])}", SECTION_LIMIT))
    if note.more:
        lines.append(f"…and {note.more} more")
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= SECTION_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def blocks_message(note: Notification) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header",
         "text": {"type": "plain_text", "text": _cut(note.title, HEADER_LIMIT), "emoji": True}},
    ]
    if note.summary:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": _cut(escape(note.summary),
                                                                 SECTION_LIMIT)}})
    fields = _fields(note)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if note.text:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": _cut(_quote(note.text), SECTION_LIMIT)}})
    if note.is_digest and note.items:
        # At most 21 sections (20 items and the count): with the others, well under 50 blocks.
        blocks += _digest_sections(note)
    links = [x for x in (link(note.link, "Open in earful"), link(note.url, "Original post"))
             if x]
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": " · ".join([*links, f"earful {escape(note.id)}"])}]})
    return {"text": escape(note.title), "blocks": blocks}


def send(ctx: SendContext, note: Notification) -> Delivery:
    url = require_secret(ctx, ctx.channel.webhook_url_env)
    if safe_url(url) is None:
        raise DeliveryError(f"{ctx.channel_name}: {ctx.channel.webhook_url_env} is not an "
                            f"http(s) URL", permanent=True)
    response = http_send(ctx, "POST", url, json_body=blocks_message(note))
    # Slack answers 200 with the body "ok"; anything else is an error worded in the body.
    body = response.body.decode("utf-8", "replace").strip()
    if body and body != "ok":
        raise DeliveryError(f"{ctx.channel_name}: Slack answered {body[:200]!r}")
    return Delivery()


SINK = Sink("slack", send)
