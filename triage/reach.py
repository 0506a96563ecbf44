"""How many people a mention may reach: a low / expected / high estimate and the method that
produced it, stored with the mention so a reviewer can judge the number."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import Mention

__all__ = ["Reach", "estimate_reach"]


@dataclass(frozen=True, slots=True)
class Reach:
    low: int
    expected: int
    high: int
    method: str


def estimate_reach(mention: Mention, *, source_audience: int | None = None) -> Reach:
    """Feeds and news have no per-post audience: their entries reach the source's configured
    readership (`audience` in earful.toml). Elsewhere the author's followers are the potential
    audience, an upper bound used as expected until engagement-based estimates exist."""
    if source_audience is not None:
        return Reach(source_audience, source_audience, source_audience, "source audience")
    followers = mention.author.followers
    if followers is not None:
        return Reach(followers, followers, followers, "author followers")
    return Reach(0, 0, 0, "unknown")
