from __future__ import annotations

import random

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.fastvader import FastSentimentIntensityAnalyzer
from sentiment.vader import (
    MAX_SCORED_CHARS,
    NEGATIVE_THRESHOLD,
    POSITIVE_THRESHOLD,
    label_for,
    score,
)


def test_label_convention():
    assert POSITIVE_THRESHOLD == 0.05 and NEGATIVE_THRESHOLD == -0.05
    assert label_for(0.05) == "positive"
    assert label_for(0.0499) == "neutral"
    assert label_for(-0.05) == "negative"


def test_scores_feel_right():
    assert score("I love this, the support team was wonderful!").label == "positive"
    assert score("Worst service ever. I want a refund, this is a disgrace.").label == "negative"
    assert score("The store opens at nine.").label == "neutral"


def test_long_text_is_cut_before_scoring():
    text = "great " * 10 + "terrible " * 5000
    assert score(text).compound == score(text[:MAX_SCORED_CHARS]).compound


_WORDS = (
    "the service was terrible great love hate my order still has not arrived refund please "
    "broken app crashes every time amazing fast delivery thanks waiting three days support "
    "never answered good bad okay fine not happy NEVER so this without doubt kind of sort of "
    "no isn't wasn't LOVE least at very but :) :( 😡 👍 !!! ?? nor or really extremely "
    # VADER's idioms and multi-word boosters (the fast path must step aside for them)
    "shit bomb ass badass bus stop yeah right kiss death to die for beating heart just enough"
).split()


def test_fast_analyzer_matches_stock_vader_exactly():
    stock = SentimentIntensityAnalyzer()
    rng = random.Random(7)
    texts = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 30)))
             for _ in range(3000)]
    texts += ["never so good", "without doubt great", "kind of bad", "the least bad",
              "at least good", "no good", "not bad at all", "I DO NOT LOVE it"]
    fast = FastSentimentIntensityAnalyzer()  # without earful's lexicon additions
    mismatches = [t for t in texts if fast.polarity_scores(t) != stock.polarity_scores(t)]
    assert mismatches == []
    assert [fast.compound(t) for t in texts] == [
        stock.polarity_scores(t)["compound"] for t in texts]


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "!!!"])
def test_degenerate_texts_do_not_fail(text):
    assert -1.0 <= score(text).compound <= 1.0


@pytest.mark.parametrize(("text", "expected"), [
    ("kindly refund me, I was charged twice", "negative"),  # polite demand, not praise
    ("please fix this", "neutral"),
    ("my order never arrived", "negative"),
    ("still waiting for my refund", "negative"),
    ("not working again #fail", "negative"),  # VADER alone: +0.43
    ("no problems at all with my delivery", "positive"),
    ("no issues with my delivery", "positive"),  # VADER alone: -0.30
    ("😡😡 @acme", "negative"),
    ("thanks for nothing @acme", "negative"),
    ("The app works and I love it", "positive"),
])
def test_customer_lexicon_fixes_known_vader_misreadings(text, expected):
    assert score(text).label == expected


def test_lexicon_entries_all_have_a_reason():
    from importlib import resources

    text = resources.files("sentiment").joinpath("lexicon", "customer-v1.tsv").read_text()
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    assert rows and all(len(row) == 4 and row[3].strip() for row in rows)


def test_non_english_gets_unknown_sentiment():
    from sentiment.language import detect_language

    text = "Mi pedido no ha llegado todavía y nadie responde, qué vergüenza"
    lang = detect_language(text)
    assert lang == "es"
    result = score(text, lang)
    assert result.label == "unknown" and result.compound is None
    assert detect_language("@acme help!!") is None  # too short to tell: not a guess
    assert detect_language("anything", hint="fr") == "fr"


@pytest.mark.parametrize("apostrophe", ["\u2019", "\u2018", "\u02bc", "\u00b4"])
def test_any_apostrophe_reads_as_one(apostrophe):
    """Phones type "don't" with a curly apostrophe: the negation, the cues and the language
    must read it as the straight one (it flipped "I don't like it" to positive)."""
    from sentiment.complaint import score_complaint
    from sentiment.language import detect_language

    for straight in ["I don't like it at all", "@acme I can't log in again, 3rd time today",
                     "it isn't working and I've waited 2 hours", "won't load, doesn't work"]:
        typed = straight.replace("'", apostrophe)
        assert score(typed) == score(straight)
        assert score_complaint(typed, score(typed).compound) == score_complaint(
            straight, score(straight).compound)
        assert detect_language(typed) == detect_language(straight) == "en"
    assert score("I don\u2019t like it").label == "negative"


def test_emoji_and_typographic_punctuation_do_not_hide_english():
    from sentiment.language import detect_language

    assert detect_language("Love it \U0001f44d\U0001f3fd \u2013 really the best\u2026") == "en"
    assert detect_language("Why is my order still not here? \U0001f621\U0001f621") == "en"
    assert detect_language("Mi pedido no ha llegado todavía y nadie responde \U0001f621") == "es"


