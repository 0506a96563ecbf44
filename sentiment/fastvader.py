"""VADER 3.3.2 with its hot path rewritten for speed, scores unchanged.

The stock analyzer lower-cases the whole sentence several times for every sentiment word
and rebuilds every text character by character to translate emoji. Here each text is
lower-cased once and ASCII text skips the emoji pass. The rules, their order and their
constants are VADER's own (MIT licence, C.J. Hutto); tests/test_sentiment.py checks that
every score equals the stock analyzer's."""

from __future__ import annotations

import string

from vaderSentiment import vaderSentiment as _v

__all__ = ["FastSentimentIntensityAnalyzer"]

_NEGATE = frozenset(_v.NEGATE)
_BOOSTERS = _v.BOOSTER_DICT
_SPECIAL = _v.SPECIAL_CASES
_N_SCALAR = _v.N_SCALAR
_C_INCR = _v.C_INCR
_PUNCTUATION = string.punctuation


def _words_and_emoticons(text: str) -> list[str]:
    """SentiText's tokens: split on white space, strip surrounding punctuation unless that
    leaves two characters or fewer (an emoticon such as ':)')."""
    words = []
    for token in text.split():
        stripped = token.strip(_PUNCTUATION)
        words.append(token if len(stripped) <= 2 else stripped)
    return words


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


class FastSentimentIntensityAnalyzer(_v.SentimentIntensityAnalyzer):
    def _describe_emoji(self, text: str) -> str:
        out = []
        prev_space = True
        for char in text:
            description = self.emojis.get(char)
            if description is not None:
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out)

    def polarity_scores(self, text: str) -> dict[str, float]:
        text = (text if text.isascii() else self._describe_emoji(text)).strip()
        words = _words_and_emoticons(text)
        is_cap_diff = _v.allcap_differential(words)
        lower = [w.lower() for w in words]
        n = len(words)
        sentiments: list[float] = []
        lexicon = self.lexicon
        for i, item in enumerate(words):
            item_lower = lower[i]
            if item_lower not in lexicon:  # most words: no valence, no rule applies
                sentiments.append(0)
                continue
            if item_lower in _BOOSTERS:
                sentiments.append(0)
                continue
            if i < n - 1 and item_lower == "kind" and lower[i + 1] == "of":
                sentiments.append(0)
                continue
            sentiments.append(self._valence(words, lower, is_cap_diff, item, i))
        if "but" in lower:  # the stock check changes nothing without a 'but'
            sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    def _valence(self, words: list[str], lower: list[str], is_cap_diff: bool, item: str,
                 i: int) -> float:
        lexicon = self.lexicon
        item_lower = lower[i]
        if item_lower not in lexicon:
            return 0
        valence = lexicon[item_lower]
        n = len(words)
        if item_lower == "no" and i != n - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no") or (
            i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor")
        ):
            valence = lexicon[item_lower] * _N_SCALAR
        if is_cap_diff and item.isupper():
            valence = valence + _C_INCR if valence > 0 else valence - _C_INCR
        for start_i in range(3):
            if i > start_i and lower[i - (start_i + 1)] not in lexicon:
                s = _v.scalar_inc_dec(words[i - (start_i + 1)], valence, is_cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = self._negation(valence, lower, start_i, i)
                if start_i == 2:
                    valence = self._idioms(valence, lower, i)
        return self._least(valence, lower, i)

    @staticmethod
    def _negation(valence: float, lower: list[str], start_i: int, i: int) -> float:
        if start_i == 0:
            if _negated(lower[i - 1]):
                valence = valence * _N_SCALAR
        elif start_i == 1:
            w2, w1 = lower[i - 2], lower[i - 1]
            if w2 == "never" and (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w2 == "without" and w1 == "doubt":
                pass
            elif _negated(w2):
                valence = valence * _N_SCALAR
        else:
            w3, w2, w1 = lower[i - 3], lower[i - 2], lower[i - 1]
            if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
                valence = valence * 1.25
            elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
                pass
            elif _negated(w3):
                valence = valence * _N_SCALAR
        return valence

    @staticmethod
    def _idioms(valence: float, lower: list[str], i: int) -> float:
        w3, w2, w1, w0 = lower[i - 3], lower[i - 2], lower[i - 1], lower[i]
        twoone = f"{w2} {w1}"
        threetwoone = f"{w3} {w2} {w1}"
        threetwo = f"{w3} {w2}"
        for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", twoone, threetwoone, threetwo):
            if seq in _SPECIAL:
                valence = _SPECIAL[seq]
                break
        n = len(lower)
        if n - 1 > i:
            zeroone = f"{w0} {lower[i + 1]}"
            if zeroone in _SPECIAL:
                valence = _SPECIAL[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{w0} {lower[i + 1]} {lower[i + 2]}"
            if zeroonetwo in _SPECIAL:
                valence = _SPECIAL[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in _BOOSTERS:
                valence = valence + _BOOSTERS[n_gram]
        return valence

    def _least(self, valence: float, lower: list[str], i: int) -> float:
        lexicon = self.lexicon
        if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * _N_SCALAR
        elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            valence = valence * _N_SCALAR
        return valence
