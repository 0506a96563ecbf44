from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError
from connectors.hackernews import (
    DEFAULT_TAGS,
    PAGE_SIZE,
    RATE_LIMIT_PAUSE,
    fetch,
    item_url,
    refresh,
    to_mention,
)

BASE = "https://hn.test"
SEARCH = "/api/v1/search_by_date"
NEWEST = int(datetime(2026, 11, 21, 9, 40, 5, tzinfo=UTC).timestamp())  # "acme of skill"


def _load(name: str):
    return json.loads((FIXTURES / "hackernews" / name).read_text())


def _hit(object_id: str):
    for name in ("search-acme.json", "search-acme-cloud.json", "search-globex.json"):
        for hit in _load(name)["hits"]:
            if hit["objectID"] == object_id:
                return hit
    raise KeyError(object_id)


def _page(hits: list, page: int = 0, pages: int = 1) -> dict:
    return {"hits": hits, "page": page, "nbPages": pages, "nbHits": len(hits),
            "hitsPerPage": PAGE_SIZE, "processingTimeMS": 1, "query": "", "params": ""}


def _spec(**changes) -> SourceSpec:
    values = {"name": "hn", "kind": "hackernews", "url": BASE, "queries": ("Acme",),
              "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


class Api:
    """A fake HN Search API: answers by path and query parameters, records requests."""

    def __init__(self, routes, users: dict | None = None):
        self.routes = routes  # [(path, {param: value}, response or callable)]
        self.users = users if users is not None else {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, params = request.url.path, dict(request.url.params)
        if "/api/v1/users/" in path:
            name = path.rsplit("/", 1)[1]
            if name in self.users:
                return httpx.Response(200, json={"username": name, "about": "",
                                                 "karma": self.users[name]})
            return httpx.Response(404, json={"message": "User not found", "status": 404})
        best = None
        for route_path, wanted, answer in self.routes:
            if path.endswith(route_path) and all(params.get(k) == v for k, v in wanted.items()) \
                    and (best is None or len(wanted) > best[0]):
                best = (len(wanted), answer)
        if best is None:
            return httpx.Response(200, json=_page([]))
        return best[1](request) if callable(best[1]) else best[1]

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def searches(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.url.path.endswith(SEARCH)]


def _fixture_api() -> Api:
    return Api([
        (SEARCH, {"query": "Acme"}, httpx.Response(200, json=_load("search-acme.json"))),
        (SEARCH, {"query": "Globex"}, httpx.Response(200, json=_load("search-globex.json"))),
    ], users={"dana_r": 5210, "kmills": 18344, "acme": 87, "priya_k": 1203})


def test_a_link_story_becomes_a_mention():
    mention = to_mention(_hit("46012001"))
    assert mention.source == "hackernews" and mention.external_id == "46012001"
    assert mention.url == "https://news.ycombinator.com/item?id=46012001" == item_url("46012001")
    assert mention.title == "Acme Cloud outage took down our checkout for three hours"
    assert mention.text == ""  # a link post has no text of its own
    assert mention.published_at == datetime(2026, 11, 21, 9, 31, 9, tzinfo=UTC)
    assert mention.author.handle == "dana_r" and mention.author.id == "dana_r"
    assert mention.author.url == "https://news.ycombinator.com/user?id=dana_r"
    assert (mention.engagement.score, mention.engagement.replies) == (142, 87)
    assert mention.thread_id is None and mention.parent_id is None
    assert not mention.is_own and not mention.is_repost
    assert mention.raw["url"] == "https://blog.dana.example/acme-cloud-outage"


def test_a_comment_keeps_its_thread_and_plain_text():
    mention = to_mention(_hit("46012044"), karma=18344)
    assert mention.title is None
    assert mention.text == ("We moved off Acme last year after the same thing happened twice. "
                            "Support kept closing our tickets & never answered.\n"
                            "Don't pay for their \"premium\" plan.")
    assert mention.thread_id == "46012001" and mention.parent_id == "46012001"
    assert mention.engagement.score is None  # points are hidden on comments
    assert mention.author.followers == 18344


def test_own_ask_hn_is_flagged_and_its_html_is_text():
    mention = to_mention(_hit("46011950"), own_handles=frozenset({"acme"}))
    assert mention.is_own
    assert mention.text == ("Hi HN, Acme here. We are rebuilding https://status.acme.example.\n"
                            "What would you want to see on it?")
    assert not to_mention(_hit("46011950"), own_handles=frozenset({"globex"})).is_own


def test_iso_created_at_is_used_when_the_epoch_is_missing():
    hit = dict(_hit("46011990"))
    del hit["created_at_i"]
    hit["created_at"] = "2026-11-21T09:25:30.000Z"  # the older format, with milliseconds
    assert to_mention(hit).published_at == datetime(2026, 11, 21, 9, 25, 30, tzinfo=UTC)


def test_first_poll_reads_the_newest_page_and_looks_up_karma_once_per_author():
    api = _fixture_api()
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Acme Cloud", "Globex")),
                       SourceState("hn"))
    searches = api.searches()
    assert [s["query"] for s in searches] == ["Acme", "Acme Cloud", "Globex"]
    assert all(s["tags"] == DEFAULT_TAGS and s["hitsPerPage"] == str(PAGE_SIZE)
               and s["page"] == "0" and "numericFilters" not in s for s in searches)
    assert len(result.mentions) == 5 and result.error is None and result.item_errors == []
    users = [r.url.path for r in api.requests if r.url.path.startswith("/api/v1/users/")]
    assert sorted(users) == sorted(f"/api/v1/users/{u}" for u in
                                   ("hnfan", "kmills", "dana_r", "acme", "priya_k"))
    karma = {m.author.handle: m.author.followers for m in result.mentions}
    assert karma == {"hnfan": None, "kmills": 18344, "dana_r": 5210, "acme": 87,
                     "priya_k": 1203}
    assert result.state.cursors() == {"q:Acme": NEWEST, "q:Globex": NEWEST - 875}


def test_next_poll_overlaps_the_cursor_pages_through_and_dedupes():
    hits = _load("search-acme.json")["hits"]
    api = Api([
        (SEARCH, {"query": "Acme", "page": "0"},
         httpx.Response(200, json=_page(hits[:2], 0, 2))),
        (SEARCH, {"query": "Acme", "page": "1"},
         httpx.Response(200, json=_page([*hits[1:], hits[0]], 1, 2))),  # overlaps page 0
    ])
    state = SourceState("hn").with_cursors({"q:Acme": NEWEST - 3600})
    with api.client() as client:
        result = fetch(client, _spec(params={"author_karma": False}), state)
    searches = api.searches()
    assert [s["page"] for s in searches] == ["0", "1"]
    assert {s["numericFilters"] for s in searches} == {f"created_at_i>{NEWEST - 3600 - 900}"}
    assert len(result.mentions) == 4
    assert result.state.cursors() == {"q:Acme": NEWEST}
    assert len(api.requests) == 2  # no karma look-ups when turned off


def test_the_page_cap_and_the_cursor_never_moving_back():
    old = _hit("46011950")
    api = Api([(SEARCH, {"query": "Acme"}, httpx.Response(200, json=_page([old], 0, 9)))])
    state = SourceState("hn").with_cursors({"q:Acme": NEWEST})
    with api.client() as client:
        result = fetch(client, _spec(params={"max_pages": 2, "author_karma": False}), state)
    assert [s["page"] for s in api.searches()] == ["0", "1"]
    assert result.state.cursors() == {"q:Acme": NEWEST}  # only older items came back
    with api.client() as client, pytest.raises(FatalError, match="max_pages"):
        fetch(client, _spec(params={"max_pages": 0}), state)


def test_a_failed_page_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    hits = _load("search-acme.json")["hits"]
    api = Api([
        (SEARCH, {"query": "Acme"}, httpx.Response(200, json=_load("search-acme.json"))),
        (SEARCH, {"query": "Globex", "page": "0"},
         httpx.Response(200, json=_page(_load("search-globex.json")["hits"], 0, 2))),
        (SEARCH, {"query": "Globex", "page": "1"}, httpx.Response(502, text="Bad Gateway")),
    ])
    state = SourceState("hn").with_cursors({"q:Acme": NEWEST - 60, "q:Globex": 1795250000})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex", "Acme Cloud"),
                                     params={"author_karma": False}), state)
    assert len(result.mentions) == len(hits) + 1  # Acme's and Globex's first page
    assert result.error and "HTTP 502" in result.error
    assert result.state.cursors() == {"q:Acme": NEWEST, "q:Globex": 1795250000}
    assert "Acme Cloud" not in [s["query"] for s in api.searches()]  # stopped there


