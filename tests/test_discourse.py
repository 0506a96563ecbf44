from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import discourse
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.discourse import (
    API_KEY,
    API_USERNAME,
    fetch,
    post_url,
    search_query,
    search_terms,
    to_mention,
)
from connectors.errors import FatalError, RateLimitedError, RetriableError
from earful.cycle import fetch_source

BASE = "https://forum.example"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")
TERMS = {"Acme": "search-acme.json", '"Acme Cloud"': "search-acme-cloud.json",
         "Globex": "search-globex.json"}


@pytest.fixture(autouse=True)
def _no_search_spacing(monkeypatch):
    """Anonymous searches are spaced a second apart; the tests do not wait (one test
    checks the spacing itself)."""
    monkeypatch.setattr(discourse, "ANON_SEARCH_INTERVAL_S", 0.0)


def _load(name: str):
    return json.loads((FIXTURES / "discourse" / name).read_text())


def _search_item(name: str, post_id: int) -> tuple[dict, dict]:
    data = _load(name)
    post = next(p for p in data["posts"] if p["id"] == post_id)
    return post, next(t for t in data["topics"] if t["id"] == post["topic_id"])


def _spec(**changes) -> SourceSpec:
    values = {"name": "forum", "kind": "discourse", "url": BASE, "queries": QUERIES,
              "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


class Forum:
    """A fake forum: search answers by term (the part of `q` before " order:"), full posts
    from the fixtures; `overrides` replace answers by (path, term, page)."""

    def __init__(self, overrides=None, searches=None):
        self.overrides = overrides or {}
        self.searches = searches if searches is not None else TERMS
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/search.json"):
            term = request.url.params["q"].split(" order:")[0]
            page = int(request.url.params.get("page", "1"))
            for key in ((path, term, page), (path, term, None)):
                if key in self.overrides:
                    answer = self.overrides[key]
                    return answer(request) if callable(answer) else answer
            name = self.searches.get(term)
            return httpx.Response(200, content=(FIXTURES / "discourse" / (
                name or "search-empty.json")).read_bytes())
        if (path, None, None) in self.overrides:
            return self.overrides[(path, None, None)]
        file = FIXTURES / "discourse" / f"post-{path.rsplit('/', 1)[-1]}"
        if path.startswith(("/posts/", "/forum/posts/")) and file.exists():
            return httpx.Response(200, content=file.read_bytes())
        return httpx.Response(404, json={"errors": ["The requested URL or resource could not "
                                                    "be found."], "error_type": "not_found"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def queries(self) -> list[str]:
        return [r.url.params["q"] for r in self.requests if r.url.path.endswith("search.json")]

    def post_reads(self) -> list[str]:
        return [r.url.path for r in self.requests if "/posts/" in r.url.path]


def test_terms_become_discourse_search_phrases():
    assert search_terms(_spec()) == ["Acme", '"Acme Cloud"', "Globex"]  # #acme = Acme
    assert search_terms(_spec(queries=("@acme", "  ", 'say "hi"'))) == ["acme", '"say hi"']
    assert search_query("Acme") == "Acme order:latest"
    assert search_query("Acme", date(2026, 11, 20)) == "Acme order:latest after:2026-11-20"
    assert post_url(BASE, "a-b", 4, 2) == f"{BASE}/t/a-b/4/2"
    assert post_url(BASE, None, 4, 2) == f"{BASE}/t/4/2"


def test_a_full_post_becomes_a_mention():
    post, topic = _search_item("search-acme.json", 9107)
    mention = to_mention(post, topic, base=BASE, full_post=_load("post-9107.json"),
                         own_handles=frozenset({"acme"}))
    assert mention.source == "discourse" and mention.external_id == f"{BASE}/p/9107"
    assert mention.url == f"{BASE}/t/migrating-our-backups-off-acme/415/3"
    assert mention.text == ("Sorry about the trouble with the export. The backup tool in Acme "
                            "4.2 writes one archive per project; see the backup guide.\n"
                            "If an archive is missing, reply here with the project name.")
    assert mention.title is None  # a reply: the topic title belongs to its first post
    assert mention.published_at == datetime(2026, 11, 21, 9, 40, 12, 512000, tzinfo=UTC)
    assert (mention.author.id, mention.author.handle, mention.author.name) == (
        "17", "@acme", "Acme Support")
    assert mention.author.url == f"{BASE}/u/acme" and mention.author.followers is None
    assert (mention.engagement.likes, mention.engagement.replies,
            mention.engagement.views) == (2, 0, None)
    assert mention.thread_id == f"{BASE}/t/415" and mention.parent_id == f"{BASE}/t/415/2"
    assert mention.is_own and not mention.is_repost and mention.lang is None
    assert set(mention.raw) == {"search", "topic", "post"}


def test_a_first_post_carries_the_topic_and_a_blurb_stands_in_for_the_text():
    post, topic = _search_item("search-acme.json", 9101)
    mention = to_mention(post, topic, base=BASE)  # not read in full
    assert mention.title == "Acme Cloud outage again?"
    assert mention.text.endswith("I pay for uptime, not apologies…")  # entity decoded
    assert (mention.engagement.likes, mention.engagement.replies,
            mention.engagement.views) == (9, 5, 318)  # replies = posts_count - 1
    assert mention.author.id is None and not mention.is_own
    assert set(mention.raw) == {"search", "topic"}
    nameless, nameless_topic = _search_item("search-globex.json", 9110)
    assert to_mention(nameless, nameless_topic, base=BASE).author.name is None


@pytest.mark.parametrize("broken", [
    {"id": "9101"}, {"topic_id": None}, {"post_number": True}, {"username": ""},
    {"created_at": "yesterday"},
])
def test_a_malformed_post_is_refused(broken):
    post, topic = _search_item("search-acme.json", 9101)
    with pytest.raises((KeyError, ValueError)):
        to_mention({**post, **broken}, topic, base=BASE)


def test_first_poll_reads_the_newest_page_and_new_posts_in_full():
    forum = Forum()
    spec = _spec(secrets={API_KEY: "k3y", API_USERNAME: "system"})
    with forum.client() as client:
        result = fetch(client, spec, SourceState("forum"))
    assert forum.queries() == ["Acme order:latest", '"Acme Cloud" order:latest',
                               "Globex order:latest"]
    assert all(r.url.params.get("page") == "1" for r in forum.requests
               if r.url.path == "/search.json")
    assert all(r.headers["api-key"] == "k3y" and r.headers["api-username"] == "system"
               for r in forum.requests)
    # Dana's post is found by two terms: read once, kept once.
    assert forum.post_reads() == ["/posts/9107.json", "/posts/9101.json", "/posts/9088.json",
                                  "/posts/9095.json", "/posts/9110.json"]
    assert len(result.mentions) == 5 and result.error is None and result.item_errors == []
    cursors = result.state.cursors()
    assert cursors["q:Acme"]["newest"] == "2026-11-21T09:40:12.512000Z"
    assert set(cursors["q:Acme"]["seen"]) == {"9107", "9101", "9088"}
    assert all(k not in json.dumps(m.raw) for m in result.mentions for k in ("k3y",))


def test_the_full_post_cap_keeps_blurbs_past_it():
    forum = Forum()
    with forum.client() as client:
        result = fetch(client, _spec(params={"max_full_posts": 1}), SourceState("forum"))
        blurbs_only = fetch(client, _spec(params={"max_full_posts": 0}), SourceState("forum"))
    assert forum.post_reads() == ["/posts/9107.json"]
    texts = {m.external_id: m.text for m in result.mentions}
    assert texts[f"{BASE}/p/9107"].endswith("reply here with the project name.")
    assert texts[f"{BASE}/p/9101"].endswith("not apologies…")  # the blurb
    assert all("post" not in m.raw for m in blurbs_only.mentions)
    assert "api-key" not in forum.requests[0].headers  # no key configured, none sent


def test_next_poll_searches_after_a_date_and_skips_posts_already_seen():
    newer = {"id": 9120, "name": "Kim", "username": "kim", "avatar_template": "/a/{size}.png",
             "created_at": "2026-11-21T11:15:00.000Z", "like_count": 0,
             "blurb": "Acme fixed it, thanks", "post_number": 7, "topic_id": 412}
    page1 = _load("search-acme.json")
    page1["posts"].insert(0, newer)
    page1["grouped_search_result"]["more_full_page_results"] = True
    page2 = _load("search-empty.json")
    page2["posts"] = [_load("search-acme.json")["posts"][2]]  # 9088 again, on page 2
    forum = Forum({("/search.json", "Acme", 1): httpx.Response(200, json=page1),
                   ("/search.json", "Acme", 2): httpx.Response(200, json=page2)},
                  searches={})
    state = SourceState("forum").with_cursors({"q:Acme": {
        "newest": "2026-11-21T09:40:12.512000Z",
        "seen": {"9107": "2026-11-21T09:40:12.512000Z", "9101": "2026-11-21T09:31:09.777000Z",
                 "9088": "2026-11-20T18:05:33.020000Z"}}})
    with forum.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), state)
    # 09:40 minus the 6-hour overlap is Nov 21; one more day back for the forum's time zone.
    assert forum.queries() == ["Acme order:latest after:2026-11-20"] * 2
    assert [m.external_id for m in result.mentions] == [f"{BASE}/p/9120"]
    assert forum.post_reads() == ["/posts/9120.json"]  # 404: the blurb is kept
    assert result.mentions[0].text == "Acme fixed it, thanks"
    assert result.item_errors and "9120" in result.item_errors[0]
    cursor = result.state.cursors()["q:Acme"]
    assert cursor["newest"] == "2026-11-21T11:15:00.000000Z"
    assert set(cursor["seen"]) == {"9120", "9107", "9101", "9088"}


def test_pages_stop_at_the_cap():
    page = _load("search-acme.json")
    page["grouped_search_result"]["more_full_page_results"] = True
    forum = Forum({("/search.json", "Acme", None): httpx.Response(200, json=page)})
    state = SourceState("forum").with_cursors({"q:Acme": {"newest": "2026-11-21T00:00:00Z"}})
    with forum.client() as client:
        fetch(client, _spec(queries=("Acme",), params={"max_pages": 2}), state)
    assert [r.url.params["page"] for r in forum.requests if r.url.path == "/search.json"] == [
        "1", "2"]


def test_malformed_items_are_skipped_and_counted():
    page = _load("search-acme.json")
    page["posts"] = ["not a post", {"id": None}, {**page["posts"][0], "created_at": 5},
                     {**page["posts"][1], "username": None}, page["posts"][2]]
    forum = Forum({("/search.json", "Acme", None): httpx.Response(200, json=page)})
    with forum.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_full_posts": 0}),
                       SourceState("forum"))
    assert [m.external_id for m in result.mentions] == [f"{BASE}/p/9088"]
    assert len(result.item_errors) == 4


