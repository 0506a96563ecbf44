"""earful.toml, validated at load: errors name the bad key and say why."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from desk.config import DeskConfig
from notify.config import NotificationsConfig
from triage.health import FAILURES_IN_A_ROW, SILENCE_FACTOR

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DB_PATH",
    "SIX_THOUSAND_FRIENDS",
    "BrandConfig",
    "ConfigError",
    "Settings",
    "SourceConfig",
    "format_duration",
    "format_validation_error",
    "load_settings",
    "parse_duration",
    "resolve_config_path",
    "settings_from_dict",
]

# "If you make customers unhappy on the Internet, they can each tell 6,000 friends."
# (Jeff Bezos, 2008): the audience at which an unhappy customer becomes a brand risk.
SIX_THOUSAND_FRIENDS = 6_000
DEFAULT_CONFIG_PATH = Path("earful.toml")
DEFAULT_DB_PATH = Path("earful.duckdb")
CONFIG_ENV = "EARFUL_CONFIG"
DB_ENV = "EARFUL_DB"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 60}


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '2h', '1d' or a bare number of minutes."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '15m', '2h' or '1d'")
    if isinstance(value, int | float):
        return timedelta(minutes=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as '15m', '2h' or '1d', got {value!r}")


def format_duration(value: timedelta) -> str:
    """The shortest of '90s', '15m', '2h', '1d' that is exact."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandConfig(_Strict):
    name: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1, description="words or phrases that name the brand")
    aliases: list[str] = Field(default_factory=list, description="nicknames, product names")
    exclude: list[str] = Field(
        default_factory=list, description="phrases that mean something else; they always win"
    )
    handles: list[str] = Field(
        default_factory=list, description="the brand's own accounts: their posts are not risks"
    )
    competitor: bool = Field(
        default=False,
        description="a competitor's brand, listened to for comparison (the digest's share of "
        "voice); false: one of your own brands",
    )

    @field_validator("terms", "aliases", "exclude", "handles")
    @classmethod
    def _no_blank_terms(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("must not contain empty strings")
        return [v.strip() for v in values]


class SourceConfig(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: str
    url: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    poll_interval: Duration = timedelta(minutes=15)
    audience: int | None = Field(
        default=None, ge=0, description="readership of the source, the reach of its entries"
    )
    brands: list[str] | None = Field(
        default=None, description="only match these brands (default: all)"
    )
    about: str | None = Field(
        default=None,
        description="every mention of this source is about this brand, named or not (the "
        "reviews of the brand's own app or business)",
    )
    enabled: bool = True
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        # Imported here: the registry loads every connector (and httpx, feedparser), which
        # commands that never read sources (`earful score`) should not pay for at start-up.
        from connectors.registry import names as connector_names

        known = connector_names()
        if kind not in known:
            raise ValueError(f"unknown connector {kind!r}; known: {', '.join(known)}")
        return kind

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {url!r}")
        return url

    @model_validator(mode="after")
    def _url_when_needed(self) -> SourceConfig:
        from connectors.registry import get_connector

        if get_connector(self.kind).requires_url and not self.url:
            raise ValueError(f"a {self.kind} source needs a url")
        return self


class Thresholds(_Strict):
    reach: int = Field(
        default=SIX_THOUSAND_FRIENDS,
        ge=0,
        description="estimated audience at or above which a negative mention opens a ticket",
    )
    negative: float = Field(default=-0.05, ge=-1.0, le=0.0)
    positive: float = Field(default=0.05, ge=0.0, le=1.0)
    projection_window: Duration = Field(
        default=timedelta(hours=4),
        description="how far ahead a mention's reach growth is projected (the P2 SLA)",
    )


Priority = Literal["P1", "P2", "P3", "P4"]


class SlaConfig(_Strict):
    """Time to first response per priority."""

    P1: Duration = timedelta(hours=1)
    P2: Duration = timedelta(hours=4)
    P3: Duration = timedelta(hours=24)
    P4: Duration = timedelta(hours=72)

    def for_priority(self, priority: Priority) -> timedelta:
        return getattr(self, priority)


class HealthConfig(_Strict):
    """When a source raises an operational alert (triage/health.py)."""

    failures_in_a_row: int = Field(default=FAILURES_IN_A_ROW, ge=1)
    silence_factor: float = Field(
        default=SILENCE_FACTOR, gt=1.0,
        description="silent = no new mention for this many times its usual gap")


class DatabaseConfig(_Strict):
    path: str = str(DEFAULT_DB_PATH)
    snapshot: bool = Field(
        default=True, description="publish a read-only copy for analysts after each run")
    snapshot_path: str | None = Field(
        default=None, description="where (default: <database>.snapshot.duckdb beside it)")


class HttpConfig(_Strict):
    timeout: Duration = timedelta(seconds=20)
    max_backoff: Duration = Field(
        default=timedelta(hours=6), description="longest wait before retrying a failing source"
    )


class Settings(_Strict):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    brands: list[BrandConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    desk: DeskConfig = Field(default_factory=DeskConfig)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        brand_names = [b.name for b in self.brands]
        if len(set(brand_names)) != len(brand_names):
            raise ValueError("brands: two brands share a name")
        source_names = [s.name for s in self.sources]
        duplicates = sorted({n for n in source_names if source_names.count(n) > 1})
        if duplicates:
            raise ValueError(f"sources: duplicate source names {duplicates}")
        for index, source in enumerate(self.sources):
            unknown = sorted(set(source.brands or []) - set(brand_names))
            if unknown:
                raise ValueError(f"sources[{index}].brands: unknown brands {unknown}")
            if source.about is not None and source.about not in brand_names:
                raise ValueError(f"sources[{index}].about: unknown brand {source.about!r} "
                                 f"(brands: {', '.join(brand_names)})")
        return self

    @property
    def db_path(self) -> Path:
        return Path(self.database.path)

    @property
    def db_missing(self) -> bool:
        """A database file that does not exist yet. Connection strings (md:, ducklake:) are
        never missing here: they are checked when opened."""
        from sql.target import DatabaseTarget

        return DatabaseTarget.parse(str(self.db_path)).is_file and not self.db_path.exists()

    @property
    def snapshot_path(self) -> Path | None:
        """Where analysts read while flows write (None: no snapshot is published)."""
        if not self.database.snapshot:
            return None
        if self.database.snapshot_path:
            return Path(self.database.snapshot_path)
        return self.db_path.with_name(f"{self.db_path.stem}.snapshot.duckdb")

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"no source named {name!r}")


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_validation_error(error: ValidationError, origin: str) -> str:
    lines = [f"{origin}: invalid configuration"]
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if p not in ("function-after[_url_when_needed()]",))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; `earful init` writes a commented example)"
        lines.append(f"  {_location(loc)}: {message}")
    return "\n".join(lines)


def resolve_config_path(config: str | Path | None) -> Path:
    return Path(config or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def settings_from_dict(data: dict[str, Any], origin: str = "config") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, origin)) from None


def load_settings(
    config: str | Path | None = None,
    db: str | Path | None = None,
    *,
    required: bool = True,
) -> Settings:
    """Read and validate the config. The database path comes from `db` (the --db option),
    else EARFUL_DB, else the config file, else ./earful.duckdb."""
    path = resolve_config_path(config)
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        settings = settings_from_dict(data, str(path))
    elif required:
        raise ConfigError(f"{path}: no such config file (create one with `earful init`)")
    else:
        settings = Settings()
    db_override = db or os.environ.get(DB_ENV)
    if db_override:
        # Only the file changes: snapshot = false stays off. A configured snapshot_path is
        # the configured database's, and another database's copy must not replace it, so
        # the snapshot of this one goes beside it.
        settings = settings.model_copy(update={"database": settings.database.model_copy(
            update={"path": str(db_override), "snapshot_path": None})})
    return settings
