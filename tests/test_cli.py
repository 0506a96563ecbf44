from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from earful.cli import app
from sql.store import Store

runner = CliRunner()


def invoke(*args: str, **kwargs):
    result = runner.invoke(app, list(args), catch_exceptions=False, **kwargs)
    result.text = " ".join(result.output.split())  # rich wraps lines to the terminal width
    return result


@pytest.mark.usefixtures("prefect_harness")
def test_demo_end_to_end_twice_gives_the_same_rows(tmp_path):
    db = tmp_path / "demo.duckdb"
    first = invoke("demo", "--db", str(db))
    assert first.exit_code == 0, first.output
    assert "Nimbus Mobile outage" in first.text
    assert "2 opened by this run" in first.text
    assert "malformed feed" in first.text
    store = Store(db)
    counts = {t: store.count(t) for t in ("mentions", "tickets", "ticket_events")}
    assert counts == {"mentions": 6, "tickets": 2, "ticket_events": 2}
    tickets = store.query("open_tickets")
    assert tickets[0]["priority"] == "P1" and "48,000" in tickets[0]["reason"]
    second = invoke("demo", "--db", str(db))
    assert second.exit_code == 0, second.output
    assert "0 opened by this run" in second.text
    assert {t: store.count(t) for t in counts} == counts


def test_init_writes_a_config_doctor_accepts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("init").exit_code == 0
    assert "already exists" in runner.invoke(app, ["init"]).output
    result = invoke("doctor", "--db", str(tmp_path / "x.duckdb"))
    assert result.exit_code == 0, result.output
    assert "ok config" in result.text and "does not exist yet" in result.text
    assert "source acme-news: rss, every 15m" in result.text


def test_doctor_explains_a_bad_config(tmp_path):
    config = tmp_path / "earful.toml"
    config.write_text('[[sources]]\nname = "x"\nkind = "nope"\n')
    result = invoke("doctor", "--config", str(config))
    assert result.exit_code == 1
    assert "sources[0].kind: unknown connector 'nope'" in result.text


def test_ingest_then_tickets_json(tmp_path):
    config = tmp_path / "earful.toml"
    config.write_text('[[brands]]\nname = "Acme"\nterms = ["Acme"]\n')
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps({
        "source": "x", "external_id": "1", "url": "https://x.test/1", "author": "@loud",
        "author_followers": 80_000, "published_at": "2026-11-20T10:00:00Z",
        "text": "Acme is a scam, terrible, I hate them"}) + "\n{broken\n")
    db = tmp_path / "cli.duckdb"
    result = invoke("ingest", str(export), "--config", str(config), "--db", str(db))
    assert result.exit_code == 1  # one line was rejected, and it is said
    assert "1 mentions stored" in result.text and "line 2" in result.text
    listed = invoke("tickets", "--json", "--db", str(db), "--config", str(config))
    (ticket,) = json.loads(listed.output)
    assert ticket["brand"] == "Acme" and ticket["priority"] in ("P1", "P2")


def test_connectors_lists_rss():
    result = invoke("connectors")
    assert result.exit_code == 0 and "rss" in result.output


def test_tickets_without_database_is_explained(tmp_path):
    result = runner.invoke(app, ["tickets", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no database" in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_run_one_cycle_prints_json_summary(tmp_path, rss_server):
    config = tmp_path / "earful.toml"
    config.write_text(
        '[[brands]]\nname = "Acme"\nterms = ["Acme"]\n\n'
        '[[sources]]\nname = "liftoff"\nkind = "rss"\n'
        f'url = "{rss_server.url("/feeds/rss2.xml")}"\naudience = 20000\n')
    result = invoke("run", "--config", str(config), "--db", str(tmp_path / "r.duckdb"), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout[result.stdout.index('{\n  "run_id"'):])
    assert summary["sources"][0]["new"] == 3 and summary["totals"]["tickets"] == 1


def test_run_exits_1_only_when_every_source_failed(tmp_path, rss_server):
    config = tmp_path / "earful.toml"
    good = rss_server.url("/feeds/rss2.xml")
    broken = rss_server.url("/feeds/no-such-feed.xml")
    sources = '[[sources]]\nname = "{}"\nkind = "rss"\nurl = "{}"\n\n'
    brand = '[[brands]]\nname = "Acme"\nterms = ["Acme"]\n\n'
    db = str(tmp_path / "r.duckdb")
    config.write_text(brand + sources.format("good", good) + sources.format("gone", broken))
    partly = runner.invoke(app, ["run", "--config", str(config), "--db", db, "--json"])
    assert partly.exit_code == 0
    config.write_text(brand + sources.format("gone", broken))
    # --force: the failed source backs off and would not be due again yet
    failed = runner.invoke(app, ["run", "--config", str(config), "--db", db, "--json",
                                 "--force"])
    assert failed.exit_code == 1 and "every source failed" in failed.stderr
    assert json.loads(failed.stdout[failed.stdout.index('{\n  "run_id"'):])["sources"][0][
        "status"] == "error"


def test_a_named_config_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EARFUL_DB", raising=False)
    db = tmp_path / "desk.duckdb"
    Store(db).migrate()
    missing = str(tmp_path / "earful.tml")  # a typo: without the check, the defaults run
    for args in (["tickets", "--config", missing, "--db", str(db)],
                 ["tickets", "sla", "--config", missing, "--db", str(db)],
                 ["users", "list", "--config", missing, "--db", str(db)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert "no such config file" in " ".join(result.output.split()), args
    # Nor does `users add` create a database the config never named.
    added = runner.invoke(app, ["users", "add", "carol", "--config", missing,
                                "--password-stdin"], input="a long passphrase\n")
    assert added.exit_code == 2 and not (tmp_path / "earful.duckdb").exists()


def test_users_remove_does_not_create_a_database(tmp_path):
    db = tmp_path / "typo.duckdb"
    result = runner.invoke(app, ["users", "remove", "carol", "--db", str(db)],
                           env={"EARFUL_CONFIG": str(tmp_path / "absent.toml")})
    assert result.exit_code == 2 and "no database" in result.output
    assert not db.exists()


def test_init_where_it_cannot_write_is_explained(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "no" / "such" / "earful.toml")])
    assert result.exit_code == 2 and "cannot write" in result.output, result.output
    folder = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert folder.exit_code == 2 and "cannot write" in folder.output


def test_tickets_list_refuses_unknown_filters_and_takes_json_first(tmp_path):
    db = tmp_path / "desk.duckdb"
    Store(db).migrate()
    env = {"EARFUL_CONFIG": str(tmp_path / "absent.toml")}
    for option, value, known in (("--status", "closed", "resolved"), ("--priority", "P9", "P1")):
        result = runner.invoke(app, ["tickets", "list", option, value, "--db", str(db)], env=env)
        assert result.exit_code == 2 and known in result.output, result.output
    lower = runner.invoke(app, ["tickets", "list", "--priority", "p1", "--json", "--db",
                                str(db)], env=env)
    assert lower.exit_code == 0 and json.loads(lower.stdout) == []
    # --json given to `tickets` before the subcommand still means JSON.
    for sub in (["list"], ["sla"], ["escalate"]):
        result = runner.invoke(app, ["tickets", "--json", *sub, "--db", str(db)], env=env)
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)
