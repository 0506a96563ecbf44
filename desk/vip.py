"""White-glove authors: which [[desk.vips]] entry, if any, a mention's author matches."""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.base import Mention
from desk.config import DeskConfig, VipConfig

__all__ = ["match_vip"]


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def _domain_matches(host: str | None, domains: list[str]) -> bool:
    return bool(host) and any(host == d or host.endswith("." + d) for d in domains)


def match_vip(desk: DeskConfig, mention: Mention, reach: int, brand: str) -> VipConfig | None:
    """The first VIP entry for this brand that names the author's handle, the domain of their
    profile, e-mail or the mention's own URL, or whose reach bar the mention clears."""
    author = mention.author
    handle = (author.handle or "").strip().lower().lstrip("@")
    email_domain = None
    for value in (author.id, author.handle):
        if value and "@" in value.strip("@"):
            email_domain = value.rsplit("@", 1)[1].lower()
    hosts = [_host(author.url), _host(mention.url), email_domain]
    for vip in desk.vips:
        if vip.brands is not None and brand not in vip.brands:
            continue
        if handle and handle in vip.handles:
            return vip
        if vip.domains and any(_domain_matches(h, vip.domains) for h in hosts):
            return vip
        if vip.min_reach is not None and reach >= vip.min_reach:
            return vip
    return None