def test_a_failing_term_keeps_the_others_and_their_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    forum = Forum({("/search.json", '"Acme Cloud"', None): httpx.Response(500)})
    with forum.client() as client:
        result = fetch(client, _spec(), SourceState("forum"))
    assert result.error and "HTTP 500" in result.error
    assert {m.external_id for m in result.mentions} == {f"{BASE}/p/{i}" for i in (9107, 9101,
                                                                                  9088)}
    assert set(result.state.cursors()) == {"q:Acme"}  # Acme Cloud and Globex wait
    assert "Globex order:latest" not in forum.queries()


def test_errors_before_anything_was_read_are_raised(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)

    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    for answer, error, text in ((httpx.Response(502), RetriableError, "HTTP 502"),
                                (timeout, RetriableError, "timed out"),
                                (httpx.Response(200, content=b"<html>"), FatalError,
                                 "not valid JSON")):
        forum = Forum({("/search.json", "Acme", None): answer})
        with forum.client() as client, pytest.raises(error, match=text):
            fetch(client, _spec(), SourceState("forum"))


def test_a_429_defers_the_source_without_sleeping(monkeypatch):
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail("slept"))
    limited = httpx.Response(429, content=(FIXTURES / "discourse" / "rate-limited.json")
                             .read_bytes(), headers={"Retry-After": "38"})
    forum = Forum({("/search.json", "Acme", None): limited})
    before = datetime.now(UTC)
    with forum.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("forum"))
    assert caught.value.retry_at and caught.value.retry_at >= before + timedelta(seconds=37)

    forum = Forum({("/search.json", "Globex", None): limited})
    with forum.client() as client:
        result = fetch(client, _spec(), SourceState("forum"))
    assert len(result.mentions) == 4 and result.error is None
    assert result.deferred_until and result.deferred_until >= before + timedelta(seconds=37)
    assert set(result.state.cursors()) == {"q:Acme", 'q:"Acme Cloud"'}


