"""`earful doctor`: check the configuration, the database and each source, and explain every
problem. Secrets are reported by name only, never by value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from connectors.registry import get_connector
from earful.secrets import resolve_secrets
from earful.settings import (
    ConfigError,
    Settings,
    format_duration,
    load_settings,
    resolve_config_path,
)
from sql.store import Store

__all__ = ["Check", "run_checks"]

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    level: Level
    subject: str
    detail: str


def _database_checks(settings: Settings) -> list[Check]:
    path = settings.db_path
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


def _source_checks(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    states = {}
    if settings.db_path.exists():
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
        missing = sorted(set(connector.secrets) - set(resolve_secrets(connector.secrets)))
        if not source.enabled:
            checks.append(Check("ok", subject, "disabled"))
            continue
        if missing:
            checks.append(Check("fail", subject,
                                f"missing secrets {', '.join(missing)} (environment variables "
                                "or Prefect Secret blocks)"))
            continue
        error_count, last_error = states.get(source.name, (0, None))
        if error_count:
            checks.append(Check("warn", subject,
                                f"{error_count} failed polls in a row; last error: {last_error}"))
        else:
            every = format_duration(source.poll_interval)
            checks.append(Check("ok", subject, f"{source.kind}, every {every}"))
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
    return checks + _database_checks(settings) + _source_checks(settings)
