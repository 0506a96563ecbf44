"""The lower-cased words of a text, computed once per text and shared by the language
check and the lexicon (each used to split the same text again: ~10 us a time)."""

from __future__ import annotations

from functools import lru_cache
from itertools import repeat

__all__ = ["APOSTROPHES", "straight_apostrophes", "word_set"]

# Phones and word processors type an apostrophe as a curly quote (U+2019), some keyboards as
# an accent (U+00B4) or a modifier letter (U+02BC): each reads as "'", or VADER loses the
# negation of "don't" written with one, and the cues miss "can't log in".
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_PUNCTUATION = ".,!?;:()[]\"#@*"


def straight_apostrophes(text: str) -> str:
    """`text` with every apostrophe written as "'" (ASCII text has no other kind)."""
    return text if text.isascii() else text.translate(APOSTROPHES)


@lru_cache(maxsize=16)
def word_set(text: str) -> frozenset[str]:
    """Words of `text`, lower-cased, curly apostrophes straightened, outer punctuation and
    @/# stripped. Cached for the few most recent texts: one text is looked at by several
    scorers in a row."""
    text = straight_apostrophes(text)
    return frozenset(map(str.strip, text.lower().split(), repeat(_PUNCTUATION)))