def test_a_429_on_a_full_post_stops_too_and_one_without_retry_after_waits_a_minute():
    forum = Forum({("/posts/9101.json", None, None): httpx.Response(429)})
    before = datetime.now(UTC)
    with forum.client() as client:
        result = fetch(client, _spec(), SourceState("forum"))
    assert [m.external_id for m in result.mentions] == [f"{BASE}/p/9107"]
    assert result.deferred_until and result.deferred_until >= before + timedelta(seconds=59)
    assert result.state.cursors() == {}  # Acme was not read to the end


def test_an_unreadable_full_post_keeps_its_blurb():
    forbidden = httpx.Response(403, content=(FIXTURES / "discourse" / "invalid-access.json")
                               .read_bytes())
    forum = Forum({("/posts/9088.json", None, None): forbidden})
    with forum.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("forum"))
    assert len(result.mentions) == 3 and result.error is None
    assert "HTTP 403" in result.item_errors[0] and "9088" in result.item_errors[0]


def test_the_base_url_keeps_its_path():
    forum = Forum()
    with forum.client() as client:
        result = fetch(client, _spec(url="https://example.org/forum/", queries=("Globex",)),
                       SourceState("forum"))
    assert [r.url.path for r in forum.requests] == ["/forum/search.json",
                                                    "/forum/posts/9110.json"]
    assert result.mentions[0].url == ("https://example.org/forum/t/"
                                      "globex-billing-portal-is-down/420/1")


