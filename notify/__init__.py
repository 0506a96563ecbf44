"""Notifications through an outbox: ticket events and alerts are routed to channels (Slack,
a signed webhook, e-mail, GitHub Issues, Zendesk) by `[notifications]` rules, stored as outbox
rows, and delivered exactly once with retries, an hourly budget per channel and digests.

    notify.enqueue(store, settings, now) -> rows added
    notify.deliver_pending(store, settings, client, now) -> counts (sent, retrying, failed, ...)

The names load on first use: earful.settings imports notify.config, and the outbox side
imports the store, which imports settings, so an eager import here would be circular."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["DeliverySummary", "NotificationsConfig", "deliver_pending", "enqueue", "outbox_id"]

_HOMES = {
    "DeliverySummary": "notify.deliver",
    "deliver_pending": "notify.deliver",
    "NotificationsConfig": "notify.config",
    "enqueue": "notify.outbox",
    "outbox_id": "notify.outbox",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'notify' has no attribute {name!r}")
