"""The lower-cased words of a text, computed once per text and shared by the language
check and the lexicon (each used to split the same text again: ~10 us a time)."""

from __future__ import annotations

from functools import lru_cache
from itertools import repeat

__all__ = ["APOSTROPHES", "word_set"]

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
_PUNCTUATION = ".,!?;:()[]\"#@*"


@lru_cache(maxsize=16)
def word_set(text: str) -> frozenset[str]:
    """Words of `text`, lower-cased, curly apostrophes straightened, outer punctuation and
    @/# stripped. Cached for the few most recent texts: one text is looked at by several
    scorers in a row."""
    if not text.isascii():  # ASCII text has no curly apostrophes
        text = text.translate(APOSTROPHES)
    return frozenset(map(str.strip, text.lower().split(), repeat(_PUNCTUATION)))
