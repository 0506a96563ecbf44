"""Which language a mention is in, with py3langid (its model ships in the wheel; nothing is
downloaded). Short or mixed texts are unreliable, so only a confident guess counts."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

from sentiment.words import straight_apostrophes, word_set

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
    # Contractions are English alone, and short complaints are full of them ("won't load,
    # doesn't work" has no other marker, and the classifier calls it Dutch).
    + "don't doesn't didn't can't won't isn't aren't wasn't weren't haven't hasn't hadn't "
    "couldn't wouldn't shouldn't i'm i've i'll i'd it's that's what's there's you're we're "
    "they're".split()
)
# Typographic punctuation (curly quotes, dashes, ellipses, no-break spaces), symbols and
# emoji say nothing of a text's language: text that is ASCII but for them is tested for the
# English markers too (an English tweet with an emoji is no less English).
_SYMBOLS = re.compile("[\u00a0\u2000-\u206f\u2190-\u2bff\ufe00-\ufe0f\U0001f000-\U0001faff]+")
# The classifier's cost grows with length; the first 300 characters tell the language.
_MAX_CLASSIFIED_CHARS = 300
# _classify's probabilities are within 2e-4 of the library's (the largest difference seen
# on 13,000 texts in 14 languages was 1.1e-4); nearer the threshold than this, the library
# itself is asked (about 1 classified text in 500).
_RECHECK_MARGIN = 0.005


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # Normalised probabilities, so MIN_CONFIDENCE means the same on every text.
    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)


def _classify(text: str) -> tuple[str, float]:
    """py3langid's `classify(text)`, computed sparsely: ~30 us a tweet against ~175 us.
    The library multiplies a dense 7,480-feature count vector by the 7,480 x 97 weight
    matrix through BLAS (~90 us; and OpenBLAS's helper threads spin on the other core,
    which the other scoring worker needs: several times slower under `earful score`). A
    tweet has a few hundred features, so only their rows are summed here, and the
    normalised probability (the library's formula) is computed for the best language only.
    Summed in another order, a probability can differ from the library's in the 4th decimal
    (float32 rounding; the library's own figure moves by 2e-5 with BLAS's thread count), so
    within _RECHECK_MARGIN of MIN_CONFIDENCE the library itself decides: the answer is
    always the library's."""
    import numpy as np

    model = _identifier()
    nextmove, output = model.tk_nextmove, model.tk_output
    state, indexes = 0, []
    extend = indexes.extend
    for letter in text.encode("utf8", errors="surrogatepass"):
        state = nextmove[(state << 8) + letter]
        found = output.get(state)
        if found:
            extend(found)
    counts = Counter(indexes)
    rows = np.fromiter(counts, dtype=np.intp, count=len(counts))
    weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    # An elementwise product and a sum, not a matrix product: no BLAS, no helper threads.
    pd = (model.nb_ptc[rows] * weights[:, None]).sum(axis=0).astype(np.float32) + model.nb_pc
    best = int(np.argmax(pd))
    with np.errstate(over="ignore"):
        probability = float(1 / np.exp(pd - pd[best]).sum())
    if abs(probability - MIN_CONFIDENCE) < _RECHECK_MARGIN:
        lang, probability = model.classify(text)
        return str(lang), float(probability)
    return model.nb_classes[best], probability


def _without_symbols(text: str) -> str:
    """`text` without what says nothing of its language, apostrophes straightened."""
    return text if text.isascii() else _SYMBOLS.sub(" ", straight_apostrophes(text))


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code, or None when neither the source nor the text says confidently."""
    if hint and hint.strip().lower() not in _UNDETERMINED:
        return hint.strip().lower().replace("_", "-").split("-")[0]
    plain = _without_symbols(text)
    if plain.isascii() and len(word_set(plain) & _ENGLISH_MARKERS) >= 2:
        return "en"
    cleaned = _NOISE.sub(" ", plain).strip()
    if len(cleaned) < 12:
        return None
    lang, confidence = _classify(cleaned[:_MAX_CLASSIFIED_CHARS])
    return str(lang) if confidence >= MIN_CONFIDENCE else None
