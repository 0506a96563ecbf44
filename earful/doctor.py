"""`earful doctor`: check the configuration, the database and each source, and explain every
problem. Secrets are reported by name only, never by value."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import duckdb

from connectors.registry import get_connector
from earful.cycle import source_spec
from earful.secrets import block_name, prefect_api_problem, prefect_api_url, resolve_secrets
from earful.settings import (
    ConfigError,
    Settings,
    format_duration,
    load_settings,
    resolve_config_path,
)
from sql.store import Store
from sql.target import MOTHERDUCK_TOKEN_VARS, DatabaseTarget

__all__ = ["Check", "run_checks"]

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    level: Level
    subject: str
    detail: str


def _database_checks(settings: Settings) -> list[Check]:
    path = settings.db_path
    target = DatabaseTarget.parse(str(path))
    if target.kind == "motherduck":
        if not any(os.environ.get(name) for name in MOTHERDUCK_TOKEN_VARS):
            return [Check("fail", "database", f"{target.text} is a MotherDuck database: "
                          "missing secret motherduck_token (environment variable "
                          f"{' or '.join(MOTHERDUCK_TOKEN_VARS)}; not read from Secret "
                          "blocks)")]
        return [Check("ok", "database", f"{target.text}: MotherDuck, token set (not opened "
                                        "by doctor)")]
    if target.kind == "ducklake":
        return [Check("warn", "database", f"{target.text} is a DuckLake: earful reads it but "
                      "cannot write to it (no PRIMARY KEY/UNIQUE constraints), so the listen "
                      "and followup flows fail on it")]
    if not path.exists():
        parent = path.resolve().parent
        if parent.exists() and not parent.is_dir():
            return [Check("fail", "database", f"{parent} is not a directory")]
        return [Check("warn", "database",
                      f"{path} does not exist yet; the first run creates it")]
    try:
        store = Store(path, lock_timeout_s=5)
        with store.connect(read_only=True) as con:
            versions = con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
            mentions = con.execute("SELECT count(*) FROM mentions").fetchone()[0]
    except (duckdb.Error, RuntimeError) as exc:
        return [Check("fail", "database", f"{path} cannot be opened: {exc}")]
    return [Check("ok", "database", f"{path}: schema version {versions}, {mentions:,} mentions")]


class _Secrets:
    """Which secrets are set, by name (values are looked up once and never kept or shown):
    the environment, then, when a Prefect API is configured and answers, its Secret blocks
    (the rule the flows follow: earful.secrets)."""

    def __init__(self, names: set[str]):
        self.api = prefect_api_url() if names else None
        problem = prefect_api_problem() if self.api else None
        self.blocks = bool(self.api) and problem is None
        self.set = set(resolve_secrets(sorted(names), use_prefect=self.blocks))
        self.problem = problem

    def missing(self, names: list[str]) -> list[str]:
        return [name for name in names if name not in self.set]

    def explain(self, names: list[str]) -> str:
        where = ", ".join(f"{name} (environment variable, or Prefect Secret block "
                          f"{block_name(name)})" for name in names)
        return f"missing secret{'s' if len(names) > 1 else ''} {where}"

    def check(self) -> Check:
        if self.blocks:
            return Check("ok", "secrets", f"looked up in the environment, then in the Prefect "
                                          f"Secret blocks of {self.api}")
        if self.api:
            return Check("warn", "secrets", f"the Prefect API at {self.api} does not answer "
                         f"({self.problem}): only the environment was checked")
        return Check("ok", "secrets", "looked up in the environment only (Prefect Secret "
                                      "blocks are checked when PREFECT_API_URL is set)")


def _secret_names(settings: Settings) -> set[str]:
    names: set[str] = set()
    for source in settings.sources:
        if source.enabled:
            connector = get_connector(source.kind)
            names |= {*connector.secrets, *connector.optional_secrets}
    if settings.notifications.enabled:
        for channel in settings.notifications.channels.values():
            if channel.enabled:
                names |= set(channel.secret_names())
    return names


def _channel_checks(settings: Settings, secrets: _Secrets) -> list[Check]:
    if not settings.notifications.enabled:
        return []
    checks = []
    for name, channel in settings.notifications.channels.items():
        subject = f"channel {name}"
        missing = secrets.missing(channel.secret_names())
        if not channel.enabled:
            checks.append(Check("ok", subject, "disabled"))
        elif missing:
            checks.append(Check("fail", subject, secrets.explain(missing)))
        else:
            checks.append(Check("ok", subject, channel.sink))
    return checks


def _source_checks(settings: Settings, secrets: _Secrets) -> list[Check]:
    checks: list[Check] = []
    states = {}
    if DatabaseTarget.parse(str(settings.db_path)).is_file and settings.db_path.exists():
        try:
            store = Store(settings.db_path, lock_timeout_s=5)
            with store.connect(read_only=True) as con:
                rows = con.execute(
                    "SELECT source_key, error_count, last_error FROM source_state"
                ).fetchall()
            states = {row[0]: (row[1], row[2]) for row in rows}
        except (duckdb.Error, RuntimeError):
            states = {}
    if not settings.sources:
        checks.append(Check("warn", "sources", "no sources configured: nothing to listen to"))
    for source in settings.sources:
        subject = f"source {source.name}"
        connector = get_connector(source.kind)
        if not source.enabled:
            checks.append(Check("ok", subject, "disabled"))
            continue
        problems: list[str] = []
        if connector.validate is not None:
            # Validation checks which secrets are present, never their values: it gets a
            # placeholder for each secret that is set (environment or Secret block).
            spec = replace(source_spec(source, settings),
                           secrets={name: "set" for name in secrets.set})
            problems = connector.validate(spec)
        missing = secrets.missing(sorted(connector.secrets))
        if missing:
            others = [p for p in problems if not any(name in p for name in missing)]
            checks.append(Check("fail", subject, "; ".join([secrets.explain(missing),
                                                            *others])))
            continue
        if problems:
            checks.append(Check("fail", subject, "; ".join(problems)))
            continue
        error_count, last_error = states.get(source.name, (0, None))
        if error_count:
            checks.append(Check("warn", subject,
                                f"{error_count} failed polls in a row; last error: {last_error}"))
        else:
            every = format_duration(source.poll_interval)
            detail = f"{source.kind}, every {every}"
            optional = secrets.missing(sorted(connector.optional_secrets))
            if optional:
                detail += f"; optional secrets not set: {', '.join(optional)}"
            checks.append(Check("ok", subject, detail))
    return checks


def run_checks(config: str | Path | None, db: str | Path | None) -> list[Check]:
    config_path = resolve_config_path(config)
    try:
        settings = load_settings(config, db)
    except ConfigError as exc:
        return [Check("fail", "config", str(exc))]
    checks = [Check("ok", "config", f"{config_path}: {len(settings.brands)} brands, "
                                    f"{len(settings.sources)} sources")]
    if not settings.brands:
        checks.append(Check("warn", "brands", "no brands configured: nothing will match"))
    names = _secret_names(settings)
    secrets = _Secrets(names)
    checks += _database_checks(settings)
    if names:
        checks.append(secrets.check())
    return checks + _source_checks(settings, secrets) + _channel_checks(settings, secrets)
