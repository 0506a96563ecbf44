from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.appstore import (
    LAST_PAGE,
    PAGE_SIZE,
    App,
    apps,
    fetch,
    is_app_entry,
    reviews_path,
    to_mention,
    validate,
)
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError
from earful.cycle import fetch_source, store_outcome
from earful.fixtureserver import FixtureServer
from scenarios import scenarios
from sql.store import Store
from triage.pipeline import Pipeline

BASE = "https://itunes.test"
APP = "1449300001"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _load(name: str):
    return json.loads((FIXTURES / "appstore" / name).read_text())


def _us_entries() -> list[dict]:
    return _load("reviews-us-page1.json")["feed"]["entry"]


def _review(review_id: int, when: datetime, stars: int = 3, text: str = "Acme is fine") -> dict:
    """A review entry in the feed's shape (see tests/fixtures/appstore/README.md)."""
    return {
        "author": {"uri": {"label": f"https://itunes.apple.com/us/reviews/id{review_id + 7}"},
                   "name": {"label": f"reviewer{review_id}"}, "label": ""},
        "updated": {"label": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S-00:00")},
        "im:rating": {"label": str(stars)},
        "im:version": {"label": "7.4.1"},
        "id": {"label": str(review_id)},
        "title": {"label": f"Review {review_id}"},
        "content": {"label": text, "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related",
                                "href": f"https://itunes.apple.com/us/review?id={APP}"}},
        "im:voteSum": {"label": "0"},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": {"label": "0"},
    }


def _page(entries: list[dict], last: int | None = None) -> dict:
    feed: dict = {"author": {"name": {"label": "iTunes Store"}}, "entry": entries,
                  "updated": {"label": "2026-11-21T02:39:26-07:00"}}
    if last is not None:
        feed["link"] = [{"attributes": {"rel": "last", "href": (
            f"https://itunes.apple.com/us/rss/customerreviews/page={last}/id={APP}/"
            "sortby=mostrecent/xml?urlDesc=/customerreviews/page=1/json")}}]
    return {"feed": feed}


def _full_page(first_id: int, newest: datetime, step: timedelta = timedelta(minutes=10)):
    """PAGE_SIZE reviews, newest first, `step` apart."""
    return _page([_review(first_id - i, newest - step * i) for i in range(PAGE_SIZE)],
                 last=LAST_PAGE)


class Api:
    """A fake itunes host: answers by path (and query parameters), records requests."""

    def __init__(self, routes):
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = dict(request.url.params)
        for (path, wanted), answer in self.routes.items():
            if path == request.url.path and all(params.get(k) == v for k, v in wanted):
                return answer(request) if callable(answer) else answer
        return httpx.Response(404, text="not found")

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def _route(path: str, **params: str):
    return (path, tuple(sorted(params.items())))


def _json(data, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=data, headers=headers)


def _lookup(counts: dict[str, int]) -> httpx.Response:
    return _json({"resultCount": len(counts), "results": [
        {"wrapperType": "software", "kind": "software", "trackId": int(app_id),
         "userRatingCount": count} for app_id, count in counts.items()]})


def _spec(**params) -> SourceSpec:
    values = {"apps": [{"id": APP, "countries": ["us"]}], "listing_ratings": False}
    values.update(params)
    return SourceSpec(name="acme-ios", kind="appstore", url=BASE, params=values)


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    """Connectors never sleep beyond the HTTP client's short retries; make those instant and
    make any long sleep fail the test."""
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0.0)
    real_sleep = http_module.time.sleep

    def sleep(seconds: float) -> None:
        assert seconds <= http_module.MAX_INLINE_WAIT_S, f"slept {seconds}s"
        real_sleep(0)

    monkeypatch.setattr(http_module.time, "sleep", sleep)


# --- to_mention -------------------------------------------------------------------------


