"""What every `earful` command module shares: the app's console, the --config/--db options
and the way a command fails. Command modules (earful/cli*.py) import from here, never from
each other."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from earful.settings import ConfigError, load_settings

__all__ = ["ConfigOpt", "DbOpt", "console", "err", "fail", "require_database", "settings_for"]

console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="earful.toml to use [env: EARFUL_CONFIG]",
                 show_default="./earful.toml"),
]
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB file [env: EARFUL_DB; default: the config's, "
                              "./earful.duckdb]"),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def settings_for(config: Path | None, db: Path | None, *, required: bool = True) -> Any:
    """The settings; required=False lets a command run on the defaults when there is no
    config file, but a --config given by name must exist: a mistyped path would otherwise
    quietly switch to another database and the default root causes and SLAs."""
    try:
        return load_settings(config, db, required=required or config is not None)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def require_database(settings: Any, hint: str = "run `earful run` or `earful demo` first") -> None:
    """Refuse, with a clear message, a database file that does not exist yet (a command that
    only reads would otherwise create an empty one). Connection strings (md:, ducklake:) are
    checked when they are opened."""
    if settings.db_missing:
        raise fail(f"no database at {settings.db_path} ({hint}, or pass --db)")
