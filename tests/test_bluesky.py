from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import bluesky
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.bluesky import (
    HANDLE,
    PASSWORD,
    PROFILES_PER_CALL,
    fetch,
    forget_sessions,
    post_url,
    to_mention,
)
from connectors.errors import FatalError, RateLimitedError
from earful.cycle import fetch_source

BASE = "https://pds.test"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"
CREATE = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
SECRETS = {HANDLE: "@earful-test.bsky.social", PASSWORD: "app-pass-1234"}


@pytest.fixture(autouse=True)
def _no_cached_sessions() -> Iterator[None]:
    forget_sessions()
    yield
    forget_sessions()


def _load(name: str):
    return json.loads((FIXTURES / "bluesky" / name).read_text())


def _post(uri_end: str):
    for name in ("search-acme.json", "search-acme-cloud.json", "search-globex.json"):
        for post in _load(name)["posts"]:
            if post["uri"].endswith(uri_end):
                return post
    raise KeyError(uri_end)


def _jwt(expires: datetime) -> str:
    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'ES256K'})}.{part({'exp': int(expires.timestamp())})}.c2ln"


def _session(access: str | None = None, refresh: str | None = None) -> httpx.Response:
    later = datetime.now(UTC) + timedelta(hours=2)
    return httpx.Response(200, json={
        "did": "did:plc:earfultestaaaaaaaaaaaaaa", "handle": "earful-test.bsky.social",
        "accessJwt": access or _jwt(later),
        "refreshJwt": refresh or _jwt(later + timedelta(days=60))})


def _spec(**changes) -> SourceSpec:
    values = {"name": "sky", "kind": "bluesky", "url": BASE, "queries": ("Acme",),
              "secrets": SECRETS}
    values.update(changes)
    return SourceSpec(**values)


class Api:
    """A fake PDS: a handler per path, every request recorded."""

    def __init__(self, **handlers):
        self.handlers = {CREATE: _session(), **handlers}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers.get(request.url.path)
        if handler is None:
            return httpx.Response(404, json={"error": "MethodNotImplemented"})
        return handler(request) if callable(handler) else handler

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def _profiles(request: httpx.Request) -> httpx.Response:
    actors = request.url.params.get_list("actors")
    return httpx.Response(200, json={"profiles": [
        {"did": did, "handle": "x.test", "followersCount": 1000 + i}
        for i, did in enumerate(actors)]})


def test_post_becomes_a_mention():
    post = _post("3lbaa2k4xq22s")
    mention = to_mention(post, followers=5400)
    assert mention.source == "bluesky"
    assert mention.external_id == post["uri"]
    assert mention.url == "https://bsky.app/profile/alice.bsky.social/post/3lbaa2k4xq22s"
    assert mention.text == ("Acme lost my package again and support just closes the ticket. "
                            "Never again.")
    assert mention.published_at == datetime(2026, 11, 21, 9, 30, 12, 345000, tzinfo=UTC)
    assert mention.author.id == "did:plc:aliceexampleaaaaaaaaaaaa"
    assert mention.author.handle == "@alice.bsky.social" and mention.author.name == "Alice ☕"
    assert mention.author.url == "https://bsky.app/profile/alice.bsky.social"
    assert mention.author.followers == 5400
    assert (mention.engagement.likes, mention.engagement.reposts,
            mention.engagement.replies) == (12, 4, 4)  # reposts include the quote
    assert mention.lang == "en" and not mention.is_repost and not mention.is_own
    assert mention.thread_id is None and mention.parent_id is None


def test_reply_keeps_its_thread_and_parent():
    mention = to_mention(_post("3lbab7cd2ne2x"))
    root = "at://did:plc:aliceexampleaaaaaaaaaaaa/app.bsky.feed.post/3lbaa2k4xq22s"
    assert mention.thread_id == root and mention.parent_id == root


def test_invalid_handle_links_by_did_and_future_dates_fall_back_to_indexing():
    broken = to_mention(_post("3lba7wq5tmk2c"))
    assert broken.url == ("https://bsky.app/profile/did:plc:brokenhandleaaaaaaaaaaaa/post/"
                          "3lba7wq5tmk2c")
    future = to_mention(_post("3lbad6mnvx42a"))  # createdAt 11:00, indexed 09:50:30.25
    assert future.published_at == datetime(2026, 11, 21, 9, 50, 30, 250000, tzinfo=UTC)
    assert future.lang == "en"  # en-US
    assert future.author.name is None  # no displayName


