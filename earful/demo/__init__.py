"""`earful demo`: listen to bundled sample feeds for two fictional brands, served from a
loopback server started and stopped here, through the real `listen` flow. Offline."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from earful.fixtureserver import routes_from_dir, serve
from earful.settings import load_settings
from sql.store import Store

__all__ = ["DEFAULT_DEMO_DB", "DemoResult", "run_demo"]

DEFAULT_DEMO_DB = Path("earful-demo.duckdb")


@dataclass(frozen=True, slots=True)
class DemoResult:
    summary: dict[str, Any]
    tickets: list[dict[str, Any]]
    counts: dict[str, int]
    db_path: Path
    snapshot_path: Path | None  # the copy analysts open (None: snapshots are off)


def demo_config(base_url: str) -> str:
    template = resources.files("earful.demo").joinpath("demo.toml").read_text(encoding="utf-8")
    return template.replace("{base_url}", base_url)


def run_demo(db_path: Path) -> DemoResult:
    from flows.listen import listen  # imports Prefect: only when the demo really runs

    feeds = Path(str(resources.files("earful.demo").joinpath("feeds")))
    with serve(routes_from_dir(feeds, "/feeds/")) as server, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "earful-demo.toml"
        config.write_text(demo_config(server.base_url), encoding="utf-8")
        # force: poll every source now, due or not, so a second demo shows the 304 path.
        summary = listen(config=str(config), db=str(db_path), force=True)
        snapshot = load_settings(config, db_path).snapshot_path
    store = Store(db_path)
    counts = {table: store.count(table) for table in ("mentions", "tickets", "ticket_events")}
    return DemoResult(summary, store.query("open_tickets"), counts, db_path, snapshot)