def test_malformed_hits_are_skipped_and_counted():
    good = _hit("46011990")
    api = Api([(SEARCH, {"query": "Acme"}, httpx.Response(200, json=_page([
        {"title": "no id", "created_at_i": NEWEST},
        dict(good, objectID="1", created_at_i="yesterday", created_at=None),
        "not an object",
        good,
    ])))])
    with api.client() as client:
        result = fetch(client, _spec(params={"author_karma": False}), SourceState("hn"))
    assert [m.external_id for m in result.mentions] == ["46011990"]
    assert len(result.item_errors) == 3


def test_a_body_that_is_not_json_or_an_error_answer_is_a_clear_failure():
    api = Api([
        (SEARCH, {"query": "Acme"}, httpx.Response(200, text="<html>oops</html>")),
        (SEARCH, {"query": "Globex"}, httpx.Response(400, json=_load("error.json"))),
    ])
    with api.client() as client:
        with pytest.raises(FatalError, match=r"hn: response from .* is not valid JSON"):
            fetch(client, _spec(), SourceState("hn"))
        with pytest.raises(FatalError, match="HTTP 400"):
            fetch(client, _spec(queries=("Globex",)), SourceState("hn"))


def test_429_defers_without_sleeping(monkeypatch):
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail(f"slept {s}s"))
    limited = httpx.Response(429, json=_load("rate-limited.json"), headers={"Retry-After": "600"})
    api = Api([
        (SEARCH, {"query": "Acme"}, httpx.Response(200, json=_load("search-acme.json"))),
        (SEARCH, {"query": "Globex"}, limited),
    ])
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), SourceState("hn"))
        assert len(result.mentions) == 4 and result.error is None
        assert result.deferred_until > datetime.now(UTC) + timedelta(minutes=9)
        assert result.state.cursors() == {"q:Acme": NEWEST}
        assert not [r for r in api.requests if "users" in r.url.path]  # waits too
        with pytest.raises(RateLimitedError) as raised:
            fetch(client, _spec(queries=("Globex",)), SourceState("hn"))
    assert raised.value.retry_at > datetime.now(UTC) + timedelta(minutes=9)


