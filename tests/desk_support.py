"""Builders for the response-desk tests: real mentions through the real pipeline into a real
DuckDB file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.base import Author, Mention
from earful.settings import Settings, settings_from_dict
from sql.rows import batch_tables
from sql.store import Store, WriteStats
from triage.pipeline import Pipeline

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
COMPLAINT = "@acme still waiting for my refund, 3 days and nothing. Terrible service, again!"
PRAISE = "Huge thanks to Acme, the support team was amazing and fixed it in minutes. Love it!"

__all__ = ["COMPLAINT", "NOW", "PRAISE", "desk_settings", "mention", "write"]


def desk_settings(**desk: Any) -> Settings:
    return settings_from_dict({"brands": [{"name": "Acme", "terms": ["Acme"]}], "desk": desk})


def mention(ext: str, text: str = COMPLAINT, *, handle: str | None = "@ann",
            name: str | None = "Ann Example", followers: int = 80_000,
            at: datetime = NOW, thread: str | None = None, parent: str | None = None,
            source: str = "mastodon", url: str | None = None,
            author_url: str | None = None) -> Mention:
    return Mention(
        source=source, external_id=ext, url=url or f"https://social.test/{ext}", title=None,
        text=text, published_at=at,
        author=Author(id=None, handle=handle, name=name, url=author_url, followers=followers),
        thread_id=thread, parent_id=parent, raw={"id": ext})


def write(store: Store, settings: Settings, mentions: list[Mention],
          now: datetime = NOW) -> WriteStats:
    processed = Pipeline(settings).process(mentions, source_name="social", now=now)
    return store.write_batch(batch_tables(processed.scored, processed.tickets, now))
