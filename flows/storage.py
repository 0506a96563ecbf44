"""The store as flows use it: every write holds a slot of the Prefect global concurrency
limit `earful-duckdb-writes` when a Prefect server is present, so two deployments running
at once queue for the file instead of failing on DuckDB's lock. Without a server (or with
the limit not created) the store's own bounded lock retry is what serialises writers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from earful.settings import Settings
from sql.store import LOCK_TIMEOUT_S, Store

__all__ = ["WRITE_LIMIT", "ensure_write_limit", "flow_store", "write_slot"]

WRITE_LIMIT = "earful-duckdb-writes"
log = logging.getLogger("earful.flows")


def _server_url() -> str | None:
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


@contextmanager
def write_slot() -> Iterator[None]:
    if not _server_url():
        yield
        return
    from prefect.concurrency.sync import concurrency

    # strict=False: a missing limit is no limit (the operator creates it; README), and a
    # server hiccup must not lose a batch that the file lock alone can still protect.
    with concurrency(WRITE_LIMIT, occupy=1, timeout_seconds=LOCK_TIMEOUT_S * 10,
                     strict=False):
        yield


def ensure_write_limit() -> None:
    """Create the one-slot write limit on the server if it is missing, so operators need no
    extra step (and a missing limit does not silently mean no limit)."""
    if not _server_url():
        return
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WRITE_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=WRITE_LIMIT, limit=1))
                log.info("created the Prefect global concurrency limit %s (1 slot)",
                         WRITE_LIMIT)
            except ObjectAlreadyExists:
                pass  # another flow run created it meanwhile


def flow_store(settings: Settings) -> Store:
    return Store(settings.db_path, write_guard=write_slot)
