"""Response templates: chosen per brand and ticket kind, filled with the author's own name or
handle and the mention's details. earful records the reply; it never posts it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from desk.config import DeskConfig, TemplateConfig

__all__ = ["BUILTIN_TEMPLATES", "fill", "find_template", "placeholders", "templates_for"]

# Used for a brand and kind no configured template covers, so a reply never starts from a
# blank page (or from "Dear customer").
BUILTIN_TEMPLATES = (
    TemplateConfig(
        id="builtin-complaint", name="Apology, ask for details",
        kinds=["complaint", "negative"],
        body="Hi {author}, thank you for telling us, and we're sorry: \"{excerpt}\" is not the "
             "{brand} experience we want you to have. We're looking into it now. Could you "
             "send us a direct message with the details so we can put it right?",
    ),
    TemplateConfig(
        id="builtin-thank", name="Thank you", kinds=["thank"],
        body="Thank you {author}! Kind words like \"{excerpt}\" make the {brand} team's day. "
             "We're glad you're with us.",
    ),
)
_EXCERPT_CHARS = 120


def templates_for(desk: DeskConfig, brand: str, kind: str) -> list[TemplateConfig]:
    """The configured templates for this brand and kind (brand-specific ones first), else the
    built-in one for the kind."""
    found = [t for t in desk.templates
             if kind in t.kinds and (t.brands is None or brand in t.brands)]
    found.sort(key=lambda t: t.brands is None)  # a brand's own wording before shared ones
    return found or [t for t in BUILTIN_TEMPLATES if kind in t.kinds]


def find_template(desk: DeskConfig, template_id: str) -> TemplateConfig | None:
    for template in (*desk.templates, *BUILTIN_TEMPLATES):
        if template.id == template_id:
            return template
    return None


def _excerpt(text: str | None, title: str | None) -> str:
    words = " ".join((text or title or "").split())
    if len(words) <= _EXCERPT_CHARS:
        return words
    return words[:_EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"


def placeholders(ticket: Mapping[str, Any], mention: Mapping[str, Any],
                 agent: str | None = None, desk: DeskConfig | None = None) -> dict[str, str]:
    """The values a template can use. {author} is the author's name, else their @handle;
    only when the source names nobody is it "there" ("Hi there"). {date} is the day in the
    team's time zone (business hours'), else UTC: never the server's, which would make the
    same reply say another day on another machine."""
    handle = (mention.get("author_handle") or "").strip()
    if handle and not handle.startswith("@") and " " not in handle:
        handle = "@" + handle
    name = " ".join((mention.get("author_name") or "").split())
    author = name or handle or "there"
    published = mention.get("published_at")
    if isinstance(published, datetime) and published.tzinfo is not None:
        hours = desk.business_hours if desk is not None else None
        published = published.astimezone(ZoneInfo(hours.timezone) if hours else UTC)
    return {
        "author": author,
        "name": name or handle or "there",
        "first_name": name.split(" ")[0] if name else (handle or "there"),
        "handle": handle or name or "there",
        "brand": str(ticket.get("brand") or ""),
        "excerpt": _excerpt(mention.get("text"), mention.get("title")),
        "url": str(mention.get("url") or ""),
        "title": str(mention.get("title") or ""),
        "source": str(mention.get("source_name") or mention.get("source") or ""),
        "date": published.strftime("%d %b %Y") if isinstance(published, datetime) else "",
        "ticket_id": str(ticket.get("id") or ticket.get("ticket_id") or ""),
        "agent": agent or "",
    }


def fill(template: TemplateConfig, values: Mapping[str, str]) -> str:
    # Placeholders were checked against PLACEHOLDERS when the config loaded; format_map with
    # plain names cannot reach attributes or items.
    return template.body.format_map(dict(values))
