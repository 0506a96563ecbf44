"""Star ratings as a signal. A review's stars say what the customer felt more reliably than
any reading of its words: "great app, but it crashes every time" with one star is a
complaint. Stars and words that disagree the other way (five stars, angry text) are more
often sarcasm, a mis-tap or a complaint about something else: a person should look, but no
ticket opens on its own."""

from __future__ import annotations

from sentiment.complaint import Complaint
from sentiment.vader import Sentiment

__all__ = ["HIGH_RATING", "LOW_RATING", "MIXED_SIGNALS", "apply_rating"]

# 1-2 stars: a complaint candidate whatever the text says.
LOW_RATING = 2.0
# 4-5 stars: satisfied, whatever the text says; negative words only flag it for a look.
HIGH_RATING = 4.0
# The complaint likelihood a low rating guarantees: one star is as clear as customers get;
# two stars is dissatisfied but often mixed ("good idea, poor app").
_RATING_FLOOR = {1: 0.9, 2: 0.7}
MIXED_SIGNALS = "high rating, negative text"


def _stars(rating: float) -> str:
    return f"rated {rating:g}★"


def apply_rating(
    rating: float | None, sentiment: Sentiment, complaint: Complaint | None,
    negative_threshold: float,
) -> tuple[Complaint | None, str | None]:
    """The complaint score after the stars are taken into account, and the review flag.
    Without a rating both come back unchanged (and no flag)."""
    if rating is None:
        return complaint, None
    if rating <= LOW_RATING:
        floor = _RATING_FLOOR[1] if rating < 1.5 else _RATING_FLOOR[2]
        probability = max(floor, complaint.probability if complaint else 0.0)
        reasons = (_stars(rating), *(complaint.reasons if complaint else ()))
        return Complaint(round(probability, 4), True, reasons), None
    negative_text = (sentiment.compound is not None
                     and sentiment.compound <= negative_threshold) or bool(
                         complaint and complaint.is_complaint)
    if rating >= HIGH_RATING and negative_text:
        kept = complaint.reasons if complaint else ()
        muted = Complaint(complaint.probability, False, (_stars(rating), *kept)) \
            if complaint else None
        return muted, MIXED_SIGNALS
    return complaint, None
