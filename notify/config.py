"""The notifications' configuration (`[notifications]` in earful.toml): channels (where a
notification goes and how), routes (which events go to which channels), retries and the
budget. Secrets are never written here: a channel names the environment variable (or Prefect
Secret block) that holds its webhook URL, token or password."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ALERT_KINDS",
    "DEFAULT_KINDS",
    "KNOWN_KINDS",
    "TICKET_EVENT_KINDS",
    "Channel",
    "EmailChannel",
    "GithubChannel",
    "NotificationsConfig",
    "RouteConfig",
    "SlackChannel",
    "WebhookChannel",
    "ZendeskChannel",
]

# Ticket events (desk contract) and alert kinds (spikes, source health) a route can name.
TICKET_EVENT_KINDS = ("opened", "priority_raised", "escalated", "breached", "resolved",
                      "dismissed")
ALERT_KINDS = ("volume", "negative_share", "source_failing", "source_silent")
KNOWN_KINDS = TICKET_EVENT_KINDS + ALERT_KINDS
# A route without `kinds` gets what needs a person: new and worsening tickets, and alerts.
DEFAULT_KINDS = ("opened", "priority_raised", "escalated", "breached", *ALERT_KINDS)

Priority = Literal["P1", "P2", "P3", "P4"]


def _duration(value: object) -> timedelta:
    # Imported late: earful.settings imports this module for Settings.notifications.
    from earful.settings import parse_duration

    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                               description="name of the environment variable holding a secret")]
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(url: str | None) -> str | None:
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError(f"must be an http(s) URL, got {url!r}")
    return url.rstrip("/") if url else url


class _Channel(_Strict):
    enabled: bool = True
    max_per_hour: int | None = Field(
        default=20, ge=1,
        description="budget: notifications per clock hour; the overflow is held and sent as "
        "one digest after the hour (VIP tickets are never held). Unset: no budget")

    def secret_names(self) -> list[str]:
        """Environment variables (or Secret blocks) this channel reads."""
        return []


class SlackChannel(_Channel):
    """A Slack incoming webhook; its URL is the secret."""

    sink: Literal["slack"]
    webhook_url_env: EnvName = "EARFUL_SLACK_WEBHOOK_URL"

    def secret_names(self) -> list[str]:
        return [self.webhook_url_env]


class WebhookChannel(_Channel):
    """A JSON POST signed with HMAC-SHA256. The URL may be written here, or kept secret in
    `url_env`."""

    sink: Literal["webhook"]
    url: str | None = None
    url_env: EnvName | None = None
    secret_env: EnvName = "EARFUL_WEBHOOK_SECRET"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook channel needs exactly one of url or url_env")
        return self

    def secret_names(self) -> list[str]:
        return [self.secret_env, *([self.url_env] if self.url_env else [])]


class EmailChannel(_Channel):
    """E-mail over SMTP (smtplib)."""

    sink: Literal["email"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="default 587 (starttls), 465 (ssl), 25 (none)")
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: EnvName = "EARFUL_SMTP_PASSWORD"
    sender: str
    to: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=20)

    @field_validator("sender", "to")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for address in [value] if isinstance(value, str) else value:
            if not _EMAIL.match(address):
                raise ValueError(f"not an e-mail address: {address!r}")
        return value

    @property
    def effective_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.tls]

    def secret_names(self) -> list[str]:
        # Without a username there is no login, so no password to look for.
        return [self.password_env] if self.username else []


class GithubChannel(_Channel):
    """Opens a GitHub issue per notification (REST: POST /repos/{owner}/{repo}/issues)."""

    sink: Literal["github"]
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    api_url: str = "https://api.github.com"
    token_env: EnvName = "EARFUL_GITHUB_TOKEN"
    labels: list[str] = Field(default_factory=lambda: ["earful"])
    assignees: list[str] = Field(default_factory=list)

    @field_validator("api_url")
    @classmethod
    def _api(cls, value: str | None) -> str | None:
        return _http_url(value)

    def secret_names(self) -> list[str]:
        return [self.token_env]


class ZendeskChannel(_Channel):
    """Creates a Zendesk ticket per notification (POST /api/v2/tickets.json), with API token
    authentication ({email}/token:{token})."""

    sink: Literal["zendesk"]
    url: str = Field(description="https://SUBDOMAIN.zendesk.com")
    email: str
    token_env: EnvName = "EARFUL_ZENDESK_API_TOKEN"
    tags: list[str] = Field(default_factory=lambda: ["earful"])
    group_id: int | None = None
    public: bool = Field(default=False, description="post the description as a public "
                         "comment (false: an internal note, nobody is e-mailed)")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value

    def secret_names(self) -> list[str]:
        return [self.token_env]


Channel = Annotated[
    SlackChannel | WebhookChannel | EmailChannel | GithubChannel | ZendeskChannel,
    Field(discriminator="sink"),
]


class RouteConfig(_Strict):
    """Events matching every filter given go to `channels`. Unset filters match all; an
    alert has no priority, so a route with `priorities` matches ticket events only."""

    channels: list[str] = Field(min_length=1)
    brands: list[str] | None = None
    priorities: list[Priority] | None = None
    kinds: list[str] | None = Field(default=None, description="default: " + ", ".join(
        DEFAULT_KINDS))

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, values: list[str] | None) -> list[str] | None:
        unknown = sorted(set(values or []) - set(KNOWN_KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; known: {', '.join(KNOWN_KINDS)}")
        return values

    @property
    def effective_kinds(self) -> tuple[str, ...]:
        return tuple(self.kinds) if self.kinds is not None else DEFAULT_KINDS

    def matches(self, *, kind: str, brand: str | None, priority: str | None) -> bool:
        if kind not in self.effective_kinds:
            return False
        if self.brands is not None and brand not in self.brands:
            return False
        return self.priorities is None or priority in self.priorities


class NotificationsConfig(_Strict):
    enabled: bool = True
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    base_url: str | None = Field(
        default=None, description="the review web app's address: notifications link to "
        "{base_url}/tickets/{id}")
    max_age: Duration = Field(
        default=timedelta(hours=24),
        description="events and alerts older than this are never enqueued (a new channel "
        "or a flow that was down does not page anyone about last week)")
    max_attempts: int = Field(default=6, ge=1, le=50)
    retry_backoff: Duration = Field(default=timedelta(minutes=1),
                                    description="wait after the first failure, doubled after "
                                    "each further one")
    max_backoff: Duration = timedelta(hours=1)
    sending_lease: Duration = Field(
        default=timedelta(minutes=10),
        description="a row claimed for sending longer ago than this was interrupted by a "
        "crash; it is then resolved without sending twice")
    batch_limit: int = Field(default=200, ge=1, description="deliveries per run at most")

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, channels: dict[str, Channel]) -> dict[str, Channel]:
        bad = [name for name in channels if not re.fullmatch(r"[A-Za-z0-9_.-]+", name)]
        if bad:
            raise ValueError(f"channel names are letters, digits, '_', '.', '-': {bad}")
        return channels

    @model_validator(mode="after")
    def _routes_name_channels(self) -> NotificationsConfig:
        for index, route in enumerate(self.routes):
            unknown = sorted(set(route.channels) - set(self.channels))
            if unknown:
                raise ValueError(f"routes[{index}].channels: unknown channels {unknown} "
                                 f"(configured: {', '.join(self.channels) or 'none'})")
        return self

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.routes) and any(
            c.enabled for c in self.channels.values())

    def channels_for(self, *, kind: str, brand: str | None, priority: str | None) -> list[str]:
        """Enabled channels of every matching route, each once, in config order."""
        names = dict.fromkeys(
            name for route in self.routes
            if route.matches(kind=kind, brand=brand, priority=priority)
            for name in route.channels)
        return [n for n in names if self.channels[n].enabled]

    def wanted_kinds(self) -> list[str]:
        return sorted({k for route in self.routes for k in route.effective_kinds})
