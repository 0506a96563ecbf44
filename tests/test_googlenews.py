from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from conftest import FIXTURES
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError
from connectors.googlenews import (
    fetch,
    outlet_audience,
    search_query,
    to_mention,
    validate,
)
from connectors.rss import read_feed

BASE = "https://news.test"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")
AUDIENCES = {"daily.example": 250000, "Tech Wire Example": 40000}
RECALL = "CBMiYkFVX3lxTE9hY21lUmVjYWxsc0FudmlscwE"
OUTAGE = "CBMiY0FVX3lxTFBhY21lQ2xvdWRPdXRhZ2UyMDI2"
CLUSTER = "CBMiZEFVX3lxTE1nbG9iZXhBY21lU2V0dGxlbWVudA"
PRESS = "CBMiZkFVX3lxTE1hY21lQW52aWxQcm9MYXVuY2hQUg"
BAKERY = "CBMiXkFVX3lxTE5iYWtlcnlBd2FyZFNwcmluZ2ZpZWxk"
PLANT = "CBMiYUFVX3lxTE5nbG9iZXhPcGVuc09oaW9QbGFudA"


def _body(name: str) -> bytes:
    return (FIXTURES / "googlenews" / name).read_bytes()


def _entries(name: str):
    parsed = read_feed(_body(name), feed_url=BASE + "/rss/search?q=Acme")
    return parsed, parsed.entries


def _xml(name: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=_body(name),
                          headers={"content-type": "application/xml; charset=utf-8", **headers})


class Api:
    """Google News by query: answers `q` from a table, records requests."""

    def __init__(self, answers):
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != "/rss/search":
            return httpx.Response(404)
        answer = self.answers.get(request.url.params.get("q"))
        if answer is None:
            return _xml("search-empty.xml")
        return answer(request) if callable(answer) else answer

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def queries(self) -> list[str]:
        return [r.url.params["q"] for r in self.requests]


def _spec(**params) -> SourceSpec:
    return SourceSpec(name="news", kind="googlenews", url=BASE, queries=QUERIES,
                      params={"outlet_audience": AUDIENCES, **params},
                      own_handles=frozenset({"acme", "acme.example"}))


def _answers() -> dict:
    return {"Acme": _xml("search-acme.xml"), '"Acme Cloud"': _xml("search-acme-cloud.xml"),
            "Globex": _xml("search-globex.xml")}


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0.0)
    real_sleep = http_module.time.sleep

    def sleep(seconds: float) -> None:
        assert seconds <= http_module.MAX_INLINE_WAIT_S, f"slept {seconds}s"
        real_sleep(0)

    monkeypatch.setattr(http_module.time, "sleep", sleep)


# --- to_mention -------------------------------------------------------------------------


def test_item_maps_outlet_headline_and_guid():
    parsed, entries = _entries("search-acme.xml")
    mention = to_mention(entries[0], feed_url=BASE + "/rss/search?q=Acme",
                         feed_lang=parsed.feed.get("language"), audiences=AUDIENCES)
    assert mention.source == "googlenews" and mention.external_id == RECALL
    assert mention.title == "Acme recalls 10,000 anvils after customer injuries"
    assert mention.text == "Acme recalls 10,000 anvils after customer injuries"
    assert mention.url == f"https://news.google.com/rss/articles/{RECALL}?oc=5"
    assert mention.published_at == datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
    assert mention.lang == "en"
    assert (mention.author.id, mention.author.name, mention.author.url) == (
        "daily.example", "The Daily Example", "https://www.daily.example")
    assert mention.author.followers == 250000  # the audience configured for its host
    assert mention.rating is None and not mention.is_repost and not mention.is_own
    assert mention.raw["source"] == {"href": "https://www.daily.example",
                                     "title": "The Daily Example"}


def test_cluster_keeps_related_headlines_and_own_site_is_own():
    _, entries = _entries("search-acme.xml")
    cluster = to_mention(entries[2], feed_url=BASE, audiences=AUDIENCES)
    assert cluster.title == "Globex and Acme settle patent dispute"
    assert cluster.text.splitlines()[1].startswith("What the settlement means")
    assert cluster.author.followers is None
    press = to_mention(entries[3], feed_url=BASE, own_handles=frozenset({"acme.example"}))
    assert press.is_own and press.author.id == "acme.example"


def test_outlet_audience_by_host_or_name():
    assert outlet_audience(AUDIENCES, "https://www.daily.example/x", None) == 250000
    assert outlet_audience(AUDIENCES, "https://techwire.example", "tech wire example") == 40000
    assert outlet_audience({"WWW.Daily.Example": 5}, "https://daily.example", None) == 5
    assert outlet_audience(AUDIENCES, "https://other.example", "Other") is None
    assert outlet_audience({"x.example": "many"}, "https://x.example", None) is None


def test_search_query_quotes_phrases():
    assert search_query("Acme") == "Acme"
    assert search_query("Acme Cloud") == '"Acme Cloud"'
    assert search_query('"Acme Cloud" -job') == '"Acme Cloud" -job'  # already written as query
    assert search_query("Acme", "7d") == "Acme when:7d"


def test_item_without_guid_is_refused():
    _, entries = _entries("search-acme.xml")
    entry = dict(entries[0])
    entry.pop("id")
    with pytest.raises(ValueError, match="guid"):
        to_mention(entry, feed_url=BASE)


# --- fetch ------------------------------------------------------------------------------


