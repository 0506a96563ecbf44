"""One notification step, as the listen flow and `earful notify send` run it: enqueue what
is new, then deliver what is due, with one HTTP client made for the step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.http import make_client
from notify.deliver import deliver_pending
from notify.outbox import enqueue
from sql.store import Store

__all__ = ["notify_step"]


def notify_step(store: Store, settings: Any, *, now: datetime | None = None,
                use_prefect_secrets: bool = False) -> dict[str, int]:
    """Enqueue + deliver; returns the counts (enqueued, sent, retrying, failed, held, ...)."""
    config = settings.notifications
    if not config.enabled or not config.channels:
        return {"enqueued": 0}
    now = now or datetime.now(UTC)
    enqueued = enqueue(store, settings, now)
    with make_client(settings.http.timeout.total_seconds()) as client:
        delivered = deliver_pending(store, settings, client, now,
                                    use_prefect_secrets=use_prefect_secrets)
    return {"enqueued": enqueued, **delivered}
