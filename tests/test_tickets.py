from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from connectors.base import Author, Mention
from earful.settings import SlaConfig, Thresholds
from sentiment.complaint import Complaint
from sentiment.vader import Sentiment
from triage.brands import BrandMatch
from triage.reach import Reach, estimate_reach, project_reach
from triage.scored import ScoredMention
from triage.tickets import decide_tickets, priority_for, ticket_id

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
COMPLAINT = Complaint(0.91, True, ('elapsed time or repetition ("still waiting")',
                                   "addressed to @acme"))
NOT_COMPLAINT = Complaint(0.12, False, ())


def scored(reach: int, complaint: Complaint | None = COMPLAINT, compound: float = -0.4,
           projected: int | None = None, per_hour: float = 0.0, **mention_fields):
    mention = Mention(source="test", external_id=f"m{reach}{compound}", url=None, title=None,
                      text="@acme still waiting", published_at=NOW, **mention_fields)
    label = "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
    return ScoredMention(
        mention, "src", (BrandMatch("Acme", ("acme",)),),
        Sentiment(compound, 0.0, 0.5, 0.5, label),
        Reach(reach, reach, reach, "followers × 0.15", per_hour,
              projected if projected is not None else reach),
        complaint=complaint)


def decide(*items):
    return decide_tickets(items, Thresholds(), SlaConfig(), NOW)


def test_complaint_at_threshold_opens_a_ticket_with_reason_in_words():
    (ticket,) = decide(scored(6000))
    assert ticket.kind == "complaint" and ticket.brand == "Acme"
    assert ticket.reason.startswith('complaint 0.91 (elapsed time or repetition ("still '
                                    'waiting"), addressed to @acme); reach ≈ 6,000 '
                                    "(followers × 0.15)")
    assert ticket.due_at == NOW + SlaConfig().for_priority(ticket.priority)


def test_low_reach_or_no_complaint_opens_nothing():
    assert decide(scored(5999)) == []
    assert decide(scored(1_000_000, NOT_COMPLAINT, compound=-0.3)) == []
    assert decide(scored(1_000_000, NOT_COMPLAINT, compound=0.8)) == []
    assert decide(scored(1_000_000, None, compound=0.0)) == []  # unscored language


def test_strongly_negative_non_complaint_with_big_audience_still_needs_a_person():
    (ticket,) = decide(scored(60_000, NOT_COMPLAINT, compound=-0.8))
    assert ticket.kind == "negative" and "strongly negative" in ticket.reason


def test_projected_reach_crossing_the_threshold_opens_a_ticket():
    (ticket,) = decide(scored(4000, projected=7200, per_hour=800))
    assert "+800/h → ≈ 7,200 projected" in ticket.reason
    assert ticket.reach == 4000


def test_reposts_and_own_posts_never_open_tickets():
    assert decide(scored(100_000, is_repost=True)) == []
    assert decide(scored(100_000, is_own=True)) == []


def test_the_50k_follower_complaint_is_p1_or_p2_and_names_both():
    mention = Mention(source="x", external_id="1", url=None, title=None,
                      text="@acme still waiting", published_at=NOW,
                      author=Author(handle="@loud", followers=50_000))
    reach = project_reach(estimate_reach(mention), None, 4)
    item = ScoredMention(mention, "x", (BrandMatch("Acme", ("acme",)),),
                         Sentiment(-0.4, 0, 0.5, 0.5, "negative"), reach, complaint=COMPLAINT)
    (ticket,) = decide(item)
    assert ticket.priority in ("P1", "P2")
    assert "complaint 0.91" in ticket.reason and "reach ≈ 7,500 (followers × 0.15)" in \
        ticket.reason


def test_priority_bands():
    assert decide(scored(600_000))[0].priority == "P1"
    assert decide(scored(6000))[0].priority == "P2"  # 0.91 × √1
    assert priority_for(1.5) == "P1" and priority_for(0.9) == "P2"
    assert priority_for(0.6) == "P3" and priority_for(0.1) == "P4"
    assert decide(scored(600_000))[0].due_at - NOW == timedelta(hours=1)


def test_ticket_id_is_stable_per_mention_and_brand():
    item = scored(6000)
    assert decide(item)[0].id == decide(replace(item))[0].id == ticket_id(item.mention.id, "Acme")
    assert ticket_id(item.mention.id, "Acme") != ticket_id(item.mention.id, "Globex")


def test_a_risk_exactly_on_a_band_floor_gets_that_band():
    # 0.6 × √(13,500 / 6,000) is 0.9 exactly on paper, 0.8999999999999999 in floating point:
    # the stored risk (0.9) and the README's table (P2 at 0.9) must agree with the priority.
    shaky = Complaint(0.6, True, ())
    (ticket,) = decide(scored(13_500, shaky))
    assert ticket.risk == 0.9 and ticket.priority == "P2"
    assert "risk 0.90 → P2" in ticket.reason
    (ticket,) = decide(scored(8_640, Complaint(0.75, True, ())))  # 0.75 × √1.44 = 0.9
    assert ticket.priority == "P2"
