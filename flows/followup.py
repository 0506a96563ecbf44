"""The `followup` flow (hourly in prefect.yaml): re-poll the engagement of open tickets'
mentions where the connector can, re-evaluate them so a ticket's priority can rise,
escalate SLA breaches, run the rescue checks and send the notifications they cause.
It only orchestrates: the work lives in earful.followup, the pipeline and the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from connectors.http import make_client
from desk.rescue import check_rescues
from desk.sla import escalate_due
from earful.followup import (
    DEFAULT_MAX_MENTIONS,
    OpenMention,
    load_open_mentions,
    reevaluate,
    refresh_engagement,
)
from earful.settings import Settings, load_settings
from flows.listen import notify_task
from flows.storage import ensure_write_limit, flow_store
from triage.pipeline import Pipeline

__all__ = ["followup"]


@task(name="refresh-engagement", cache_policy=NO_CACHE)
def refresh_task(settings: Settings, items: list[OpenMention]) -> tuple[list[OpenMention],
                                                                         dict[str, Any]]:
    with make_client(settings.http.timeout.total_seconds()) as client:
        fresh, report = refresh_engagement(client, settings, items, use_prefect_secrets=True)
    return fresh, {"refreshed": report.refreshed, "errors": report.errors,
                   "unsupported": report.unsupported}


@task(name="reevaluate", cache_policy=NO_CACHE)
def reevaluate_task(settings: Settings, items: list[OpenMention], now: datetime
                    ) -> dict[str, Any]:
    report = reevaluate(flow_store(settings), Pipeline(settings), items, now)
    return {"mentions": report.mentions, "new_tickets": report.new_tickets,
            "raised": {tid: f"{a}→{b}" for tid, (a, b) in report.raised.items()},
            "skipped_sources": report.skipped_sources, "errors": report.errors}


@task(name="escalate-sla", cache_policy=NO_CACHE)
def escalate_task(settings: Settings, now: datetime) -> str:
    breaches = escalate_due(flow_store(settings), settings, now)
    moved = sum(1 for breach in breaches if breach.escalated)
    return f"{len(breaches)} breached, {moved} escalated"


@task(name="check-rescues", cache_policy=NO_CACHE)
def rescue_task(settings: Settings, now: datetime) -> str:
    return str(check_rescues(flow_store(settings), settings, now))


@flow(name="followup", log_prints=False)
def followup(
    config: str | None = None,
    db: str | None = None,
    refresh: bool = True,
    max_mentions: int = DEFAULT_MAX_MENTIONS,
) -> dict[str, Any]:
    """Follow up open tickets.

    Args:
        config: path to earful.toml (default: $EARFUL_CONFIG or ./earful.toml).
        db: the database (default: $EARFUL_DB, the config's database.path, ./earful.duckdb).
        refresh: re-poll the engagement of open tickets' mentions where the connector can
            (false: re-evaluate from what is stored).
        max_mentions: at most this many open tickets, most urgent first.
    """
    logger = get_run_logger()
    settings = load_settings(config, db)
    ensure_write_limit()
    store = flow_store(settings)
    store.migrate()
    now = datetime.now(UTC)
    items = load_open_mentions(store, max_mentions)
    summary: dict[str, Any] = {"open_mentions": len(items)}
    if items and refresh:
        items, summary["refresh"] = refresh_task(settings, quote(items))
        logger.info("followup: refreshed %(refreshed)s mentions; %(errors)s; no refresh for "
                    "%(unsupported)s", summary["refresh"])
    if items:
        summary["reevaluation"] = reevaluate_task(settings, quote(items), now)
        for ticket_id, change in summary["reevaluation"]["raised"].items():
            logger.warning("followup: ticket %s priority raised %s", ticket_id, change)
        for error in summary["reevaluation"]["errors"]:
            logger.error("followup: not re-evaluated: %s", error)
    summary["sla escalation"] = escalate_task(settings, now)
    summary["rescue checks"] = rescue_task(settings, now)
    logger.info("followup: sla escalation: %s; rescue checks: %s", summary["sla escalation"],
                summary["rescue checks"])
    # Breaches, escalations and raised priorities go out now, not at the next listen run.
    summary["notifications"] = notify_task(settings)
    logger.info("followup: %d open-ticket mentions followed up", len(items))
    return summary


if __name__ == "__main__":
    followup()
