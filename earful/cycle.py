"""One listening cycle for one source, in two steps the listen flow orchestrates: fetch (the
network, never the database) and store (the pipeline, then one transaction per batch).
A failing source is recorded on its state and in the run summary; it never stops others."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import httpx

from connectors.base import FetchResult, SourceSpec, SourceState
from connectors.errors import ConnectorError, RateLimitedError, SkippableError
from connectors.registry import get_connector
from earful.secrets import resolve_secrets
from earful.settings import Settings, SourceConfig
from sql.rows import batch_tables
from sql.store import LockTimeoutError, RunSourceRecord, Store
from triage.brands import normalize_handle
from triage.health import check_source
from triage.pipeline import Pipeline
from triage.spikes import detect_spikes

__all__ = [
    "BATCH_SIZE",
    "SourceOutcome",
    "SourceReport",
    "fetch_source",
    "raise_spike_alerts",
    "source_spec",
    "store_or_record_failure",
    "store_outcome",
]

log = logging.getLogger("earful.cycle")

# Mentions per write transaction: large enough for bulk inserts to pay off, small enough
# that a crash re-fetches little.
BATCH_SIZE = 5_000

Status = Literal["ok", "not_modified", "error", "skipped", "deferred", "not_due"]


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    source_key: str
    status: Status
    state: SourceState
    result: FetchResult | None = None
    message: str | None = None
    item_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One line of the run summary."""

    source: str
    kind: str
    status: Status
    fetched: int = 0
    matched: int = 0
    new: int = 0
    tickets: int = 0
    errors: int = 0
    message: str | None = None
    next_check_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "kind": self.kind, "status": self.status,
            "fetched": self.fetched, "matched": self.matched, "new": self.new,
            "tickets": self.tickets, "errors": self.errors, "message": self.message,
            "next_check_at": self.next_check_at.isoformat() if self.next_check_at else None,
        }


def source_spec(
    source: SourceConfig, settings: Settings, *, use_prefect_secrets: bool = False
) -> SourceSpec:
    connector = get_connector(source.kind)
    brands = [b for b in settings.brands if source.brands is None or b.name in source.brands]
    query = source.params.get("query")
    if isinstance(query, str) and query.strip():
        queries: tuple[str, ...] = (query.strip(),)
    elif isinstance(query, list):
        queries = tuple(str(q) for q in query if str(q).strip())
    else:
        queries = tuple(dict.fromkeys(t for b in brands for t in (*b.terms, *b.aliases)))
    return SourceSpec(
        name=source.name,
        kind=source.kind,
        url=source.url,
        params=dict(source.params),
        max_bytes=source.max_bytes,
        secrets=resolve_secrets([*connector.secrets, *connector.optional_secrets],
                                use_prefect=use_prefect_secrets),
        queries=queries,
        own_handles=frozenset(normalize_handle(h) for b in brands for h in b.handles),
    )


def fetch_source(
    client: httpx.Client,
    source: SourceConfig,
    state: SourceState,
    settings: Settings,
    *,
    now: datetime | None = None,
    use_prefect_secrets: bool = False,
) -> SourceOutcome:
    now = now or datetime.now(UTC)
    connector = get_connector(source.kind)
    try:
        spec = source_spec(source, settings, use_prefect_secrets=use_prefect_secrets)
        result = connector.fetch(client, spec, state)
    except SkippableError as exc:
        return SourceOutcome(source.name, "skipped",
                             replace(state, checked_at=now,
                                     next_check_at=now + source.poll_interval),
                             message=str(exc))
    except RateLimitedError as exc:
        retry_at = exc.retry_at or now + source.poll_interval
        log.warning("%s: deferred until %s: %s", source.name, retry_at.isoformat(), exc,
                    extra={"source": source.name, "retry_after_s": exc.retry_after_s})
        return SourceOutcome(
            source.name, "deferred",
            replace(state, checked_at=now, next_check_at=max(retry_at, now),
                    rate_limit_remaining=0, rate_limit_reset=retry_at, last_error=str(exc)),
            message=str(exc),
        )
    except ConnectorError as exc:
        return _failed(source, state, settings, now, str(exc))
    except Exception as exc:
        log.exception("%s: unexpected error in the %s connector", source.name, source.kind)
        return _failed(source, state, settings, now,
                       f"{source.name}: unexpected {type(exc).__name__}: {exc}")
    if result.error:
        # Some pages were read before the failure: keep them, count the failure.
        failed = _failed(source, result.state, settings, now, result.error)
        return replace(failed, result=result, item_errors=list(result.item_errors))
    new_state = result.state.succeeded(now, source.poll_interval)
    status: Status = "not_modified" if result.not_modified else "ok"
    if result.deferred_until is not None:
        # The source's budget ran out mid-run: what was read is kept, and it resumes when
        # its limit resets.
        status = "deferred"
        new_state = replace(new_state, next_check_at=max(new_state.next_check_at or now,
                                                          result.deferred_until),
                            rate_limit_remaining=0, rate_limit_reset=result.deferred_until)
    return SourceOutcome(source.name, status, new_state, result=result,
                         item_errors=list(result.item_errors))


