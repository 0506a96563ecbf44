"""Rescue checks, run hourly by the follow-up flow.

Each listen batch already links a resolved complaint's later mentions by the same author
(same platform, within the ticket's rescue window) and records the outcome. The hourly
check catches what a batch cannot see: mentions stored by another source or run before the
ticket was resolved, and resolutions recorded after the follow-ups arrived. Everything is
derived from stored rows, so running it twice changes nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sql.store import Store, load_query

__all__ = ["RescueSummary", "check_rescues"]


@dataclass(frozen=True, slots=True)
class RescueSummary:
    watching: int       # resolved complaints whose rescue window is still open
    rescued: int        # resolved complaints whose customer came back positive
    not_rescued: int    # followed up, but not (yet) positively

    def __str__(self) -> str:
        return (f"{self.watching} watched, {self.rescued} rescued, "
                f"{self.not_rescued} followed up without a rescue")


def check_rescues(store: Store, settings: Any, now: datetime | None = None) -> RescueSummary:
    """Link every resolved ticket's stored follow-ups and record whether it was rescued."""
    now = now or datetime.now(UTC)
    with store.transaction() as con:
        con.execute(load_query("desk_link_rescue_ticket"), {"id": None})
        con.execute(load_query("desk_update_rescue"))
        watching, rescued, not_rescued = con.execute(load_query("desk_rescue_counts"),
                                                     {"now": now}).fetchone()
    return RescueSummary(watching, rescued, not_rescued)
