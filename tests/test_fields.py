from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.fields import (
    count,
    epoch_time,
    http_url,
    ident,
    integer,
    iso_utc,
    lang_code,
    parse_time,
    time_or_none,
)


@pytest.mark.parametrize(("value", "expected"), [
    (12, 12), (0, 0), (-3, -3), ("12345", 12345), ("-2", -2), (7.9, 7),
    (None, None), (True, None), (False, None), ("", None), ("12k", None), ("1.5", None),
    (float("nan"), None), (float("inf"), None), ([], None), ({}, None),
])
def test_integer_reads_numbers_and_numeric_strings_only(value, expected):
    assert integer(value) == expected


def test_count_is_a_non_negative_integer():
    assert count(48210) == 48210 and count("250000") == 250000 and count(0) == 0
    assert count(-1) is None and count("-5") is None
    assert count(None) is None and count(True) is None and count("n/a") is None
    assert count(str(2**63 - 1)) == 2**63 - 1 and count(str(2**64 - 1)) is None


@pytest.mark.parametrize(("value", "expected"), [
    (46012001, "46012001"), ("t3_1p2q3r4", "t3_1p2q3r4"), (0, "0"),
    (None, None), ("", None), (True, None), (False, None),
])
def test_ident_is_text_or_none(value, expected):
    assert ident(value) == expected


def test_http_url_keeps_only_web_links():
    assert http_url("https://a.example/x") == "https://a.example/x"
    assert http_url("http://a.example") == "http://a.example"
    for value in ("javascript:alert(1)", "/relative", "ftp://a.example", "", None, 3):
        assert http_url(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-21T08:15:00Z", datetime(2026, 11, 21, 8, 15, tzinfo=UTC)),
    ("2026-11-21T09:15:00+01:00", datetime(2026, 11, 21, 8, 15, tzinfo=UTC)),
    ("2026-11-21T08:15:00", datetime(2026, 11, 21, 8, 15, tzinfo=UTC)),  # no offset: UTC
    ("2023-06-20T12:34:56.789012", datetime(2023, 6, 20, 12, 34, 56, 789012, tzinfo=UTC)),
    # AT Protocol times can carry nanoseconds: cut to microseconds.
    ("2026-11-21T08:15:00.123456789Z", datetime(2026, 11, 21, 8, 15, 0, 123456, tzinfo=UTC)),
])
def test_parse_time_gives_aware_utc(value, expected):
    parsed = parse_time(value)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize("value", [None, "", "yesterday", 1795240000, "2026-13-01T00:00:00Z"])
def test_parse_time_refuses_what_is_not_a_time(value):
    with pytest.raises(ValueError):
        parse_time(value)
    assert time_or_none(value) is None


def test_time_or_none_reads_a_cursor():
    assert time_or_none("2026-11-21T08:15:00Z") == datetime(2026, 11, 21, 8, 15, tzinfo=UTC)


def test_epoch_time_reads_numbers_only():
    assert epoch_time(1795240000) == datetime.fromtimestamp(1795240000, UTC)
    assert epoch_time(1795240000.5).microsecond == 500000
    assert epoch_time(0).tzinfo is UTC
    for value in (True, None, "1795240000", 1e20):
        with pytest.raises(ValueError):
            epoch_time(value)


def test_iso_utc_has_one_width_per_precision():
    when = datetime(2026, 11, 21, 9, 15, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(when) == "2026-11-21T08:15:00Z"
    assert iso_utc(when, "milliseconds") == "2026-11-21T08:15:00.123Z"
    assert iso_utc(when, "microseconds") == "2026-11-21T08:15:00.123456Z"
    assert iso_utc(when.replace(microsecond=0), "microseconds") == "2026-11-21T08:15:00.000000Z"
    assert parse_time(iso_utc(when, "microseconds")) == when


@pytest.mark.parametrize(("value", "expected"), [
    ("en", "en"), ("en-GB", "en"), ("PT-br", "pt"), ("und", None), ("zxx", None),
    ("", None), (None, None), (37, None),
])
def test_lang_code_is_the_primary_subtag(value, expected):
    assert lang_code(value) == expected


def test_lang_code_takes_more_codes_that_mean_no_language():
    assert lang_code("qme", frozenset({"qme"})) is None
    assert lang_code("qme") == "qme"
