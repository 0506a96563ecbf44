"""Which tickets are VIP for the budget. The desk marks tickets (`tickets.vip`, migration
0004); the desk's `[[desk.vips]]` entries are also matched here directly, so a notification is
never held back while the desk has not marked a ticket yet (or on a database from before the
desk). Read defensively: a Settings without `desk` simply has no VIP entries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["matches_vip_config"]


def _host(url: object) -> str:
    try:
        return (urlsplit(str(url or "")).hostname or "").lower()
    except ValueError:
        return ""


def _vip_entries(settings: Any) -> list[Any]:
    vips = getattr(getattr(settings, "desk", None), "vips", None) or []
    return list(vips) if isinstance(vips, Iterable) else [vips]


def matches_vip_config(row: Mapping[str, Any], settings: Any) -> bool:
    """True when the ticket's author or reach matches one of the desk's VIP entries."""
    handle = str(row.get("author_handle") or "").strip().lower().lstrip("@")
    hosts = {h for h in (_host(row.get("author_url")), _host(row.get("url"))) if h}
    reach = row.get("reach") or 0
    for vip in _vip_entries(settings):
        brands = getattr(vip, "brands", None)
        if brands is not None and row.get("brand") not in brands:
            continue
        handles = {str(h).lower().lstrip("@") for h in getattr(vip, "handles", None) or []}
        if handle and handle in handles:
            return True
        for domain in getattr(vip, "domains", None) or []:
            domain = str(domain).lower().lstrip("@.")
            if any(h == domain or h.endswith("." + domain) for h in hosts):
                return True
        min_reach = getattr(vip, "min_reach", None)
        if min_reach is not None and reach >= min_reach:
            return True
    return False
