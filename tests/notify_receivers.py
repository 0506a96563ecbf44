"""Loopback receivers for the notification sinks, each checking the payload shape its vendor
documents and answering the way the vendor does:

- Slack incoming webhooks (api.slack.com/messaging/webhooks, Block Kit reference): JSON with
  `text` and `blocks`; header plain_text ≤ 150, section text ≤ 3,000, ≤ 10 fields, ≤ 50
  blocks; answers 200 `ok`, 400 `invalid_blocks`.
- A generic webhook verifying earful's HMAC-SHA256 signature over "{timestamp}.{body}".
- GitHub REST "Create an issue" / "List repository issues" (API version 2022-11-28): the
  Accept, Authorization: Bearer and X-GitHub-Api-Version headers; 201 with number/html_url.
- Zendesk "Create Ticket" / "List Tickets" (`external_id` filter): basic auth
  `{email}/token:{token}`, `{"ticket": {...}}`, Idempotency-Key (a repeated key returns the
  same ticket with `x-idempotency-lookup: hit`).
- SMTP (aiosmtpd) with optional AUTH, keeping the raw DATA bytes and MAIL FROM parameters,
  and optionally refusing every recipient (greylisting).

A receiver refuses a malformed request with 400/422 and records why in `problems`, so a
test that sends the wrong shape fails on that. `on_delivery` runs when a well-formed
delivery arrives, before the answer: the crash tests kill the sending process there."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SLACK_PATH = "/services/T000/B000/XXXXsecretXXXX"
HOOK_PATH = "/hooks/earful"
REPO = "acme/support"
GITHUB_TOKEN = "ghp_test_token_0123456789"
ZENDESK_EMAIL = "agent@acme.test"
ZENDESK_TOKEN = "zd-token-0123456789"
WEBHOOK_SECRET = "whsec-0123456789abcdef"
SMTP_USER = "earful"
SMTP_PASSWORD = "smtp-pass-0123456789"

_SLACK_LINK = re.compile(r"<https?://[^|>\s]+\|[^>]*>")


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """One loopback HTTP server emulating Slack, a webhook, GitHub and Zendesk at once."""

    hits: list[Hit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Answers to give first: a status, or (status, headers).
    fail_next: list[Any] = field(default_factory=list)
    on_delivery: Callable[[str], None] | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_keys: list[str] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def deliveries(self, kind: str) -> list[Hit]:
        """Well-formed deliveries of one kind: slack, webhook, github, zendesk."""
        prefixes = {"slack": SLACK_PATH, "webhook": HOOK_PATH,
                    "github": f"/repos/{REPO}/issues", "zendesk": "/api/v2/tickets.json"}
        return [h for h in self.hits if h.method == "POST"
                and h.path.split("?")[0] == prefixes[kind]]

    # -- emulators: each returns (status, body, headers) -----------------------------------

    def _problem(self, message: str, status: int = 400) -> tuple[int, bytes, dict[str, str]]:
        self.problems.append(message)
        return status, message.encode(), {"Content-Type": "text/plain"}

    def slack(self, hit: Hit) -> tuple[int, bytes, dict[str, str]]:
        if not hit.headers.get("content-type", "").startswith("application/json"):
            return self._problem("slack: not JSON")
        data = hit.json()
        problems = slack_problems(data)
        if problems:
            return self._problem("invalid_blocks: " + "; ".join(problems))
        self._delivered("slack")
        return 200, b"ok", {"Content-Type": "text/html"}

    def webhook(self, hit: Hit) -> tuple[int, bytes, dict[str, str]]:
        timestamp = hit.headers.get("x-earful-timestamp", "")
        signature = hit.headers.get("x-earful-signature", "")
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(),
                                        timestamp.encode() + b"." + hit.body,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return self._problem("webhook: bad signature", 401)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return self._problem("webhook: stale timestamp", 401)
        data = hit.json()
        key = hit.headers.get("idempotency-key")
        for name in ("version", "id", "event", "occurred_at", "title", "summary"):
            if name not in data:
                return self._problem(f"webhook: no {name}")
        if key != data["id"] or hit.headers.get("x-earful-event") != data["event"]:
            return self._problem("webhook: headers disagree with the body")
        self.webhook_keys.append(key)
        self._delivered("webhook")
        return 200, b'{"received": true}', {"Content-Type": "application/json"}

    def github(self, hit: Hit) -> tuple[int, bytes, dict[str, str]]:
        h = hit.headers
        if h.get("authorization") != f"Bearer {GITHUB_TOKEN}":
            return self._problem('{"message": "Bad credentials"}', 401)
        if h.get("accept") != "application/vnd.github+json" or \
                h.get("x-github-api-version") != "2022-11-28" or not h.get("user-agent"):
            return self._problem("github: missing documented headers")
        if hit.method == "GET":
            return self._github_list(hit)
        data = hit.json()
        title = data.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 256:
            return self._problem("github: title missing or too long", 422)
        if not isinstance(data.get("body", ""), str):
            return self._problem("github: body is not a string", 422)
        for key in ("labels", "assignees"):
            if key in data and not all(isinstance(x, str) for x in data[key]):
                return self._problem(f"github: {key} must be strings", 422)
        if set(data) - {"title", "body", "labels", "assignees", "milestone", "type"}:
            return self._problem("github: unknown fields", 422)
        with self._lock:
            number = len(self.issues) + 1
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            issue = {"id": 1000 + number, "number": number, "title": title,
                     "body": data.get("body"), "state": "open",
                     "labels": [{"name": n} for n in data.get("labels", [])],
                     "html_url": f"https://github.com/{REPO}/issues/{number}",
                     "created_at": stamp, "updated_at": stamp}
            self.issues.append(issue)
        self._delivered("github")
        return 201, json.dumps(issue).encode(), {"Content-Type": "application/json"}

    def _github_list(self, hit: Hit) -> tuple[int, bytes, dict[str, str]]:
        query = parse_qs(urlsplit(hit.path).query)
        since = query.get("since", [""])[0]
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        found = [i for i in reversed(self.issues) if not since or i["updated_at"] >= since]
        chunk = found[(page - 1) * per_page: page * per_page]
        return 200, json.dumps(chunk).encode(), {"Content-Type": "application/json"}

    def zendesk(self, hit: Hit) -> tuple[int, bytes, dict[str, str]]:
        expected = "Basic " + base64.b64encode(
            f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode()
        if hit.headers.get("authorization") != expected:
            return self._problem('{"error": "Couldn\'t authenticate you"}', 401)
        if hit.method == "GET":
            wanted = parse_qs(urlsplit(hit.path).query).get("external_id", [None])[0]
            found = [t for t in self.tickets if t["external_id"] == wanted]
            body = {"tickets": found, "count": len(found), "next_page": None}
            return 200, json.dumps(body).encode(), {"Content-Type": "application/json"}
        data = hit.json()
        ticket = data.get("ticket") if isinstance(data, dict) else None
        if not isinstance(ticket, dict):
            return self._problem("zendesk: no ticket object", 422)
        comment = ticket.get("comment")
        if not isinstance(comment, dict) or not isinstance(comment.get("body"), str):
            return self._problem("zendesk: comment.body required", 422)
        if ticket.get("priority") not in (None, "urgent", "high", "normal", "low"):
            return self._problem("zendesk: bad priority", 422)
        if not all(isinstance(t, str) and " " not in t for t in ticket.get("tags", [])):
            return self._problem("zendesk: bad tags", 422)
        key = hit.headers.get("idempotency-key")
        with self._lock:
            if key and key in self.idempotency:
                body = {"ticket": self.idempotency[key]}
                return 201, json.dumps(body).encode(), {"Content-Type": "application/json",
                                                        "x-idempotency-lookup": "hit"}
            ticket_id = 5000 + len(self.tickets) + 1
            created = {"id": ticket_id, "url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json",
                       "subject": ticket.get("subject"), "description": comment["body"],
                       "priority": ticket.get("priority"), "tags": ticket.get("tags", []),
                       "external_id": ticket.get("external_id"), "status": "new"}
            self.tickets.append(created)
            if key:
                self.idempotency[key] = created
        self._delivered("zendesk")
        return 201, json.dumps({"ticket": created}).encode(), {
            "Content-Type": "application/json", "x-idempotency-lookup": "miss"}

    def _delivered(self, kind: str) -> None:
        if self.on_delivery is not None:
            self.on_delivery(kind)

    def route(self, hit: Hit) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self.hits.append(hit)
            if self.fail_next:
                failure = self.fail_next.pop(0)
                status, headers = failure if isinstance(failure, tuple) else (failure, {})
                return status, b"rollup_error", {"Content-Type": "text/plain", **headers}
        path = hit.path.split("?")[0]
        if path == SLACK_PATH and hit.method == "POST":
            return self.slack(hit)
        if path == HOOK_PATH and hit.method == "POST":
            return self.webhook(hit)
        if path == f"/repos/{REPO}/issues":
            return self.github(hit)
        if path == "/api/v2/tickets.json":
            return self.zendesk(hit)
        return 404, b"no_service", {"Content-Type": "text/plain"}

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                hit = Hit(self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()}, body)
                status, payload, headers = receiver.route(hit)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender died (crash tests)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def _text_problems(obj: Any, where: str, limit: int) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("mrkdwn", "plain_text"):
        return [f"{where}: text object needs type mrkdwn or plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text or len(text) > limit:
        return [f"{where}: text must be 1..{limit} characters"]
    if obj["type"] == "mrkdwn" and "<" in _SLACK_LINK.sub("", text):
        return [f"{where}: unescaped '<' (only <http(s)://...|label> links allowed)"]
    return []


def slack_problems(data: Any) -> list[str]:
    """What Slack's Block Kit validation would refuse in this message."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return ["top-level text (the notification fallback) is required"]
    blocks = data.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return ["blocks must be a list of 1..50"]
    problems: list[str] = []
    for i, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text":
                problems.append(f"blocks[{i}]: header text must be plain_text")
            problems += _text_problems(text, f"blocks[{i}]", 150)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"blocks[{i}]: section needs text or fields")
            if "text" in block:
                problems += _text_problems(block["text"], f"blocks[{i}]", 3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"blocks[{i}]: more than 10 fields")
            for j, f in enumerate(fields):
                problems += _text_problems(f, f"blocks[{i}].fields[{j}]", 2000)
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                problems.append(f"blocks[{i}]: context needs 1..10 elements")
            for j, e in enumerate(elements):
                problems += _text_problems(e, f"blocks[{i}].elements[{j}]", 3000)
        elif kind != "divider":
            problems.append(f"blocks[{i}]: unexpected block type {kind!r}")
    return problems


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