def test_one_star_review_maps_every_field():
    entry = _us_entries()[2]
    mention = to_mention(entry, listing_ratings=18250)
    assert mention.source == "appstore" and mention.external_id == "13000000103"
    assert mention.rating == 1.0 and mention.listing_ratings == 18250
    assert mention.title == "Crashes every time since the update"
    assert mention.text.startswith("Love the design, but Acme crashes every time")
    # -07:00 (Pacific) → UTC
    assert mention.published_at == datetime(2026, 11, 21, 1, 3, 10, tzinfo=UTC)
    assert mention.engagement.likes == 7  # im:voteSum: helpful votes (of im:voteCount 9)
    assert mention.engagement.replies is None  # the feed shows no developer response
    assert mention.author.id == "900000102" and mention.author.name == "Devon R."
    assert mention.author.url == "https://itunes.apple.com/us/reviews/id900000102"
    assert mention.url == f"https://itunes.apple.com/us/review?id={APP}&type=Purple%20Software"
    assert mention.raw is entry and not mention.is_repost and not mention.is_own


def test_the_app_entry_is_not_a_review():
    entries = _us_entries()
    assert is_app_entry(entries[0])
    assert not any(is_app_entry(e) for e in entries[1:])
    with pytest.raises(ValueError, match="im:rating"):
        to_mention(entries[0])


def test_reviews_without_a_date_use_the_fetch_time_and_bad_ones_are_refused():
    entry = dict(_us_entries()[1])
    del entry["updated"]
    assert to_mention(entry, fetched_at=NOW).published_at == NOW
    with pytest.raises(ValueError, match="updated"):
        to_mention(entry)
    with pytest.raises(ValueError, match="1-5"):
        to_mention({**_us_entries()[1], "im:rating": {"label": "7"}})
    with pytest.raises(ValueError):
        to_mention({**_us_entries()[1], "im:rating": {"label": "five"}})
    with pytest.raises(ValueError, match="id"):
        to_mention({k: v for k, v in _us_entries()[1].items() if k != "id"})


def test_html_content_becomes_text():
    entry = {**_us_entries()[1], "content": [
        {"label": "<p>Acme &amp; co</p>", "attributes": {"type": "html"}}]}
    assert to_mention(entry).text == "Acme & co"


# --- configuration ----------------------------------------------------------------------


def test_apps_accepts_ids_tables_and_a_default_storefront():
    spec = SourceSpec(name="s", kind="appstore", params={
        "apps": ["id284882215", {"id": 1449300001, "countries": ["US", "gb"]},
                 {"id": "284882215", "countries": ["de"]}],
        "countries": ["us", "fr"]})
    assert apps(spec) == [App("284882215", ("us", "fr", "de")),
                          App("1449300001", ("us", "gb"))]
    one = SourceSpec(name="s", kind="appstore", params={"app_id": "1449300001"})
    assert apps(one) == [App("1449300001", ("us",))]


@pytest.mark.parametrize("params, message", [
    ({}, "no app to read"),
    ({"apps": ["acme"]}, "not a numeric App Store id"),
    ({"apps": [{"id": APP, "countries": ["usa"]}]}, "two-letter"),
    ({"apps": [APP], "max_pages": 0}, "max_pages"),
])
def test_bad_configuration_is_explained(params, message):
    spec = SourceSpec(name="s", kind="appstore", params=params)
    assert any(message in p for p in validate(spec))
    if "max_pages" not in params:
        with pytest.raises(FatalError, match=message):
            fetch(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
                  spec, SourceState("s"))


# --- fetch ------------------------------------------------------------------------------


def test_first_poll_reads_the_newest_page_skips_the_app_entry_and_sets_the_cursor():
    api = Api({_route(reviews_path(APP, "us", 1)): _json(_load("reviews-us-page1.json"))})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("acme-ios"), now=NOW)
    assert [m.external_id for m in result.mentions] == [
        "13000000104", "13000000103", "13000000102", "13000000101"]
    assert result.item_errors == [] and result.error is None
    assert result.state.cursors() == {f"{APP}:us": "2026-11-21T08:12:44+00:00"}
    assert api.paths() == [f"/us/rss/customerreviews/page=1/id={APP}/sortby=mostrecent/json"]
    assert all(r.url.host == "itunes.test" for r in api.requests)  # base_url honoured


