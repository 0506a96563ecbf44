"""Star ratings as a signal: low stars make a complaint whatever the words say, high stars
with angry words are flagged for a look (no ticket), and a review's reach is its listing's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import make_settings
from connectors.base import Author, Engagement, FetchResult, Mention, SourceState
from earful.cycle import SourceOutcome, store_outcome
from earful.settings import ConfigError
from sentiment.complaint import Complaint
from sentiment.vader import Sentiment, score
from sql.store import Store
from triage.pipeline import Pipeline
from triage.ratings import MIXED_SIGNALS, apply_rating
from triage.reach import estimate_reach

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POSITIVE = Sentiment(0.8, 0.6, 0.4, 0.0, "positive")
NEGATIVE = Sentiment(-0.7, 0.0, 0.4, 0.6, "negative")


def review(external_id: str, text: str, rating: float, listing: int | None = 2_000,
           helpful: int | None = None) -> Mention:
    return Mention(source="appstore", external_id=external_id, url=None, title=None,
                   text=text, published_at=NOW, author=Author(name="Pat"),
                   engagement=Engagement(likes=helpful), rating=rating,
                   listing_ratings=listing)


def test_one_star_is_a_complaint_whatever_the_words_say():
    text = "great app, but it crashes every time"
    sentiment = score(text)
    complaint, flag = apply_rating(1, sentiment, Complaint(0.3, False, ("x",)), -0.05)
    assert complaint is not None and complaint.is_complaint and complaint.probability >= 0.9
    assert complaint.reasons[0] == "rated 1★" and flag is None
    two, _ = apply_rating(2, POSITIVE, Complaint(0.1, False, ()), -0.05)
    assert two is not None and two.is_complaint and 0.5 < two.probability < 0.9
    # No score at all (a language VADER cannot read): the stars still speak.
    unscored, _ = apply_rating(1, Sentiment(None, None, None, None, "unknown"), None, -0.05)
    assert unscored is not None and unscored.is_complaint


def test_high_stars_with_negative_words_are_flagged_not_ticketed():
    complaint, flag = apply_rating(5, NEGATIVE, Complaint(0.8, True, ("service failure",)),
                                   -0.05)
    assert flag == MIXED_SIGNALS
    assert complaint is not None and not complaint.is_complaint
    assert complaint.reasons[0] == "rated 5★"
    calm, calm_flag = apply_rating(5, POSITIVE, Complaint(0.1, False, ()), -0.05)
    assert calm_flag is None and calm is not None and not calm.is_complaint
    middle = Complaint(0.6, True, ())
    assert apply_rating(3, NEGATIVE, middle, -0.05) == (middle, None)
    assert apply_rating(None, NEGATIVE, middle, -0.05) == (middle, None)


def test_review_reach_is_the_listing_audience_with_its_method():
    reach = estimate_reach(review("r1", "meh", 3, listing=2_000, helpful=4))
    assert (reach.low, reach.expected, reach.high) == (4_100, 20_100, 100_100)
    assert reach.method == "listing ratings × 10 + helpful votes × 25"
    votes_only = estimate_reach(review("r2", "meh", 3, listing=None, helpful=8))
    assert votes_only.expected == 200 and votes_only.method == "helpful votes × 25"
    assert estimate_reach(review("r3", "meh", 3, listing=None)).method == "unknown"


def test_a_one_star_review_opens_a_ticket_and_a_five_star_rant_does_not(tmp_path):
    settings = make_settings(tmp_path, [{"name": "acme-ios", "kind": "rss",
                                         "url": "https://feeds.test/x", "about": "Acme"}])
    source = settings.sources[0]
    store, pipeline = Store(settings.db_path), Pipeline(settings)
    mentions = [
        # Neither names the brand: the source is about Acme's own app.
        review("1", "Love the design, but it crashes every time I open my cart", 1),
        review("2", "This update is terrible, everything is slow and broken!!", 5),
        review("3", "Fine, does what it says", 4, listing=10),
    ]
    outcome = SourceOutcome("acme-ios", "ok", SourceState("acme-ios"),
                            FetchResult(mentions=mentions, state=SourceState("acme-ios")))
    report = store_outcome(store, pipeline, source, outcome, run_id="r1", now=NOW)
    assert report.new == 3 and report.tickets == 1
    with store.connect() as con:
        (reason,) = con.execute("SELECT reason FROM tickets").fetchone()
        rows = con.execute(
            "SELECT text, brand, rating, review_flag, is_complaint, reach_method, "
            "listing_ratings FROM mention_feed ORDER BY rating").fetchall()
    assert "rated 1★" in reason and "listing ratings × 10" in reason
    one, four, five = rows
    assert one[1:5] == ("Acme", 1.0, None, True) and one[6] == 2_000
    assert four[3] is None
    assert five[2:5] == (5.0, MIXED_SIGNALS, False)


def test_about_must_name_a_configured_brand(tmp_path):
    with pytest.raises(ConfigError, match=r"about.*unknown brand 'Initech'"):
        make_settings(tmp_path, [{"name": "s", "kind": "rss", "url": "https://x.test/f",
                                  "about": "Initech"}])
