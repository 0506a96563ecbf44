"""Which language a mention is in, with py3langid (its model ships in the wheel; nothing is
downloaded). Short or mixed texts are unreliable, so only a confident guess counts."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sentiment.words import word_set

__all__ = ["MIN_CONFIDENCE", "detect_language"]

# Below this normalised probability the guess is treated as unknown: a tweet of three words
# ("@acme help!!") is often labelled Afrikaans or Sesotho with probability 0.1.
MIN_CONFIDENCE = 0.80
# A source's own language tag wins unless it is one of these "don't know" values.
_UNDETERMINED = {"", "und", "unk", "zxx", "mul", "xx"}
_NOISE = re.compile(r"(?:https?://\S+|[@#][\w.]+)")
# Plain-ASCII text with two or more of these English function words is English: saves the
# classifier (~40 us per short text, ~200 us per long one) on the bulk of brand chatter.
# (Among the 100 most frequent English words, none of them also common words in the other
# languages py3langid confuses English with.)
_ENGLISH_MARKERS = frozenset(
    "the and to is my for you not it of in this with was are have has your me i on that "
    "but be at can just so why what when still again they we our will would there their "
    "been were from by an or if about out up do did does get got how all any no now "
    "please thanks thank today yesterday week hours very really never always".split()
)
# The classifier's cost grows with length; the first 300 characters tell the language.
_MAX_CLASSIFIED_CHARS = 300


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # Normalised probabilities, so MIN_CONFIDENCE means the same on every text.
    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code, or None when neither the source nor the text says confidently."""
    if hint and hint.strip().lower() not in _UNDETERMINED:
        return hint.strip().lower().replace("_", "-").split("-")[0]
    if text.isascii() and len(word_set(text) & _ENGLISH_MARKERS) >= 2:
        return "en"
    cleaned = _NOISE.sub(" ", text).strip()
    if len(cleaned) < 12:
        return None
    lang, confidence = _identifier().classify(cleaned[:_MAX_CLASSIFIED_CHARS])
    return str(lang) if confidence >= MIN_CONFIDENCE else None
