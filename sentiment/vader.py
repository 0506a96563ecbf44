"""VADER sentiment: one shared analyzer, a pure `score(text)`, and the ±0.05 convention."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from sentiment.fastvader import FastSentimentIntensityAnalyzer
from sentiment.lexicon import LEXICON_VERSION, load_lexicon

__all__ = [
    "MAX_SCORED_CHARS",
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "SCORED_LANGUAGES",
    "UNKNOWN",
    "Sentiment",
    "analyzer",
    "compound_score",
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

Label = Literal["positive", "neutral", "negative", "unknown"]
# Languages VADER's lexicon (and earful's additions) are written for.
SCORED_LANGUAGES = frozenset({"en"})


@dataclass(frozen=True, slots=True)
class Sentiment:
    """VADER's scores; all None, label 'unknown', for a language VADER cannot read."""

    compound: float | None
    positive: float | None
    neutral: float | None
    negative: float | None
    label: Label
    model: str = f"vader-3.3.2+{LEXICON_VERSION}"


UNKNOWN = Sentiment(None, None, None, None, "unknown")


def label_for(
    compound: float | None,
    positive_threshold: float = POSITIVE_THRESHOLD,
    negative_threshold: float = NEGATIVE_THRESHOLD,
) -> Label:
    if compound is None:
        return "unknown"
    if compound >= positive_threshold:
        return "positive"
    if compound <= negative_threshold:
        return "negative"
    return "neutral"


@lru_cache(maxsize=1)
def analyzer() -> FastSentimentIntensityAnalyzer:
    """The process-wide analyzer with the customer-talk lexicon (loading costs ~20 ms)."""
    vader = FastSentimentIntensityAnalyzer()
    vader.lexicon.update(load_lexicon().words)
    return vader


def _polarity(text: str) -> dict[str, float]:
    return analyzer().polarity_scores(load_lexicon().rewrite(text[:MAX_SCORED_CHARS]))


def score(text: str, lang: str | None = None) -> Sentiment:
    """VADER scores of `text` (cut to MAX_SCORED_CHARS), after the customer-talk lexicon's
    phrases and emoji are folded into tokens. `lang`: a detected language VADER cannot read
    gives UNKNOWN rather than a wrong neutral. Pure."""
    if lang is not None and lang not in SCORED_LANGUAGES:
        return UNKNOWN
    scores = _polarity(text)
    compound = float(scores["compound"])
    return Sentiment(
        compound=compound,
        positive=float(scores["pos"]),
        neutral=float(scores["neu"]),
        negative=float(scores["neg"]),
        label=label_for(compound),
    )


def compound_score(text: str, lang: str | None = None) -> float | None:
    """`score(text, lang).compound`, without the rest of the Sentiment (for bulk scoring)."""
    if lang is not None and lang not in SCORED_LANGUAGES:
        return None
    return float(analyzer().compound(load_lexicon().rewrite(text[:MAX_SCORED_CHARS])))
