"""Which mentions open a ticket, with the desk's additions to the risk rule
(triage/tickets.py): VIP authors open one whatever their reach, get a tighter SLA and their
owner; high-reach praise opens a low-priority "thank" ticket; deadlines follow business
hours where configured. Pure: attaching to open tickets and the thank-you cooldown need the
database and happen in the store's transaction (sql/queries/desk_plan_tickets.sql)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from desk.config import DeskConfig, VipConfig
from desk.hours import deadline
from desk.vip import match_vip
from earful.settings import Settings
from triage.scored import ScoredMention
from triage.tickets import TicketDecision, decide_tickets, ticket_id

__all__ = ["decide", "thank_decisions"]


def _reach(item: ScoredMention) -> int:
    # The risk rule's reach (triage/tickets.py): expected, or projected when that is more.
    return max(item.reach.expected, item.reach.projected)


def _vip_for(desk: DeskConfig, item: ScoredMention, brand: str) -> VipConfig | None:
    return match_vip(desk, item.mention, _reach(item), brand)


def thank_decisions(scored: Iterable[ScoredMention], desk: DeskConfig, now: datetime
                    ) -> list[TicketDecision]:
    """A clearly positive mention (not a complaint, not flagged, not a repost or the brand's
    own) reaching at least thank_you.min_reach people: a thank-you ticket per brand."""
    config = desk.thank_you
    if not config.enabled:
        return []
    out = []
    for item in scored:
        mention, compound = item.mention, item.sentiment.compound
        if mention.is_repost or mention.is_own or item.review_flag or compound is None:
            continue
        if compound < config.min_compound or (item.complaint and item.complaint.is_complaint):
            continue
        if item.rating is not None and item.rating < 4:
            continue  # warm words on a low rating are not praise
        reach = item.reach.expected
        if reach < config.min_reach:
            continue
        reason = (f"positive {compound:+.2f}; reach ≈ {reach:,} ({item.reach.method}); "
                  f"a thank-you is due → {config.priority}")
        for brand in item.brands:
            out.append(TicketDecision(
                id=ticket_id(mention.id, brand.brand), mention_id=mention.id,
                brand=brand.brand, kind="thank", priority=config.priority,
                risk=0.0, reason=reason, reach=reach, opened_at=now, due_at=now,
                cooldown_s=int(config.cooldown.total_seconds()),
            ))
    return out


def _finish(decision: TicketDecision, vip: VipConfig | None, settings: Settings
            ) -> TicketDecision:
    """Deadlines, VIP routing and the attach window on one decision."""
    desk = settings.desk
    priority = decision.priority
    factor = 1.0
    changes: dict[str, object] = {}
    if vip is not None:
        factor = vip.sla_factor
        if vip.min_priority is not None and vip.min_priority < priority:
            priority = vip.min_priority
            changes["reason"] = f"{decision.reason}; VIP {vip.name} → {priority}"
        else:
            changes["reason"] = f"{decision.reason}; VIP {vip.name}"
        changes.update(vip=True, vip_name=vip.name, assignee=vip.owner)
    first = settings.sla.for_priority(priority) * factor
    resolution = desk.resolution.for_priority(priority) * factor
    return replace(
        decision, priority=priority, sla_factor=factor,
        due_at=deadline(decision.opened_at, first, priority, desk),
        resolution_due_at=deadline(decision.opened_at, resolution, priority, desk),
        attach_window_s=int(desk.attach_window.total_seconds()), **changes,
    )


def decide(scored: list[ScoredMention], settings: Settings, now: datetime
           ) -> list[TicketDecision]:
    """Every ticket decision for a batch: the risk rule (VIPs exempt from the reach bar),
    then thank-yous for mentions that opened nothing, each with its deadlines."""
    desk = settings.desk
    vip_ids = {item.mention.id for item in scored
               if desk.vips and any(_vip_for(desk, item, b.brand) for b in item.brands)}
    risky = decide_tickets(
        scored, settings.thresholds, settings.sla, now,
        open_anyway=(lambda item: item.mention.id in vip_ids) if vip_ids else None,
    )
    by_id = {item.mention.id: item for item in scored}
    if vip_ids:
        # The exemption is per brand: an entry limited to Acme must not open a Globex ticket
        # for a mention naming both that is under the reach bar.
        bar = settings.thresholds.reach
        risky = [d for d in risky if d.mention_id not in vip_ids
                 or _reach(by_id[d.mention_id]) >= bar
                 or _vip_for(desk, by_id[d.mention_id], d.brand) is not None]
    taken = {d.mention_id for d in risky}
    thanks = thank_decisions([s for s in scored if s.mention.id not in taken], desk, now)
    return [_finish(d, _vip_for(desk, by_id[d.mention_id], d.brand) if vip_ids else None,
                    settings)
            for d in (*risky, *thanks)]