# -- SMTP ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpReceiver:
    messages: list[Any] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    # What went over the wire: the DATA bytes and the MAIL FROM parameters (BODY=8BITMIME...).
    raw: list[bytes] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)
    on_delivery: Callable[[str], None] | None = None
    port: int = 0


@contextmanager
def smtp_receiver(require_auth: bool = False,
                  rcpt_reply: str | None = None) -> Iterator[SmtpReceiver]:
    """`rcpt_reply`: refuse every RCPT TO with this reply (a greylisting "450 ...")."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = SmtpReceiver(port=free_port())

    class Handler:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: list[str]) -> str:
            if rcpt_reply:
                return rcpt_reply
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data = envelope.original_content or envelope.content
            box.raw.append(data)
            box.mail_options.append(list(envelope.mail_options))
            message = message_from_bytes(data, policy=policy.default)
            box.messages.append(message)
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            if box.on_delivery is not None:
                box.on_delivery("email")
            return "250 Message accepted for delivery"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and \
                auth_data.login.decode() == SMTP_USER and \
                auth_data.password.decode() == SMTP_PASSWORD:
            box.logins.append(auth_data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    kwargs: dict[str, Any] = {}
    if require_auth:
        kwargs = {"authenticator": authenticator, "auth_required": True,
                  "auth_require_tls": False}
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
