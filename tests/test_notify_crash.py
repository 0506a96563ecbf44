"""A real crash between sending and marking sent: a child process delivers, the loopback
receiver SIGKILLs it the moment the notification arrives (before answering), and a rerun
must not send anything twice. GitHub and Zendesk are asked and the row is recorded as sent;
Slack, the webhook and e-mail cannot be asked, so the row is 'uncertain' and never resent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from notify_receivers import receiver, smtp_receiver
from notify_support import (
    NOW,
    channels_config,
    make_settings_dict,
    open_tickets,
    secrets_env,
    settings_for,
)

import notify
from sql.store import Store, load_query

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

CHILD = Path(__file__).parent / "notify_child.py"
CHANNEL_OF = {"slack": "care-slack", "webhook": "ops-hook", "email": "mail", "github": "gh",
              "zendesk": "zd"}


def rows(store: Store) -> list[dict]:
    with store.connect() as con:
        cur = con.execute("SELECT * FROM outbox")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def arrived(rx, smtp, sink: str) -> int:
    return len(smtp.messages) if sink == "email" else len(rx.deliveries(sink))


@pytest.mark.parametrize("sink", list(CHANNEL_OF))
def test_crash_after_sending_then_rerun_sends_nothing_twice(tmp_path, monkeypatch, sink):
    with receiver() as rx, smtp_receiver(require_auth=True) as smtp:
        env = secrets_env(rx.base_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        name = CHANNEL_OF[sink]
        data = make_settings_dict(tmp_path, {name: channels_config(rx.base_url,
                                                                    smtp.port)[name]})
        settings = settings_for(data)
        store = Store(settings.db_path)
        [ticket] = open_tickets(store, 1)
        assert notify.enqueue(store, settings, NOW) == 1
        config = tmp_path / "config.json"
        config.write_text(json.dumps(data))

        child = subprocess.Popen([sys.executable, str(CHILD), str(config), NOW.isoformat()],
                                 env={**os.environ, **env}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)

        def crash(kind: str) -> None:
            os.kill(child.pid, signal.SIGKILL)

        rx.on_delivery = smtp.on_delivery = crash
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        rx.on_delivery = smtp.on_delivery = None
        assert arrived(rx, smtp, sink) == 1
        [row] = rows(store)
        assert row["status"] == "sending"

        # Reruns: too soon (the sender might still be at work) and then after the lease.
        with httpx.Client(timeout=10) as client:
            for later in (timedelta(minutes=1), timedelta(minutes=11), timedelta(minutes=40)):
                notify.enqueue(store, settings, NOW + later)
                notify.deliver_pending(store, settings, client, NOW + later)
        assert arrived(rx, smtp, sink) == 1
        assert rx.problems == []
        [row] = rows(store)
    if sink in ("github", "zendesk"):
        assert row["status"] == "sent" and row["external_id"] in ("1", "5001")
    else:
        assert row["status"] == "uncertain" and "interrupted" in row["last_error"]
        with store.connect() as con:
            assert con.execute("SELECT ticket_id FROM ticket_events WHERE action = "
                               "'notify_uncertain'").fetchall() == [(ticket,)]


def test_crash_after_claiming_but_before_sending_sends_once_on_github(tmp_path, monkeypatch):
    with receiver() as rx, httpx.Client(timeout=10) as client:
        for name, value in secrets_env(rx.base_url).items():
            monkeypatch.setenv(name, value)
        settings = settings_for(make_settings_dict(
            tmp_path, {"gh": channels_config(rx.base_url)["gh"]}))
        store = Store(settings.db_path)
        open_tickets(store, 1)
        notify.enqueue(store, settings, NOW)
        [row] = rows(store)
        # What a process does right before it dies: claim the row, commit, and no more.
        with store.transaction() as con:
            con.execute(load_query("notify_claim"), {"id": row["id"], "now": NOW})
        for minutes in (5, 15, 25):
            notify.deliver_pending(store, settings, client, NOW + timedelta(minutes=minutes))
        [row] = rows(store)
        assert row["status"] == "sent" and len(rx.issues) == 1
        assert [h.method for h in rx.hits] == ["GET", "POST"]
