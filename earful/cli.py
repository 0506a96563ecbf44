"""The `earful` command line (typer + rich). Each command is a thin shell over a module."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from earful.settings import ConfigError, load_settings

# Before anything imports Prefect: no usage telemetry from a listening tool.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    name="earful",
    help="Listen for brand mentions, find the unhappy customers whose words may travel far, "
    "and make sure someone answers in time.",
    no_args_is_help=True,
    add_completion=False,
)
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


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _settings(config: Path | None, db: Path | None, *, required: bool = True) -> Any:
    try:
        return load_settings(config, db, required=required)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="where to write the config")] = Path("earful.toml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a commented starter earful.toml."""
    from importlib import resources

    if path.exists() and not force:
        raise _fail(f"{path} already exists (use --force to overwrite)")
    path.write_text(resources.files("earful").joinpath("starter.toml").read_text("utf-8"),
                    encoding="utf-8")
    console.print(f"Wrote {path}. Edit the brands and sources, then run [bold]earful doctor[/].")


@app.command()
def demo(db: DbOpt = None) -> None:
    """Listen to bundled sample feeds for two fictional brands, offline, and show the tickets."""
    # The flow's own log lines would bury the summary; warnings and errors still show.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from earful.demo import DEFAULT_DEMO_DB, run_demo
    from earful.render import summary_table, tickets_view

    db_path = db or Path(os.environ.get("EARFUL_DB") or DEFAULT_DEMO_DB)
    with console.status("Listening to the demo feeds (starting a temporary Prefect server)…"):
        result = run_demo(db_path)
    console.print(summary_table(result.summary))
    opened = result.summary["totals"]["tickets"]
    console.print(tickets_view(
        result.tickets, f"\nOpen response tickets ({opened} opened by this run)"))
    counts = result.counts
    console.print(
        f"\nStored in [bold]{escape(str(result.db_path))}[/]: {counts['mentions']} mentions, "
        f"{counts['tickets']} tickets, {counts['ticket_events']} ticket events. "
        f"Run the demo again: the same rows, no new ticket.\n"
        "Analysts: open it read-only in DuckDB and start from the views mention_feed, "
        "ticket_queue, daily_brand_sentiment and source_health."
    )


@app.command()
def run(
    config: ConfigOpt = None,
    db: DbOpt = None,
    source: Annotated[list[str] | None,
                      typer.Option("--source", "-s", help="only this source (repeatable)")] = None,
    force: Annotated[bool, typer.Option("--force", help="poll sources that are not due")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run one listening cycle (the `listen` flow) on the configuration."""
    settings = _settings(config, db)
    if as_json:  # keep stdout machine-readable; warnings still reach stderr
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from earful.render import summary_table
    from flows.listen import listen

    with console.status(f"Listening to {len(settings.sources)} sources…"):
        summary = listen(config=str(config) if config else None,
                         db=str(settings.db_path), sources=source, force=force)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        console.print(summary_table(summary))


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="JSON lines file, or - for stdin")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    workers: Annotated[int | None,
                       typer.Option(help="scoring processes [default: all cores]")] = None,
) -> None:
    """Bulk-load a JSON-lines export through the same pipeline and store."""
    from earful.ingest import ingest_file

    settings = _settings(config, db)
    total = None
    if str(file) != "-":
        if not file.exists():
            raise _fail(f"no such file: {file}")
        total = file.stat().st_size
    progress = Progress(TextColumn("ingest"), BarColumn(), DownloadColumn(),
                        TimeElapsedColumn(), console=err, transient=True)
    with progress:
        task = progress.add_task("bytes", total=total)
        report = ingest_file(file, settings, workers=workers,
                             on_chunk=lambda _lines, size: progress.advance(task, size))
    console.print(
        f"Ingested {report.lines:,} lines into {escape(str(settings.db_path))}: "
        f"{report.stored:,} mentions stored ({report.new:,} new), {report.unmatched:,} named no "
        f"brand, {report.tickets:,} tickets opened, {len(report.errors):,} lines rejected."
    )
    for line in report.errors[:20]:
        err.print(f"[yellow]rejected[/] {escape(line)}")
    if len(report.errors) > 20:
        err.print(f"… and {len(report.errors) - 20:,} more rejected lines")
    if report.errors:
        raise typer.Exit(1)


@app.command()
def tickets(
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List open tickets, most urgent first."""
    from earful.render import tickets_view
    from sql.store import Store

    settings = _settings(config, db, required=False)
    if not settings.db_path.exists():
        raise _fail(f"no database at {settings.db_path} (run `earful run` or `earful demo`)")
    rows = Store(settings.db_path).query("open_tickets")
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
    elif rows:
        console.print(tickets_view(rows, f"{len(rows)} open tickets, most urgent first"))
    else:
        console.print("No open tickets.")


@app.command()
def connectors() -> None:
    """List the available connectors with the settings and secrets each needs."""
    from rich.table import Table

    from connectors.registry import CONNECTORS

    table = Table(title="Connectors", title_justify="left", show_lines=True)
    for column in ("name", "what it fetches", "settings", "secrets"):
        table.add_column(column, overflow="fold")
    for name in sorted(CONNECTORS):
        c = CONNECTORS[name]
        table.add_row(
            name, c.summary,
            "\n".join(f"{k}: {v}" for k, v in c.settings.items()) or "-",
            "\n".join(f"{k}: {v}" for k, v in c.secrets.items()) or "none",
        )
    console.print(table)


@app.command()
def doctor(config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Check the config, the database and every source; explain each problem."""
    from earful.doctor import run_checks

    checks = run_checks(config, db)
    marks = {"ok": "[green]ok[/]  ", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
    for check in checks:
        console.print(f"{marks[check.level]} {escape(check.subject)}: {escape(check.detail)}")
    if any(c.level == "fail" for c in checks):
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry point
    app(sys.argv[1:])