def test_a_login_only_forum_fails_clearly_without_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY, "s3cret-key")
    forum = Forum({("/search.json", "Acme", None): httpx.Response(
        403, content=(FIXTURES / "discourse" / "invalid-access.json").read_bytes())})
    settings = make_settings(tmp_path, [{"name": "forum", "kind": "discourse", "url": BASE}])
    with forum.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("forum"), settings)
    assert outcome.status == "error"
    assert "HTTP 403" in outcome.message and "check credentials" in outcome.message
    assert "s3cret-key" not in outcome.message
    assert forum.requests[0].headers["api-key"] == "s3cret-key"
    assert "api-username" not in forum.requests[0].headers


def test_settings_need_a_url_and_sane_params(tmp_path):
    with pytest.raises(Exception, match="needs a url"):
        make_settings(tmp_path, [{"name": "forum", "kind": "discourse"}])
    assert discourse.CONNECTOR.requires_url
    assert discourse.validate(_spec(url=None, params={"max_full_posts": -1})) == [
        "url is required: the forum's address (https://forum.example.com)",
        "params.max_full_posts must be an integer ≥ 0",
    ]
    with Forum().client() as client, pytest.raises(FatalError, match="needs the forum's url"):
        fetch(client, _spec(url=None), SourceState("forum"))


def test_refresh_rereads_topics_and_replies(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "discourse", {
        "/t/412.json": fixture_route("discourse", "topic-412.json"),
        "/posts/9107.json": fixture_route("discourse", "post-9107-later.json"),
    })
    # A first post is re-read with its topic (views, posts), a reply by itself; topics 411
    # and 420 are gone (404): their first posts are left out.
    assert run.paths() == ["/posts/9107.json", "/t/412.json", "/posts/9088.json",
                           "/t/411.json", "/t/420.json"]
    fresh, before = run.by_id(), run.by_id("fetched")
    base = run.spec.url.rstrip("/")
    assert set(fresh) == {f"{base}/p/9107", f"{base}/p/9101", f"{base}/p/9088"}
    dana = fresh[f"{base}/p/9101"]
    assert dana.id == before[dana.external_id].id
    assert (dana.engagement.likes, dana.engagement.replies, dana.engagement.views) == \
        (57, 47, 4210)
    assert dana.title == "Acme Cloud outage again?" and dana.text == before[dana.external_id].text
    reply = fresh[f"{base}/p/9107"]
    assert (reply.engagement.likes, reply.engagement.replies) == (7, 3) and reply.is_own
    # 9088's full post lists no like count: its stored likes stay.
    assert fresh[f"{base}/p/9088"].engagement.likes == before[f"{base}/p/9088"].engagement.likes


