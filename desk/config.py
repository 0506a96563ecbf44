"""The response desk's configuration (`[desk]` in earful.toml), validated at load like the
rest of earful.toml: an error names the key and says why."""

from __future__ import annotations

import re
import string
from datetime import date, time, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

__all__ = [
    "DEFAULT_ROOT_CAUSES",
    "KINDS",
    "PLACEHOLDERS",
    "BusinessHours",
    "DeskConfig",
    "EscalationConfig",
    "EscalationLevel",
    "RescueConfig",
    "ResolutionSla",
    "TemplateConfig",
    "ThankYouConfig",
    "VipConfig",
]

# The issue's taxonomy; teams replace it in [desk] root_causes.
DEFAULT_ROOT_CAUSES = ("delivery", "billing", "product_defect", "outage", "staff", "other")
# Ticket kinds: a complaint, a strongly negative mention (bad press), a thank-you.
KINDS = ("complaint", "negative", "thank")
# What a template may use. {author} is the name, else the @handle: never "Dear customer".
PLACEHOLDERS = ("author", "name", "first_name", "handle", "brand", "excerpt", "url", "title",
                "source", "date", "ticket_id", "agent")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Priority = Literal["P1", "P2", "P3", "P4"]


def _duration(value: object) -> timedelta:
    # Imported late: earful.settings imports this module for Settings.desk.
    from earful.settings import parse_duration

    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResolutionSla(_Strict):
    """Time to resolution per priority (first response is earful.toml's [sla])."""

    P1: Duration = timedelta(hours=8)
    P2: Duration = timedelta(hours=24)
    P3: Duration = timedelta(hours=72)
    P4: Duration = timedelta(days=7)

    def for_priority(self, priority: str) -> timedelta:
        return getattr(self, priority)


class BusinessHours(_Strict):
    """When the team works. SLA clocks of the listed priorities run only inside these
    hours; P1 usually runs around the clock."""

    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: list[date] = Field(default_factory=list)
    priorities: list[Priority] = Field(
        default_factory=lambda: ["P2", "P3", "P4"],
        description="priorities whose clocks stop outside business hours",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Europe/Berlin')") from None
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, values: list[str]) -> list[str]:
        days = [v.strip().lower()[:3] for v in values]
        unknown = [v for v, d in zip(values, days, strict=True) if d not in _WEEKDAYS]
        if unknown or not days:
            raise ValueError(f"expected weekdays such as 'mon', 'fri', got {values!r}")
        return days

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("business_hours: start must be before end")
        return self


class EscalationLevel(_Strict):
    name: str = Field(min_length=1)
    contacts: list[str] = Field(default_factory=list, description="names or e-mail addresses")


def _default_path() -> list[EscalationLevel]:
    return [EscalationLevel(name="agent"), EscalationLevel(name="lead"),
            EscalationLevel(name="comms")]


class EscalationConfig(_Strict):
    """A breach moves the ticket one level up this path and raises its priority one step;
    still breached `interval` later, it moves up again, to the last level at most."""

    path: list[EscalationLevel] = Field(default_factory=_default_path, min_length=1)
    interval: Duration = timedelta(hours=2)
    raise_priority: bool = True
    at_risk_share: float = Field(
        default=0.25, gt=0, lt=1,
        description="a ticket is at risk when less than this share of its SLA time is left",
    )


class VipConfig(_Strict):
    """White-glove authors: matched by handle, by domain (of their profile or the mention's
    URL), or by reach over a bar. They open a ticket whatever their reach, get the SLA
    multiplied by `sla_factor`, go to `owner`, and are never held back by an alert budget."""

    name: str = Field(default="vip", min_length=1)
    handles: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    min_reach: int | None = Field(default=None, ge=0)
    brands: list[str] | None = Field(default=None, description="only for these brands")
    owner: str | None = None
    sla_factor: float = Field(default=0.5, gt=0, le=1)
    min_priority: Priority | None = Field(
        default=None, description="open at this priority or more urgent")

    @field_validator("handles", "domains")
    @classmethod
    def _normalised(cls, values: list[str]) -> list[str]:
        return [v.strip().lower().lstrip("@") for v in values if v.strip()]


class TemplateConfig(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1)
    body: str = Field(min_length=1)
    brands: list[str] | None = Field(default=None, description="default: every brand")
    kinds: list[str] = Field(default_factory=lambda: ["complaint", "negative"])

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown ticket kinds {unknown}; known: {', '.join(KINDS)}")
        return values

    @field_validator("body")
    @classmethod
    def _known_placeholders(cls, body: str) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(body) if f is not None]
        except ValueError as exc:
            raise ValueError(
                f"not a valid template ({exc}); write {{{{ for a literal {{") from None
        for field in fields:
            # Plain names only: "{author.__class__}" and "{0}" are refused, not evaluated.
            if field not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{field}}}; known: "
                                 + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
        return body


class ThankYouConfig(_Strict):
    """A clearly positive mention reaching this many people opens a low-priority "thank"
    ticket, at most one per author per cooldown."""

    enabled: bool = True
    min_reach: int = Field(default=20_000, ge=0)
    min_compound: float = Field(default=0.5, ge=0, le=1,
                                description="VADER's 'clearly positive' (|compound| ≥ 0.5)")
    priority: Priority = "P4"
    cooldown: Duration = timedelta(days=30)


class RescueConfig(_Strict):
    """After a complaint is resolved, the author's later mentions on the same platform within
    `window` are linked to it; the first one at or above `min_compound` (and no complaint)
    rescues the customer."""

    window: Duration = timedelta(days=14)
    min_compound: float = Field(default=0.05, ge=-1, le=1)


class DeskConfig(_Strict):
    root_causes: list[str] = Field(default_factory=lambda: list(DEFAULT_ROOT_CAUSES),
                                   min_length=1)
    root_cause_required: list[str] = Field(
        default_factory=lambda: ["complaint", "negative"],
        description="ticket kinds that need a root cause to be resolved")
    resolution: ResolutionSla = Field(default_factory=ResolutionSla)
    business_hours: BusinessHours | None = None
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    vips: list[VipConfig] = Field(default_factory=list)
    templates: list[TemplateConfig] = Field(default_factory=list)
    attach_window: Duration = Field(
        default=timedelta(hours=48),
        description="a later mention by the same author joins the open ticket within this")
    thank_you: ThankYouConfig = Field(default_factory=ThankYouConfig)
    rescue: RescueConfig = Field(default_factory=RescueConfig)

    @field_validator("root_causes")
    @classmethod
    def _slugs(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not re.fullmatch(r"[a-z0-9_]+", v)]
        if bad:
            raise ValueError(f"root causes are lower_snake_case words, got {bad}")
        if len(set(values)) != len(values):
            raise ValueError("root causes repeat")
        return values

    @field_validator("root_cause_required")
    @classmethod
    def _kinds(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown ticket kinds {unknown}; known: {', '.join(KINDS)}")
        return values

    @model_validator(mode="after")
    def _unique_templates(self) -> DeskConfig:
        ids = [t.id for t in self.templates]
        if len(set(ids)) != len(ids):
            raise ValueError("templates: two templates share an id")
        return self

    @property
    def rescue_days(self) -> float:
        return self.rescue.window.total_seconds() / 86400

    @property
    def attach_window_hours(self) -> float:
        return self.attach_window.total_seconds() / 3600