def _failed(
    source: SourceConfig, state: SourceState, settings: Settings, now: datetime, message: str
) -> SourceOutcome:
    log.warning("%s: %s", source.name, message, extra={"source": source.name})
    return SourceOutcome(
        source.name, "error",
        state.failed(now, source.poll_interval, message, settings.http.max_backoff),
        message=message,
    )


def _chunks(items: Sequence[object], size: int) -> Iterator[Sequence[object]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def store_outcome(
    store: Store,
    pipeline: Pipeline,
    source: SourceConfig,
    outcome: SourceOutcome,
    *,
    run_id: str,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> SourceReport:
    """Score and store what a source fetched. Each batch is one transaction; the source's
    state (its cursor) is saved with the last batch only, so a crash re-fetches rather than
    skips."""
    now = now or datetime.now(UTC)
    mentions = outcome.result.mentions if outcome.result else []
    chunks = list(_chunks(mentions, batch_size)) or [[]]
    matched = new = tickets = 0
    errors = len(outcome.item_errors) + (1 if outcome.status == "error" else 0)
    message = outcome.message or ("; ".join(outcome.item_errors[:3]) or None)
    for index, chunk in enumerate(chunks):
        processed = pipeline.process(
            chunk, source_name=source.name, now=now, audience=source.audience,
            only_brands=source.brands, known_brand=source.about,
            previous=store.previous_reach([m.id for m in chunk], now),
        )
        matched += len(processed.scored)
        last = index == len(chunks) - 1
        stats = store.write_batch(
            batch_tables(processed.scored, processed.tickets, now),
            states=[outcome.state] if last else [],
            run_id=run_id,
            run_source=RunSourceRecord(
                source.name, outcome.status, len(mentions), matched, new, tickets, errors,
                message, outcome.state.next_check_at,
            ) if last else None,
        )
        new += stats.new_mentions
        tickets += stats.new_tickets
    return SourceReport(
        source=source.name, kind=source.kind, status=outcome.status, fetched=len(mentions),
        matched=matched, new=new, tickets=tickets, errors=errors, message=message,
        next_check_at=outcome.state.next_check_at,
    )


def store_or_record_failure(
    store: Store,
    pipeline: Pipeline,
    source: SourceConfig,
    outcome: SourceOutcome,
    previous: SourceState,
    settings: Settings,
    *,
    run_id: str,
    now: datetime | None = None,
) -> SourceReport:
    """`store_outcome`, but a failure to score or store this source's mentions is this
    source's error, not the run's: the sources after it are still stored. Its state is the
    one it was polled with (`previous`), failed: the cursor and ETag do not move past what was
    not stored, so the next poll re-reads it, and a source that keeps failing backs off."""
    now = now or datetime.now(UTC)
    try:
        return store_outcome(store, pipeline, source, outcome, run_id=run_id, now=now)
    except (LockTimeoutError, TimeoutError):
        raise  # the database (or its write slot) is unavailable: so for every other source
    except Exception as exc:
        log.exception("%s: could not store its mentions", source.name,
                      extra={"source": source.name})
        message = f"{source.name}: could not store: {type(exc).__name__}: {exc}"
    fetched = len(outcome.result.mentions) if outcome.result else 0
    errors = len(outcome.item_errors) + 1
    state = previous.failed(now, source.poll_interval, message, settings.http.max_backoff)
    # If this write fails too, the database itself is the problem: the run fails with it.
    store.write_batch(batch_tables([], [], now), states=[state], run_id=run_id,
                      run_source=RunSourceRecord(source.name, "error", fetched, 0, 0, 0, errors,
                                                 message, state.next_check_at))
    return SourceReport(source=source.name, kind=source.kind, status="error", fetched=fetched,
                        errors=errors, message=message, next_check_at=state.next_check_at)


def raise_health_alerts(store: Store, settings: Settings, now: datetime | None = None
                        ) -> list[str]:
    """Check every enabled source's failure streak and cadence; store and return new
    operational alerts (one per episode)."""
    now = now or datetime.now(UTC)
    sources = {s.name: s for s in settings.sources if s.enabled}
    health = settings.health
    alerts = [alert for activity in store.source_activity(list(sources), now)
              for alert in check_source(activity, sources[activity.source_name].poll_interval,
                                        now, health.failures_in_a_row, health.silence_factor)]
    new_ids = store.write_alerts(alerts, now)
    return [a.message for a in alerts if a.id in new_ids]


def raise_spike_alerts(store: Store, now: datetime | None = None) -> list[str]:
    """Compare each brand's last hour with its baseline; store and return new alerts."""
    now = now or datetime.now(UTC)
    alerts = [alert for activity in store.brand_activity(now)
              for alert in detect_spikes(activity, now)]
    new_ids = store.write_alerts(alerts, now)
    return [a.message for a in alerts if a.id in new_ids]
