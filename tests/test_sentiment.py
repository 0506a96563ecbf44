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
    "no isn't wasn't LOVE least at very but :) :( 😡 👍 !!! ?? nor or really extremely"
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
