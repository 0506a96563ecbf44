"""Connector name → connector. Built-ins are listed explicitly: adding a connector touches
its own module and this list, nothing else."""

from __future__ import annotations

from connectors import (
    appstore,
    bluesky,
    discourse,
    github,
    googlenews,
    googleplay,
    hackernews,
    lemmy,
    mastodon,
    reddit,
    rss,
    stackexchange,
    trustpilot,
    x,
    yelp,
    youtube,
)
from connectors.base import Connector

__all__ = ["CONNECTORS", "get_connector", "names"]

CONNECTORS: dict[str, Connector] = {c.name: c for c in (
    rss.CONNECTOR,
    mastodon.CONNECTOR,
    bluesky.CONNECTOR,
    hackernews.CONNECTOR,
    reddit.CONNECTOR,
    stackexchange.CONNECTOR,
    youtube.CONNECTOR,
    x.CONNECTOR,
    discourse.CONNECTOR,
    github.CONNECTOR,
    lemmy.CONNECTOR,
    appstore.CONNECTOR,
    googlenews.CONNECTOR,
    googleplay.CONNECTOR,
    trustpilot.CONNECTOR,
    yelp.CONNECTOR,
)}


def names() -> list[str]:
    return sorted(CONNECTORS)


def get_connector(name: str) -> Connector:
    try:
        return CONNECTORS[name]
    except KeyError:
        raise KeyError(f"unknown connector {name!r}; known: {', '.join(names())}") from None
