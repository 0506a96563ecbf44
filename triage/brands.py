"""Which brand a mention talks about: terms and aliases on word boundaries, case-insensitive,
accents folded; an exclusion anywhere in the text wins over every term."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from connectors.base import Author
from earful.settings import BrandConfig
from sentiment.words import straight_apostrophes

__all__ = ["BrandMatch", "BrandMatcher", "fold", "normalize_handle"]


def fold(text: str) -> str:
    """Lower-case with accents removed, so 'Café Noël' and 'cafe noel' compare equal, and
    every apostrophe straight, so "McDonald's" typed with a curly one (as phones do) matches."""
    decomposed = unicodedata.normalize("NFKD", straight_apostrophes(text))
    if decomposed.isascii():
        return decomposed.lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65_536)
def normalize_handle(handle: str) -> str:
    return fold(handle.strip()).lstrip("@").rstrip("/")


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    # Longest first so "acme cloud" is reported before "acme" when both match.
    for phrase in sorted({fold(p) for p in phrases}, key=len, reverse=True):
        words = [re.escape(w) for w in phrase.split()]
        if words:
            parts.append(r"\s+".join(words))
    if not parts:
        return None
    # \w-boundaries rather than \b so terms that start or end with '@', '#' or '.' still work.
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


@dataclass(frozen=True, slots=True)
class BrandMatch:
    brand: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _CompiledBrand:
    name: str
    exclude: re.Pattern[str] | None
    own_handles: frozenset[str]


def _brand_terms(brand: BrandConfig) -> list[str]:
    handles = [h for h in brand.handles if h.startswith("@")]
    return [" ".join(fold(t).split()) for t in (*brand.terms, *brand.aliases, *handles)]


class BrandMatcher:
    """Compiled once per configuration; `match` is pure and cheap: one regex pass finds every
    brand's terms, exclusions are only checked for brands that matched."""

    def __init__(self, brands: Sequence[BrandConfig]):
        self._brands = [
            _CompiledBrand(
                name=brand.name,
                exclude=_phrase_pattern(brand.exclude),
                own_handles=frozenset(normalize_handle(h) for h in brand.handles),
            )
            for brand in brands
        ]
        self._term_brands: dict[str, list[int]] = {}
        for index, brand in enumerate(brands):
            for term in _brand_terms(brand):
                owners = self._term_brands.setdefault(term, [])
                if index not in owners:
                    owners.append(index)
        self._include = _phrase_pattern(self._term_brands)

    @property
    def brand_names(self) -> list[str]:
        return [b.name for b in self._brands]

    def match(self, text: str, *, only: Iterable[str] | None = None) -> list[BrandMatch]:
        if self._include is None:
            return []
        folded = fold(text)
        found = self._include.findall(folded)
        if not found:
            return []
        allowed = set(only) if only is not None else None
        terms_by_brand: dict[int, dict[str, None]] = {}
        for raw in found:
            term = " ".join(raw.split())
            for index in self._term_brands.get(term, ()):
                terms_by_brand.setdefault(index, {})[term] = None
        matches = []
        for index in sorted(terms_by_brand):
            brand = self._brands[index]
            if allowed is not None and brand.name not in allowed:
                continue
            if brand.exclude is not None and brand.exclude.search(folded):
                continue
            matches.append(BrandMatch(brand.name, tuple(terms_by_brand[index])))
        return matches

    def own_brand(self, author: Author) -> str | None:
        """The brand whose own account wrote this, if any."""
        candidates = {normalize_handle(v) for v in (author.handle, author.url, author.id) if v}
        for brand in self._brands:
            if candidates & brand.own_handles:
                return brand.name
        return None
