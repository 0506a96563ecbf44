from __future__ import annotations

import pytest

from connectors.base import Author
from earful.settings import BrandConfig
from triage.brands import BrandMatcher

MATCHER = BrandMatcher([
    BrandConfig(name="Acme", terms=["Acme"], aliases=["Acme Cloud", "#acme"],
                exclude=["acme of skill"], handles=["@acme", "acme.bsky.social"]),
    BrandConfig(name="Café Noël", terms=["Café Noël"]),
])


def names(text: str) -> list[str]:
    return [m.brand for m in MATCHER.match(text)]


@pytest.mark.parametrize("text", [
    "I love Acme", "ACME is down again", "acme, why?", "Thanks @acme!", "#acme fail",
    "(Acme) rockets", "Acme's support", "the acme\ncloud console",
])
def test_terms_match_on_word_boundaries_in_any_case(text):
    assert names(text) == ["Acme"]


@pytest.mark.parametrize("text", [
    "Acmeville is lovely", "subacme things", "mail me at bob@acmex.com", "acme_corp", "",
])
def test_no_match_inside_other_words(text):
    assert names(text) == []


def test_accents_are_folded_both_ways():
    assert names("Coffee at cafe noel today") == ["Café Noël"]
    assert names("CAFÉ NOËL again") == ["Café Noël"]


@pytest.mark.parametrize("apostrophe", ["'", "\u2019", "\u2018", "\u02bc", "\u00b4"])
def test_a_term_with_an_apostrophe_matches_however_it_is_typed(apostrophe):
    matcher = BrandMatcher([BrandConfig(name="McDonald's", terms=["McDonald's"])])
    assert [m.brand for m in matcher.match(f"McDonald{apostrophe}s fries were cold")] == [
        "McDonald's"]
    curly = BrandMatcher([BrandConfig(name="Domino's", terms=["Domino\u2019s"])])
    assert [m.brand for m in curly.match("domino's pizza never arrived")] == ["Domino's"]


def test_exclusions_win_over_terms():
    assert names("He reached the acme of skill") == []
    assert names("Acme rockets reached the ACME OF SKILL") == []


def test_matched_terms_are_reported():
    (match,) = MATCHER.match("Acme Cloud is down, acme please fix")
    assert set(match.terms) == {"acme cloud", "acme"}


def test_several_brands_in_one_mention():
    assert names("Acme beats Café Noël") == ["Acme", "Café Noël"]


def test_restricting_brands_per_source():
    assert [m.brand for m in MATCHER.match("Acme and Café Noël", only=["Café Noël"])] == \
        ["Café Noël"]


def test_own_accounts_are_recognised():
    assert MATCHER.own_brand(Author(handle="@Acme")) == "Acme"
    assert MATCHER.own_brand(Author(handle="acme.bsky.social")) == "Acme"
    assert MATCHER.own_brand(Author(handle="@acme_fan")) is None
    assert MATCHER.own_brand(Author()) is None