def test_a_single_review_comes_as_an_object_and_an_empty_feed_has_none():
    api = Api({_route(reviews_path(APP, "gb", 1)): _json(_load("reviews-gb-page1.json")),
               _route(reviews_path(APP, "de", 1)): _json(_load("reviews-empty.json"))})
    with api.client() as client:
        result = fetch(client, _spec(apps=[{"id": APP, "countries": ["gb", "de"]}]),
                       SourceState("acme-ios"), now=NOW)
    assert [m.external_id for m in result.mentions] == ["13000000201"]
    assert result.item_errors == [] and result.error is None
    assert set(result.state.cursors()) == {f"{APP}:gb"}  # nothing seen in de: no cursor


def test_later_polls_page_back_to_the_cursor_less_the_overlap():
    cursor = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    newest = cursor + timedelta(hours=30)
    pages = {1: _full_page(5000, newest),
             # page 2 reaches 24 h before the cursor: the last page read
             2: _full_page(4950, newest - timedelta(minutes=10) * PAGE_SIZE,
                           step=timedelta(hours=1)),
             3: _full_page(4900, cursor - timedelta(days=5))}
    api = Api({_route(reviews_path(APP, "us", n)): _json(page) for n, page in pages.items()})
    state = SourceState("acme-ios").with_cursors({f"{APP}:us": cursor.isoformat()})
    with api.client() as client:
        result = fetch(client, _spec(), state, now=NOW)
    assert [p.split("/")[4] for p in api.paths()] == ["page=1", "page=2"]
    assert len(result.mentions) == 2 * PAGE_SIZE
    assert result.state.cursors()[f"{APP}:us"] == newest.isoformat()


def test_paging_stops_at_the_last_page_and_at_max_pages():
    cursor = datetime(2026, 11, 1, tzinfo=UTC)
    state = SourceState("acme-ios").with_cursors({f"{APP}:us": cursor.isoformat()})
    newest = datetime(2026, 11, 21, tzinfo=UTC)
    page1 = _full_page(5000, newest)
    page1["feed"]["link"][0]["attributes"]["href"] = page1["feed"]["link"][0]["attributes"][
        "href"].replace(f"page={LAST_PAGE}/", "page=1/")
    api = Api({_route(reviews_path(APP, "us", 1)): _json(page1)})
    with api.client() as client:
        fetch(client, _spec(), state, now=NOW)
    assert len(api.requests) == 1  # rel="last" says page 1 is the last

    api = Api({_route(reviews_path(APP, "us", n)): _json(_full_page(5000 - 50 * n, newest))
               for n in range(1, 11)})
    with api.client() as client:
        result = fetch(client, _spec(max_pages=3), state, now=NOW)
    assert len(api.requests) == 3 and result.error is None


def test_overlapping_polls_deduplicate_by_review_id():
    """A new review pushes the page down by one: the review at the page boundary is on
    both pages and is kept once."""
    cursor = datetime(2026, 11, 20, tzinfo=UTC)
    newest = cursor + timedelta(days=3)
    page1 = _full_page(5000, newest)
    older = _full_page(4950, newest - timedelta(hours=9), step=timedelta(hours=2))
    shifted = [page1["feed"]["entry"][-1], *older["feed"]["entry"][:PAGE_SIZE - 1]]
    api = Api({_route(reviews_path(APP, "us", 1)): _json(page1),
               _route(reviews_path(APP, "us", 2)): _json(_page(shifted, last=LAST_PAGE))})
    state = SourceState("acme-ios").with_cursors({f"{APP}:us": cursor.isoformat()})
    with api.client() as client:
        result = fetch(client, _spec(), state, now=NOW)
    ids = [m.external_id for m in result.mentions]
    assert len(ids) == len(set(ids)) == 2 * PAGE_SIZE - 1


