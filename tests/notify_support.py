"""Shared by the notification tests: a database with real tickets (through the pipeline's
own ticket rule and the store's batch write), alerts, and a config with every sink pointed at
the loopback receivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notify_receivers import (
    GITHUB_TOKEN,
    SLACK_PATH,
    SMTP_PASSWORD,
    WEBHOOK_SECRET,
    ZENDESK_TOKEN,
)

from connectors.base import Author, Engagement, Mention
from earful.settings import SlaConfig, Thresholds, settings_from_dict
from sql.rows import batch_tables
from sql.store import Store
from triage.brands import BrandMatch
from triage.reach import Reach
from triage.scored import ScoredMention
from triage.spikes import SpikeAlert
from triage.tickets import decide_tickets

NOW = datetime(2026, 11, 22, 12, 5, tzinfo=UTC)

__all__ = ["NOW", "add_alert", "add_event", "channels_config", "make_settings_dict",
           "open_tickets", "secrets_env", "settings_for"]


def _item(n: int, text: str, followers: int, handle: str) -> ScoredMention:
    from sentiment.vader import score

    mention = Mention(source="test", external_id=f"post-{n}", url=f"https://social.test/p/{n}",
                      title=None, text=text, published_at=NOW - timedelta(minutes=5),
                      author=Author(handle=handle, name=f"User {n}", followers=followers),
                      engagement=Engagement(likes=1), raw={"n": n})
    return ScoredMention(mention, "src", (BrandMatch("Acme", ("acme",)),), score(text),
                         Reach(followers, followers, followers, "author followers"))


def open_tickets(store: Store, count: int, *, start: int = 0, at: datetime = NOW,
                 text: str = "Acme is terrible, I hate it, still waiting for my refund",
                 handle: str | None = None) -> list[str]:
    """`count` tickets opened the way a listen run opens them; returns their ids."""
    items = [_item(n, text, 60_000, handle or f"@user{n}") for n in range(start, start + count)]
    decided = decide_tickets(items, Thresholds(), SlaConfig(), at)
    store.write_batch(batch_tables(items, decided, at))
    return [t.id for t in decided]


def add_event(store: Store, ticket_id: str, action: str, at: datetime,
              detail: str = "{}") -> None:
    """An event as the desk writes it (escalated, breached)."""
    with store.transaction() as con:
        con.execute("INSERT INTO ticket_events VALUES (?, ?, ?, 'earful', ?, ?)",
                    [f"E-{ticket_id}-{action}-{at.isoformat()}", ticket_id, at, action,
                     detail])


def add_alert(store: Store, at: datetime, brand: str = "Acme", kind: str = "volume") -> str:
    alert = SpikeAlert(id=f"A-{brand}-{kind}-{at:%H}", brand=brand, kind=kind,
                       window_start=at - timedelta(hours=1), window_end=at, observed=40.0,
                       baseline=3.0, threshold=12.0,
                       message=f"{brand}: 40 mentions in the last hour (usual 3.0/h)")
    store.write_alerts([alert], at)
    return alert.id


def secrets_env(base_url: str) -> dict[str, str]:
    """The secrets the test channels read from the environment."""
    return {"TEST_SLACK_WEBHOOK_URL": base_url + SLACK_PATH,
            "TEST_WEBHOOK_SECRET": WEBHOOK_SECRET, "TEST_GITHUB_TOKEN": GITHUB_TOKEN,
            "TEST_ZENDESK_TOKEN": ZENDESK_TOKEN, "TEST_SMTP_PASSWORD": SMTP_PASSWORD}


def channels_config(base_url: str, smtp_port: int | None = None, *,
                    max_per_hour: int | None = None) -> dict[str, Any]:
    channels: dict[str, Any] = {
        "care-slack": {"sink": "slack", "webhook_url_env": "TEST_SLACK_WEBHOOK_URL"},
        "ops-hook": {"sink": "webhook", "url": f"{base_url}/hooks/earful",
                     "secret_env": "TEST_WEBHOOK_SECRET"},
        "gh": {"sink": "github", "repo": "acme/support", "api_url": base_url,
               "token_env": "TEST_GITHUB_TOKEN", "labels": ["earful", "complaint"]},
        "zd": {"sink": "zendesk", "url": base_url, "email": "agent@acme.test",
               "token_env": "TEST_ZENDESK_TOKEN"},
    }
    if smtp_port is not None:
        channels["mail"] = {"sink": "email", "host": "127.0.0.1", "port": smtp_port,
                            "tls": "none", "username": "earful",
                            "password_env": "TEST_SMTP_PASSWORD",
                            "sender": "earful@acme.test", "to": ["care@acme.test"]}
    for channel in channels.values():
        channel["max_per_hour"] = max_per_hour
    return channels


def make_settings_dict(tmp_path: Path, channels: dict[str, Any],
                       routes: list[dict[str, Any]] | None = None,
                       **notifications: Any) -> dict[str, Any]:
    return {
        "database": {"path": str(tmp_path / "notify.duckdb")},
        "brands": [{"name": "Acme", "terms": ["Acme"]}],
        "notifications": {
            "base_url": "https://earful.acme.test",
            "channels": channels,
            "routes": routes if routes is not None else [{"channels": list(channels)}],
            **notifications,
        },
    }


def settings_for(data: dict[str, Any]) -> Any:
    return settings_from_dict(data, "test config")
