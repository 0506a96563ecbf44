"""The cues of a complaint, each a named, explainable feature of a text. The complaint model
(sentiment/complaint.py) weighs them; reviewers see the ones that fired, with the words that
fired them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sentiment.prefilter import WORD as _WORD
from sentiment.prefilter import triggers
from sentiment.words import straight_apostrophes

__all__ = ["CUES", "Cue", "CueHit", "extract", "hits"]

_W = r"(?<![\w'])"  # word start
_E = r"(?![\w'])"  # word end: not followed by more of a word


@dataclass(frozen=True, slots=True)
class Cue:
    name: str
    label: str  # how the cue reads in a reason: 'service failure ("not working")'
    pattern: re.Pattern[str] | None
    # Most cues run case-sensitively on the lower-cased text (IGNORECASE costs ~40%);
    # these few need the original case.
    on_original: bool = False


@dataclass(frozen=True, slots=True)
class CueHit:
    name: str
    value: float
    evidence: str  # the words that fired it, for the reason


def _factored(alternatives: tuple[str, ...]) -> str:
    """The alternatives grouped by their first letter, `a(?:lt1|lt2)|b(?:...)`: the regex
    engine then tries one group per position instead of every alternative (3-4x faster)."""
    groups: dict[str, list[str]] = {}
    rest: list[str] = []
    for alternative in alternatives:
        first, tail = alternative[:1], alternative[1:]
        if first.isalpha() and first.isascii() and not tail.startswith(("?", "*", "+", "{")):
            groups.setdefault(first.lower(), []).append(tail)
        else:
            rest.append(alternative)
    parts = [f"{letter}(?:{'|'.join(tails)})" for letter, tails in sorted(groups.items())]
    return "|".join(parts + rest)


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(_W + "(?:" + _factored(alternatives) + ")" + _E)


_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few)"
_UNIT = r"(?:min(?:ute)?s?|hours?|hrs?|days?|weeks?|wks?|months?)"
_DAY = (r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last\s+\w+|"
        r"january|february|march|april|may|june|july|august|september|october|november|"
        r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)")

CUES: tuple[Cue, ...] = (
    Cue("addressed", "addressed to the brand", re.compile(r"(?:^|\s)@[A-Za-z0-9_.]{2,}"),
        on_original=True),
    Cue("second_person", "speaks to the brand", _words(r"you", r"your", r"you're", r"youre",
                                                       r"ur", r"u", r"y'all", r"yall")),
    Cue("first_person", "about the writer's own experience",
        _words(r"i", r"my", r"me", r"i'm", r"im", r"i've", r"ive", r"we", r"our", r"us",
               r"mine")),
    Cue("failure", "service failure", _words(
        r"broken", r"broke", r"crash(?:es|ed|ing)?", r"(?:is|are|went|been|was)\s+down",
        r"outages?", r"not\s+working", r"(?:does|do|did)\s*(?:n't|nt|\s+not)\s+work",
        r"stopped\s+working", r"won'?t\s+(?:load|open|work|let|start|connect|turn)",
        r"(?:can'?t|cannot|unable\s+to|couldn'?t)\s+(?:log|sign|access|connect|login|get|use|"
        r"pay|find|reach|book|order|open|load|cancel|download|update|see)",
        r"errors?", r"fail(?:s|ed|ing|ure)?", r"stuck", r"lost", r"missing", r"cancell?ed",
        r"declined", r"delay(?:s|ed)?", r"late", r"wrong", r"damaged", r"defective", r"faulty",
        r"glitch(?:es|y)?", r"bugs?", r"buggy", r"freez(?:e|es|ing)", r"frozen",
        r"no\s+(?:signal|service|internet|wifi|wi-fi|connection|power|water|heat|hot\s+water)",
        r"dropp(?:ed|ing)", r"disconnect(?:s|ed|ing)?",
        r"\w+n'?t\s+(?:yet\s+)?(?:arrived|received|delivered|fixed|resolved|refunded|"
        r"working|work|arrive|come|load|open|show)", r"never\s+(?:arrived|received|came|"
        r"showed|got|delivered|heard)", r"(?:not|n't|nt)\s+(?:yet\s+)?(?:arrived|received|"
        r"delivered|fixed|resolved|refunded|working)", r"charged\s+(?:me\s+|us\s+)?twice",
        r"overcharg\w*",
        r"double[-\s]charged?", r"hacked", r"locked\s+out", r"scam(?:med)?", r"ripp?ed\s+off",
        r"rude", r"ignor(?:es|ed|ing)", r"unanswered", r"no\s+(?:response|reply|answer|one)",
        r"hung\s+up", r"out\s+of\s+stock", r"sold\s+out", r"expired", r"unusable",
        r"useless", r"terrible", r"awful", r"horrible", r"worst", r"unacceptable",
        r"disgrace(?:ful)?", r"ridiculous", r"pathetic", r"incompetent", r"joke",
        r"nightmare", r"disappoint(?:ed|ing|ment)?", r"frustrat(?:ed|ing)", r"fed\s+up",
        r"sick\s+of", r"tired\s+of", r"annoy(?:ed|ing)", r"laggy", r"slow(?:er)?",
        r"unreachable", r"unresponsive", r"overbooked", r"cold", r"stale", r"raw",
        r"dirty", r"leak(?:s|ed|ing)?", r"spam(?:med|ming)?", r"cracked", r"smashed",
        r"torn", r"spilt", r"spilled", r"mouldy", r"moldy", r"throttl(?:ed|ing)",
        r"yell(?:ed|ing)", r"shout(?:ed|ing)\s+at", r"nothing\s+(?:loads|works|happens|"
        r"happened|changed|arrived)", r"never\s+happened", r"no\s+(?:warning|notice|update|"
        r"updates|explanation|refund|show)", r"zero\s+(?:replies|response|responses|help|"
        r"bars|signal|updates)", r"not\s+covered", r"fixed\s+nothing", r"(?:has|have)\s*(?:n't|nt|"
        r"\s+not)\s+(?:heard|had)\s+back", r"(?:does|do|did|will|would|wo|can|could)\s*(?:n't|nt|"
        r"\s+not)\s+(?:connect|sync|respond|reply|deliver|refund|charge|install|update|"
        r"load|open|arrive|show|turn\s+up)")),
    Cue("elapsed", "elapsed time or repetition", _words(
        r"still", r"again", r"yet", r"anymore", r"any\s+more", r"waiting", r"waited",
        r"on\s+hold", r"every\s+time", r"each\s+time", r"keeps?\s+\w+ing", r"how\s+long",
        r"since\s+" + _DAY, r"since\s+\d\S*",
        r"for\s+(?:over\s+|almost\s+|nearly\s+)?" + _NUM + r"\s+" + _UNIT,
        r"\d+\s*" + _UNIT, r"\d+(?:st|nd|rd|th)\s+times?",
        r"second\s+times?", r"third\s+times?", r"fourth\s+times?", r"fifth\s+times?",
        r"multiple\s+times", r"several\s+times", r"numerous\s+times", r"over\s+and\s+over",
        r"\d+(?:st|nd|rd|th)\s+(?:attempt|call|email|visit|day|week|chat)",
        r"(?:two|three|four|five|\d+)\s+times(?:\s+now)?", r"yet\s+another",
        r"every\s+(?:single\s+)?(?:day|week|month|morning|night|evening)", r"as\s+always")),
    Cue("question", "a question", re.compile(
        r"\?|" + _W + "(?:" + _factored((r"why", r"when\s+will", r"any\s+update",
                                        r"what'?s\s+going\s+on", r"what\s+is\s+going\s+on",
                                        r"what\s+happened")) + ")" + _E)),
    Cue("demand", "a demand", _words(
        r"please\s+(?:fix|help|refund|respond|reply|sort|look|check|send|explain|call|dm|"
        r"contact|cancel|stop|get|do|let|tell|answer|resolve)", r"kindly", r"fix\s+(?:it|this|"
        r"your|the)", r"refund\s+me", r"(?:want|need|demand|expect)\s+(?:my\s+money|a\s+refund|"
        r"an\s+answer|an\s+explanation|someone|help|this|it|compensation|a\s+call)",
        r"sort\s+(?:it|this)\s+out", r"give\s+me", r"dm\s+me", r"do\s+something",
        r"get\s+back\s+to\s+me", r"step\s+up", r"make\s+it\s+right", r"compensat\w+")),
    Cue("money", "money", re.compile(
        _W + "(?:" + _factored((r"refund\w*", r"charg(?:e|ed|es|ing)", r"bill(?:ed|ing|s)?",
                                r"fees?", r"money", r"paid", r"pay(?:ing|ment)?", r"invoice",
                                r"overcharg\w*", r"compensation", r"credit\s+card",
                                r"deposit", r"price")) + ")" + _E + r"|[$£€]\s?\d[\d.,]*")),
    Cue("negative_hashtag", "complaint hashtag", re.compile(
        r"#\w*(?:fail|worst|never\s*again|neveragain|disappointed|badservice|boycott|scam|"
        r"fixit|sucks|unacceptable|ripoff|shame)\w*")),
    Cue("sarcasm", "sarcasm", _words(
        r"thanks\s+for\s+nothing", r"(?:oh\s+)?great\s*,?\s+(?:another|just|now|so)",
        r"just\s+(?:great|perfect|wonderful|brilliant|lovely)", r"love\s+(?:waiting|paying|"
        r"being|how|that|when)", r"yay", r"so\s+much\s+for", r"thanks\s+a\s+lot",
        r"well\s+done\s*,", r"nice\s+one", r"what\s+a\s+joke", r"real\s+(?:nice|smooth)",
        r"(?:awesome|fantastic|brilliant|great|perfect)\s+(?:job|service|work)\s*,?\s*(?:not|"
        r"/s)")),
    Cue("negated_failure", "says nothing is wrong", _words(
        r"no\s+(?:problems?|issues?|complaints?|trouble)", r"never\s+had\s+(?:a|an|any)\s+\w+",
        r"can'?t\s+complain", r"cannot\s+complain", r"nothing\s+wrong",
        r"works?\s+(?:great|perfectly|fine|well|flawlessly)", r"without\s+(?:a|any)\s+"
        r"(?:problem|issue|hitch|hiccup)", r"not\s+(?:one|a\s+single)\s+(?:crash|issue|problem|"
        r"drop|glitch|complaint|hiccup|delay)", r"(?:has|have)\s*(?:n't|nt|\s+not)\s+(?:dropped|"
        r"crashed|failed|missed|broken)\s+(?:once|since)", r"all\s+(?:good|sorted|fixed|resolved)",
        r"(?:issue|problem|it|everything)(?:'s|\s+is|\s+was|\s+got|\s+has\s+been)\s+(?:now\s+)?"
        r"(?:fixed|sorted|resolved)", r"turned\s+up", r"didn'?t\s+expect\s+that",
        r"back\s+(?:up\s+)?(?:and\s+)?(?:running|working)")),
    Cue("praise", "praise", _words(
        r"thanks?", r"thank\s+you", r"thx", r"ty", r"love", r"loving", r"loved", r"great",
        r"amazing", r"awesome", r"excellent", r"best", r"perfect", r"appreciate\w*",
        r"kudos", r"shout\s*out", r"well\s+done", r"happy", r"brilliant", r"fantastic",
        r"wonderful", r"impressed", r"recommend", r"helpful", r"quick", r"fast", r"smooth",
        r"lovely", r"delicious", r"beautiful", r"favou?rite", r"congrat\w*")),
    Cue("news", "reads like news", _words(
        r"shares", r"stocks?", r"revenue", r"earnings", r"quarter(?:ly)?", r"ceo", r"cfo",
        r"announce[sd]?", r"announcement", r"reports?", r"reported", r"according\s+to",
        r"acquires?", r"acquired", r"acquisition", r"launch(?:es|ed)", r"partnership",
        r"lawsuit", r"sued", r"layoffs?", r"ipo", r"analysts?", r"breaking", r"investors?",
        r"market", r"percent", r"regulators?", r"fined", r"merger", r"headquarters",
        r"spokes(?:person|man|woman)", r"press\s+release", r"unveil(?:s|ed)?")),
    Cue("promo", "reads like an advert", re.compile(
        r"\d+\s?%\s?off|#ad" + _E + "|" + _W + "(?:" + _factored((
            r"sale", r"discount", r"promo(?:tion)?", r"coupon", r"giveaway", r"win\s+a",
            r"enter\s+to\s+win", r"sponsored", r"limited\s+time", r"free\s+shipping",
            r"use\s+code", r"link\s+in\s+bio", r"check\s+out\s+our", r"shop\s+now",
            r"order\s+now", r"new\s+menu", r"now\s+available", r"available\s+now",
            r"pre-?order")) + ")" + _E)),
    Cue("info_question", "a neutral question", _words(
        r"what\s+time", r"do\s+you\s+(?:have|sell|ship|offer|deliver|open|take|accept|do|"
        r"know|plan)", r"does\s+(?:it|the|this|your)", r"is\s+it\s+possible",
        r"can\s+i\s+(?:use|get|buy|order|bring|pay|book|change|upgrade)", r"are\s+you\s+open",
        r"where\s+can\s+i", r"how\s+do\s+i", r"will\s+there\s+be", r"any\s+plans",
        r"is\s+there\s+(?:a|an|any)", r"which\s+(?:plan|one)", r"when\s+(?:does|do|is)\s+the")),
    Cue("care_reply", "reads like a customer-care reply", _words(
        r"we'?re\s+(?:so\s+|really\s+|very\s+)?sorry", r"sorry\s+to\s+hear",
        r"(?:we\s+)?apologi[sz]e\s+for", r"dm\s+us", r"send\s+us\s+(?:a\s+)?(?:dm|message|"
        r"your|the)", r"(?:please\s+)?(?:follow|message)\s+us", r"we(?:'ve|\s+have)\s+(?:issued|"
        r"passed|raised|escalated|followed|refunded|sent|replied|credited)",
        r"we(?:'ll|\s+will)\s+(?:look|chase|check|get|be|pass|make|follow)", r"our\s+team",
        r"happy\s+to\s+help", r"thanks\s+for\s+(?:reaching\s+out|your\s+patience|letting\s+us)",
        r"let\s+us\s+know")),
    Cue("suggestion", "a suggestion", _words(
        r"idea(?:\s+for)?", r"(?:would|it'?d)\s+be\s+(?:nice|great|cool|awesome|amazing|good)",
        r"please\s+add", r"you\s+(?:should|could)\s+(?:add|make|bring|offer|let|do)",
        r"feature\s+request", r"wish\s+(?:you|there|it|the)", r"just\s+a\s+thought",
        r"how\s+about", r"suggestion", r"would\s+love\s+(?:a|an|to\s+see|if)")),
    Cue("quoted", "quotes the brand back", re.compile(
        r"(?:^|[\s(])['\"\u2018\u201c]\w[^'\"\u2019\u201d\n]{2,60}['\"\u2019\u201d](?=[\s.,!?:;)]|$)"),
        on_original=True),
    Cue("url", "links elsewhere", re.compile(r"https?://")),
    Cue("caps", "shouting", re.compile(r"(?<![@#\w])[A-Z]{4,}(?!\w)"), on_original=True),
    Cue("negative", "negative sentiment", None),
    Cue("positive", "positive sentiment", None),
    Cue("length", "length", None),
)


# Words too frequent to index a cue by (sentiment/prefilter.py) when its alternative holds
# a rarer one; any choice gives the same results, only the speed differs.
_COMMON = frozenset(
    "the and to is my for you not it of in this with was are have has your me i on that "
    "but be at can just so why what when still again they we our will would there their "
    "been were from by an or if about out up do did does get got how all any no now "
    "please thanks thank today very really never always a as one over each every time "
    "back right let look know could should being done much lot love great nice good well "
    "where which help".split())

# Necessary conditions written by hand for the cues whose regex says nothing usable: a run
# of four capitals for "caps" (a regex led by a character set is a fast scan).
_GATES = {"caps": re.compile("[A-Z][A-Z][A-Z][A-Z]")}
# For ASCII text as bytes: word characters ([\w']) kept, anything else a space (_words()).
_ASCII_WORD_CHARS = bytes(c if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "_'")
                          else 32 for c in range(256))

# Per word: the cues it can fire (bits), each with the words one of which must also be in
# the text (None: no other word is needed).
_Entry = tuple[int, frozenset[bytes] | None]


def _rarest(words: frozenset[str]) -> str:
    return min(words, key=lambda w: (w in _COMMON, -len(w), w))


def _plan() -> tuple[tuple[tuple[Cue, int], ...], int, dict[bytes, tuple[_Entry, ...]],
                     tuple[tuple[str, int], ...], tuple[tuple[str, int], ...],
                     tuple[tuple[re.Pattern[str], int], ...]]:
    """For extract(): the cues with a regex and each one's bit; the bits of the cues searched
    on every text; the cues each word can fire; the substrings that can fire a cue, in the
    lower-cased and in the original text; the gates."""
    searched = tuple((cue, 1 << i) for i, cue in enumerate(c for c in CUES if c.pattern))
    always = 0
    needs: dict[str, dict[int, set[str | None]]] = {}
    on_lower: list[tuple[str, int]] = []
    on_original: list[tuple[str, int]] = []
    gates: list[tuple[re.Pattern[str], int]] = []
    for cue, bit in searched:
        found = triggers(cue.pattern, words=not cue.on_original)  # type: ignore[arg-type]
        if found is None:
            if cue.name in _GATES:
                gates.append((_GATES[cue.name], bit))
            else:
                always |= bit
            continue
        for words in found.word_sets:
            # All of an alternative's words must be in a text it matches: two of them, the
            # rarest, are checked.
            key = _rarest(words)
            other = _rarest(words - {key}) if len(words) > 1 else None
            needs.setdefault(key, {}).setdefault(bit, set()).add(other)
        (on_original if cue.on_original else on_lower).extend(
            (s, bit) for s in sorted(found.substrings))
    index = {
        word.encode(): tuple(
            (bit, None if None in others else frozenset(o.encode() for o in others if o))
            for bit, others in sorted(cues.items()))
        for word, cues in needs.items()}
    return searched, always, index, tuple(on_lower), tuple(on_original), tuple(gates)


_SEARCHED, _ALWAYS, _BY_WORD, _ON_LOWER, _ON_ORIGINAL, _GATED = _plan()
_KEYS = frozenset(_BY_WORD)


def _words(lower: str) -> set[bytes]:
    r"""The words of `lower` (_WORD's runs of [\w']), as UTF-8 bytes. ASCII text is split by
    bytes.translate (a third of the regex's time)."""
    if lower.isascii():
        return set(lower.encode().translate(_ASCII_WORD_CHARS).split())
    return {w.encode() for w in _WORD.findall(lower)}


def _candidates(text: str, lower: str) -> int:
    """The bits of the cues that can fire on `text`: the others cannot match it."""
    bits = _ALWAYS
    words = _words(lower)
    for word in words & _KEYS:
        for bit, others in _BY_WORD[word]:
            if not bits & bit and (others is None or not others.isdisjoint(words)):
                bits |= bit
    for substring, bit in _ON_LOWER:
        if not bits & bit and substring in lower:
            bits |= bit
    for substring, bit in _ON_ORIGINAL:
        if not bits & bit and substring in text:
            bits |= bit
    for gate, bit in _GATED:
        if gate.search(text):
            bits |= bit
    return bits


# Per cue bit: the cue's name, regex, and whether it reads the original text.
_BY_BIT = {bit: (cue.name, cue.pattern, cue.on_original) for cue, bit in _SEARCHED}
_LOG_51 = math.log1p(50)


def hits(text: str, compound: float | None) -> list[tuple[str, float, str]]:
    """extract() as (name, value, evidence) tuples, for the complaint model's hot path."""
    found = []
    lower = straight_apostrophes(text.lower())
    candidates = _candidates(text, lower)
    while candidates:  # the candidates' bits, lowest (first in CUES) first
        bit = candidates & -candidates
        candidates ^= bit
        name, pattern, on_original = _BY_BIT[bit]
        match = pattern.search(text if on_original else lower)  # type: ignore[union-attr]
        if match:
            found.append((name, 1.0, " ".join(match.group(0).split())))
    if compound is not None and compound < 0:
        found.append(("negative", -compound, f"{compound:+.2f}"))
    if compound is not None and compound > 0:
        found.append(("positive", compound, f"{compound:+.2f}"))
    words = len(text.split())
    if words:
        found.append(("length", math.log1p(words) / _LOG_51, f"{words} words"))
    return found


def extract(text: str, compound: float | None) -> list[CueHit]:
    """Every cue that fires on `text`, with its value (1.0 for a present cue)."""
    return [CueHit(*hit) for hit in hits(text, compound)]
