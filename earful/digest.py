"""The daily digest: read the period from the store, draw the charts, write the report folder
(index.html with its PNG charts beside it, digest.md, digest.json). Shared by `earful report`
and the `digest` flow."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from earful.digest_charts import Chart, render_charts
from earful.digest_data import Digest, collect_digest
from earful.digest_html import render_html, render_markdown
from earful.digest_metrics import parse_since
from earful.settings import Settings
from sql.store import Store

__all__ = ["DEFAULT_OUT", "DEFAULT_SINCE", "Report", "report_folder", "write_report"]

DEFAULT_OUT = Path("reports")
DEFAULT_SINCE = "24h"


@dataclass(frozen=True, slots=True)
class Report:
    folder: Path
    html: Path
    charts: list[Path]
    markdown: str
    digest: Digest


def report_folder(out: Path, until: datetime) -> Path:
    """One folder per UTC day: a second run the same day replaces that day's report."""
    return out / f"digest-{until.astimezone(UTC):%Y-%m-%d}"


def _replace_folder(built: Path, target: Path) -> None:
    """Swap the finished folder in, so a reader never sees half a report."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    built.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(
    settings: Settings,
    *,
    since: str | datetime = DEFAULT_SINCE,
    out: Path = DEFAULT_OUT,
    until: datetime | None = None,
) -> Report:
    """Write the digest of [since, until) (until: now) to out/digest-YYYY-MM-DD/."""
    until = (until or datetime.now(UTC)).astimezone(UTC)
    start = since if isinstance(since, datetime) else parse_since(since, until)
    if start >= until:
        raise ValueError(f"--since: {start:%Y-%m-%d %H:%M} UTC is not before "
                         f"{until:%Y-%m-%d %H:%M} UTC")
    digest = collect_digest(Store(settings.db_path), settings, start.astimezone(UTC), until)
    target = report_folder(out, until)
    out.mkdir(parents=True, exist_ok=True)
    built = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=out))
    try:
        charts: list[Chart] = render_charts(digest, built)
        html_path = target / "index.html"
        (built / "index.html").write_text(render_html(digest, charts), encoding="utf-8")
        markdown = render_markdown(digest, str(html_path.resolve()))
        (built / "digest.md").write_text(markdown, encoding="utf-8")
        (built / "digest.json").write_text(
            json.dumps(digest.numbers(), indent=2, default=str) + "\n", encoding="utf-8")
        built.chmod(0o755)  # mkdtemp makes it owner-only; a report is meant to be shared
        _replace_folder(built, target)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    return Report(target, html_path, [target / c.filename for c in charts], markdown, digest)
