"""The Jinja environment: autoescaping on for every template (mention text, author names and
URLs are untrusted), and the filters the pages use to show times, numbers and links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader

from web.security import http_url

__all__ = ["make_environment"]


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    return f"{hours // 24}d {hours % 24}h"


def _due(value: Any, now: datetime | None = None) -> str:
    """'in 2h 05m' or '3h overdue'."""
    if not isinstance(value, datetime):
        return "–"
    now = now or datetime.now(UTC)
    seconds = (value - now).total_seconds()
    return f"in {_span(seconds)}" if seconds >= 0 else f"{_span(seconds)} overdue"


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def _detail(value: Any) -> list[tuple[str, str]]:
    """An event's JSON detail as (key, value) pairs of plain text (escaped by the template)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [("", value)]
    if isinstance(value, dict):
        return [(str(k), v if isinstance(v, str) else json.dumps(v, default=str))
                for k, v in value.items() if v is not None]
    if value is None:
        return []
    return [("", json.dumps(value, default=str))]


def _excerpt(value: Any, length: int = 160) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("web", "templates"),
        # Every template, whatever its name: nothing from a mention is ever marked safe.
        autoescape=True,
        # The desk's dicts may grow or lack a field; a missing one renders empty, not a 500.
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when, due=_due, number=_number, detail=_detail, excerpt=_excerpt, http_url=http_url,
    )
    return env