def test_own_posts_are_flagged_by_handle_or_did():
    post = _post("3lbaa2k4xq22s")
    assert to_mention(post, own_handles=frozenset({"alice.bsky.social"})).is_own
    assert to_mention(post, own_handles=frozenset({"did:plc:aliceexampleaaaaaaaaaaaa"})).is_own
    assert not to_mention(post, own_handles=frozenset({"alice"})).is_own


def test_post_url_needs_a_post_uri():
    assert post_url("at://did:plc:x/app.bsky.feed.like/3k", "a.test") is None
    assert post_url("at://did:plc:x/app.bsky.feed.post/3k", None) == (
        "https://bsky.app/profile/did:plc:x/post/3k")


def test_session_search_and_follower_counts():
    api = Api(**{SEARCH: httpx.Response(200, json=_load("search-acme.json")),
                 PROFILES: _profiles})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("sky"))
    create = api.calls(CREATE)[0]
    assert create.method == "POST"
    assert json.loads(create.content) == {"identifier": "earful-test.bsky.social",
                                          "password": "app-pass-1234"}
    search = api.calls(SEARCH)[0]
    assert search.headers["authorization"].startswith("Bearer ey")
    assert dict(search.url.params) == {"q": "Acme", "sort": "latest", "limit": "100"}
    assert len(api.calls(SEARCH)) == 1  # the first poll reads the newest page only
    profiles = api.calls(PROFILES)
    assert len(profiles) == 1 and len(profiles[0].url.params.get_list("actors")) == 3
    assert [m.author.followers for m in result.mentions] == [1000, 1001, 1002]
    assert result.state.cursors() == {"q:Acme": "2026-11-21T09:41:55.800Z"}


def test_next_poll_reads_since_the_cursor_minus_the_overlap_and_follows_pages():
    pages = {None: {"cursor": "p2", "posts": [_post("3lbab7cd2ne2x")]},
             "p2": {"cursor": "p3", "posts": [_post("3lbaa2k4xq22s")]},
             "p3": {"posts": []}}
    api = Api(**{SEARCH: lambda r: httpx.Response(200, json=pages[r.url.params.get("cursor")]),
                 PROFILES: _profiles})
    state = SourceState("sky").with_cursors({"q:Acme": "2026-11-21T09:40:00.000Z"})
    with api.client() as client:
        result = fetch(client, _spec(params={"overlap_minutes": 10}), state)
    searches = api.calls(SEARCH)
    assert [r.url.params.get("cursor") for r in searches] == [None, "p2", "p3"]
    assert all(r.url.params["since"] == "2026-11-21T09:30:00.000Z" for r in searches)
    assert len(result.mentions) == 2
    assert result.state.cursors()["q:Acme"] == "2026-11-21T09:41:55.800Z"


def test_the_session_is_reused_and_refreshed_when_it_expires():
    soon = datetime.now(UTC) + timedelta(seconds=30)  # inside the renewal margin
    refresh_token = _jwt(soon + timedelta(days=60))
    api = Api(**{CREATE: _session(access=_jwt(soon), refresh=refresh_token),
                 REFRESH: _session(access=_jwt(soon + timedelta(hours=2))),
                 SEARCH: httpx.Response(200, json={"posts": []})})
    with api.client() as client:
        fetch(client, _spec(), SourceState("sky"))
        fetch(client, _spec(), SourceState("sky"))
    assert len(api.calls(CREATE)) == 1
    refresh = api.calls(REFRESH)
    assert len(refresh) == 1 and refresh[0].headers["authorization"] == f"Bearer {refresh_token}"
    assert api.calls(SEARCH)[1].headers["authorization"] != api.calls(SEARCH)[0].headers[
        "authorization"]  # the refreshed access token is used
    # A session that is still good is simply reused.
    api2 = Api(**{SEARCH: httpx.Response(200, json={"posts": []})})
    with api2.client() as client:
        for _ in range(3):
            fetch(client, _spec(url="https://other.test"), SourceState("sky"))
    assert len(api2.calls(CREATE)) == 1 and api2.calls(REFRESH) == []


