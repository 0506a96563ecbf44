"""Generic webhook: a JSON POST signed with HMAC-SHA256.

Headers (the scheme Stripe and Slack use for their own webhooks: the timestamp is signed with
the body, so a captured request cannot be replayed later with another timestamp):
  X-Earful-Timestamp   Unix seconds when the request was signed
  X-Earful-Signature   "sha256=" + hex HMAC-SHA256(secret, "{timestamp}." + raw body)
  X-Earful-Event       the notification kind (opened, volume, digest, ...)
  Idempotency-Key      the outbox id: the same notification always carries the same key
A receiver recomputes the signature over the raw body, compares in constant time, and
refuses timestamps older than a few minutes."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx

from notify.messages import Notification, safe_url
from notify.sinks.base import Delivery, DeliveryError, SendContext, Sink, http_send, require_secret

__all__ = ["SINK", "sign", "webhook_body"]

SCHEMA_VERSION = 1


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook_body(note: Notification) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "id": note.id,
        "event": note.kind,
        "occurred_at": note.occurred_at,
        "title": note.title,
        "summary": note.summary,
        "brand": note.brand,
        "priority": note.priority,
        "vip": note.vip,
        "link": note.link,
        "ticket": None,
        "alert": None,
        "digest": None,
    }
    if note.is_digest:
        body["digest"] = {"items": note.items, "more": note.more, **note.detail}
    elif note.is_ticket:
        body["ticket"] = {"id": note.ticket_id, "due_at": note.due_at, "reach": note.reach,
                          "author": note.author, "source": note.source, "url": note.url,
                          "text": note.text, "detail": note.detail}
    else:
        body["alert"] = {"kind": note.kind, "source": note.source, **note.detail}
    return body


def send(ctx: SendContext, note: Notification) -> Delivery:
    channel = ctx.channel
    url = channel.url or require_secret(ctx, channel.url_env)
    if safe_url(url) is None:
        raise DeliveryError(f"{ctx.channel_name}: the webhook URL is not an http(s) URL",
                            permanent=True)
    secret = require_secret(ctx, channel.secret_env, strip=False)
    payload = webhook_body(note)
    # Sign exactly the bytes that go out: httpx encodes json= the same way for the same
    # object, so build them with httpx itself rather than a json.dumps that might differ.
    raw = httpx.Request("POST", url, json=payload).content
    # The wall clock, not the run's `now`: receivers compare it with theirs to refuse replays.
    timestamp = str(int(time.time()))
    headers = {
        "X-Earful-Timestamp": timestamp,
        "X-Earful-Signature": sign(secret, timestamp, raw),
        "X-Earful-Event": note.kind,
        "Idempotency-Key": note.id,
    }
    http_send(ctx, "POST", url, json_body=payload, headers=headers)
    return Delivery()


SINK = Sink("webhook", send)
