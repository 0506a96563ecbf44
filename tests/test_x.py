from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from connector_support import RoutedApi
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError, SkippableError
from connectors.x import (
    MAX_RESULTS,
    SEARCH,
    TOKEN,
    TWEET_FIELDS,
    USER_FIELDS,
    build_query,
    fetch,
    id_at,
    overlap_id,
    refresh,
    to_mention,
    validate,
)
from earful.cycle import fetch_source

BASE = "https://x.test"
SECRET = "AAAAbearer-test-token-0123456789"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")
DANA, ACME_REPLY, GWEN = "2124073119755800722", "2124076359197130769", "2124051603911606371"


def _load(name: str):
    return json.loads((FIXTURES / "x" / name).read_text())


def _users(name: str) -> dict:
    return {u["id"]: u for u in _load(name)["includes"]["users"]}


def _post(post_id: str):
    for name in ("search-acme.json", "search-acme-cloud.json", "search-globex.json"):
        for post in _load(name)["data"]:
            if post["id"] == post_id:
                return post, _users(name)
    raise KeyError(post_id)


def _spec(**changes) -> SourceSpec:
    values = {"name": "tw", "kind": "x", "url": BASE, "queries": QUERIES,
              "secrets": {TOKEN: SECRET}, "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


class Api(RoutedApi, not_found={"title": "Not Found Error", "type": "about:blank"}):
    """A fake recent-search endpoint: routes are query parameters alone (see RoutedApi)."""

    def wanted(self, key, request):
        return key if request.url.path.endswith(SEARCH) else None

    def queries(self) -> list[str]:
        return [r.url.params["query"] for r in self.requests]


def _route(**params: str):
    return tuple(sorted(params.items()))


def _ok(name: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=_load(name), headers=headers)


def _fixture_routes() -> dict:
    return {
        _route(): _ok("search-empty.json"),
        _route(query="Acme -is:retweet"): _ok("search-acme.json"),
        _route(query='"Acme Cloud" -is:retweet'): _ok("search-acme-cloud.json"),
        _route(query="Globex -is:retweet"): _ok("search-globex.json"),
    }


def _posts(count: int, start: datetime, word: str = "Acme") -> dict:
    """`count` minimal posts, newest first, one second apart before `start`."""
    data = []
    for i in range(count):
        created = start - timedelta(seconds=i)
        data.append({"id": str(id_at(created) | 7), "text": f"{word} post {i}",
                     "author_id": "1459872001", "created_at": created.isoformat()})
    return {"data": data, "meta": {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"],
                                   "result_count": count}}


def test_queries_quote_phrases_and_leave_retweets_out():
    assert build_query("Acme") == "Acme -is:retweet"
    assert build_query("Acme Cloud") == '"Acme Cloud" -is:retweet'
    assert build_query("#acme") == "#acme -is:retweet"
    assert build_query("acme.io", exclude_retweets=False) == '"acme.io"'
    assert build_query("Acme", suffix=" lang:en  -is:reply") == "Acme -is:retweet lang:en -is:reply"
    assert build_query("acme OR globex", raw=True) == "(acme OR globex) -is:retweet"
    assert build_query("from:acme is:retweet", raw=True) == "from:acme is:retweet"


def test_snowflake_overlap_steps_back_in_time_and_drops_stale_cursors():
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    when = datetime(2026, 11, 21, 9, 31, 9, 777000, tzinfo=UTC)
    cursor = str(id_at(when) | 4242)
    assert cursor == DANA
    assert overlap_id(cursor, timedelta(minutes=15), now) == str(
        id_at(when - timedelta(minutes=15)))
    assert overlap_id(cursor, timedelta(0), now) == str(id_at(when))
    assert overlap_id(cursor, timedelta(minutes=15), now + timedelta(days=7)) is None
    assert overlap_id("not-a-number", timedelta(0), now) is None


def test_a_post_becomes_a_mention_with_its_author():
    post, users = _post(DANA)
    mention = to_mention(post, users=users)
    assert mention.source == "x" and mention.external_id == DANA
    assert mention.url == f"https://x.com/dana_r/status/{DANA}"
    assert mention.text == ("Acme support has ignored my ticket for three days & counting. "
                            "Worst service I have had all year.")
    assert mention.title is None
    assert mention.published_at == datetime(2026, 11, 21, 9, 31, 9, tzinfo=UTC)
    assert (mention.author.id, mention.author.handle, mention.author.name) == (
        "1459872001", "@dana_r", "Dana R.")
    assert mention.author.url == "https://x.com/dana_r" and mention.author.followers == 1200
    engagement = mention.engagement
    assert (engagement.likes, engagement.reposts, engagement.replies, engagement.views) == (
        9, 4, 2, 5120)
    assert mention.lang == "en" and mention.thread_id == DANA and mention.parent_id is None
    assert not mention.is_repost and not mention.is_own
    assert mention.raw == post


def test_the_brands_reply_is_own_and_keeps_its_parent():
    post, users = _post(ACME_REPLY)
    mention = to_mention(post, users=users, own_handles=frozenset({"acme"}))
    assert mention.is_own and mention.author.handle == "@Acme"
    assert mention.parent_id == DANA and mention.thread_id == DANA
    assert "DM us your ticket number & we'll" in mention.text
    assert to_mention(post, users=users, own_handles=frozenset({"2244990001"})).is_own


def test_a_retweet_is_a_repost_and_no_language_is_none():
    post, users = _post(DANA)
    retweet = dict(post, id="2124080000000000001", text="RT @dana_r: Acme support has ignored",
                   lang="und", referenced_tweets=[{"type": "retweeted", "id": DANA}])
    mention = to_mention(retweet, users=users)
    assert mention.is_repost and mention.lang is None and mention.parent_id is None


def test_an_author_missing_from_includes_still_gives_a_mention():
    post = _load("search-acme-cloud.json")["data"][1]
    mention = to_mention(post, users={})
    assert mention.author.id == "7777000111" and mention.author.handle is None
    assert mention.author.followers is None
    assert mention.url == f"https://x.com/i/web/status/{post['id']}"


def test_a_long_post_is_read_whole_from_note_tweet():
    # Over 280 characters, `text` is cut before the brand; the search must ask for note_tweet.
    api = Api({_route(): _ok("search-long-post.json")})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme Cloud",)), SourceState("tw"))
    assert "note_tweet" in api.requests[0].url.params["tweet.fields"].split(",")
    (mention,) = result.mentions
    assert "Acme" not in _load("search-long-post.json")["data"][0]["text"]
    assert mention.text.endswith("moving our object storage to Acme Cloud & turning on their "
                                 "regional cache. Egress bill down 31%. Support answered in "
                                 "under an hour both times we asked. Writing it all up next week.")
    assert mention.url == "https://x.com/ines_builds/status/2124060295956530386"
    assert mention.author.followers == 5300 and mention.engagement.reposts == 8


def test_first_poll_reads_the_newest_page_of_each_query():
    api = Api(_fixture_routes())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tw"))
    assert api.queries() == ["Acme -is:retweet", '"Acme Cloud" -is:retweet',
                             "#acme -is:retweet", "Globex -is:retweet"]
    for request in api.requests:
        params = request.url.params
        assert params["max_results"] == str(MAX_RESULTS)
        assert params["tweet.fields"] == TWEET_FIELDS and params["user.fields"] == USER_FIELDS
        assert params["expansions"] == "author_id"
        assert "since_id" not in params and "next_token" not in params
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert SECRET not in str(request.url)
    assert len(result.mentions) == 6 and result.error is None
    assert result.item_errors == [
        "x: search '\"Acme Cloud\" -is:retweet': Not Found Error: "
        "Could not find user with id: [7777000111]."]
    assert result.state.cursors() == {"q:Acme": ACME_REPLY,
                                      "q:Acme Cloud": "2124038098252726277",
                                      "q:Globex": "2124009912529846273"}


def test_next_poll_overlaps_and_pages_with_the_same_since_id():
    start = datetime.now(UTC) - timedelta(hours=1)
    cursor = str(id_at(start - timedelta(hours=2)))
    page1 = _posts(MAX_RESULTS, start)
    page1["meta"]["next_token"] = "t2"
    page2 = _posts(3, start - timedelta(minutes=30))
    api = Api({_route(): httpx.Response(200, json=page1),
               _route(next_token="t2"): httpx.Response(200, json=page2)})
    state = SourceState("tw").with_cursors({"q:Acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"overlap_minutes": 10}), state)
    since = overlap_id(cursor, timedelta(minutes=10), datetime.now(UTC))
    assert [r.url.params.get("since_id") for r in api.requests] == [since, since]
    assert [r.url.params.get("next_token") for r in api.requests] == [None, "t2"]
    assert len(result.mentions) == MAX_RESULTS + 3
    assert result.state.cursors() == {"q:Acme": page1["meta"]["newest_id"]}


def test_a_stale_cursor_reads_the_window_without_since_id():
    old = str(id_at(datetime.now(UTC) - timedelta(days=8)))
    api = Api({_route(): httpx.Response(200, json={"meta": {"result_count": 0}})})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)),
                       SourceState("tw").with_cursors({"q:Acme": old}))
    assert "since_id" not in api.requests[0].url.params
    assert result.state.cursors() == {"q:Acme": old}  # never moves back