def test_a_refused_cached_token_gets_one_new_session():
    api = Api(**{SEARCH: httpx.Response(200, json={"posts": []})})
    with api.client() as client:
        fetch(client, _spec(), SourceState("sky"))
        api.handlers[SEARCH] = lambda r: (
            httpx.Response(400, json={"error": "ExpiredToken"})
            if len(api.calls(CREATE)) == 1 else httpx.Response(200, json={"posts": []}))
        fetch(client, _spec(), SourceState("sky"))
        assert len(api.calls(CREATE)) == 2
        api.handlers[SEARCH] = httpx.Response(401, json={"error": "AuthenticationRequired"})
        with pytest.raises(FatalError, match="check credentials"):
            fetch(client, _spec(), SourceState("sky"))
    assert len(api.calls(CREATE)) == 3  # one retry, never a loop


def test_wrong_password_is_a_clear_failure_without_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv(HANDLE, "earful-test.bsky.social")
    monkeypatch.setenv(PASSWORD, "wrong-pass-9999")
    api = Api(**{CREATE: httpx.Response(401, json={"error": "AuthenticationRequired",
                                                   "message": "Invalid identifier or password"})})
    settings = make_settings(tmp_path, [{"name": "sky", "kind": "bluesky", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("sky"), settings)
    assert outcome.status == "error" and "check credentials" in outcome.message
    assert "wrong-pass" not in outcome.message
    assert api.calls(SEARCH) == []


def test_missing_credentials_skip_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv(HANDLE, raising=False)
    monkeypatch.delenv(PASSWORD, raising=False)
    settings = make_settings(tmp_path, [{"name": "sky", "kind": "bluesky"}])
    with Api().client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("sky"), settings)
    assert outcome.status == "skipped"
    assert "BLUESKY_HANDLE" in outcome.message and "BLUESKY_APP_PASSWORD" in outcome.message


def test_profiles_are_fetched_in_batches_of_25():
    template = _post("3lbaa2k4xq22s")
    posts = []
    for i in range(PROFILES_PER_CALL + 5):
        did = f"did:plc:author{i:02d}"
        posts.append({**template, "uri": f"at://{did}/app.bsky.feed.post/3k{i:02d}",
                      "author": {"did": did, "handle": f"a{i}.test"}})
    posts.append({**template, "uri": "at://did:plc:author00/app.bsky.feed.post/3kzz",
                  "author": {"did": "did:plc:author00", "handle": "a0.test"}})  # same author
    api = Api(**{SEARCH: httpx.Response(200, json={"posts": posts}), PROFILES: _profiles})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("sky"))
    batches = [r.url.params.get_list("actors") for r in api.calls(PROFILES)]
    assert [len(b) for b in batches] == [PROFILES_PER_CALL, 5]
    assert len({d for b in batches for d in b}) == PROFILES_PER_CALL + 5
    assert all(m.author.followers is not None for m in result.mentions)


def test_profile_failure_keeps_the_mentions(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    api = Api(**{SEARCH: httpx.Response(200, json=_load("search-acme.json")),
                 PROFILES: httpx.Response(502)})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("sky"))
    assert len(result.mentions) == 3 and result.error is None
    assert all(m.author.followers is None for m in result.mentions)
    assert result.item_errors and "follower counts unavailable" in result.item_errors[0]


def test_a_failing_term_keeps_the_others_and_its_own_cursor(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)

    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params["q"] == "Globex":
            return httpx.Response(503)
        return httpx.Response(200, json=_load("search-acme.json"))

    api = Api(**{SEARCH: search, PROFILES: _profiles})
    state = SourceState("sky").with_cursors({"q:Globex": "2026-11-20T00:00:00.000Z"})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), state)
    assert len(result.mentions) == 3
    assert result.error and "HTTP 503" in result.error
    assert result.state.cursors() == {"q:Acme": "2026-11-21T09:41:55.800Z",
                                      "q:Globex": "2026-11-20T00:00:00.000Z"}
    assert api.calls(PROFILES)  # what was read still gets its follower counts


