"""The `earful` command line (typer + rich). Each command is a thin shell over a module."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from earful import cli_desk, cli_notify, cli_report, cli_sources, cli_web
from earful.clicommon import ConfigOpt, DbOpt, console, err, fail, settings_for

# Before anything imports Prefect: no usage telemetry from a listening tool.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    name="earful",
    help="Listen for brand mentions, find the unhappy customers whose words may travel far, "
    "and make sure someone answers in time.",
    no_args_is_help=True,
    add_completion=False,
)

@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="where to write the config")] = Path("earful.toml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a commented starter earful.toml."""
    from importlib import resources

    if path.exists() and not force:
        raise fail(f"{path} already exists (use --force to overwrite)")
    try:
        path.write_text(resources.files("earful").joinpath("starter.toml").read_text("utf-8"),
                        encoding="utf-8")
    except OSError as exc:  # no such folder, a folder in the way, no permission
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
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
    db_arg = escape(shlex.quote(str(result.db_path)))
    console.print(
        f"\nStored in [bold]{escape(str(result.db_path))}[/]: {counts['mentions']} mentions, "
        f"{counts['tickets']} tickets, {counts['ticket_events']} ticket events. "
        f"Run the demo again: the same rows, no new ticket.\n"
        f"Review the tickets in the browser: [bold]earful users add NAME --db {db_arg}[/], "
        f"then [bold]earful serve --db {db_arg}[/].\n"
        f"Analysts: open [bold]{escape(str(result.snapshot_path or result.db_path))}[/] "
        "read-only in DuckDB and start from the views mention_feed, ticket_queue, "
        "daily_brand_sentiment and source_health."
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
    settings = settings_for(config, db)
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
    polled = summary["sources"]
    if polled and all(entry["status"] == "error" for entry in polled):
        # Each failure is recorded and retried with backoff; a cron job or a script should
        # still notice that nothing was heard at all.
        raise fail("every source failed (see the messages above)", code=1)


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

    settings = settings_for(config, db)
    total = None
    if str(file) != "-":
        if not file.exists():
            raise fail(f"no such file: {file}")
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
def score(
    file: Annotated[str, typer.Argument(help="JSON lines with id and text, a CSV file with a "
                                             "text column, or - for stdin")] = "-",
    csv_input: Annotated[bool, typer.Option("--csv", help="read CSV (default for *.csv)")] = False,
    text_col: Annotated[str, typer.Option(help="CSV column holding the text")] = "text",
    id_col: Annotated[str, typer.Option(help="CSV column holding the id")] = "id",
    workers: Annotated[int | None, typer.Option(help="processes [default: all cores]")] = None,
) -> None:
    """Score texts: sentiment, complaint likelihood, language and reasons, as JSON lines."""
    from earful.scoring import InputError, json_line_items, read_records, score_lines

    is_csv = csv_input or file.lower().endswith(".csv")
    if file != "-" and not Path(file).exists():
        raise fail(f"no such file: {file}")
    handle = sys.stdin if file == "-" else open(file, encoding="utf-8", newline="")  # noqa: SIM115
    try:
        items = (read_records(handle, csv_input=True, text_col=text_col, id_col=id_col)
                 if is_csv else json_line_items(handle))
        out = sys.stdout
        for line in score_lines(items, workers):
            out.write(line + "\n")
    except InputError as exc:
        raise fail(str(exc)) from None
    finally:
        if handle is not sys.stdin:
            handle.close()


@app.command(name="eval")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="CSV file with a text and a label column")],
    text_col: Annotated[str, typer.Option("--text-col", help="column with the text")] = "text",
    label_col: Annotated[str, typer.Option("--label-col", help="column with the label: 1/0 "
                                           "for complaints, or a number for sentiment")] = "label",
) -> None:
    """Measure earful against labelled data: P/R/F1 for complaints, Pearson r for sentiment."""
    from earful.scoring import InputError, evaluate

    if not file.exists():
        raise fail(f"no such file: {file}")
    try:
        result = evaluate(file.read_text(encoding="utf-8"), text_col, label_col)
    except InputError as exc:
        raise fail(str(exc)) from None
    for line in result.lines():
        console.print(line)


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
            "\n".join([*(f"{k}: {v}" for k, v in c.secrets.items()),
                       *(f"{k} (optional): {v}" for k, v in c.optional_secrets.items())])
            or "none",
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


app.command()(cli_sources.sources)
app.add_typer(cli_web.app)
app.add_typer(cli_report.app)
app.add_typer(cli_desk.app, name="tickets")
app.add_typer(cli_notify.app, name="notify")


def main() -> None:  # pragma: no cover - console entry point
    app(sys.argv[1:])
