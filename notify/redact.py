"""Keeping secret values out of everything the outbox writes or logs. Sinks already word their
errors without URLs or tokens; this is the second line: every stored or logged error passes
through `Scrubber`, and while notifications are delivered, httpx's own request log lines
(which show the URL, and a Slack webhook's URL is its secret) are scrubbed too."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

__all__ = ["Scrubber", "scrubbed_http_logs"]

REPLACEMENT = "[secret]"
# Shorter values would replace innocent words ("on", "ok"); real secrets are longer.
MIN_SECRET_LENGTH = 6


class Scrubber:
    def __init__(self, secrets: Iterable[str]):
        variants: set[str] = set()
        for raw in secrets:
            raw = raw or ""
            # The stripped value too: sinks strip URLs and tokens, and a library printing a
            # value's repr escapes its trailing newline, so the raw value no longer matches.
            for value in {raw, raw.strip()}:
                if len(value) >= MIN_SECRET_LENGTH:
                    variants |= self._variants_of(value)
        # Longest first, so a URL is replaced whole before its path is.
        self._variants = sorted(variants, key=len, reverse=True)

    @staticmethod
    def _variants_of(value: str) -> set[str]:
        variants = {value, quote(value, safe=""), quote(value, safe="/:")}
        parts = urlsplit(value) if "://" in value else None
        if parts and len(parts.path) >= MIN_SECRET_LENGTH:
            # A URL-valued secret (a webhook URL): its path alone is secret too.
            variants.add(parts.path)
        return variants

    def __call__(self, text: object) -> str:
        out = str(text)
        for variant in self._variants:
            out = out.replace(variant, REPLACEMENT)
        return out


class _ScrubFilter(logging.Filter):
    def __init__(self, scrub: Scrubber):
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# httpx logs each request with its URL on "httpx"; connectors.http logs retries (none here:
# the outbox calls it with retries=0) on "earful.http"; httpcore's DEBUG traces repr their
# exceptions, and h11's "Illegal header value" quotes an Authorization header whole. A
# logger's filter does not see its children's records, so each httpcore logger is named.
_LOGGERS = ("httpx", "earful.http", "httpcore.connection", "httpcore.http11",
            "httpcore.http2", "httpcore.proxy", "httpcore.socks")


@contextmanager
def scrubbed_http_logs(scrub: Scrubber) -> Iterator[None]:
    log_filter = _ScrubFilter(scrub)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)
