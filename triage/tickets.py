"""The risk rule: which mentions open a response ticket, how urgent it is, and why.

A ticket opens when a mention is a complaint (or strongly negative) and its expected reach is
at or above the threshold (6,000 by default), or its projected reach will cross it. Reposts
and the brand's own posts never open one. Priority comes from risk = strength × √(reach /
threshold), strength being the complaint probability (or the negativity of a non-complaint);
the due time from that priority's SLA; the reason is written out in words."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from earful.settings import Priority, SlaConfig, Thresholds
from triage.scored import ScoredMention

__all__ = [
    "PRIORITY_BANDS",
    "STRONGLY_NEGATIVE",
    "TicketDecision",
    "decide_tickets",
    "priority_for",
    "ticket_id",
]

# A mention that is not a complaint but this negative (VADER compound) still needs a person
# when its audience is large: bad press, a viral rant about the brand. VADER's authors treat
# |compound| >= 0.5 as clearly polarised.
STRONGLY_NEGATIVE = -0.5
# Reach beyond 100× the threshold adds nothing more to urgency: all such cases are urgent.
_MAX_RATIO = 100.0
# Decimals of the risk as stored on the ticket (tickets.risk).
RISK_DECIMALS = 3
# Risk bands, highest first. A confident complaint (0.9) at 1.25× the threshold (50k
# followers × 0.15) scores 1.0 → P2; at 4× (or a news site of 24k readers) 1.8 → P1.
PRIORITY_BANDS: tuple[tuple[float, Priority], ...] = (
    (1.5, "P1"),
    (0.9, "P2"),
    (0.6, "P3"),
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
    # Set by the response desk (desk/opening.py); a plain decision leaves the defaults.
    resolution_due_at: datetime | None = None
    vip: bool = False
    vip_name: str | None = None
    assignee: str | None = None
    sla_factor: float = 1.0
    attach_window_s: int | None = None
    cooldown_s: int | None = None  # thank-you tickets: one per author per this many seconds


def priority_for(risk: float) -> Priority:
    for floor, priority in PRIORITY_BANDS:
        if risk >= floor:
            return priority
    return "P4"


def _reach_words(item: ScoredMention) -> str:
    reach = item.reach
    method = (f"configured audience of {item.source_name}" if reach.method == "source audience"
              else reach.method)
    words = f"reach ≈ {reach.expected:,} ({method})"
    if reach.per_hour > 0:
        words += f", +{reach.per_hour:,.0f}/h → ≈ {reach.projected:,} projected"
    return words


def _strength(item: ScoredMention) -> tuple[str, float, str] | None:
    """(kind, strength 0..1, words) when the mention calls for a response, else None."""
    if item.review_flag:
        return None  # stars and words disagree: flagged for a person to look, no ticket
    complaint = item.complaint
    if complaint is not None and complaint.is_complaint:
        cues = ", ".join(complaint.reasons[:3])
        return "complaint", complaint.probability, (
            f"complaint {complaint.probability:.2f}" + (f" ({cues})" if cues else ""))
    compound = item.sentiment.compound
    if compound is not None and compound <= STRONGLY_NEGATIVE:
        return "negative", -compound, f"strongly negative (compound {compound:+.2f})"
    return None


def decide_tickets(
    scored: Iterable[ScoredMention],
    thresholds: Thresholds,
    sla: SlaConfig,
    now: datetime,
    *,
    open_anyway: Callable[[ScoredMention], bool] | None = None,
) -> list[TicketDecision]:
    """`open_anyway`: mentions that open a ticket whatever their reach (VIP authors)."""
    decisions = []
    for item in scored:
        if item.mention.is_repost or item.mention.is_own:
            continue  # boosts and the brand's own posts never open tickets
        strength = _strength(item)
        if strength is None:
            continue
        reach = max(item.reach.expected, item.reach.projected)
        if reach < thresholds.reach and not (open_anyway and open_anyway(item)):
            continue
        kind, value, words = strength
        # Banded at the precision it is stored and shown with: floating point makes
        # 0.6 × √2.25 come out as 0.8999…, which would be stored as 0.9 yet banded P3.
        risk = round(value * math.sqrt(min(reach / max(thresholds.reach, 1), _MAX_RATIO)),
                     RISK_DECIMALS)
        priority = priority_for(risk)
        reason = f"{words}; {_reach_words(item)}; risk {risk:.2f} → {priority}"
        for brand in item.brands:
            decisions.append(TicketDecision(
                id=ticket_id(item.mention.id, brand.brand), mention_id=item.mention.id,
                brand=brand.brand, kind=kind, priority=priority, risk=risk,
                reason=reason, reach=item.reach.expected, opened_at=now,
                due_at=now + sla.for_priority(priority),
            ))
    return decisions
