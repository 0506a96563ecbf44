"""Small parsers for the fields API payloads share: counts, ids, links, times and language
codes. Each takes whatever the JSON held and gives a clean value or None (times raise
ValueError instead, as a mention cannot be dated without one)."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "count",
    "epoch_time",
    "http_url",
    "ident",
    "integer",
    "iso_utc",
    "lang_code",
    "parse_link_header",
    "parse_time",
    "time_or_none",
    "written_time",
]

# Fractions of a second finer than microseconds (AT Protocol allows them): cut to six digits.
_FRACTION = re.compile(r"(\.\d{6})\d+")
_WEEKDAY = re.compile(r"^\s*[^\W\d_]{2,12}\.?,\s*")
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
# Language tags that name no language: undetermined, no linguistic content.
NO_LANGUAGE = frozenset({"und", "zxx"})
# One entry of an RFC 8288 Link header: <url>; rel="name".
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


def integer(value: Any) -> int | None:
    """An integer from a JSON number or a numeric string (Google encodes 64-bit counts as
    strings, "12345"); None for anything else (null, booleans, text, NaN)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Counts are stored as BIGINT; a larger "count" (a uint64 field's garbage) is not one.
_MAX_COUNT = 2**63 - 1


def count(value: Any) -> int | None:
    """A count (likes, followers, views): a non-negative integer, else None."""
    number = integer(value)
    return number if number is not None and 0 <= number <= _MAX_COUNT else None


def ident(value: Any) -> str | None:
    """An id as text (APIs send numbers or strings); None when absent or empty."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    return str(value)


def http_url(value: Any) -> str | None:
    """The value when it is an http(s) URL, else None (no javascript: or relative links)."""
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time as aware UTC; one without an offset is taken as UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("Z", "+00:00")))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def written_time(value: Any) -> datetime | None:
    """A date in one of the written forms besides ISO 8601, as aware UTC: RFC 2822 (e-mail,
    RSS), its weekday ignored (RFC 822 names it in English; feeds in other languages
    localise it, "Di, 10 Nov 2026 09:39:21 +0100", and it only repeats the date), or
    Twitter's "Wed Oct 10 20:19:24 +0000 2018" (an X archive's created_at). None for
    anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value.strip(), _TWITTER_TIME)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(_WEEKDAY.sub("", value, count=1))
        except (TypeError, ValueError, IndexError):
            return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def time_or_none(value: Any) -> datetime | None:
    """`parse_time`, or None when the value is missing or not a time (an old cursor)."""
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def epoch_time(value: Any) -> datetime:
    """Seconds since the epoch (a JSON number) as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not an epoch time: {value!r}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"epoch time out of range: {value!r}") from exc


def iso_utc(when: datetime,
            timespec: Literal["seconds", "milliseconds", "microseconds"] = "seconds") -> str:
    """RFC 3339 in UTC with a Z (2026-11-21T08:15:00Z); one width per timespec, so such
    times kept in a cursor also compare as strings."""
    return when.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def lang_code(value: Any, unknown: Collection[str] = NO_LANGUAGE) -> str | None:
    """The primary language subtag, lower-cased ("en-GB" → "en"); None for no language."""
    if not isinstance(value, str) or not value or value.lower() in unknown:
        return None
    return value.split("-")[0].lower()


def parse_link_header(value: str | None) -> dict[str, dict[str, str]]:
    """rel → the pagination parameters of its URL, from a Link header
    (`<…?max_id=1>; rel="next", <…?min_id=2>; rel="prev"`)."""
    links: dict[str, dict[str, str]] = {}
    for url, rel in _LINK.findall(value or ""):
        query = parse_qs(urlsplit(url).query)
        links[rel.strip()] = {k: v[0] for k, v in query.items() if v}
    return links
