"""The ticket rule: a negative mention whose estimated reach is at or above the threshold
opens one response ticket, with a priority, a due time from that priority's SLA, and the
reason in words."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from earful.settings import Priority, SlaConfig, Thresholds
from triage.scored import ScoredMention

__all__ = ["PRIORITY_BANDS", "TicketDecision", "decide_tickets", "priority_for", "ticket_id"]

# Risk = (expected reach / threshold) × negativity (-compound, 0..1). A mention at the
# threshold with mild negativity (-0.3) scores 0.3; at 10× the threshold and strongly
# negative (-0.8), 8. Bands, highest first:
PRIORITY_BANDS: tuple[tuple[float, Priority], ...] = (
    (5.0, "P1"),  # e.g. 10× the audience and clearly angry
    (2.0, "P2"),
    (0.5, "P3"),
    (0.0, "P4"),
)


def ticket_id(mention_id: str, brand: str) -> str:
    """Derived from the mention and brand, so re-running can never open a second ticket."""
    return "T-" + hashlib.sha256(f"{mention_id}\x1f{brand}".encode()).hexdigest()[:10].upper()


@dataclass(frozen=True, slots=True)
class TicketDecision:
    id: str
    mention_id: str
    brand: str
    kind: str
    priority: Priority
    risk: float
    reason: str
    reach: int
    opened_at: datetime
    due_at: datetime


def priority_for(risk: float) -> Priority:
    for floor, priority in PRIORITY_BANDS:
        if risk >= floor:
            return priority
    return "P4"


def _reason(item: ScoredMention, threshold: int, risk: float, priority: Priority) -> str:
    reach = item.reach
    method = (f"configured audience of {item.source_name}" if reach.method == "source audience"
              else reach.method)
    return (
        f"negative sentiment (compound {item.sentiment.compound:+.2f}); "
        f"estimated reach {reach.expected:,} ≥ threshold {threshold:,} "
        f"({method}); risk {risk:.1f} → {priority}"
    )


def decide_tickets(
    scored: Iterable[ScoredMention], thresholds: Thresholds, sla: SlaConfig, now: datetime
) -> list[TicketDecision]:
    decisions = []
    for item in scored:
        if item.mention.is_repost or item.mention.is_own:
            continue  # boosts and the brand's own posts never open tickets
        if item.sentiment.label != "negative" or item.reach.expected < thresholds.reach:
            continue
        negativity = max(0.0, -item.sentiment.compound)
        risk = item.reach.expected / max(thresholds.reach, 1) * negativity
        priority = priority_for(risk)
        for brand in item.brands:
            decisions.append(
                TicketDecision(
                    id=ticket_id(item.mention.id, brand.brand),
                    mention_id=item.mention.id,
                    brand=brand.brand,
                    kind="complaint",
                    priority=priority,
                    risk=round(risk, 3),
                    reason=_reason(item, thresholds.reach, risk, priority),
                    reach=item.reach.expected,
                    opened_at=now,
                    due_at=now + sla.for_priority(priority),
                )
            )
    return decisions
