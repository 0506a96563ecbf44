"""VADER 3.3.2 with its hot path rewritten for speed, scores unchanged.

The stock analyzer lower-cases the whole sentence several times for every sentiment word
and rebuilds every text character by character to translate emoji. Here each text is
lower-cased once, ASCII text skips the emoji pass, only the words in the lexicon are looked
at, and one with no modifier or idiom word among the three before it takes its lexicon
valence without running the rules (none of which could change it). The rules, their order
and their constants are VADER's own (MIT licence, C.J. Hutto); tests/test_sentiment.py
checks that every score equals the stock analyzer's."""

from __future__ import annotations

import math
import string
from itertools import repeat

from vaderSentiment import vaderSentiment as _v

__all__ = ["FastSentimentIntensityAnalyzer"]

_NEGATE = frozenset(_v.NEGATE)
_BOOSTERS = _v.BOOSTER_DICT
_SPECIAL = _v.SPECIAL_CASES
_N_SCALAR = _v.N_SCALAR
_C_INCR = _v.C_INCR
_PUNCTUATION = string.punctuation
# Words of the idioms (SPECIAL_CASES) and of the two- and three-word boosters ("kind of"):
# an n-gram rule can fire only where two of these are adjacent, or on such a word itself.
_IDIOM_WORDS = frozenset(w for key in [*_SPECIAL, *_BOOSTERS] if " " in key or key in _SPECIAL
                         for w in key.split())
# Preceding words some rule of _valence reads besides the n-grams: boosters, negations, "no",
# "never", "so"/"this", "without", "least" (and any word with "n't").
_MODIFIERS = frozenset(_BOOSTERS) | _NEGATE | {"no", "never", "so", "this", "without", "least"}


def _words_and_emoticons(text: str) -> list[str]:
    """SentiText's tokens: split on white space, strip surrounding punctuation unless that
    leaves two characters or fewer (an emoticon such as ':)')."""
    tokens = text.split()
    stripped = map(str.strip, tokens, repeat(_PUNCTUATION))
    return [token if len(bare) <= 2 else bare for token, bare in zip(tokens, stripped, strict=True)]


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
        return _score_valence(*self._sentiments(text))

    def compound(self, text: str) -> float:
        """polarity_scores(text)["compound"], without the positive, neutral and negative
        proportions."""
        sentiments, text = self._sentiments(text)
        return round(_v.normalize(_emphasised_sum(sentiments, text)[0]), 4) if sentiments \
            else 0.0

    def _sentiments(self, text: str) -> tuple[list[float], str]:
        """Each word's valence after VADER's rules, and the text as VADER reads it."""
        text = (text if text.isascii() else self._describe_emoji(text)).strip()
        words = _words_and_emoticons(text)
        n = len(words)
        capitals = sum(map(str.isupper, words))
        is_cap_diff = 0 < n - capitals < n  # allcap_differential
        lower = list(map(str.lower, words))
        lexicon = self.lexicon
        # Most words have no valence and no rule applies to them: their sentiment is 0.
        sentiments: list[float] = [0] * n
        rated = [i for i, w in enumerate(lower) if w in lexicon and w not in _BOOSTERS]
        if not rated:
            return sentiments, text
        # Per word: may it modify a following one (_MODIFIERS), is it an idiom's?
        plain = [w not in _MODIFIERS and "n't" not in w for w in lower]
        idiom = [w in _IDIOM_WORDS for w in lower]
        for i in rated:
            item, item_lower = words[i], lower[i]
            if i < n - 1 and item_lower == "kind" and lower[i + 1] == "of":
                continue
            # No modifier among the three words before, no idiom through this word or
            # through two adjacent words before it, not "no": every rule of _valence leaves
            # the lexicon's valence as it is, but for the caps bonus.
            if (item_lower != "no" and not idiom[i]
                    and (i < 1 or plain[i - 1])
                    and (i < 2 or (plain[i - 2] and not (idiom[i - 2] and idiom[i - 1])))
                    and (i < 3 or (plain[i - 3] and not (idiom[i - 3] and idiom[i - 2])))):
                valence = lexicon[item_lower]
                if is_cap_diff and item.isupper():
                    valence = valence + _C_INCR if valence > 0 else valence - _C_INCR
                # _valence's `valence + 0.0` for each preceding non-lexicon word.
                if (i > 0 and lower[i - 1] not in lexicon) or (
                        i > 1 and lower[i - 2] not in lexicon) or (
                        i > 2 and lower[i - 3] not in lexicon):
                    valence = valence + 0.0
                sentiments[i] = valence
                continue
            sentiments[i] = self._valence(words, lower, is_cap_diff, item, i)
        if "but" in lower:  # the stock check changes nothing without a 'but'
            sentiments = self._but_check(words, sentiments)
        return sentiments, text

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


def _emphasised_sum(sentiments: list[float], text: str) -> tuple[float, float]:
    """The valences' sum, moved away from 0 by the text's ! and ? marks, and that emphasis
    (score_valence's first steps, the same operations in the same order)."""
    sum_s = float(sum(sentiments))
    ep_count = min(text.count("!"), 4)
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    punct_emph_amplifier = ep_count * 0.292 + qm_amplifier
    if sum_s > 0:
        sum_s += punct_emph_amplifier
    elif sum_s < 0:
        sum_s -= punct_emph_amplifier
    return sum_s, punct_emph_amplifier


def _score_valence(sentiments: list[float], text: str) -> dict[str, float]:
    """SentimentIntensityAnalyzer.score_valence with its helpers inlined, the same
    operations in the same order."""
    if sentiments:
        sum_s, punct_emph_amplifier = _emphasised_sum(sentiments, text)
        compound = _v.normalize(sum_s)
        pos_sum = 0.0
        neg_sum = 0.0
        for sentiment_score in sentiments:
            if sentiment_score:
                if sentiment_score > 0:
                    pos_sum += (float(sentiment_score) + 1)
                elif sentiment_score < 0:
                    neg_sum += (float(sentiment_score) - 1)
        neu_count = sentiments.count(0)
        if pos_sum > math.fabs(neg_sum):
            pos_sum += punct_emph_amplifier
        elif pos_sum < math.fabs(neg_sum):
            neg_sum -= punct_emph_amplifier
        total = pos_sum + math.fabs(neg_sum) + neu_count
        pos = math.fabs(pos_sum / total)
        neg = math.fabs(neg_sum / total)
        neu = math.fabs(neu_count / total)
    else:
        compound = 0.0
        pos = 0.0
        neg = 0.0
        neu = 0.0
    return {"neg": round(neg, 3), "neu": round(neu, 3), "pos": round(pos, 3),
            "compound": round(compound, 4)}
