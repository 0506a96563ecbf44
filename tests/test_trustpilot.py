"""Trustpilot reviews: the mapping of a review, the business unit's review count as the
listing audience, paging, cursors, failures and rate limits."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from connector_support import (
    RoutedApi,
    assert_bad_key_fails_clearly,
    assert_missing_key_skips,
    assert_server_errors_and_timeouts_are_clear,
)
from connector_support import route as _route

from conftest import FIXTURES
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError
from connectors.trustpilot import API_KEY, PAGE_SIZE, fetch, to_mention, validate

BASE = "https://trustpilot.test"
UNIT = "5f0c0ffee0ddba11ab1e0001"
REVIEWS = f"/v1/business-units/{UNIT}/reviews"
DETAILS = f"/v1/business-units/{UNIT}"
KEY_VALUE = "tp-key-not-a-secret-0042"


def _load(name: str):
    return json.loads((FIXTURES / "trustpilot" / name).read_text())


class Api(RoutedApi, not_found={"message": "Not found"}):
    """A fake Trustpilot API (see RoutedApi)."""


def _routes(unit: str = UNIT, reviews=None):
    return {
        _route(f"/v1/business-units/{unit}/reviews"): httpx.Response(
            200, json=reviews or _load("reviews.json")),
        _route(f"/v1/business-units/{unit}"): httpx.Response(
            200, json=_load("business-unit.json")),
    }


def _spec(**changes) -> SourceSpec:
    values = {"name": "tp", "kind": "trustpilot", "url": BASE,
              "params": {"business_units": [UNIT]}, "secrets": {API_KEY: KEY_VALUE}}
    values.update(changes)
    return SourceSpec(**values)


def _reviews(n: int, newest: datetime, step: timedelta = timedelta(minutes=10), prefix="r"):
    template = _load("reviews.json")["reviews"][2]
    return [{**template, "id": f"{prefix}{i:04d}",
             "createdAt": (newest - i * step).isoformat().replace("+00:00", "Z")}
            for i in range(n)]


def test_a_review_becomes_a_mention_with_stars_likes_and_the_reply():
    item = _load("reviews.json")["reviews"][0]
    m = to_mention(item, listing_ratings=2412)
    assert m.source == "trustpilot" and m.external_id == "6740a1b2c3d4e5f600000001"
    assert m.url == "https://www.trustpilot.com/reviews/6740a1b2c3d4e5f600000001"
    assert m.title == "Charged twice, no refund"
    assert m.text == ("Acme charged my card twice for one order.\n"
                      "Three emails and still no refund after two weeks.")
    assert m.rating == 1.0 and m.listing_ratings == 2412
    assert m.engagement.likes == 7 and m.engagement.replies == 1
    assert m.author.id == "5c0ffee0000000000000aa01" and m.author.name == "Morgan Fixture"
    assert m.author.url == "https://www.trustpilot.com/users/5c0ffee0000000000000aa01"
    assert m.author.followers is None
    assert m.published_at == datetime(2026, 11, 22, 17, 45, 12, tzinfo=UTC)
    assert m.lang == "en" and m.raw is item
    assert m.raw["companyReply"]["text"].startswith("Hi Morgan")
    unanswered = to_mention(_load("reviews.json")["reviews"][1])
    assert unanswered.engagement.replies == 0 and unanswered.engagement.likes == 0
    assert unanswered.listing_ratings is None


def test_a_time_without_a_zone_is_utc():
    item = {**_load("reviews.json")["reviews"][2], "createdAt": "2013-09-07T13:37:00"}
    assert to_mention(item).published_at == datetime(2013, 9, 7, 13, 37, tzinfo=UTC)


def test_fetch_reads_newest_first_with_the_key_in_a_header_and_the_listing_once():
    api = Api(_routes())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tp"))
    first = api.to(REVIEWS)[0]
    assert first.headers["apikey"] == KEY_VALUE and KEY_VALUE not in str(first.url)
    assert dict(first.url.params) == {"orderBy": "createdat.desc", "perPage": str(PAGE_SIZE),
                                      "page": "1"}
    assert len(api.to(DETAILS)) == 1
    assert [m.listing_ratings for m in result.mentions] == [2412] * 3
    assert result.state.cursors() == {f"unit:{UNIT}": "2026-11-22T17:45:12.000Z"}
    assert KEY_VALUE not in json.dumps([m.raw for m in result.mentions]) + str(result.state)


def test_full_pages_lead_to_the_next_page():
    newest = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    page1 = _reviews(PAGE_SIZE, newest)
    page2 = _reviews(2, newest - PAGE_SIZE * timedelta(minutes=10), prefix="s")
    api = Api({
        _route(REVIEWS): httpx.Response(200, json={"reviews": page1}),
        _route(REVIEWS, page="2"): httpx.Response(200, json={"reviews": page2}),
        _route(DETAILS): httpx.Response(200, json=_load("business-unit.json")),
    })
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tp"))
    assert [r.url.params["page"] for r in api.to(REVIEWS)] == ["1", "2"]
    assert len(result.mentions) == PAGE_SIZE + 2 and len(api.to(DETAILS)) == 1


def test_next_poll_stops_once_past_the_overlap_and_dedupes():
    newest = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    api = Api({
        _route(REVIEWS): httpx.Response(200, json={"reviews": _reviews(PAGE_SIZE, newest)}),
        _route(DETAILS): httpx.Response(200, json=_load("business-unit.json")),
    })
    cursor = "2026-11-22T11:00:00.000Z"  # page 1 reaches back 16 hours: past 09:00
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tp").with_cursors({f"unit:{UNIT}": cursor}))
        assert len(api.to(REVIEWS)) == 1
        assert result.state.cursors() == {f"unit:{UNIT}": "2026-11-22T12:00:00.000Z"}
        again = fetch(client, _spec(), result.state)
    assert {m.external_id for m in again.mentions} == {m.external_id for m in result.mentions}
    assert again.state.cursors() == result.state.cursors()


def test_the_cursor_never_moves_back():
    later = "2026-12-01T00:00:00.000Z"
    with Api(_routes()).client() as client:
        result = fetch(client, _spec(), SourceState("tp").with_cursors({f"unit:{UNIT}": later}))
    assert result.state.cursors() == {f"unit:{UNIT}": later}


def test_a_failure_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    other = "5f0c0ffee0ddba11ab1e0002"
    api = Api({**_routes(), _route(f"/v1/business-units/{other}/reviews"):
               httpx.Response(502, text="bad gateway")})
    with api.client() as client:
        result = fetch(client, _spec(params={"business_units": [UNIT, other]}),
                       SourceState("tp"))
    assert len(result.mentions) == 3 and "HTTP 502" in (result.error or "")
    assert list(result.state.cursors()) == [f"unit:{UNIT}"]


def test_a_failed_second_page_keeps_page_one_but_not_the_cursor(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    newest = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    api = Api({
        _route(REVIEWS): httpx.Response(200, json={"reviews": _reviews(PAGE_SIZE, newest)}),
        _route(REVIEWS, page="2"): httpx.Response(500),
        _route(DETAILS): httpx.Response(200, json=_load("business-unit.json")),
    })
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tp"))
    assert len(result.mentions) == PAGE_SIZE and "HTTP 500" in (result.error or "")
    assert result.state.cursors() == {}


def test_malformed_reviews_are_skipped_and_counted():
    good = _load("reviews.json")["reviews"][0]
    page = {"reviews": [good, None, {"stars": 2}, {**good, "id": "no-time", "createdAt": None},
                        {**good, "id": "bad-stars", "stars": "one"},
                        {**good, "id": "zero", "stars": 9}]}
    with Api(_routes(reviews=page)).client() as client:
        result = fetch(client, _spec(), SourceState("tp"))
    assert [m.external_id for m in result.mentions] == [good["id"]]
    assert len(result.item_errors) == 5 and result.error is None


def test_a_listing_that_cannot_be_read_leaves_the_reviews(caplog):
    caplog.set_level(logging.WARNING)
    api = Api({_route(REVIEWS): httpx.Response(200, json=_load("reviews.json"))})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tp"))
    assert len(result.mentions) == 3 and result.error is None
    assert {m.listing_ratings for m in result.mentions} == {None}
    assert "HTTP 404" in caplog.text


def test_429_defers_without_sleeping(monkeypatch):
    def no_sleep(seconds):
        raise AssertionError(f"slept {seconds}s")

    monkeypatch.setattr(http_module.time, "sleep", no_sleep)
    limited = httpx.Response(429, json=_load("rate-limited.json"), headers={"Retry-After": "120"})
    with Api({_route(REVIEWS): limited}).client() as client, \
            pytest.raises(RateLimitedError) as exc:
        fetch(client, _spec(), SourceState("tp"))
    assert exc.value.retry_at and exc.value.retry_at > datetime.now(UTC) + timedelta(minutes=1)
    bare = httpx.Response(429, json=_load("rate-limited.json"))
    with Api({_route(REVIEWS): bare}).client() as client, \
            pytest.raises(RateLimitedError) as exc:
        fetch(client, _spec(), SourceState("tp"))
    assert exc.value.retry_at > datetime.now(UTC) + timedelta(minutes=4)
    other = "5f0c0ffee0ddba11ab1e0002"
    api = Api({**_routes(), _route(f"/v1/business-units/{other}/reviews"): bare})
    with api.client() as client:
        result = fetch(client, _spec(params={"business_units": [UNIT, other]}),
                       SourceState("tp"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until and result.deferred_until > datetime.now(UTC)


def test_a_bad_key_fails_clearly_without_showing_it(tmp_path, monkeypatch):
    api = Api({_route(REVIEWS): httpx.Response(401, json=_load("unauthorized.json"))})
    assert_bad_key_fails_clearly(tmp_path, monkeypatch, api, {
        "name": "tp", "kind": "trustpilot", "url": BASE,
        "params": {"business_units": [UNIT]}}, API_KEY, KEY_VALUE)


def test_missing_key_skips_the_source(tmp_path, monkeypatch):
    assert_missing_key_skips(tmp_path, monkeypatch, Api, fetch, _spec(secrets={}), {
        "name": "tp", "kind": "trustpilot", "params": {"business_units": [UNIT]}}, API_KEY)


def test_server_errors_and_timeouts_are_clear(monkeypatch):
    assert_server_errors_and_timeouts_are_clear(monkeypatch, Api, _route(REVIEWS), fetch,
                                                _spec(), timeout=httpx.ConnectTimeout)
    with Api({_route(REVIEWS): httpx.Response(200, text="nope")}).client() as client, \
            pytest.raises(FatalError, match="not valid JSON"):
        fetch(client, _spec(), SourceState("tp"))


def test_the_base_url_and_language_are_honoured():
    api = Api({_route("/tp" + REVIEWS): httpx.Response(200, json=_load("reviews.json")),
               _route("/tp" + DETAILS): httpx.Response(200, json=_load("business-unit.json"))})
    spec = _spec(url="https://proxy.test/tp/", params={"business_units": [UNIT],
                                                       "language": "en"})
    with api.client() as client:
        result = fetch(client, spec, SourceState("tp"))
    assert str(api.requests[0].url).startswith(f"https://proxy.test/tp{REVIEWS}?")
    assert api.requests[0].url.params["language"] == "en"
    assert len(result.mentions) == 3


def test_business_units_are_required():
    with Api({}).client() as client, pytest.raises(FatalError, match="business_units"):
        fetch(client, _spec(params={}), SourceState("tp"))
    assert validate(_spec(params={"business_units": "", "overlap_minutes": -1}, secrets={})) \
        == ["params.business_units must list business unit ids (find yours with GET "
            "/v1/business-units/find?name=<domain>)",
            "params.overlap_minutes must be an integer ≥ 0", f"no {API_KEY}"]
    assert validate(_spec()) == []


def test_a_limit_met_on_the_listing_keeps_the_page_and_stops_the_poll():
    other = "5f0c0ffee0ddba11ab1e0002"
    limited = httpx.Response(429, json=_load("rate-limited.json"), headers={"Retry-After": "90"})
    api = Api({_route(REVIEWS): httpx.Response(200, json=_load("reviews.json")),
               _route(DETAILS): limited, **_routes(other)})
    with api.client() as client:
        result = fetch(client, _spec(params={"business_units": [UNIT, other]}),
                       SourceState("tp"))
    assert len(result.mentions) == 3 and {m.listing_ratings for m in result.mentions} == {None}
    assert result.deferred_until and result.deferred_until > datetime.now(UTC)
    assert list(result.state.cursors()) == [f"unit:{UNIT}"]  # the page was read to the end
    assert not api.to(f"/v1/business-units/{other}/reviews")  # no call after the 429