def test_refresh_falls_back_to_the_post_sends_the_key_and_a_429_is_typed():
    post, topic = _search_item("search-acme-cloud.json", 9101)
    stored = [to_mention(post, topic, base=BASE, full_post=_load("post-9101.json"))]
    later = {**_load("topic-412.json"), "post_stream": {"posts": [], "stream": []}}
    forum = Forum(overrides={
        ("/t/412.json", None, None): httpx.Response(200, json=later),
        ("/posts/9101.json", None, None): httpx.Response(200, json={
            **_load("post-9101.json"), "actions_summary": [{"id": 2, "count": 30}]})})
    with forum.client() as client:
        (fresh,) = discourse.refresh(client, _spec(secrets={API_KEY: "k-123"}), stored)
    assert [r.url.path for r in forum.requests] == ["/t/412.json", "/posts/9101.json"]
    assert all(r.headers["api-key"] == "k-123" for r in forum.requests)
    assert (fresh.engagement.likes, fresh.engagement.views) == (30, 4210)

    limited = Forum(overrides={("/t/412.json", None, None): httpx.Response(
        429, json=_load("rate-limited.json"), headers={"Retry-After": "38"})})
    with limited.client() as client, pytest.raises(RateLimitedError):
        discourse.refresh(client, _spec(), stored)


def test_anonymous_searches_are_spaced_and_a_search_429_defers_a_minute(monkeypatch):
    # Defaults: 2 anonymous searches a second per IP; a third back-to-back one is refused
    # with 429 {"failed": "FAILED", …} and no Retry-After (SearchController#show).
    monkeypatch.setattr(discourse, "ANON_SEARCH_INTERVAL_S", 1.0)
    waits: list[float] = []
    monkeypatch.setattr(discourse, "_wait", waits.append)
    with Forum().client() as client:
        fetch(client, _spec(params={"max_full_posts": 0}), SourceState("forum"))
    assert len(waits) == 2 and all(0.5 < w <= 1.0 for w in waits)  # between 3 searches
    waits.clear()
    with Forum().client() as client:  # with an API key: 30 a minute per user, no spacing
        fetch(client, _spec(secrets={API_KEY: "k"}, params={"max_full_posts": 0}),
              SourceState("forum"))
    assert waits == []

    limited = httpx.Response(429, content=(FIXTURES / "discourse" /
                                           "search-rate-limited.json").read_bytes())
    forum = Forum({("/search.json", "Globex", None): limited})
    before = datetime.now(UTC)
    with forum.client() as client:
        result = fetch(client, _spec(params={"max_full_posts": 0}), SourceState("forum"))
    assert len(result.mentions) == 4 and result.error is None
    assert result.deferred_until and result.deferred_until >= before + timedelta(seconds=59)
    assert set(result.state.cursors()) == {"q:Acme", 'q:"Acme Cloud"'}


def test_search_pages_stop_at_ten_the_most_discourse_serves():
    page = _load("search-acme.json")
    page["grouped_search_result"]["more_full_page_results"] = True
    forum = Forum({("/search.json", "Acme", None): httpx.Response(200, json=page)})
    state = SourceState("forum").with_cursors({"q:Acme": {"newest": "2026-11-21T00:00:00Z"}})
    spec = _spec(queries=("Acme",), params={"max_pages": 12, "max_full_posts": 0})
    with forum.client() as client:
        result = fetch(client, spec, state)
    pages = [r.url.params["page"] for r in forum.requests if r.url.path == "/search.json"]
    assert pages == [str(n) for n in range(1, 11)] and result.error is None
    assert discourse.validate(spec) == ["params.max_pages must be an integer ≥ 1 and ≤ 10"]
