"""The one batch function every path uses (the listen flow, `earful ingest`, the demo):
match brands → sentiment → reach → ticket decisions. Pure: no network, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from connectors.base import Mention
from desk.opening import decide as desk_decide
from earful.settings import Settings
from sentiment.complaint import score_complaint
from sentiment.language import detect_language
from sentiment.vader import label_for, score
from triage.brands import BrandMatch, BrandMatcher
from triage.ratings import apply_rating
from triage.reach import estimate_reach, project_reach
from triage.scored import ScoredMention
from triage.tickets import TicketDecision

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
        previous: tuple[int, float] | None = None,
        rating: float | None = None,
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
        body = mention.text or mention.title or ""
        lang = detect_language(body, mention.lang)
        sentiment = score(body, lang)
        thresholds = self.settings.thresholds
        label = label_for(sentiment.compound, thresholds.positive, thresholds.negative)
        if label != sentiment.label:
            sentiment = replace(sentiment, label=label)
        complaint = None if sentiment.compound is None else score_complaint(
            body, sentiment.compound)
        rating = rating if rating is not None else mention.rating
        complaint, review_flag = apply_rating(rating, sentiment, complaint,
                                              thresholds.negative)
        reach = project_reach(estimate_reach(mention, source_audience=audience), previous,
                              thresholds.projection_window.total_seconds() / 3600)
        return ScoredMention(
            mention=mention,
            source_name=source_name,
            brands=tuple(brands),
            sentiment=sentiment,
            reach=reach,
            own_brand=own_brand if mention.is_own else None,
            complaint=complaint,
            lang=lang,
            rating=rating,
            review_flag=review_flag,
        )

    def process(
        self,
        mentions: Iterable[Mention],
        *,
        source_name: str,
        now: datetime,
        audience: int | None = None,
        only_brands: Iterable[str] | None = None,
        known_brand: str | None = None,
        previous: Mapping[str, tuple[int, float]] | None = None,
    ) -> ProcessedBatch:
        """`previous`: mention id → (expected reach at the previous poll, hours since), for
        the mentions seen before; their growth is projected over the projection window."""
        batch = ProcessedBatch()
        only = list(only_brands) if only_brands is not None else None
        previous = previous or {}
        for mention in mentions:
            item = self.score_one(
                mention, source_name=source_name, audience=audience, only_brands=only,
                known_brand=known_brand, previous=previous.get(mention.id),
            )
            if item is None:
                batch.unmatched += 1
            else:
                batch.scored.append(item)
        batch.tickets = self.decide(batch.scored, now)
        return batch

    def decide(self, scored: list[ScoredMention], now: datetime) -> list[TicketDecision]:
        return desk_decide(scored, self.settings, now)
