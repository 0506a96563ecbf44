"""VADER sentiment: one shared analyzer, a pure `score(text)`, and the ±0.05 convention."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vaderSentiment import vaderSentiment as _vader

from sentiment.fastvader import FastSentimentIntensityAnalyzer

__all__ = [
    "MAX_SCORED_CHARS",
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "Sentiment",
    "analyzer",
    "label_for",
    "score",
]

# VADER's authors' convention (Hutto & Gilbert 2014, the project README): compound >= 0.05
# is positive, <= -0.05 negative, in between neutral.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
# VADER is ~1 s per 5,000 words; a mention's feeling is in its opening, so long bodies are
# cut before scoring (about 400 words).
MAX_SCORED_CHARS = 2_000

Label = Literal["positive", "neutral", "negative"]


@dataclass(frozen=True, slots=True)
class Sentiment:
    compound: float
    positive: float
    neutral: float
    negative: float
    label: Label


def label_for(
    compound: float,
    positive_threshold: float = POSITIVE_THRESHOLD,
    negative_threshold: float = NEGATIVE_THRESHOLD,
) -> Label:
    if compound >= positive_threshold:
        return "positive"
    if compound <= negative_threshold:
        return "negative"
    return "neutral"


@lru_cache(maxsize=1)
def analyzer() -> _vader.SentimentIntensityAnalyzer:
    """The process-wide analyzer (loading the lexicon costs ~20 ms)."""
    return FastSentimentIntensityAnalyzer()


def score(text: str) -> Sentiment:
    """VADER scores of `text` (cut to MAX_SCORED_CHARS). Pure."""
    scores = analyzer().polarity_scores(text[:MAX_SCORED_CHARS])
    compound = float(scores["compound"])
    return Sentiment(
        compound=compound,
        positive=float(scores["pos"]),
        neutral=float(scores["neu"]),
        negative=float(scores["neg"]),
        label=label_for(compound),
    )
