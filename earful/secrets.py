"""Secrets come from the environment or, under Prefect, from Secret blocks. Values are never
logged, stored or printed; only their names are."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

__all__ = ["block_name", "resolve_secrets"]

log = logging.getLogger("earful.secrets")


def block_name(name: str) -> str:
    """EARFUL_REDDIT_CLIENT_ID → Prefect Secret block 'earful-reddit-client-id'."""
    return name.lower().replace("_", "-")


def _from_prefect_block(name: str) -> str | None:
    try:
        from prefect.blocks.system import Secret

        return Secret.load(block_name(name)).get()
    except Exception:
        return None


def resolve_secrets(names: Iterable[str], *, use_prefect: bool = False) -> dict[str, str]:
    """The secrets that are set, by name. The environment wins over Secret blocks."""
    found: dict[str, str] = {}
    for name in names:
        value = os.environ.get(name) or (_from_prefect_block(name) if use_prefect else None)
        if value:
            found[name] = value
    return found
