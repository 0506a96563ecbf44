"""The one batch function every path uses (the listen flow, `earful ingest`, the demo):
match brands → sentiment → reach → ticket decisions. Pure: no network, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from connectors.base import Mention
from earful.settings import Settings
from sentiment.vader import label_for, score
from triage.brands import BrandMatch, BrandMatcher
from triage.reach import estimate_reach
from triage.scored import ScoredMention
from triage.tickets import TicketDecision, decide_tickets

__all__ = ["Pipeline", "ProcessedBatch"]


@dataclass(slots=True)
class ProcessedBatch:
    scored: list[ScoredMention] = field(default_factory=list)
    tickets: list[TicketDecision] = field(default_factory=list)
    unmatched: int = 0

    def extend(self, other: ProcessedBatch) -> None:
        self.scored.extend(other.scored)
        self.tickets.extend(other.tickets)
        self.unmatched += other.unmatched


class Pipeline:
    """Built once per settings (compiles the brand patterns), then applied to batches."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.matcher = BrandMatcher(settings.brands)

    def score_one(
        self,
        mention: Mention,
        *,
        source_name: str,
        audience: int | None = None,
        only_brands: Iterable[str] | None = None,
        known_brand: str | None = None,
    ) -> ScoredMention | None:
        """None when the mention names no configured brand (it is not a mention of any)."""
        if known_brand:
            brands: list[BrandMatch] = [BrandMatch(known_brand, ())]
        else:
            text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
            brands = self.matcher.match(text, only=only_brands)
            if not brands:
                return None
        own_brand = self.matcher.own_brand(mention.author)
        if own_brand and not mention.is_own:
            mention = replace(mention, is_own=True)
        sentiment = score(mention.text or mention.title or "")
        thresholds = self.settings.thresholds
        label = label_for(sentiment.compound, thresholds.positive, thresholds.negative)
        if label != sentiment.label:
            sentiment = replace(sentiment, label=label)
        return ScoredMention(
            mention=mention,
            source_name=source_name,
            brands=tuple(brands),
            sentiment=sentiment,
            reach=estimate_reach(mention, source_audience=audience),
            own_brand=own_brand if mention.is_own else None,
        )

    def process(
        self,
        mentions: Iterable[Mention],
        *,
        source_name: str,
        now: datetime,
        audience: int | None = None,
        only_brands: Iterable[str] | None = None,
    ) -> ProcessedBatch:
        batch = ProcessedBatch()
        only = list(only_brands) if only_brands is not None else None
        for mention in mentions:
            item = self.score_one(
                mention, source_name=source_name, audience=audience, only_brands=only
            )
            if item is None:
                batch.unmatched += 1
            else:
                batch.scored.append(item)
        batch.tickets = self.decide(batch.scored, now)
        return batch

    def decide(self, scored: list[ScoredMention], now: datetime) -> list[TicketDecision]:
        return decide_tickets(scored, self.settings.thresholds, self.settings.sla, now)
