"""Helpers for the web tests: the seed mentions (hostile ones included), a loopback uvicorn
server in a thread, and signing in over HTTP."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from earful.settings import Settings
from sql.store import Store

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("EARFUL_CHROMIUM", "/usr/bin/chromium")

# Complaints loud enough to open tickets (followers × 0.15 well over 6,000 people).
_COMPLAINTS = [
    ("c1", "@dana", "Dana Reyes", "Acme still not working after 3 days, I want a refund now!"),
    ("c2", "@omar", "Omar Haddad", "Acme charged me twice and support never answered. "
                                   "Worst service ever, fix this!"),
    ("c3", "@lin", "Lin Wu", "My Acme order never arrived, still waiting after two weeks. "
                             "Where is my money?"),
    ("c4", "@pat", "Pat Kim", "Acme app crashes every time I open it, 4th attempt today. "
                              "Useless!"),
]
HOSTILE_TEXT = ("Acme still not working!!! <script>window.__pwned = 'text'; alert('text')"
                "</script><img src=x onerror=\"window.__pwned='img'; alert('img')\"> "
                "<a href=\"javascript:alert('a')\">click</a> refund me now, 3 days waiting")
HOSTILE_NAME = "<img src=x onerror=alert('name')>Eve<script>alert('name2')</script>"
HOSTILE_HANDLE = "@eve\"><svg onload=alert('handle')>"
HOSTILE_URL = "javascript:alert('url')"
HOSTILE_AUTHOR_URL = "JaVaScRiPt:alert('author')"
# A right-to-left override in a name, and tokens no line break can split.
ODD_NAME = "Care Team \u202e"
ODD_HANDLE = "@odd_one"
ODD_TEXT = ("Acme lost my parcel and support is useless, I want a refund now! 😡 "
            "https://example.com/" + "a" * 300)
ODD_TITLE = "T" * 400


def seed_lines() -> list[dict[str, Any]]:
    lines = [{"source": "mastodon", "external_id": ext, "text": text,
              "author": {"handle": handle, "name": name}, "author_followers": 250_000,
              "url": f"https://social.example/{ext}"}
             for ext, handle, name, text in _COMPLAINTS]
    # Dana's earlier post: the ticket page shows it as the author's history.
    lines.append({"source": "mastodon", "external_id": "c1-before",
                  "text": "Trying the new Acme plan today, looks nice",
                  "author": {"handle": "@dana", "name": "Dana Reyes"},
                  "author_followers": 250_000, "published_at": "2024-01-02T10:00:00Z"})
    lines.append({"source": "mastodon", "external_id": "hostile", "text": HOSTILE_TEXT,
                  "author": {"handle": HOSTILE_HANDLE, "name": HOSTILE_NAME},
                  "author_url": HOSTILE_AUTHOR_URL, "author_followers": 250_000,
                  "url": HOSTILE_URL})
    lines.append({"source": "mastodon", "external_id": "odd", "text": ODD_TEXT,
                  "title": ODD_TITLE, "author": {"handle": ODD_HANDLE, "name": ODD_NAME},
                  "author_followers": 250_000, "url": "https://social.example/odd"})
    return lines


@dataclass(frozen=True)
class Desk:
    settings: Settings
    store: Store
    base_url: str

    def ticket_id(self, external_id: str) -> str:
        with self.store.connect() as con:
            row = con.execute("SELECT t.id FROM tickets t JOIN mentions m ON m.id = t.mention_id "
                              "WHERE m.external_id = ?", [external_id]).fetchone()
        assert row, f"no ticket for mention {external_id}"
        return row[0]

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        with self.store.connect() as con:
            cur = con.execute("SELECT * FROM tickets WHERE id = ?", [ticket_id])
            return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))

    def events(self, ticket_id: str) -> list[dict[str, Any]]:
        with self.store.connect() as con:
            cur = con.execute("SELECT actor, action, detail FROM ticket_events "
                              "WHERE ticket_id = ? ORDER BY occurred_at, id", [ticket_id])
            return [dict(zip(("actor", "action", "detail"), r, strict=True))
                    for r in cur.fetchall()]


class Server:
    """uvicorn on a socket we bound ourselves (port 0: the OS picks a free one)."""

    def __init__(self, app: Any):
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", server_header=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def sign_in(client: httpx.Client, name: str = "alice", password: str = PASSWORD) -> httpx.Response:
    """Sign in the way a browser does: fetch the form (and its cookie), post it back."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"csrf_token": token, "name": name,
                                       "password": password, "next": "/queue"})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
