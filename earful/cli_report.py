"""`earful report`: write the daily digest (HTML with PNG charts) for a period to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from earful.clicommon import ConfigOpt, DbOpt, console, fail, require_database, settings_for

__all__ = ["app", "report"]

app = typer.Typer()


@app.command()
def report(
    since: Annotated[str, typer.Option(
        "--since", help="start of the period: a duration before now ('24h', '7d') or an ISO "
                        "date or date-time (UTC unless it has an offset)")] = "24h",
    out: Annotated[Path, typer.Option(
        "--out", help="folder for the reports; this one goes to DIR/digest-YYYY-MM-DD/",
        metavar="DIR")] = Path("reports"),
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Write the digest (HTML report with PNG charts) of the mentions found since --since."""
    from earful.digest import write_report
    from earful.digest_html import format_seconds

    settings = settings_for(config, db, required=False)
    require_database(settings)
    try:
        result = write_report(settings, since=since, out=out)
    except ValueError as exc:
        raise fail(str(exc)) from None
    d = result.digest
    totals = d.ticket_totals()
    first = d.overall_first_response
    own = d.nps[0][2]
    median = (format_seconds(first["median_seconds"]) if first and first["responses"]
              else "none")
    console.print(
        f"Digest of {d.mentions:,} mentions first seen since {d.since:%Y-%m-%d %H:%M} UTC: "
        f"{totals['open']:,} open tickets ({totals['breached']:,} breached), median first "
        f"response {median}, social NPS {'–' if own.nps is None else f'{own.nps:+.0f}'}."
    )
    console.print(f"Wrote [bold]{escape(str(result.html))}[/] with "
                  f"{len(result.charts)} charts beside it.")
