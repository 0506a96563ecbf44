from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from connectors.base import Mention
from earful.settings import SlaConfig, Thresholds
from sentiment.vader import score
from triage.brands import BrandMatch
from triage.reach import Reach
from triage.scored import ScoredMention
from triage.tickets import decide_tickets, priority_for, ticket_id

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def scored(text: str, reach: int, **mention_fields) -> ScoredMention:
    mention = Mention(source="test", external_id=text[:20], url=None, title=None, text=text,
                      published_at=NOW, **mention_fields)
    return ScoredMention(mention, "src", (BrandMatch("Acme", ("acme",)),), score(text),
                         Reach(reach, reach, reach, "author followers"))


ANGRY = "Acme is the worst, terrible service, I want a refund"


def decide(*items):
    return decide_tickets(items, Thresholds(), SlaConfig(), NOW)


def test_negative_mention_at_threshold_opens_a_ticket():
    (ticket,) = decide(scored(ANGRY, 6000))
    assert ticket.brand == "Acme" and ticket.kind == "complaint"
    assert "negative sentiment" in ticket.reason and "6,000" in ticket.reason
    assert ticket.due_at == NOW + SlaConfig().for_priority(ticket.priority)


def test_below_threshold_or_not_negative_opens_nothing():
    assert decide(scored(ANGRY, 5999)) == []
    assert decide(scored("Acme is wonderful, I love it", 1_000_000)) == []
    assert decide(scored("Acme opens a store on Main Street", 1_000_000)) == []


def test_reposts_and_own_posts_never_open_tickets():
    assert decide(scored(ANGRY, 100_000, is_repost=True)) == []
    assert decide(scored(ANGRY, 100_000, is_own=True)) == []


def test_priority_rises_with_reach_and_anger():
    low = decide(scored(ANGRY, 6000))[0]
    high = decide(scored(ANGRY, 500_000))[0]
    assert high.priority == "P1" and low.priority in ("P3", "P4")
    assert high.due_at - NOW == timedelta(hours=1)
    assert priority_for(5.0) == "P1" and priority_for(2.0) == "P2"
    assert priority_for(0.5) == "P3" and priority_for(0.0) == "P4"


def test_ticket_id_is_stable_per_mention_and_brand():
    item = scored(ANGRY, 6000)
    assert decide(item)[0].id == decide(replace(item))[0].id == ticket_id(item.mention.id, "Acme")
    assert ticket_id(item.mention.id, "Acme") != ticket_id(item.mention.id, "Globex")


def test_custom_threshold_is_honoured():
    thresholds = Thresholds(reach=100)
    assert len(decide_tickets([scored(ANGRY, 150)], thresholds, SlaConfig(), NOW)) == 1
