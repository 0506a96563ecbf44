"""Two listen runs started at the same moment, in two processes, on one DuckDB file: both
complete; an analyst querying the published snapshot throughout always gets answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from sql.store import Store

EARFUL = str(Path(sys.executable).with_name("earful"))


def _config(tmp_path: Path, name: str, db: Path, feeds: dict[str, str]) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[database]\npath = "{db}"\n\n'
        '[[brands]]\nname = "Acme"\nterms = ["Acme", "Liftoff"]\n\n'
        '[[brands]]\nname = "Nimbus"\nterms = ["Nimbus"]\n\n'
        + "".join(f'[[sources]]\nname = "{source}"\nkind = "rss"\nurl = "{url}"\n'
                  'audience = 20000\n\n' for source, url in feeds.items()))
    return path


def _run(config: Path, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": ""}
    return subprocess.Popen([EARFUL, "run", "--force", "--json", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_listen_runs_at_once_and_a_reader_throughout(tmp_path, rss_server):
    db = tmp_path / "shared.duckdb"
    snapshot = tmp_path / "shared.snapshot.duckdb"
    feeds = {name: rss_server.url(f"/feeds/{name}") for name in
             ("rss2.xml", "atom.xml", "google-alerts.xml")}
    first = _config(tmp_path, "first", db, {"liftoff": feeds["rss2.xml"],
                                            "atom": feeds["atom.xml"]})
    second = _config(tmp_path, "second", db, {"alerts": feeds["google-alerts.xml"],
                                              "liftoff-again": feeds["rss2.xml"]})
    Store(db).migrate()
    Store(db).publish_snapshot(snapshot)  # what an analyst has before the flows start

    answers: list[int] = []
    failures: list[str] = []
    done = threading.Event()

    def analyst() -> None:
        while not done.is_set():
            try:
                with duckdb.connect(str(snapshot), read_only=True) as con:
                    answers.append(con.execute(
                        "SELECT count(*) FROM mention_feed").fetchone()[0])
            except Exception as exc:  # any error is what this test is about
                failures.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.02)

    reader = threading.Thread(target=analyst)
    reader.start()
    runs = [_run(first, tmp_path / "home-1"), _run(second, tmp_path / "home-2")]
    try:
        outputs = [run.communicate(timeout=240) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
        done.set()
        reader.join()

    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr[-2000:]
        summary = json.loads(stdout[stdout.index('{\n  "run_id"'):])
        assert all(line["status"] == "ok" for line in summary["sources"]), summary
    assert failures == []
    assert len(answers) > 10
    with duckdb.connect(str(db), read_only=True) as con:
        live = con.execute("SELECT count(*) FROM mention_feed").fetchone()[0]
        sources = {r[0] for r in con.execute("SELECT DISTINCT source_name FROM mentions")
                   .fetchall()}
    # Both runs poll the same feed under two names: its items are one mention each, kept by
    # whichever run stored them first, so either name may own them.
    assert {"atom", "alerts"} <= sources
    assert sources & {"liftoff", "liftoff-again"}
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM mention_feed").fetchone()[0] == live
