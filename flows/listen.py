"""The `listen` flow: fetch every due source concurrently (one task each), then score and
store each source's mentions (one task per source, batches inside), then report.
It only orchestrates: the work lives in earful.cycle, the pipeline and the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from connectors.base import SourceState
from connectors.http import make_client
from earful.cycle import (
    SourceOutcome,
    SourceReport,
    fetch_source,
    raise_health_alerts,
    raise_spike_alerts,
    store_or_record_failure,
)
from earful.settings import Settings, SourceConfig, load_settings
from flows.storage import ensure_write_limit, flow_store
from notify.cycle import notify_step
from triage.pipeline import Pipeline

__all__ = ["listen"]


@task(name="fetch-source", task_run_name="fetch {source.name}", cache_policy=NO_CACHE)
def fetch_source_task(
    source: SourceConfig, state: SourceState, settings: Settings, client: Any
) -> SourceOutcome:
    return fetch_source(client, source, state, settings, use_prefect_secrets=True)


@task(name="store-source", task_run_name="store {source.name}", cache_policy=NO_CACHE)
def store_source_task(
    source: SourceConfig, outcome: SourceOutcome, previous: SourceState, settings: Settings,
    run_id: str,
) -> SourceReport:
    return store_or_record_failure(flow_store(settings), Pipeline(settings), source, outcome,
                                   previous, settings, run_id=run_id)


@task(name="detect-spikes", cache_policy=NO_CACHE)
def detect_spikes_task(settings: Settings) -> list[str]:
    return raise_spike_alerts(flow_store(settings))


@task(name="check-source-health", cache_policy=NO_CACHE)
def source_health_task(settings: Settings) -> list[str]:
    return raise_health_alerts(flow_store(settings), settings)


@task(name="notify", cache_policy=NO_CACHE)
def notify_task(settings: Settings) -> dict[str, Any]:
    """Route new ticket events and alerts into the outbox and deliver what is due
    (notify/). A receiver that is down never fails the run (listen or followup): it is
    retried later."""
    try:
        return notify_step(flow_store(settings), settings, use_prefect_secrets=True)
    except Exception as exc:
        get_run_logger().error("notify: notifications failed: %s: %s", type(exc).__name__, exc)
        return {"error": type(exc).__name__}


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def publish_snapshot_task(settings: Settings) -> str | None:
    """Refresh the analysts' read-only copy (README: "For analysts"). The mentions are
    stored by now and the copy is secondary: a copy that cannot be written (a full disk, a
    bad snapshot_path) is logged and reported, never fails the run; the next run retries."""
    target = settings.snapshot_path
    if not target:
        return None
    try:
        return str(flow_store(settings).publish_snapshot(target))
    except Exception as exc:
        get_run_logger().error("listen: snapshot %s not published: %s: %s", target,
                               type(exc).__name__, exc)
        return f"failed: {type(exc).__name__}: {exc}"


@task(name="publish-run-artifact", cache_policy=NO_CACHE)
def publish_artifact_task(summary: dict[str, Any]) -> None:
    """A table per run in the Prefect UI: what each source fetched, stored, failed on, and
    when it is checked next."""
    create_table_artifact(
        key="earful-listen",
        table=artifact_rows(summary),
        description=f"earful listen run {summary['run_id']}: {summary['totals']['new']} new "
        f"mentions, {summary['totals']['tickets']} new tickets, "
        f"{summary['totals']['errors']} errors",
    )


def _flow_run_id() -> str | None:
    try:
        return str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    except Exception:
        return None


@flow(name="listen", log_prints=False)
def listen(
    config: str | None = None,
    db: str | None = None,
    sources: list[str] | None = None,
    force: bool = False,
    kinds: list[str] | None = None,
) -> dict[str, Any]:
    """Poll due sources, store their mentions, open tickets.

    Args:
        config: path to earful.toml (default: $EARFUL_CONFIG or ./earful.toml).
        db: DuckDB file (default: $EARFUL_DB, the config's database.path, ./earful.duckdb).
        sources: only these configured source names (default: all enabled sources).
        force: poll sources even when they are not due yet.
        kinds: only sources of these connector kinds, e.g. ["rss"] (default: every kind);
            prefect.yaml's deployments use it to poll social, feeds and reviews at their
            own cadences.
    """
    logger = get_run_logger()
    settings = load_settings(config, db)
    ensure_write_limit()
    store = flow_store(settings)
    store.migrate()
    run_id = f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    store.start_run(run_id, "listen", _flow_run_id())

    selected = [s for s in settings.sources if s.enabled and (not sources or s.name in sources)
                and (not kinds or s.kind in kinds)]
    unknown = sorted(set(sources or []) - {s.name for s in settings.sources})
    if unknown:
        logger.warning("listen: no configured sources named %s", ", ".join(unknown))
    states = store.source_states([s.name for s in selected])
    now = datetime.now(UTC)
    due = [s for s in selected if force or states[s.name].is_due(now)]
    reports: list[SourceReport] = [
        SourceReport(s.name, s.kind, "not_due", next_check_at=states[s.name].next_check_at)
        for s in selected if s not in due
    ]
    status = "failed"
    alerts: list[str] = []
    try:
        with make_client(settings.http.timeout.total_seconds()) as client:
            futures = [
                (source, fetch_source_task.submit(source, states[source.name], settings,
                                                  quote(client)))
                for source in due
            ]
            for source, future in futures:
                outcome = future.result()
                reports.append(store_source_task(source, quote(outcome), states[source.name],
                                                 settings, run_id))
        alerts = detect_spikes_task(settings) if due else []
        alerts += source_health_task(settings)
        status = "completed"
    finally:
        store.finish_run(run_id, status)
    # Notifications first: people wait for them; the analysts' copy then includes the outbox.
    notified = notify_task(settings)
    snapshot = publish_snapshot_task(settings)

    summary = summarize(run_id, reports)
    summary["alerts"] = alerts
    summary["notifications"] = notified
    summary["snapshot"] = snapshot
    for alert in alerts:
        logger.warning("listen: alert: %s", alert)
    for line in summary["sources"]:
        logger.info(
            "listen: %(source)s %(status)s fetched=%(fetched)s new=%(new)s "
            "tickets=%(tickets)s errors=%(errors)s", line,
        )
    publish_artifact_task(summary)
    totals = summary["totals"]
    logger.info("listen: run %s done: %s new mentions, %s new tickets, %s errors",
                run_id, totals["new"], totals["tickets"], totals["errors"])
    return summary


def artifact_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [{
        "source": line["source"], "kind": line["kind"], "status": line["status"],
        "fetched": line["fetched"], "new": line["new"], "tickets": line["tickets"],
        "errors": line["errors"], "next check": line.get("next_check_at") or "",
        "message": (line.get("message") or "")[:200],
    } for line in summary["sources"]]


def summarize(run_id: str, reports: list[SourceReport]) -> dict[str, Any]:
    ordered = sorted(reports, key=lambda r: r.source)
    totals = {key: sum(getattr(r, key) for r in ordered)
              for key in ("fetched", "matched", "new", "tickets", "errors")}
    return {"run_id": run_id, "sources": [r.as_dict() for r in ordered], "totals": totals}


if __name__ == "__main__":
    listen()