def test_dedupe_across_queries_and_the_page_cap():
    start = datetime.now(UTC) - timedelta(minutes=5)
    page = _posts(MAX_RESULTS, start)
    page["meta"]["next_token"] = "again"
    api = Api({_route(): httpx.Response(200, json=page)})
    state = SourceState("tw").with_cursors({"q:Acme": str(id_at(start - timedelta(hours=1))),
                                            "q:Globex": str(id_at(start - timedelta(hours=1)))})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex"), params={"max_pages": 2}),
                       state)
    assert len(api.requests) == 4  # two pages per query, then the cap
    assert len(result.mentions) == MAX_RESULTS  # the same posts, kept once


def test_a_failed_page_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    routes = _fixture_routes()
    routes[_route(query='"Acme Cloud" -is:retweet')] = httpx.Response(503)
    api = Api(routes)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tw"))
    assert result.error and "HTTP 503" in result.error
    assert {m.external_id for m in result.mentions} == {DANA, ACME_REPLY, GWEN}
    assert result.state.cursors() == {"q:Acme": ACME_REPLY}
    assert "Globex -is:retweet" not in api.queries()


def test_malformed_posts_are_skipped_and_counted():
    body = _load("search-acme.json")
    body["data"] = ["junk", {"id": "12", "author_id": "1", "created_at": "2026-11-21T09:00:00Z"},
                    {"id": "abc", "text": "Acme", "created_at": "2026-11-21T09:00:00Z"},
                    {"id": "13", "text": "Acme", "created_at": 5}, *body["data"]]
    api = Api({_route(): httpx.Response(200, json=body)})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("tw"))
    assert len(result.mentions) == 3 and len(result.item_errors) == 4