def test_malformed_items_are_skipped_and_counted():
    entries = _us_entries()
    broken = [entries[0], "not an object", {**entries[1], "im:rating": {"label": "0"}},
              {**entries[2], "updated": {"label": "yesterday"}}, entries[3], entries[4]]
    api = Api({_route(reviews_path(APP, "us", 1)): _json(_page(broken))})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("acme-ios"), now=NOW)
    assert [m.external_id for m in result.mentions] == ["13000000102", "13000000101"]
    assert len(result.item_errors) == 3
    assert all(e.startswith("appstore: entry") for e in result.item_errors)


def test_a_body_that_is_not_json_fails_clearly():
    api = Api({_route(reviews_path(APP, "us", 1)): httpx.Response(200, text="<html>oops")})
    with api.client() as client, pytest.raises(FatalError, match="not valid JSON"):
        fetch(client, _spec(), SourceState("acme-ios"), now=NOW)
    api = Api({_route(reviews_path(APP, "us", 1)): _json({"unexpected": True})})
    with api.client() as client, pytest.raises(FatalError, match="not a review feed"):
        fetch(client, _spec(), SourceState("acme-ios"), now=NOW)


def test_partial_failure_keeps_what_was_read_and_only_completed_cursors():
    earlier = "2026-11-01T00:00:00+00:00"
    state = SourceState("acme-ios").with_cursors({f"{APP}:us": earlier, f"{APP}:gb": earlier})
    newest = datetime(2026, 11, 21, tzinfo=UTC)
    api = Api({
        _route(reviews_path(APP, "gb", 1)): _json(_load("reviews-gb-page1.json")),
        _route(reviews_path(APP, "us", 1)): _json(_full_page(5000, newest)),
        _route(reviews_path(APP, "us", 2)): httpx.Response(
            503, text=(FIXTURES / "appstore" / "error-503.html").read_text()),
    })
    spec = _spec(apps=[{"id": APP, "countries": ["gb", "us"]}])
    with api.client() as client:
        result = fetch(client, spec, state, now=NOW)
    assert result.error and "HTTP 503" in result.error and "acme-ios" in result.error
    assert len(result.mentions) == 1 + PAGE_SIZE  # gb, and page 1 of us
    cursors = result.state.cursors()
    assert cursors[f"{APP}:gb"] == "2026-11-19T10:05:51+00:00"  # completed: advanced
    assert cursors[f"{APP}:us"] == earlier  # failed mid-way: re-read next time


def test_errors_before_anything_was_read_are_typed():
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    api = Api({_route(reviews_path(APP, "us", 1)): httpx.Response(500)})
    with api.client() as client, pytest.raises(RetriableError, match="HTTP 500"):
        fetch(client, _spec(), SourceState("acme-ios"), now=NOW)
    assert len(api.requests) == 3  # two bounded retries in the HTTP client, no more
    api = Api({_route(reviews_path(APP, "us", 1)): timeout})
    with api.client() as client, pytest.raises(RetriableError, match="timed out"):
        fetch(client, _spec(), SourceState("acme-ios"), now=NOW)


def test_429_with_retry_after_defers_without_sleeping():
    limited = httpx.Response(429, headers={"Retry-After": "120"},
                             text=(FIXTURES / "appstore" / "rate-limited.html").read_text())
    api = Api({_route(reviews_path(APP, "us", 1)): limited})
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("acme-ios"), now=NOW)
    assert caught.value.retry_at is not None
    assert len(api.requests) == 1  # 120 s is more than MAX_INLINE_WAIT_S: no retry

    # After one storefront was read, the 429 defers the rest; what was read is kept.
    api = Api({_route(reviews_path(APP, "gb", 1)): _json(_load("reviews-gb-page1.json")),
               _route(reviews_path(APP, "us", 1)): httpx.Response(429)})
    with api.client() as client:
        result = fetch(client, _spec(apps=[{"id": APP, "countries": ["gb", "us"]}]),
                       SourceState("acme-ios"), now=NOW)
    assert [m.external_id for m in result.mentions] == ["13000000201"]
    # no Retry-After: the documented pause, from `now`
    assert result.deferred_until == NOW + timedelta(hours=1) and result.error is None
    assert set(result.state.cursors()) == {f"{APP}:gb"}


