"""A mention after the pipeline: its brands, language, sentiment, complaint score and reach."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import Mention
from sentiment.complaint import Complaint
from sentiment.vader import Sentiment
from triage.brands import BrandMatch
from triage.reach import Reach

__all__ = ["ScoredMention"]


@dataclass(frozen=True, slots=True)
class ScoredMention:
    mention: Mention
    source_name: str
    brands: tuple[BrandMatch, ...]
    sentiment: Sentiment
    reach: Reach
    own_brand: str | None = None
    complaint: Complaint | None = None  # None when the language cannot be scored
    lang: str | None = None
    rating: float | None = None  # stars, for review sources (1-5)
    # Set when a review's stars and words disagree (triage/ratings.py): look, no ticket.
    review_flag: str | None = None