def test_429_without_retry_after_waits_the_hourly_window():
    api = Api([(SEARCH, {}, httpx.Response(429, json=_load("rate-limited.json")))])
    now = datetime.now(UTC)
    with api.client() as client, pytest.raises(RateLimitedError) as raised:
        fetch(client, _spec(), SourceState("hn"), now=now)
    assert raised.value.retry_at == now + RATE_LIMIT_PAUSE


def test_a_spent_rate_limit_header_stops_the_source_until_its_reset():
    reset = int((datetime.now(UTC) + timedelta(minutes=20)).timestamp())
    api = Api([(SEARCH, {"query": "Acme"}, httpx.Response(
        200, json=_load("search-acme.json"),
        headers={"X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "0",
                 "X-RateLimit-Reset": str(reset)}))])
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), SourceState("hn"))
    assert len(api.requests) == 1 and len(result.mentions) == 4
    assert result.deferred_until == datetime.fromtimestamp(reset, UTC)
    assert result.state.rate_limit_remaining == 0


def test_server_errors_and_timeouts_fail_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for answer, message in ((httpx.Response(500), "HTTP 500 from https://hn.test"),
                            (timeout, "timed out fetching https://hn.test")):
        api = Api([(SEARCH, {}, answer)])
        with api.client() as client, pytest.raises(RetriableError, match=message):
            fetch(client, _spec(), SourceState("hn"))
        assert len(api.requests) == 3  # the client's retries, then the error


def test_base_url_and_tags_are_settings():
    api = _fixture_api()
    with api.client() as client:
        fetch(client, _spec(url="https://proxy.test/hn/", params={"tags": "story"}),
              SourceState("hn"))
    assert {r.url.host for r in api.requests} == {"proxy.test"}
    assert api.requests[0].url.path == "/hn/api/v1/search_by_date"
    assert api.searches()[0]["tags"] == "story"
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=_page([]))
                                                     )) as client:
        with pytest.raises(FatalError, match="nothing to search"):
            fetch(client, _spec(queries=()), SourceState("hn"))
        with pytest.raises(FatalError, match=r"params\.tags"):
            fetch(client, _spec(params={"tags": ""}), SourceState("hn"))


def test_refresh_rereads_stories_by_their_story_tags(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "hackernews", {
        "/api/v1/search": fixture_route("hackernews", "lookup-stories.json")})
    assert run.paths() == ["/api/v1/search"]  # one call; karma is not looked up again
    (asked,) = run.params("/api/v1/search")
    # Stories only: comments have no points or reply count to re-read.
    assert asked == {"tags": ["story,(story_46012001,story_46011950)"], "hitsPerPage": ["2"]}
    fresh, before = run.by_id(), run.by_id("fetched")
    assert set(fresh) == {"46012001", "46011950"}
    outage = fresh["46012001"]
    assert outage.id == before["46012001"].id
    assert (outage.engagement.score, outage.engagement.replies) == (512, 301)
    assert outage.author.followers == 5210  # the stored karma stays
    assert fresh["46011950"].is_own and fresh["46011950"].engagement.score == 19


def test_refresh_asks_50_stories_a_call_and_a_429_is_a_typed_error():
    story = _hit("46012001")
    hits = [{**story, "objectID": str(100 + i), "_tags": ["story", f"story_{100 + i}"]}
            for i in range(60)]
    stored = [to_mention(h) for h in hits] + [to_mention(_hit("46012044"))]  # + a comment

    def lookup(request: httpx.Request) -> httpx.Response:
        tags = request.url.params["tags"]
        wanted = tags.removeprefix("story,(").removesuffix(")").split(",")
        return httpx.Response(200, json=_page([h for h in hits
                                               if f"story_{h['objectID']}" in wanted]))

    api = Api([("/api/v1/search", {}, lookup)])
    with api.client() as client:
        fresh = refresh(client, _spec(), stored)
    asked = [dict(r.url.params) for r in api.requests]
    assert [int(a["hitsPerPage"]) for a in asked] == [50, 10]
    assert [m.external_id for m in fresh] == [h["objectID"] for h in hits]

    limited = Api([("/api/v1/search", {}, httpx.Response(
        429, json=_load("rate-limited.json"), headers={"Retry-After": "3600"}))])
    with limited.client() as client, pytest.raises(RateLimitedError):
        refresh(client, _spec(), stored)
