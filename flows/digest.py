"""The `digest` flow: write the daily digest (the same report as `earful report`) and
publish its summary as a Markdown artifact keyed 'digest'. It only orchestrates: the work
lives in earful.digest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext, TaskRunContext

from earful.digest import DEFAULT_SINCE, write_report
from earful.settings import load_settings

__all__ = ["ARTIFACT_KEY", "digest", "publish_markdown"]

ARTIFACT_KEY = "digest"  # Prefect keeps every version under one key: the latest digest
log = logging.getLogger("earful.digest")


def publish_markdown(markdown: str, description: str) -> UUID | None:
    """The digest as a Markdown artifact of the current flow run. Outside a flow or task run
    (a plain call, a script) there is no run to attach it to: nothing is published. A
    failure to publish is logged, never raised: the report folder is already written."""
    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        log.info("digest: not in a Prefect run, no artifact published")
        return None
    try:
        return create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY,
                                        description=description)
    except Exception as exc:  # the API may be down; the files on disk are the report
        log.warning("digest: could not publish the artifact: %s", exc)
        return None


@flow(name="digest", log_prints=False)
def digest(
    config: str | None = None,
    db: str | None = None,
    since: str = DEFAULT_SINCE,
    out: str = "reports",
) -> dict[str, Any]:
    """Write the digest of the mentions found since `since` and publish it as an artifact.

    Args:
        config: path to earful.toml (default: $EARFUL_CONFIG or ./earful.toml; a missing
            file means no competitor brands and default thresholds).
        db: DuckDB file (default: $EARFUL_DB, the config's database.path, ./earful.duckdb).
        since: start of the period: '24h', '7d' before now, or an ISO date or date-time.
        out: folder for the reports; each goes to <out>/digest-YYYY-MM-DD/ (UTC date).
    """
    logger = get_run_logger()
    settings = load_settings(config, db, required=False)
    if settings.db_missing:
        raise FileNotFoundError(f"digest: no database at {settings.db_path}")
    report = write_report(settings, since=since, out=Path(out))
    numbers = report.digest.numbers()
    artifact = publish_markdown(
        report.markdown, f"earful digest {report.digest.until:%Y-%m-%d}: {report.html}")
    logger.info("digest: wrote %s (%s mentions, %s charts)", report.html,
                numbers["mentions"], len(report.charts))
    return {**numbers, "html": str(report.html), "charts": [str(p) for p in report.charts],
            "artifact_id": str(artifact) if artifact else None}


if __name__ == "__main__":
    digest()
