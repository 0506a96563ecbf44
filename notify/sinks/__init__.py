"""Where notifications go: one module per receiver, each a `Sink` (send, and find for the
receivers that can be asked whether an interrupted send went through)."""

from __future__ import annotations

from notify.sinks import email, github, slack, webhook, zendesk
from notify.sinks.base import Delivery, DeliveryError, SendContext, Sink

__all__ = ["SINKS", "Delivery", "DeliveryError", "SendContext", "Sink"]

SINKS: dict[str, Sink] = {
    sink.name: sink
    for sink in (slack.SINK, webhook.SINK, email.SINK, github.SINK, zendesk.SINK)
}