def test_an_answer_with_only_errors_is_a_clear_failure():
    body = {"errors": [{"title": "Invalid Request", "detail": "query is too long"}]}
    api = Api({_route(): httpx.Response(200, json=body)})
    with api.client() as client, pytest.raises(FatalError, match="query is too long"):
        fetch(client, _spec(queries=("Acme",)), SourceState("tw"))


def test_a_spent_window_defers_until_its_reset():
    reset = int((datetime.now(UTC) + timedelta(minutes=9)).timestamp())
    routes = _fixture_routes()
    routes[_route(query="Acme -is:retweet")] = _ok(
        "search-acme.json", **{"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                               "x-rate-limit-reset": str(reset)})
    api = Api(routes)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tw"))
    assert len(api.requests) == 1 and len(result.mentions) == 3
    assert result.deferred_until == datetime.fromtimestamp(reset, UTC)
    assert result.state.rate_limit_remaining == 0
    assert result.state.cursors() == {"q:Acme": ACME_REPLY}


def test_429_defers_at_the_reset_without_sleeping(monkeypatch):
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail("slept"))
    reset = int((datetime.now(UTC) + timedelta(minutes=12)).timestamp())
    limited = httpx.Response(429, json=_load("rate-limited.json"),
                             headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                      "x-rate-limit-reset": str(reset)})
    with Api({_route(): limited}).client() as client, \
            pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("tw"))
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)

    routes = _fixture_routes()
    routes[_route(query='"Acme Cloud" -is:retweet')] = httpx.Response(
        429, json=_load("rate-limited.json"), headers={"Retry-After": "600"})
    with Api(routes).client() as client:
        result = fetch(client, _spec(), SourceState("tw"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until > datetime.now(UTC) + timedelta(minutes=9)


def test_a_spent_monthly_post_cap_fails_clearly_instead_of_waiting_the_window(monkeypatch):
    # The 429 of the monthly cap comes with requests left in the 15-minute window: deferring
    # to x-rate-limit-reset would only ask again every 15 minutes until the month ends.
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail("slept"))
    reset = str(int((datetime.now(UTC) + timedelta(minutes=14)).timestamp()))
    capped = httpx.Response(429, json=_load("usage-capped.json"), headers={
        "x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
        "x-rate-limit-reset": reset})
    with Api({_route(): capped}).client() as client, \
            pytest.raises(FatalError, match=r"monthly Post cap.*Monthly product cap"):
        fetch(client, _spec(), SourceState("tw"))

    routes = _fixture_routes()
    routes[_route(query='"Acme Cloud" -is:retweet')] = capped
    with Api(routes).client() as client:
        result = fetch(client, _spec(), SourceState("tw"))
    assert len(result.mentions) == 3 and result.deferred_until is None
    assert result.error and "Usage cap exceeded" in result.error
    assert result.state.cursors() == {"q:Acme": ACME_REPLY}


def test_server_errors_and_timeouts_are_clear(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    with Api({_route(): httpx.Response(500)}).client() as client, \
            pytest.raises(RetriableError, match="HTTP 500"):
        fetch(client, _spec(), SourceState("tw"))

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with httpx.Client(transport=httpx.MockTransport(timeout)) as client, \
            pytest.raises(RetriableError, match="timed out"):
        fetch(client, _spec(), SourceState("tw"))


def test_missing_token_skips_the_source():
    with Api({}).client() as client, pytest.raises(SkippableError, match=TOKEN):
        fetch(client, _spec(secrets={}), SourceState("tw"))


def test_the_base_url_is_honoured_and_settings_shape_the_query():
    api = Api(_fixture_routes())
    with api.client() as client:
        fetch(client, _spec(url="https://proxy.test/x/", params={
            "exclude_retweets": False, "query_suffix": "lang:en", "max_results": 10}),
            SourceState("tw"))
    assert {str(r.url.copy_with(query=None)) for r in api.requests} == {
        "https://proxy.test/x/2/tweets/search/recent"}
    assert api.queries()[:2] == ["Acme lang:en", '"Acme Cloud" lang:en']
    assert {r.url.params["max_results"] for r in api.requests} == {"10"}


def test_a_bad_token_fails_without_echoing_it(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN, SECRET)
    api = Api({_route(): httpx.Response(401, json=_load("error-unauthorized.json"))})
    settings = make_settings(tmp_path, [{"name": "tw", "kind": "x", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("tw"), settings)
    assert outcome.status == "error"
    assert "HTTP 401" in outcome.message and "check credentials" in outcome.message
    assert SECRET not in outcome.message


def test_the_token_never_reaches_raw_or_state():
    api = Api(_fixture_routes())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("tw"))
    assert all(SECRET not in json.dumps(m.raw) for m in result.mentions)
    assert SECRET not in (result.state.cursor or "")


def test_settings_are_validated():
    assert validate(_spec()) == []
    assert validate(_spec(params={"max_results": 5, "query_suffix": 3})) == [
        "params.max_results must be an integer ≥ 10 and ≤ 100",
        "params.query_suffix must be a string of search operators"]
    with Api({}).client() as client, pytest.raises(FatalError, match="max_results"):
        fetch(client, _spec(params={"max_results": 500}), SourceState("tw"))


def test_refresh_looks_posts_up_by_id_with_the_search_fields(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "x", {
        "/2/tweets": fixture_route("x", "tweets.json", headers={
            "x-rate-limit-limit": "450", "x-rate-limit-remaining": "444",
            "x-rate-limit-reset": "1795430000"})})
    (asked,) = run.params("/2/tweets")
    assert run.paths() == ["/2/tweets"]
    assert asked["ids"] == [",".join(m.external_id for m in run.fetched)]
    assert (asked["tweet.fields"], asked["expansions"], asked["user.fields"]) == \
        ([TWEET_FIELDS], ["author_id"], [USER_FIELDS])
    fresh, before = run.by_id(), run.by_id("fetched")
    # The post whose id came back in `errors` (deleted) is left out, without an error.
    assert set(fresh) == set(before) - {"2124034952524726280"}
    dana = fresh[DANA]
    assert dana.id == before[DANA].id and dana.author.handle == "@dana_r"
    assert (dana.engagement.likes, dana.engagement.reposts, dana.engagement.replies,
            dana.engagement.views, dana.author.followers) == (260, 85 + 20, 40, 98000, 1250)
    assert fresh[ACME_REPLY].is_own and fresh[ACME_REPLY].parent_id == DANA


def test_refresh_batches_100_ids_and_an_all_gone_answer_is_empty():
    posts = _posts(130, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))["data"]
    stored = [to_mention(p) for p in posts]
    seen: list[int] = []

    def lookup(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/2/tweets"
        ids = request.url.params["ids"].split(",")
        seen.append(len(ids))
        if len(ids) < 100:  # the second batch: every post deleted since
            return httpx.Response(200, json={"errors": [
                {"value": i, "detail": f"Could not find tweet with ids: [{i}].",
                 "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                 "resource_id": i,
                 "type": "https://api.twitter.com/2/problems/resource-not-found"}
                for i in ids]})
        return httpx.Response(200, json={"data": [p for p in posts if p["id"] in ids]})

    with httpx.Client(transport=httpx.MockTransport(lookup)) as client:
        fresh = refresh(client, _spec(), stored)
    assert seen == [100, 30]
    assert [m.external_id for m in fresh] == [m.external_id for m in stored[:100]]

    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"x-rate-limit-remaining": "0",
                                            "x-rate-limit-reset": "1795430000"})

    with httpx.Client(transport=httpx.MockTransport(limited)) as client, \
            pytest.raises(RateLimitedError):
        refresh(client, _spec(), stored)
