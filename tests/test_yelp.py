"""Yelp review excerpts: the mapping (local times, tracking-free links), the business's review
count as the listing audience, the daily budget headers, Yelp's error codes and cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
from connectors.yelp import API_KEY, fetch, local_time, to_mention, validate

BASE = "https://yelp.test"
BIZ = "acme-coffee-san-francisco"
REVIEWS = f"/v3/businesses/{BIZ}/reviews"
DETAILS = f"/v3/businesses/{BIZ}"
KEY_VALUE = "yelp-key-not-a-secret-0042"


def _load(name: str):
    return json.loads((FIXTURES / "yelp" / name).read_text())


class Api(RoutedApi, not_found=_load("business-not-found.json")):
    """A fake Yelp API (see RoutedApi)."""


def _budget(remaining: int, reset: datetime) -> dict[str, str]:
    return {"RateLimit-DailyLimit": "5000", "RateLimit-Remaining": str(remaining),
            "RateLimit-ResetTime": reset.isoformat()}


def _routes(biz: str = BIZ, reviews=None, headers=None):
    return {
        _route(f"/v3/businesses/{biz}/reviews"): httpx.Response(
            200, json=reviews or _load("reviews.json"), headers=headers or {}),
        _route(f"/v3/businesses/{biz}"): httpx.Response(
            200, json=_load("business.json"), headers=headers or {}),
    }


def _spec(**changes) -> SourceSpec:
    values = {"name": "yelp", "kind": "yelp", "url": BASE, "params": {"businesses": [BIZ]},
              "secrets": {API_KEY: KEY_VALUE}}
    values.update(changes)
    return SourceSpec(**values)


def test_an_excerpt_becomes_a_mention_in_utc_with_a_clean_link():
    item = _load("reviews.json")["reviews"][0]
    m = to_mention(item, listing_ratings=128)
    assert m.source == "yelp" and m.external_id == "xFixtureRv01-coldLatteAa"
    # 18:57:16 Pacific standard time (UTC-8) on 22 November.
    assert m.published_at == datetime(2026, 11, 23, 2, 57, 16, tzinfo=UTC)
    assert m.url == ("https://www.yelp.example/biz/acme-coffee-san-francisco"
                     "?hrid=xFixtureRv01-coldLatteAa")
    assert m.rating == 1.0 and m.listing_ratings == 128 and m.title is None
    assert m.text.startswith("Waited 25 minutes at Acme Coffee")
    assert m.author.id == "uFixtureUser01aaaaaaaa" and m.author.name == "Dana F."
    assert m.author.url == "https://www.yelp.example/user_details?userid=uFixtureUser01aaaaaaaa"
    assert m.engagement.likes is None and m.engagement.replies is None
    assert m.lang is None and m.raw is item


def test_local_times_follow_the_zone_and_its_daylight_saving():
    pacific = ZoneInfo("America/Los_Angeles")
    assert local_time("2026-07-01 12:00:00", pacific) == datetime(2026, 7, 1, 19, tzinfo=UTC)
    assert local_time("2026-11-22 18:57:16", ZoneInfo("Europe/Berlin")) == \
        datetime(2026, 11, 22, 17, 57, 16, tzinfo=UTC)
    with pytest.raises(ValueError):
        local_time("yesterday", pacific)


def test_fetch_sends_the_key_as_bearer_and_reads_the_daily_budget():
    reset = datetime(2026, 11, 24, tzinfo=UTC)
    api = Api(_routes(headers=_budget(4997, reset)))
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("yelp"))
    first = api.to(REVIEWS)[0]
    assert first.headers["authorization"] == f"Bearer {KEY_VALUE}"
    assert KEY_VALUE not in str(first.url)
    assert dict(first.url.params) == {"sort_by": "newest"}
    assert len(api.to(DETAILS)) == 1
    assert [m.listing_ratings for m in result.mentions] == [128] * 3
    assert result.state.rate_limit_remaining == 4997 and result.state.rate_limit_reset == reset
    assert result.state.cursors() == {f"biz:{BIZ}": "2026-11-23T02:57:16Z"}
    assert KEY_VALUE not in json.dumps([m.raw for m in result.mentions]) + str(result.state)


def test_a_spent_daily_budget_defers_the_rest_until_its_reset():
    reset = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    other = "globex-cafe"
    api = Api({**_routes(headers=_budget(0, reset)), **_routes(other)})
    with api.client() as client:
        result = fetch(client, _spec(params={"businesses": [BIZ, other]}), SourceState("yelp"))
    assert len(api.requests) == 1  # not even the listing: no call is left today
    assert len(result.mentions) == 3 and {m.listing_ratings for m in result.mentions} == {None}
    assert result.deferred_until == reset and result.error is None


def test_access_limit_reached_waits_for_the_daily_reset(monkeypatch):
    def no_sleep(seconds):
        raise AssertionError(f"slept {seconds}s")

    monkeypatch.setattr(http_module.time, "sleep", no_sleep)
    limit = httpx.Response(429, json=_load("access-limit-reached.json"))
    with Api({_route(REVIEWS): limit}).client() as client, \
            pytest.raises(RateLimitedError, match="ACCESS_LIMIT_REACHED") as exc:
        fetch(client, _spec(), SourceState("yelp"))
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert exc.value.retry_at == midnight
    # Once a response told the reset time, that time is used.
    reset = (now + timedelta(hours=5)).replace(microsecond=0)
    other = "globex-cafe"
    api = Api({**_routes(headers=_budget(2, reset)),
               _route(f"/v3/businesses/{other}/reviews"): limit})
    with api.client() as client:
        result = fetch(client, _spec(params={"businesses": [BIZ, other]}), SourceState("yelp"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until == reset
    assert list(result.state.cursors()) == [f"biz:{BIZ}"]


def test_too_many_requests_per_second_defers_a_minute():
    qps = httpx.Response(429, json=_load("too-many-requests.json"))
    with Api({_route(REVIEWS): qps}).client() as client, \
            pytest.raises(RateLimitedError) as exc:
        fetch(client, _spec(), SourceState("yelp"))
    assert datetime.now(UTC) < exc.value.retry_at <= datetime.now(UTC) + timedelta(minutes=1)


def test_an_unknown_business_names_yelps_code():
    with Api({}).client() as client, pytest.raises(FatalError, match="BUSINESS_NOT_FOUND"):
        fetch(client, _spec(), SourceState("yelp"))


def test_a_failure_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    other = "globex-cafe"
    api = Api({**_routes(), _route(f"/v3/businesses/{other}/reviews"): httpx.Response(503)})
    with api.client() as client:
        result = fetch(client, _spec(params={"businesses": [BIZ, other]}), SourceState("yelp"))
    assert len(result.mentions) == 3 and "HTTP 503" in (result.error or "")
    assert list(result.state.cursors()) == [f"biz:{BIZ}"]


def test_plans_with_more_reviews_page_by_offset_until_the_overlap():
    reviews = _load("reviews.json")["reviews"]
    api = Api({
        _route(REVIEWS): httpx.Response(200, json={"reviews": reviews[:2], "total": 3}),
        _route(REVIEWS, offset="2"): httpx.Response(200, json={"reviews": reviews[2:],
                                                               "total": 3}),
        _route(DETAILS): httpx.Response(200, json=_load("business.json")),
    })
    spec = _spec(params={"businesses": [BIZ], "max_pages": 5, "limit": 2})
    with api.client() as client:
        result = fetch(client, spec, SourceState("yelp"))
        assert [r.url.params.get("offset") for r in api.to(REVIEWS)] == [None, "2"]
        assert api.to(REVIEWS)[0].url.params["limit"] == "2"
        assert len(result.mentions) == 3  # offset 3 = total: done
        api.requests.clear()
        # Next poll: page 1 already reaches back past a day before the cursor.
        again = fetch(client, spec, result.state)
    assert len(api.to(REVIEWS)) == 1
    assert {m.external_id for m in again.mentions} <= {m.external_id for m in result.mentions}
    assert again.state.cursors() == result.state.cursors()


def test_the_cursor_never_moves_back():
    later = "2026-12-01T00:00:00Z"
    with Api(_routes()).client() as client:
        result = fetch(client, _spec(), SourceState("yelp").with_cursors({f"biz:{BIZ}": later}))
    assert result.state.cursors() == {f"biz:{BIZ}": later}


def test_malformed_excerpts_are_skipped_and_counted():
    good = _load("reviews.json")["reviews"][0]
    page = {"reviews": [good, 7, {"text": "no id"}, {**good, "id": "t", "time_created": None},
                        {**good, "id": "r", "rating": "five"}, {**good, "id": "x", "text": None},
                        {**good, "id": "y", "time_created": "22/11/2026"}], "total": 7}
    with Api(_routes(reviews=page)).client() as client:
        result = fetch(client, _spec(), SourceState("yelp"))
    assert [m.external_id for m in result.mentions] == [good["id"]]
    assert len(result.item_errors) == 6 and result.error is None


def test_a_bad_key_fails_clearly_without_showing_it(tmp_path, monkeypatch):
    api = Api({_route(REVIEWS): httpx.Response(401, json={"error": {
        "code": "TOKEN_INVALID", "description": "Invalid access token or authorization header."}})})
    assert_bad_key_fails_clearly(tmp_path, monkeypatch, api, {
        "name": "yelp", "kind": "yelp", "url": BASE, "params": {"businesses": [BIZ]}},
        API_KEY, KEY_VALUE)


def test_missing_key_skips_the_source(tmp_path, monkeypatch):
    assert_missing_key_skips(tmp_path, monkeypatch, Api, fetch, _spec(secrets={}), {
        "name": "yelp", "kind": "yelp", "params": {"businesses": [BIZ]}}, API_KEY)


def test_server_errors_and_timeouts_are_clear(monkeypatch):
    assert_server_errors_and_timeouts_are_clear(monkeypatch, Api, _route(REVIEWS), fetch,
                                                _spec())


def test_base_url_locale_zone_and_sort_are_settings():
    api = Api({_route("/y" + REVIEWS): httpx.Response(200, json=_load("reviews.json")),
               _route("/y" + DETAILS): httpx.Response(200, json=_load("business.json"))})
    spec = _spec(url="https://proxy.test/y/", params={
        "businesses": [BIZ], "locale": "es_MX", "sort_by": "", "timezone": "America/New_York"})
    with api.client() as client:
        result = fetch(client, spec, SourceState("yelp"))
    assert str(api.requests[0].url).startswith(f"https://proxy.test/y{REVIEWS}?")
    assert dict(api.requests[0].url.params) == {"locale": "es_MX"}
    assert {m.lang for m in result.mentions} == {"es"}
    assert result.mentions[0].published_at == datetime(2026, 11, 22, 23, 57, 16, tzinfo=UTC)


def test_businesses_and_a_real_zone_are_required():
    with Api({}).client() as client:
        with pytest.raises(FatalError, match="businesses"):
            fetch(client, _spec(params={}), SourceState("yelp"))
        with pytest.raises(FatalError, match="IANA"):
            fetch(client, _spec(params={"businesses": [BIZ], "timezone": "PST8"}),
                  SourceState("yelp"))
    assert validate(_spec(params={"businesses": [BIZ], "timezone": "Mars/Olympus"},
                          secrets={})) == [
        "params.timezone 'Mars/Olympus' is not an IANA time zone (e.g. 'America/New_York')",
        f"no {API_KEY}"]
    assert validate(_spec()) == []
