"""The hourly follow-up of open tickets, in steps the `followup` flow orchestrates:

1. load the mentions of open tickets (most urgent first, bounded);
2. re-poll their engagement where the connector can (`Connector.refresh`), per source;
3. re-run the pipeline on them and write the batch: fresh engagement and the time since the
   last poll feed reach velocity, so a ticket's priority can rise (never fall: the store's
   `raise_ticket_priority` only raises);
4. the desk's hourly steps: SLA escalation (desk.sla) and rescue checks (desk.rescue).

A source whose refresh fails keeps its stored mentions for the re-evaluation; nothing here
stops the other sources."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import Author, Engagement, Mention
from connectors.errors import ConnectorError
from connectors.polling import BudgetSpent
from connectors.registry import get_connector
from earful.cycle import source_spec
from earful.settings import Settings
from sql.rows import batch_tables
from sql.store import LockTimeoutError, Store
from triage.pipeline import Pipeline

__all__ = [
    "DEFAULT_MAX_MENTIONS",
    "OpenMention",
    "ReevaluationReport",
    "RefreshReport",
    "load_open_mentions",
    "mention_from_row",
    "reevaluate",
    "refresh_engagement",
]

log = logging.getLogger("earful.followup")

# Tickets one run re-evaluates: an hour's backlog on a busy desk, small enough that the
# refresh calls stay well inside every API's hourly budget.
DEFAULT_MAX_MENTIONS = 500

@dataclass(frozen=True, slots=True)
class OpenMention:
    """A mention with at least one open ticket, rebuilt from the store."""

    mention: Mention
    source_name: str
    priorities: dict[str, str]  # ticket id → its priority now


@dataclass(slots=True)
class RefreshReport:
    refreshed: int = 0
    errors: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # sources whose connector cannot


@dataclass(frozen=True, slots=True)
class ReevaluationReport:
    mentions: int
    raised: dict[str, tuple[str, str]]  # ticket id → (from, to) priority
    new_tickets: int
    skipped_sources: list[str]  # no longer configured: their mentions are left alone
    errors: list[str] = field(default_factory=list)  # sources whose scoring or write failed


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value if value is not None else {}


def mention_from_row(row: dict[str, Any]) -> Mention:
    """A stored mention as the pipeline's input, engagement and rating as last stored."""
    published = row["published_at"]
    return Mention(
        source=row["source"],
        external_id=row["external_id"],
        url=row["url"],
        title=row["title"],
        text=row["text"],
        published_at=published.astimezone(UTC),
        author=Author(id=row["author_id"], handle=row["author_handle"],
                      name=row["author_name"], url=row["author_url"],
                      followers=row["author_followers"]),
        engagement=Engagement(likes=row["likes"], reposts=row["reposts"],
                              replies=row["replies"], score=row["score"], views=row["views"]),
        lang=row["lang"],
        thread_id=row["thread_id"],
        parent_id=row["parent_id"],
        is_repost=bool(row["is_repost"]),
        is_own=bool(row["is_own"]),
        rating=row["rating"],
        listing_ratings=row["listing_ratings"],
        raw=_json(row["raw"]),
    )


def load_open_mentions(store: Store, limit: int = DEFAULT_MAX_MENTIONS) -> list[OpenMention]:
    """The mentions of the `limit` most urgent open tickets, one entry per mention."""
    found: dict[str, OpenMention] = {}
    for row in store.query("followup_mentions", {"limit": limit}):
        item = found.get(row["id"])
        if item is None:
            item = found[row["id"]] = OpenMention(mention_from_row(row), row["source_name"], {})
        item.priorities[row["ticket_id"]] = row["priority"]
    return list(found.values())


def _by_source(items: Iterable[OpenMention]) -> dict[str, list[OpenMention]]:
    groups: dict[str, list[OpenMention]] = {}
    for item in items:
        groups.setdefault(item.source_name, []).append(item)
    return groups


def refresh_engagement(
    client: httpx.Client,
    settings: Settings,
    items: Sequence[OpenMention],
    *,
    use_prefect_secrets: bool = False,
) -> tuple[list[OpenMention], RefreshReport]:
    """Re-read the mentions through their source's connector where it can; each mention it
    re-read replaces the stored one. Returns every item (refreshed or as stored)."""
    report = RefreshReport()
    configured = {s.name: s for s in settings.sources}
    out: list[OpenMention] = []
    for name, group in _by_source(items).items():
        source = configured.get(name)
        connector = get_connector(source.kind) if source else None
        if source is None or connector is None or connector.refresh is None:
            report.unsupported.append(name)
            out.extend(group)
            continue
        try:
            spec = source_spec(source, settings, use_prefect_secrets=use_prefect_secrets)
            fresh = {m.id: m for m in connector.refresh(client, spec,
                                                        [i.mention for i in group])}
        except (ConnectorError, BudgetSpent) as exc:
            log.warning("followup: %s: refresh failed: %s", name, exc, extra={"source": name})
            report.errors.append(f"{name}: {exc}")
            out.extend(group)
            continue
        except Exception as exc:
            # As listen's fetch does with a connector bug: this source is re-evaluated from
            # what is stored, and the follow-up (SLA escalation above all) goes on.
            log.exception("followup: %s: unexpected error in the %s connector's refresh", name,
                          source.kind, extra={"source": name})
            report.errors.append(f"{name}: unexpected {type(exc).__name__}: {exc}")
            out.extend(group)
            continue
        for item in group:
            mention = fresh.get(item.mention.id)
            if mention is not None:
                report.refreshed += 1
                item = OpenMention(mention, item.source_name, item.priorities)
            out.append(item)
    return out, report


def reevaluate(
    store: Store, pipeline: Pipeline, items: Sequence[OpenMention], now: datetime | None = None
) -> ReevaluationReport:
    """Score the mentions again and write them in one batch per source: new engagement is
    stored, reach velocity is measured against the last scoring, and a ticket whose mention
    now scores a more urgent priority is raised (logged as `priority_raised`)."""
    now = now or datetime.now(UTC)
    configured = {s.name: s for s in pipeline.settings.sources}
    raised: dict[str, tuple[str, str]] = {}
    new_tickets = scored = 0
    skipped: list[str] = []
    errors: list[str] = []
    for name, group in _by_source(items).items():
        source = configured.get(name)
        if source is None:
            # Without its source's settings (audience, brands) the scores would be wrong.
            log.info("followup: %s is no longer configured; its %d open tickets are left "
                     "as they are", name, len(group))
            skipped.append(name)
            continue
        mentions = [i.mention for i in group]
        try:
            processed = pipeline.process(
                mentions, source_name=name, now=now, audience=source.audience,
                only_brands=source.brands, known_brand=source.about,
                previous=store.previous_reach([m.id for m in mentions], now),
            )
            stats = store.write_batch(batch_tables(processed.scored, processed.tickets, now))
        except (LockTimeoutError, TimeoutError):
            raise  # the database is unavailable: so for every other source too
        except Exception as exc:
            # One source's bad data must not keep the other tickets from rising.
            log.exception("followup: %s: could not re-evaluate its open tickets", name,
                          extra={"source": name})
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        before = {tid: p for i in group for tid, p in i.priorities.items()}
        scored += len(processed.scored)
        new_tickets += stats.new_tickets
        for decision in processed.tickets:
            old = before.get(decision.id)
            # The same rule as sql/queries/raise_ticket_priority.sql: 'P1' < 'P2'.
            if old is not None and decision.priority < old:
                raised[decision.id] = (old, decision.priority)
    return ReevaluationReport(scored, raised, new_tickets, skipped, errors)
