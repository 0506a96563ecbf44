"""`earful notify status` shows what a person must look at; `earful notify send` delivers."""

from __future__ import annotations

import json

import httpx
from notify_receivers import receiver
from notify_support import NOW, channels_config, make_settings_dict, open_tickets, secrets_env
from notify_support import settings_for as notify_settings
from typer.testing import CliRunner

import notify
from earful.cli import app
from sql.store import Store


def test_status_lists_what_was_not_sent_and_send_delivers(tmp_path, monkeypatch):
    with receiver() as rx:
        for name, value in secrets_env(rx.base_url).items():
            monkeypatch.setenv(name, value)
        channels = {"care-slack": channels_config(rx.base_url)["care-slack"]}
        data = make_settings_dict(tmp_path, channels)
        settings = notify_settings(data)
        store = Store(settings.db_path)
        open_tickets(store, 2)
        rx.fail_next = [404]
        with httpx.Client(timeout=10) as client:
            notify.enqueue(store, settings, NOW)
            notify.deliver_pending(store, settings, client, NOW)

        runner = CliRunner()
        db = str(settings.db_path)
        result = runner.invoke(app, ["notify", "status", "--db", db, "--json"])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines()]
        assert [r["status"] for r in rows] == ["failed"]
        assert rows[0]["channel"] == "care-slack" and "HTTP 404" in rows[0]["last_error"]
        everything = runner.invoke(app, ["notify", "status", "--db", db, "--json", "--all"])
        assert sorted(json.loads(line)["status"] for line in everything.output.splitlines()) \
            == ["failed", "sent"]
        secret = secrets_env(rx.base_url)
        assert not any(value in everything.output for value in secret.values())

        config = tmp_path / "earful.toml"
        config.write_text(
            f'[database]\npath = "{db}"\n\n[[brands]]\nname = "Acme"\nterms = ["Acme"]\n')
        sent = runner.invoke(app, ["notify", "send", "--config", str(config)])
        assert sent.exit_code == 0 and "enqueued 0" in sent.output


def test_status_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(app, ["notify", "status", "--db", str(tmp_path / "no.duckdb")])
    assert result.exit_code == 2 and "no database at" in result.output