def test_rate_limits_defer_the_source():
    reset = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    api = Api(**{SEARCH: httpx.Response(
        200, json=_load("search-acme.json"),
        headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
                 "RateLimit-Reset": str(reset), "RateLimit-Policy": "3000;w=300"}),
        PROFILES: _profiles})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), SourceState("sky"))
    assert len(api.calls(SEARCH)) == 1 and api.calls(PROFILES) == []
    assert len(result.mentions) == 3
    assert result.deferred_until == datetime.fromtimestamp(reset, UTC)
    assert result.state.rate_limit_remaining == 0


def test_429_mid_fetch_keeps_what_was_read():
    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params["q"] == "Globex":
            return httpx.Response(429, headers={"Retry-After": "900"})
        return httpx.Response(200, json=_load("search-acme.json"))

    api = Api(**{SEARCH: search, PROFILES: _profiles})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), SourceState("sky"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until > datetime.now(UTC) + timedelta(minutes=14)
    assert "q:Globex" not in result.state.cursors()


def test_settings_are_checked():
    assert bluesky.validate(_spec(params={"max_pages": 0})) == [
        "params.max_pages must be an integer ≥ 1"]
    with Api().client() as client, pytest.raises(FatalError, match="max_pages"):
        fetch(client, _spec(params={"max_pages": "5"}), SourceState("sky"))


def test_refresh_rereads_posts_by_uri_with_fresh_counts(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "bluesky", {
        "/xrpc/app.bsky.feed.getPosts": fixture_route("bluesky", "posts.json", headers={
            "RateLimit-Limit": "3000", "RateLimit-Remaining": "2990",
            "RateLimit-Reset": "1795254900", "RateLimit-Policy": "3000;w=300"})})
    (asked,) = run.params("/xrpc/app.bsky.feed.getPosts")  # one call: 5 uris ≤ 25
    assert asked["uris"] == [m.external_id for m in run.fetched]
    assert run.paths() == ["/xrpc/app.bsky.feed.getPosts", "/xrpc/app.bsky.actor.getProfiles"]
    fresh, before = run.by_id(), run.by_id("fetched")
    # Bob's reply is gone (not in the answer): it is left out, the rest keep their ids.
    assert set(fresh) == set(before) - {
        "at://did:plc:bobexampleaaaaaaaaaaaaaa/app.bsky.feed.post/3lbab7cd2ne2x"}
    alice = fresh["at://did:plc:aliceexampleaaaaaaaaaaaa/app.bsky.feed.post/3lbaa2k4xq22s"]
    assert alice.id == before[alice.external_id].id
    assert (alice.engagement.likes, alice.engagement.reposts, alice.engagement.replies) == \
        (340, 96 + 17, 58)
    assert alice.author.followers == 5400  # from getProfiles, as fetch does
    carol = fresh["at://did:plc:carolexampleaaaaaaaaaaaa/app.bsky.feed.post/3lbac3fw6ts2p"]
    assert carol.engagement.likes == 410 and carol.text == before[carol.external_id].text


def test_refresh_asks_25_uris_a_call_and_a_rate_limit_is_a_typed_error():
    template = _post("3lbaa2k4xq22s")
    posts = [{**template, "uri": f"at://did:plc:aliceexampleaaaaaaaaaaaa/app.bsky.feed.post/3k{i}"}
             for i in range(30)]
    stored = [to_mention(p) for p in posts]

    def get_posts(request: httpx.Request) -> httpx.Response:
        uris = request.url.params.get_list("uris")
        return httpx.Response(200, json={"posts": [p for p in posts if p["uri"] in uris]})

    api = Api(**{"/xrpc/app.bsky.feed.getPosts": get_posts, PROFILES: _profiles})
    with api.client() as client:
        fresh = bluesky.refresh(client, _spec(), stored)
    assert [len(r.url.params.get_list("uris")) for r in
            api.calls("/xrpc/app.bsky.feed.getPosts")] == [25, 5]
    assert [m.external_id for m in fresh] == [m.external_id for m in stored]
    assert all(m.author.followers == 1000 for m in fresh)

    limited = Api(**{"/xrpc/app.bsky.feed.getPosts": httpx.Response(
        429, headers={"Retry-After": "600"})})
    with limited.client() as client, pytest.raises(RateLimitedError):
        bluesky.refresh(client, _spec(), stored)
