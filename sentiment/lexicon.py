"""The customer-talk lexicon (sentiment/lexicon/<version>.tsv): word overrides, phrases and
emoji added to VADER, each with the reason it is there."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sentiment.words import straight_apostrophes, word_set

__all__ = ["LEXICON_VERSION", "CustomerLexicon", "load_lexicon"]

LEXICON_VERSION = "customer-v1"


@dataclass(frozen=True, slots=True)
class CustomerLexicon:
    version: str
    words: dict[str, float]
    rewrite: Callable[[str], str]

    @property
    def tokens(self) -> dict[str, float]:
        return self.words


def _token(entry: str) -> str:
    return "cx_" + "_".join(f"{ord(c):x}" if not c.isalnum() else c for c in entry.lower())


def _parse(text: str) -> tuple[dict[str, float], dict[str, str]]:
    words: dict[str, float] = {}
    replacements: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise ValueError(f"lexicon line {line_no}: expected kind, entry, valence, why")
        kind, entry, valence_text, _why = parts
        valence = float(valence_text)
        if kind == "word":
            words[entry.lower()] = valence
        elif kind in ("phrase", "emoji"):
            token = _token(entry)
            words[token] = valence
            replacements[entry.lower()] = token
        else:
            raise ValueError(f"lexicon line {line_no}: unknown kind {kind!r}")
    return words, replacements


def _alternation(entries: list[str]) -> re.Pattern[str]:
    alternatives = []
    for entry in sorted(entries, key=len, reverse=True):
        escaped = r"\s+".join(re.escape(w) for w in entry.split())
        alternatives.append(rf"(?<!\w){escaped}(?!\w)" if entry[0].isalnum() else escaped)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _rewriter(replacements: dict[str, str]) -> Callable[[str], str]:
    if not replacements:
        return lambda text: text
    # Most texts hold none of the entries: look for their first words (and emoji) with set
    # operations first, and run a regex only over the entries that can match.
    by_first: dict[str, list[str]] = {}
    emoji = {entry for entry in replacements if not entry[0].isalnum()}
    for entry in replacements:
        if entry not in emoji:
            by_first.setdefault(entry.split()[0], []).append(entry)
    # An entry's later words, each of which a text must contain for the entry to match it.
    rest = {entry: entry.split()[1:] for first in by_first.values() for entry in first}

    @cache
    def pattern_for(firsts: frozenset[str], with_emoji: bool) -> re.Pattern[str]:
        entries = [e for first in firsts for e in by_first[first]]
        return _alternation(entries + (sorted(emoji) if with_emoji else []))

    @cache
    def pattern_of(entries: frozenset[str]) -> re.Pattern[str]:
        return _alternation(list(entries))

    def rewrite_ascii(text: str, firsts: frozenset[str]) -> str:
        """The same rewrite as below for ASCII text, over only the entries whose every word
        the text contains ("still waiting": "still" a word of it, "waiting" anywhere in it):
        the others cannot match, so dropping them from the regex changes nothing, and a text
        left with none (most: "not" and "no" are common, "not working" is rare) is not
        searched. (In ASCII text a case-insensitive match contains the lower-cased words.)"""
        lower = text.lower()
        entries = frozenset(e for first in firsts for e in by_first[first]
                            if all(word in lower for word in rest[e]))
        if not entries:
            return text
        return pattern_of(entries).sub(replace, text)

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        token = replacements[" ".join(found.lower().split())]
        # Keep shouting visible to VADER's caps rule: "NOT WORKING" stays emphatic.
        return f" {token.upper() if found.isupper() else token} "

    def rewrite(text: str) -> str:
        # Straightened whether or not a phrase matches: VADER's negations are spelt with "'".
        text = straight_apostrophes(text)
        firsts = frozenset(word_set(text).intersection(by_first))
        if text.isascii():
            return rewrite_ascii(text, firsts) if firsts else text
        with_emoji = any(e in text for e in emoji)
        if not firsts and not with_emoji:
            return text
        return pattern_for(firsts, with_emoji).sub(replace, text)

    return rewrite


@cache
def load_lexicon(version: str = LEXICON_VERSION) -> CustomerLexicon:
    text = resources.files("sentiment").joinpath("lexicon", f"{version}.tsv").read_text("utf-8")
    words, replacements = _parse(text)
    return CustomerLexicon(version, words, _rewriter(replacements))
