"""Necessary conditions for a regex to match, derived from the regex itself, so a text that
cannot match is never searched.

Each cue of sentiment/cues.py is one regex over the text (~3 us a search; twenty per text
were most of the complaint model's time), and a text fires three or four of them. A cue's
regex mostly matches whole words: `(?<![\\w'])(?:broken|is\\s+down|...)(?![\\w'])`. A match
of one of its alternatives contains certain words whole (maximal runs of `[\\w']`, the
cues' own word boundary): "broken"; "is" and "down". `triggers(pattern)` expands the
regex's parse tree into the strings it can match, unknown parts marked, and collects each
expansion's whole words: a text without all the words of some expansion cannot match, and
is not searched. Where an expansion holds no whole word (`[$£€]\\s?\\d`), one of its
literal characters must be in the text instead ("$"); where it holds neither
(`[A-Z]{4,}`), nothing is said. A text that passes is searched with the regex itself, so a
cue's result, evidence included, is always the regex's own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]

__all__ = ["WORD", "Triggers", "triggers"]

# A word, as the cues' boundaries (?<![\w']) and (?![\w']) delimit one.
WORD = re.compile(r"[\w']+")

# An expansion is a string: the regex's literal characters, and these markers (characters no
# cue regex holds) for what is not one fixed character.
_SEP = "\x01"  # one or more characters, none of them a word character (\s+)
_BOUND = "\x02"  # an assertion that the neighbouring character is no word character
_WILD = "\x03"  # any string, possibly empty, possibly word characters
_MAX_EXPANSIONS = 20_000
# A whole word: a run of literal word characters with a separator (a literal non-word
# character, _SEP or _BOUND; not _WILD, not the expansion's edge) on both sides.
_WHOLE_WORD = re.compile(r"(?<=[^\w'\x03])[\w']+(?=[^\w'\x03])")
_MARKERS = re.compile("[\x01\x02\x03]")


class _Unsupported(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Triggers:
    """A regex can match a text only if all the words of one of `word_sets` are words of
    the text, or one of `substrings` occurs in it."""

    word_sets: frozenset[frozenset[str]]
    substrings: frozenset[str]


def _is_word_set(items: list[tuple[object, object]]) -> bool:
    r"""An [...] set that contains every word character: \w and the apostrophe."""
    kinds = set(items)
    return (_c.CATEGORY, _c.CATEGORY_WORD) in kinds and (_c.LITERAL, ord("'")) in kinds


def _product(left: set[str], right: set[str]) -> set[str]:
    if len(left) * len(right) > _MAX_EXPANSIONS:
        return {_WILD}
    return {a + b for a in left for b in right}


def _literal(code: int) -> set[str]:
    char = chr(code)
    if _MARKERS.match(char):
        raise _Unsupported("a marker character in the regex")
    return {char}


def _expand_in(items: list[tuple[object, object]]) -> set[str]:
    out: set[str] = set()
    for op, arg in items:
        if op is _c.LITERAL:
            out |= _literal(arg)  # type: ignore[arg-type]
        elif op is _c.CATEGORY and arg is _c.CATEGORY_SPACE:
            out.add(_SEP)
        else:  # \w, \d, ranges, negated sets: might be a word character
            return {_WILD}
    return out


def _expand(seq: list[tuple[object, object]]) -> set[str]:
    result = {""}
    for op, arg in seq:
        result = _product(result, _expand_node(op, arg))
    return result


def _expand_node(op: object, arg: object) -> set[str]:
    if op is _c.LITERAL:
        return _literal(arg)  # type: ignore[arg-type]
    if op is _c.IN:
        return _expand_in(arg)  # type: ignore[arg-type]
    if op in (_c.ANY, _c.NOT_LITERAL):
        return {_WILD}
    if op is _c.CATEGORY:
        return {_SEP} if arg is _c.CATEGORY_SPACE else {_WILD}
    if op is _c.SUBPATTERN:
        _group, add_flags, del_flags, sub = arg  # type: ignore[misc]
        if add_flags or del_flags:
            raise _Unsupported("inline flags")
        return _expand(sub)
    if op is _c.BRANCH:
        out: set[str] = set()
        for alternative in arg[1]:  # type: ignore[index]
            out |= _expand(alternative)
            if len(out) > _MAX_EXPANSIONS:
                return {_WILD}
        return out
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low, high, sub = arg  # type: ignore[misc]
        inner = _expand(sub)
        if high is not _c.MAXREPEAT and high <= 3:
            out = {""} if low == 0 else set()
            run = {""}
            for count in range(1, high + 1):
                run = _product(run, inner)
                if count >= low:
                    out |= run
            return out if len(out) <= _MAX_EXPANSIONS else {_WILD}
        if inner == {_SEP}:  # \s+, \s*: separators only, however many
            return {_SEP} if low else {"", _SEP}
        return {_WILD}
    if op is _c.AT:
        # ^ and $ have no word character beside them; \b and the rest say less.
        return {_BOUND} if arg in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING, _c.AT_END,
                                   _c.AT_END_STRING) else {""}
    if op is _c.ASSERT_NOT:
        _direction, sub = arg  # type: ignore[misc]
        if len(sub) == 1 and sub[0][0] is _c.IN and _is_word_set(sub[0][1]):
            return {_BOUND}  # (?<![\w']) or (?![\w'])
        return {""}
    if op is _c.ASSERT:
        return {""}  # a positive look-around consumes nothing; ignoring it is safe
    raise _Unsupported(str(op))


def triggers(pattern: re.Pattern[str], *, words: bool = True) -> Triggers | None:
    """What a text must hold for `pattern` to match it, or None when nothing useful can be
    said. `words=False` gives substrings only (for a regex run on another text than the one
    split into words)."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = _p.parse(pattern.pattern, pattern.flags)
        if parsed and parsed[0][0] is _c.LITERAL:
            return None  # the regex engine itself skips to its first character: fast enough
        expansions = _expand(parsed)
    except Exception:  # an unknown construct, or another Python's parse tree:
        return None  # nothing is said, and the regex is searched on every text
    word_sets: set[frozenset[str]] = set()
    substrings: set[str] = set()
    for expansion in expansions:
        whole = _WHOLE_WORD.findall(expansion) if words else []
        if whole:
            word_sets.add(frozenset(whole))
            continue
        runs = [run for run in _MARKERS.split(expansion) if run]
        if not runs:
            return None
        # A run with punctuation in it ("$", "?", "%") is rarer in text than letters.
        substrings.add(max(runs, key=lambda r: (not r.isalnum(), len(r), r)))
    # A substring holding another is redundant: the shorter occurs wherever it does.
    minimal = {s for s in substrings if not any(o != s and o in s for o in substrings)}
    return Triggers(frozenset(word_sets), frozenset(minimal))