def test_one_search_per_term_with_the_edition_and_articles_kept_once():
    api = Api(_answers())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("news"), now=NOW)
    assert api.queries() == ["Acme", '"Acme Cloud"', "#acme", "Globex"]
    assert all(r.url.host == "news.test" for r in api.requests)  # base_url honoured
    params = dict(api.requests[0].url.params)
    assert params == {"q": "Acme", "hl": "en-US", "gl": "US", "ceid": "US:en"}
    ids = [m.external_id for m in result.mentions]
    assert ids == [RECALL, OUTAGE, CLUSTER, PRESS, BAKERY, PLANT]
    assert result.item_errors == [] and result.error is None
    cursors = result.state.cursors()
    assert cursors["q:Acme"] == "2026-11-20T14:03:00+00:00"
    assert cursors["q:Globex"] == "2026-11-21T06:15:00+00:00"
    assert "q:#acme" not in cursors  # nothing found: nothing to remember


def test_edition_params_are_passed_and_ceid_follows():
    api = Api(_answers())
    with api.client() as client:
        fetch(client, _spec(hl="de", gl="DE", when="7d"), SourceState("news"), now=NOW)
    params = dict(api.requests[0].url.params)
    assert params == {"q": "Acme when:7d", "hl": "de", "gl": "DE", "ceid": "DE:de"}


def test_later_polls_keep_articles_from_the_overlap_on():
    state = SourceState("news").with_cursors({"q:Acme": "2026-11-20T14:03:00+00:00"})
    api = Api({"Acme": _xml("search-acme.xml")})
    with api.client() as client:
        result = fetch(client, _spec(), state, now=NOW)
    # 24 h before the cursor: the recall (20 Nov 14:03) and the outage (19 Nov 21:40) stay,
    # older articles were seen before.
    assert [m.external_id for m in result.mentions] == [RECALL, OUTAGE]
    assert result.state.cursors()["q:Acme"] == "2026-11-20T14:03:00+00:00"
    with api.client() as client:
        wide = fetch(client, _spec(overlap_minutes=7 * 24 * 60), state, now=NOW)
    assert len(wide.mentions) == 5  # all of the Acme search


def test_a_future_date_does_not_push_the_cursor_past_now():
    body = _body("search-globex.xml").replace(b"Sat, 21 Nov 2026 06:15:00 GMT",
                                              b"Sat, 21 Nov 2099 06:15:00 GMT")
    api = Api({"Globex": httpx.Response(200, content=body)})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("news"), now=NOW)
    assert result.state.cursors()["q:Globex"] == NOW.isoformat()


def test_malformed_items_are_skipped_and_counted():
    body = _body("search-globex.xml").replace(
        f'<guid isPermaLink="false">{PLANT}</guid>'.encode(), b"")
    api = Api({"Globex": httpx.Response(200, content=body)})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("news"), now=NOW)
    assert [m.external_id for m in result.mentions] == [CLUSTER]
    assert len(result.item_errors) == 1 and "item 0 of search 'Globex'" in result.item_errors[0]


def test_a_page_that_is_not_a_feed_fails_clearly():
    api = Api({"Acme": httpx.Response(200, content=_body("rate-limited.html"),
                                      headers={"content-type": "text/html"})})
    with api.client() as client, pytest.raises(FatalError, match="news: malformed feed"):
        fetch(client, _spec(), SourceState("news"), now=NOW)


def test_partial_failure_keeps_completed_terms():
    answers = _answers()
    answers["Globex"] = httpx.Response(503, content=_body("error-503.html"))
    api = Api(answers)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("news"), now=NOW)
    assert result.error and "HTTP 503" in result.error
    assert {m.external_id for m in result.mentions} == {RECALL, OUTAGE, CLUSTER, PRESS, BAKERY}
    assert set(result.state.cursors()) == {"q:Acme", "q:Acme Cloud"}


def test_errors_before_anything_was_read_are_typed():
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    api = Api({"Acme": httpx.Response(500)})
    with api.client() as client, pytest.raises(RetriableError, match="HTTP 500"):
        fetch(client, _spec(), SourceState("news"), now=NOW)
    assert len(api.requests) == 3
    api = Api({"Acme": timeout})
    with api.client() as client, pytest.raises(RetriableError, match="timed out"):
        fetch(client, _spec(), SourceState("news"), now=NOW)


def test_unusual_traffic_429_defers_without_sleeping():
    limited = httpx.Response(429, content=_body("rate-limited.html"),
                             headers={"Retry-After": "600", "content-type": "text/html"})
    api = Api({"Acme": limited})
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("news"), now=NOW)
    assert caught.value.retry_at is not None and len(api.requests) == 1

    answers = _answers()
    answers['"Acme Cloud"'] = httpx.Response(429, content=_body("rate-limited.html"))
    api = Api(answers)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("news"), now=NOW)
    assert result.deferred_until == NOW + timedelta(hours=1) and result.error is None
    assert len(result.mentions) == 5 and set(result.state.cursors()) == {"q:Acme"}
    assert api.queries() == ["Acme", '"Acme Cloud"']  # the rest waits for the next run


def test_validate_explains_bad_settings():
    assert validate(_spec()) == []
    problems = validate(SourceSpec(name="n", kind="googlenews",
                                   params={"outlet_audience": {"x.example": -1},
                                           "overlap_minutes": "1d"}))
    assert any("outlet_audience" in p for p in problems)
    assert any("overlap_minutes" in p for p in problems)
    assert any("nothing to search for" in p for p in problems)
    with pytest.raises(FatalError, match="nothing to search for"):
        fetch(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
              SourceSpec(name="n", kind="googlenews"), SourceState("n"))
