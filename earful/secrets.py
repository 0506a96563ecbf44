"""Secrets come from the environment or, under Prefect, from Secret blocks. Values are never
logged, stored or printed; only their names are."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

__all__ = ["block_name", "prefect_api_problem", "prefect_api_url", "resolve_secrets"]

log = logging.getLogger("earful.secrets")


def block_name(name: str) -> str:
    """The Prefect Secret block a secret may live in: its environment variable's name in
    lower case, '_' → '-' (X_BEARER_TOKEN → 'x-bearer-token')."""
    return name.lower().replace("_", "-")


def prefect_api_url() -> str | None:
    """The configured Prefect API (PREFECT_API_URL), or None: then a flow run starts a
    temporary server on this machine's Prefect database, and `earful doctor`, which should
    not wait for one, checks the environment only."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def prefect_api_problem() -> str | None:
    """Why the configured Prefect API cannot be asked for Secret blocks, or None."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    return f"{type(error).__name__}: {error}" if error else None


def _from_prefect_block(name: str) -> str | None:
    try:
        from prefect.blocks.system import Secret

        return Secret.load(block_name(name)).get()
    except Exception:
        return None


def resolve_secrets(names: Iterable[str], *, use_prefect: bool = False) -> dict[str, str]:
    """The secrets that are set, by name. The environment wins over Secret blocks. A line
    ending is dropped: a value read from a file or pasted into a block often carries one, no
    secret contains one, and sent in a header it is refused (and quoted in httpcore's
    error)."""
    found: dict[str, str] = {}
    for name in names:
        value = os.environ.get(name) or (_from_prefect_block(name) if use_prefect else None)
        value = value.rstrip("\r\n") if value else None
        if value:
            found[name] = value
    return found
