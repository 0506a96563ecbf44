"""VADER sentiment: one shared analyzer, a pure `score(text)`, and the ±0.05 convention."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vaderSentiment import vaderSentiment as _vader

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


class _FastAnalyzer(_vader.SentimentIntensityAnalyzer):
    """VADER with two hot helpers rewritten to lower-case only the words they look at.
    The stock versions lower-case the whole sentence for every sentiment word (about a third
    of VADER's time); scores are identical, which tests/test_sentiment.py checks against the
    stock analyzer."""

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        def low(k: int) -> str:
            return str(words[k]).lower()

        def negated(word: str) -> bool:
            return word in _NEGATE or "n't" in word

        if start_i == 0 and negated(low(i - 1)):
            valence = valence * _vader.N_SCALAR
        if start_i == 1:
            w2, w1 = low(i - 2), low(i - 1)
            if w2 == "never" and (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w2 == "without" and w1 == "doubt":
                pass
            elif negated(w2):
                valence = valence * _vader.N_SCALAR
        if start_i == 2:
            w3, w2, w1 = low(i - 3), low(i - 2), low(i - 1)
            if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
                pass
            elif negated(w3):
                valence = valence * _vader.N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        n = len(words)

        def low(k: int) -> str:
            return str(words[k]).lower()

        w3, w2, w1, w0 = low(i - 3), low(i - 2), low(i - 1), low(i)
        onezero = f"{w1} {w0}"
        twoonezero = f"{w2} {w1} {w0}"
        twoone = f"{w2} {w1}"
        threetwoone = f"{w3} {w2} {w1}"
        threetwo = f"{w3} {w2}"
        special = _vader.SPECIAL_CASES
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in special:
                valence = special[seq]
                break
        if n - 1 > i:
            zeroone = f"{w0} {low(i + 1)}"
            if zeroone in special:
                valence = special[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{w0} {low(i + 1)} {low(i + 2)}"
            if zeroonetwo in special:
                valence = special[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in _vader.BOOSTER_DICT:
                valence = valence + _vader.BOOSTER_DICT[n_gram]
        return valence


_NEGATE = frozenset(_vader.NEGATE)


@lru_cache(maxsize=1)
def analyzer() -> _vader.SentimentIntensityAnalyzer:
    """The process-wide analyzer (loading the lexicon costs ~20 ms)."""
    return _FastAnalyzer()


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
