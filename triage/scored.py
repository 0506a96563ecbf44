"""A mention after the pipeline: its brands, sentiment and reach."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import Mention
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