def _cue_texts(count: int, seed: int) -> list[str]:
    """Texts built from what the cue regexes match, with the boundaries, case and spacing
    varied, and words and punctuation around: a prefilter that wrongly skipped a cue shows."""
    from sentiment.cues import CUES
    from sentiment.prefilter import _expand, _p

    rng = random.Random(seed)
    fill = {"\x01": [" ", "  ", "\t", "\n "], "\x02": [""], "\x03": ["", "9", "x", "12 ", " "]}
    phrases = []
    for cue in CUES:
        if cue.pattern is not None:
            expansions = sorted(_expand(_p.parse(cue.pattern.pattern)))
            for expansion in rng.sample(expansions, min(150, len(expansions))):
                phrases.append("".join(rng.choice(fill[c]) if c in fill else c
                                       for c in expansion))
    quotes = "\u2018\u2019\u201c\u201d"  # curly quotes
    around = [*_WORDS, *".,!?;:()[]\"#@*'/-_$%£€", *quotes, "http://x.co", "@acme", "#fail",
              "ALL CAPS", "I'M", "3 hours", "$40", "20% off", "é", "İ"]
    texts = []
    for _ in range(count):
        parts = [rng.choice(phrases) if rng.random() < 0.4 else rng.choice(around)
                 for _ in range(rng.randint(1, 12))]
        parts = [p.upper() if rng.random() < 0.1 else p for p in parts]
        texts.append("".join(p + rng.choice([" ", "", ", ", "/", "\n"]) for p in parts))
    return texts


def test_cue_prefilter_skips_only_regexes_that_cannot_match():
    from sentiment.cues import CUES, CueHit, extract
    from sentiment.words import straight_apostrophes

    def every_regex(text: str) -> list[CueHit]:  # extract() without the prefilter
        lower = straight_apostrophes(text.lower())
        return [CueHit(cue.name, 1.0, " ".join(match.group(0).split())) for cue in CUES
                if cue.pattern is not None
                and (match := cue.pattern.search(text if cue.on_original else lower))]

    texts = _cue_texts(4_000, seed=11)
    fired = {hit.name for text in texts for hit in every_regex(text)}
    assert fired == {cue.name for cue in CUES if cue.pattern is not None}
    mismatches = [t for t in texts
                  if [h for h in extract(t, None) if h.name != "length"] != every_regex(t)]
    assert mismatches == []


def test_lexicon_rewrite_of_ascii_text_drops_only_phrases_that_cannot_match():
    """ASCII text is searched only for the phrases whose every word it holds; the answer
    is the same as searching for every phrase whose first word is one of its words."""
    from importlib import resources

    from sentiment.lexicon import _alternation, _parse, load_lexicon
    from sentiment.words import word_set

    _, replacements = _parse(resources.files("sentiment").joinpath(
        "lexicon", "customer-v1.tsv").read_text("utf-8"))
    phrases = sorted(e for e in replacements if e[0].isalnum())

    def reference(text: str) -> str:
        def replace(match):
            token = replacements[" ".join(match.group(0).lower().split())]
            return f" {token.upper() if match.group(0).isupper() else token} "
        firsts = word_set(text)
        candidates = [p for p in phrases if p.split()[0] in firsts]
        return _alternation(candidates).sub(replace, text) if candidates else text

    rng = random.Random(5)
    words = [w for p in phrases for w in p.split()] + _WORDS[:40]
    texts = []
    for _ in range(3_000):
        parts = [rng.choice(phrases if rng.random() < 0.3 else words)
                 for _ in range(rng.randint(1, 10))]
        parts = [p.upper() if rng.random() < 0.15 else p for p in parts]
        texts.append("".join(p + rng.choice([" ", "  ", "/", ", ", "-", "\t", "'s "])
                             for p in parts))
    texts = [t for t in texts if t.isascii()]
    rewrite = load_lexicon().rewrite
    assert [rewrite(t) for t in texts] == [reference(t) for t in texts]
    assert sum(rewrite(t) != t for t in texts) > 1_000  # phrases were found and replaced


def test_sparse_language_classifier_agrees_with_py3langid():
    from sentiment.language import MIN_CONFIDENCE, _classify, _identifier

    samples = [
        "Mi pedido no ha llegado todavía y nadie responde, qué vergüenza",
        "Ma commande n'est toujours pas arrivée et personne ne répond",
        "Meine Bestellung ist immer noch nicht angekommen und niemand antwortet",
        "Il mio ordine non è ancora arrivato e nessuno risponde",
        "O meu pedido ainda não chegou e ninguém responde",
        "Mijn bestelling is nog steeds niet aangekomen en niemand reageert",
        "Min beställning har fortfarande inte kommit och ingen svarar",
        "Zamówienie nadal nie dotarło i nikt nie odpowiada",
        "Мой заказ до сих пор не пришел и никто не отвечает",
        "注文した商品がまだ届きません。サポートに連絡しても返事がない",
        "@acme help!! ok", "lol ok thx", "Acme app crash again #fail 😡",
        "the order still has not arrived", "grazie mille, tutto perfetto",
    ]
    rng = random.Random(3)
    words = " ".join(samples).split()
    samples += [" ".join(rng.choice(words) for _ in range(rng.randint(2, 25)))
                for _ in range(400)]
    model = _identifier()
    for text in samples:
        lang, confidence = model.classify(text)
        ours, our_confidence = _classify(text)
        assert (ours if our_confidence >= MIN_CONFIDENCE else None) == (
            lang if confidence >= MIN_CONFIDENCE else None), text