def test_a_storefront_without_the_app_is_reported_and_the_others_go_on():
    api = Api({_route(reviews_path(APP, "us", 1)): _json(_load("reviews-us-page1.json"))})
    with api.client() as client:
        result = fetch(client, _spec(apps=[{"id": APP, "countries": ["xx", "us"]}]),
                       SourceState("acme-ios"), now=NOW)
    assert len(result.mentions) == 4 and result.error is None
    assert result.item_errors == [
        f"appstore: app {APP} (xx): no review feed (HTTP 404): is the app sold in that "
        "storefront?"]


# --- listing ratings --------------------------------------------------------------------


def test_listing_ratings_come_from_one_lookup_per_storefront():
    other = "284882215"
    api = Api({
        _route(reviews_path(APP, "us", 1)): _json(_load("reviews-us-page1.json")),
        _route(reviews_path(other, "us", 1)): _json(_page([_review(77, NOW - timedelta(1))])),
        _route("/lookup", country="us"): _lookup({APP: 18250, other: 12}),
    })
    spec = _spec(apps=[APP, other], listing_ratings=True)
    with api.client() as client:
        result = fetch(client, spec, SourceState("acme-ios"), now=NOW)
    lookups = [r for r in api.requests if r.url.path == "/lookup"]
    assert len(lookups) == 1
    assert dict(lookups[0].url.params) == {"id": f"{APP},{other}", "country": "us"}
    by_id = {m.external_id: m.listing_ratings for m in result.mentions}
    assert by_id["13000000103"] == 18250 and by_id["77"] == 12


def test_a_failed_lookup_leaves_the_count_unknown_and_is_no_error():
    api = Api({_route(reviews_path(APP, "us", 1)): _json(_load("reviews-us-page1.json")),
               _route("/lookup"): httpx.Response(503)})
    with api.client() as client:
        result = fetch(client, _spec(listing_ratings=True), SourceState("acme-ios"), now=NOW)
    assert len(result.mentions) == 4 and result.error is None and result.item_errors == []
    assert all(m.listing_ratings is None for m in result.mentions)


def test_lookup_can_be_turned_off():
    api = Api({_route(reviews_path(APP, "us", 1)): _json(_load("reviews-us-page1.json"))})
    with api.client() as client:
        fetch(client, _spec(listing_ratings=False), SourceState("acme-ios"), now=NOW)
    assert "/lookup" not in api.paths()


# --- through the pipeline ---------------------------------------------------------------


def _scenario():
    return next(s for s in scenarios() if s.name == "appstore")


@pytest.mark.parametrize("about, stored", [(None, 4), ("Acme", 5)])
def test_brand_from_the_text_or_every_review_with_about(tmp_path, about, stored):
    """Reviews name no brand by construction: without `about` a review counts when its
    text names one; a source `about = "Acme"` (the brand's own app) makes every review
    Acme's. The 1-star review opens a ticket: its listing's 18,250 ratings reach far."""
    scenario = _scenario()
    server = FixtureServer(scenario.routes()).start()
    try:
        source_config = scenario.source(server.base_url)
        if about:
            source_config["about"] = about
        settings = make_settings(tmp_path, [source_config])
        source = settings.sources[0]
        store, pipeline = Store(settings.db_path), Pipeline(settings)
        with http_module.make_client() as client:
            outcome = fetch_source(client, source, SourceState(source.name), settings, now=NOW)
        report = store_outcome(store, pipeline, source, outcome, run_id="r1", now=NOW)
    finally:
        server.stop()
    assert outcome.status == "ok" and report.new == stored
    assert report.tickets >= 1
    with store.connect() as con:
        ticketed = {row[0] for row in con.execute(
            "SELECT m.external_id FROM tickets t JOIN mentions m ON m.id = t.mention_id"
        ).fetchall()}
    assert "13000000103" in ticketed
