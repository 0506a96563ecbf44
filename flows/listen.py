"""The `listen` flow: fetch every due source concurrently (one task each), then score and
store each source's mentions (one task per source, batches inside), then report.
It only orchestrates: the work lives in earful.cycle, the pipeline and the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from connectors.base import SourceState
from connectors.http import make_client
from earful.cycle import SourceOutcome, SourceReport, fetch_source, store_outcome
from earful.settings import Settings, SourceConfig, load_settings
from sql.store import Store
from triage.pipeline import Pipeline

__all__ = ["listen"]


@task(name="fetch-source", task_run_name="fetch {source.name}", cache_policy=NO_CACHE)
def fetch_source_task(
    source: SourceConfig, state: SourceState, settings: Settings, client: Any
) -> SourceOutcome:
    return fetch_source(client, source, state, settings, use_prefect_secrets=True)


@task(name="store-source", task_run_name="store {source.name}", cache_policy=NO_CACHE)
def store_source_task(
    source: SourceConfig, outcome: SourceOutcome, settings: Settings, run_id: str
) -> SourceReport:
    return store_outcome(Store(settings.db_path), Pipeline(settings), source, outcome,
                         run_id=run_id)


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
) -> dict[str, Any]:
    """Poll due sources, store their mentions, open tickets.

    Args:
        config: path to earful.toml (default: $EARFUL_CONFIG or ./earful.toml).
        db: DuckDB file (default: $EARFUL_DB, the config's database.path, ./earful.duckdb).
        sources: only these configured source names (default: all enabled sources).
        force: poll sources even when they are not due yet.
    """
    logger = get_run_logger()
    settings = load_settings(config, db)
    store = Store(settings.db_path)
    store.migrate()
    run_id = f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    store.start_run(run_id, "listen", _flow_run_id())

    selected = [s for s in settings.sources if s.enabled and (not sources or s.name in sources)]
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
    try:
        with make_client(settings.http.timeout.total_seconds()) as client:
            futures = [
                (source, fetch_source_task.submit(source, states[source.name], settings,
                                                  quote(client)))
                for source in due
            ]
            for source, future in futures:
                outcome = future.result()
                reports.append(store_source_task(source, quote(outcome), settings, run_id))
        status = "completed"
    finally:
        store.finish_run(run_id, status)

    summary = summarize(run_id, reports)
    for line in summary["sources"]:
        logger.info(
            "listen: %(source)s %(status)s fetched=%(fetched)s new=%(new)s "
            "tickets=%(tickets)s errors=%(errors)s", line,
        )
    totals = summary["totals"]
    logger.info("listen: run %s done: %s new mentions, %s new tickets, %s errors",
                run_id, totals["new"], totals["tickets"], totals["errors"])
    return summary


def summarize(run_id: str, reports: list[SourceReport]) -> dict[str, Any]:
    ordered = sorted(reports, key=lambda r: r.source)
    totals = {key: sum(getattr(r, key) for r in ordered)
              for key in ("fetched", "matched", "new", "tickets", "errors")}
    return {"run_id": run_id, "sources": [r.as_dict() for r in ordered], "totals": totals}


if __name__ == "__main__":
    listen()
