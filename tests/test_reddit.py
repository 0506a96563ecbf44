from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError, SkippableError
from connectors.reddit import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_USER_AGENT,
    PAGE_LIMIT,
    fetch,
    forget_tokens,
    refresh,
    to_mention,
    user_agent,
)
from earful.cycle import fetch_source

BASE = "https://reddit.test"
TOKEN = "/api/v1/access_token"
SECRETS = {CLIENT_ID: "cid-123", CLIENT_SECRET: "s3cr3t-value"}
NEWEST = datetime(2026, 11, 21, 9, 39, 50, tzinfo=UTC).timestamp()  # "acme of skill"


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    forget_tokens()
    yield
    forget_tokens()


def _load(name: str):
    return json.loads((FIXTURES / "reddit" / name).read_text())


def _post(name: str) -> dict:
    for file in ("search-acme.json", "search-acme-cloud.json", "search-globex.json"):
        for child in _load(file)["data"]["children"]:
            if child["data"]["name"] == name:
                return child["data"]
    raise KeyError(name)


def _listing(posts: list[dict], after: str | None = None) -> dict:
    return {"kind": "Listing", "data": {"after": after, "dist": len(posts), "modhash": None,
                                        "children": [{"kind": "t3", "data": p} for p in posts],
                                        "before": None}}


def _spec(**changes) -> SourceSpec:
    values = {"name": "rd", "kind": "reddit", "url": BASE, "queries": ("Acme",),
              "secrets": SECRETS, "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


def _token(value: str = "tok-1") -> httpx.Response:
    return httpx.Response(200, json={"access_token": value, "token_type": "bearer",
                                     "expires_in": 86400, "scope": "*"})


class Api:
    """A fake Reddit: the token endpoint, and /search answered by query parameters."""

    def __init__(self, routes, token=None, extra=None):
        self.routes = routes  # [({param: value}, response or callable)]
        self.token = token or _token()
        self.extra = extra or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, params = request.url.path, dict(request.url.params)
        if path.endswith(TOKEN):
            return self.token(request) if callable(self.token) else self.token
        if path in self.extra:
            return self.extra[path]
        best = None
        for wanted, answer in self.routes:
            if all(params.get(k) == v for k, v in wanted.items()) \
                    and (best is None or len(wanted) > best[0]):
                best = (len(wanted), answer)
        if best is None:
            return httpx.Response(200, json=_listing([]))
        return best[1](request) if callable(best[1]) else best[1]

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def searches(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/search")]

    def tokens(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(TOKEN)]


def _fixture_api(**headers: str) -> Api:
    return Api([
        ({"q": "Acme"}, httpx.Response(200, json=_load("search-acme.json"), headers=headers)),
        ({"q": "Acme", "after": "t3_1p2q1a2"},
         httpx.Response(200, json=_load("search-acme-after.json"))),
        ({"q": "Acme Cloud"}, httpx.Response(200, json=_load("search-acme-cloud.json"))),
        ({"q": "Globex"}, httpx.Response(200, json=_load("search-globex.json"))),
    ])


def test_a_self_post_becomes_a_mention():
    mention = to_mention(_post("t3_1p2q3r4"))
    assert mention.source == "reddit" and mention.external_id == "t3_1p2q3r4"
    assert mention.url == ("https://www.reddit.com/r/sysadmin/comments/1p2q3r4/"
                           "acme_cloud_support_ignored_our_p1_ticket/")
    assert mention.title == "Acme Cloud support ignored our P1 ticket for a week"
    assert mention.text.startswith("Our storage bucket went read-only on Monday & Acme")
    assert mention.published_at == datetime(2026, 11, 21, 9, 31, 9, tzinfo=UTC)
    assert (mention.author.id, mention.author.handle, mention.author.name) == (
        "t2_8kd3m2q1", "u/dana_ops", "dana_ops")
    assert mention.author.url == "https://www.reddit.com/user/dana_ops"
    e = mention.engagement
    assert (e.score, e.likes, e.replies, e.reposts) == (212, 212, 58, 1)
    assert not mention.is_repost and not mention.is_own
    assert mention.raw["subreddit_subscribers"] == 1030412  # read by the reach estimate


def test_crossposts_are_reposts_and_own_posts_are_flagged():
    assert to_mention(_post("t3_1p2q5t6")).is_repost
    own = to_mention(_post("t3_1p2q1a2"), own_handles=frozenset({"acme"}))
    assert own.is_own and own.author.handle == "u/acme"
    assert to_mention(_post("t3_1p2q1a2"), own_handles=frozenset({"u/acme"})).is_own


def test_escaped_text_is_unescaped_and_deleted_authors_are_unknown():
    post = dict(_post("t3_1p2p9z0"), title="Globex &amp; friends &lt;3", author="[deleted]",
                author_fullname=None)
    mention = to_mention(post)
    assert mention.title == "Globex & friends <3"
    assert mention.author.handle is None and mention.author.url is None
    assert to_mention(_post("t3_1p2p9z0")).title == "Globex payroll double-charged us <again>"


def test_removed_and_deleted_posts_keep_their_title_but_not_the_placeholder_text():
    api = Api([({"q": "Acme"}, httpx.Response(200, json=_load("search-removed.json")))])
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("rd"))
    assert not result.item_errors
    mentions = {m.external_id: m for m in result.mentions}
    removed, deleted = mentions["t3_1p2r7m1"], mentions["t3_1p2r6k9"]
    # A moderator removed it: the title and author stay, "[removed]" is not the post's text.
    assert removed.title == "Acme billing charged us twice, here is the invoice"
    assert removed.text == "" and removed.author.name == "dana_ops"
    assert removed.url == ("https://www.reddit.com/r/sysadmin/comments/1p2r7m1/"
                           "acme_billing_charged_us_twice_here_is_the_invoice/")
    assert (removed.engagement.score, removed.engagement.replies) == (7, 2)
    # Its author deleted it: no text, no author.
    assert deleted.title == "Is Acme Cloud down for anyone else?" and deleted.text == ""
    assert deleted.author.id is None and deleted.author.name is None
    assert deleted.published_at == datetime(2026, 11, 21, 9, 41, 40, tzinfo=UTC)
    # Only the exact placeholder is dropped: a body that quotes it is kept.
    post = dict(_post("t3_1p2q3r4"), selftext="Mod says [removed] but why?")
    assert to_mention(post).text == "Mod says [removed] but why?"


def test_token_then_search_with_the_documented_parameters():
    api = _fixture_api()
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Acme Cloud", "Globex"),
                                     params={"username": "earful-test"}), SourceState("rd"))
        again = fetch(client, _spec(), SourceState("rd"))
    [token] = api.tokens()  # the second fetch reuses the token
    assert str(token.url) == f"{BASE}{TOKEN}" and token.method == "POST"
    assert parse_qs(token.content.decode()) == {"grant_type": ["client_credentials"]}
    assert token.headers["authorization"] == "Basic " + base64.b64encode(
        b"cid-123:s3cr3t-value").decode()
    searches = api.searches()
    assert [r.url.params["q"] for r in searches] == ["Acme", "Acme Cloud", "Globex", "Acme"]
    for r in searches:
        assert dict(r.url.params, q="") == {"q": "", "sort": "new", "type": "link",
                                            "limit": str(PAGE_LIMIT), "raw_json": "1"}
        assert r.headers["authorization"] == "bearer tok-1"
    assert searches[0].headers["user-agent"] == ("server:earful:v0.1 (social listening; "
                                                 "by /u/earful-test)")
    assert len(result.mentions) == 5 and result.item_errors == [] and result.error is None
    assert result.state.cursors() == {"q:Acme": NEWEST, "q:Acme Cloud": NEWEST - 521,
                                      "q:Globex": NEWEST - 860}
    assert len(again.mentions) == 4
    for mention in result.mentions:  # the secret is nowhere in what is stored
        assert "s3cr3t" not in json.dumps(mention.raw) and "tok-1" not in json.dumps(mention.raw)


def test_the_official_hosts_are_used_without_a_url():
    api = _fixture_api()
    with api.client() as client:
        fetch(client, _spec(url=None), SourceState("rd"))
    assert str(api.tokens()[0].url) == "https://www.reddit.com/api/v1/access_token"
    assert api.searches()[0].url.host == "oauth.reddit.com"
    assert user_agent({}) == DEFAULT_USER_AGENT
    assert user_agent({"user_agent": "linux:acme-listen:v2 (by /u/acme)"}).startswith("linux:")


def test_next_poll_follows_after_until_it_passes_the_cursor_and_dedupes():
    page1 = [_post("t3_1p2q6x7"), _post("t3_1p2q5t6")]
    page2 = [_post("t3_1p2q5t6"), _post("t3_1p2q3r4")]  # overlaps page 1
    page3 = [_post("t3_1p2q1a2")]
    api = Api([
        ({"q": "Acme"}, httpx.Response(200, json=_listing(page1, "t3_1p2q5t6"))),
        ({"q": "Acme", "after": "t3_1p2q5t6"},
         httpx.Response(200, json=_listing(page2, "t3_1p2q3r4"))),
        ({"q": "Acme", "after": "t3_1p2q3r4"}, httpx.Response(200, json=_listing(page3, "x"))),
    ])
    # Cursor 09:20 less 15 minutes' overlap: everything back to 09:05 is read again, so
    # every page is followed until the page cap stops the term.
    cursor = datetime(2026, 11, 21, 9, 20, tzinfo=UTC).timestamp()
    state = SourceState("rd").with_cursors({"q:Acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(params={"max_pages": 3}), state)
    assert [r.url.params.get("after") for r in api.searches()] == [
        None, "t3_1p2q5t6", "t3_1p2q3r4"]
    assert len(result.mentions) == 4
    assert result.state.cursors() == {"q:Acme": NEWEST}


def test_paging_stops_at_the_watermark():
    api = _fixture_api()
    state = SourceState("rd").with_cursors({"q:Acme": NEWEST + 3600})  # all older
    with api.client() as client:
        result = fetch(client, _spec(), state)
    assert len(api.searches()) == 1
    assert result.state.cursors() == {"q:Acme": NEWEST + 3600}  # never moves back


def test_a_failed_page_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    api = Api([
        ({"q": "Acme"}, httpx.Response(200, json=_load("search-acme.json"))),
        ({"q": "Globex"}, httpx.Response(200, json=_listing([_post("t3_1p2p9z0")], "t3_x"))),
        ({"q": "Globex", "after": "t3_x"}, httpx.Response(503, text="<html>busy</html>")),
    ])
    state = SourceState("rd").with_cursors({"q:Globex": NEWEST - 900})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex", "Acme Cloud")), state)
    assert len(result.mentions) == 5
    assert result.error and "HTTP 503" in result.error
    assert result.state.cursors() == {"q:Acme": NEWEST, "q:Globex": NEWEST - 900}
    assert "Acme Cloud" not in [r.url.params["q"] for r in api.searches()]


def test_malformed_things_are_skipped_and_counted():
    good = _post("t3_1p2p9z0")
    listing = _listing([good, dict(good, name="t3_bad", created_utc="soon"),
                        {k: v for k, v in good.items() if k != "name"}])
    listing["data"]["children"] += ["junk", {"kind": "t5", "data": {"name": "t5_sub"}}]
    api = Api([({"q": "Acme"}, httpx.Response(200, json=listing))])
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("rd"))
    assert [m.external_id for m in result.mentions] == ["t3_1p2p9z0"]
    assert len(result.item_errors) == 3  # the t5 is not a post, not an error either


def test_a_body_that_is_not_a_listing_is_a_clear_failure():
    for answer, message in ((httpx.Response(200, text="<html>"), "not valid JSON"),
                            (httpx.Response(200, json={"kind": "t3"}), "did not return a Listing")):
        api = Api([({}, answer)])
        with api.client() as client, pytest.raises(FatalError, match=message):
            fetch(client, _spec(), SourceState("rd"))


def test_429_defers_until_the_reset_without_sleeping(monkeypatch):
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail(f"slept {s}s"))
    limited = httpx.Response(429, json=_load("rate-limited.json"), headers={
        "x-ratelimit-used": "600", "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "300"})
    api = Api([({"q": "Acme"}, httpx.Response(200, json=_load("search-acme.json"))),
               ({"q": "Globex"}, limited)])
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), SourceState("rd"))
        assert len(result.mentions) == 4 and result.error is None
        assert timedelta(minutes=4) < result.deferred_until - datetime.now(UTC) \
            <= timedelta(minutes=5)
        assert result.state.cursors() == {"q:Acme": NEWEST}
        with pytest.raises(RateLimitedError) as raised:
            fetch(client, _spec(queries=("Globex",)), SourceState("rd"))
    assert raised.value.retry_at > datetime.now(UTC) + timedelta(minutes=4)


def test_a_spent_budget_stops_the_source_until_the_reset():
    api = _fixture_api(**{"x-ratelimit-used": "600", "x-ratelimit-remaining": "0.0",
                          "x-ratelimit-reset": "120"})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex")), SourceState("rd"))
    assert len(api.searches()) == 1 and len(result.mentions) == 4
    assert result.deferred_until and result.deferred_until > datetime.now(UTC)
    assert result.state.rate_limit_remaining == 0


def test_server_errors_and_timeouts_fail_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    for answer, message in ((httpx.Response(500), "HTTP 500 from https://reddit.test/search"),
                            (timeout, "timed out fetching https://reddit.test/search")):
        api = Api([({}, answer)])
        with api.client() as client, pytest.raises(RetriableError, match=message) as raised:
            fetch(client, _spec(), SourceState("rd"))
        assert "s3cr3t" not in str(raised.value) and "tok-1" not in str(raised.value)


def test_missing_credentials_skip_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv(CLIENT_ID, raising=False)
    monkeypatch.setenv(CLIENT_SECRET, "only-half")
    with httpx.Client() as client:
        with pytest.raises(SkippableError, match=CLIENT_ID):
            fetch(client, _spec(secrets={CLIENT_SECRET: "x"}), SourceState("rd"))
        settings = make_settings(tmp_path, [{"name": "rd", "kind": "reddit", "url": BASE}])
        outcome = fetch_source(client, settings.sources[0], SourceState("rd"), settings)
    assert outcome.status == "skipped" and CLIENT_ID in outcome.message
    assert "only-half" not in outcome.message


def test_a_refused_cached_token_is_renewed_once_and_bad_credentials_are_fatal():
    issued = iter(["tok-1", "tok-2"])
    api = Api([({}, lambda r: httpx.Response(200, json=_listing([]))
                if r.headers["authorization"] == "bearer tok-2"
                else httpx.Response(401, json=_load("error-unauthorized.json")))])
    api.token = lambda request: _token(next(issued))
    with api.client() as client:
        with pytest.raises(FatalError, match="HTTP 401"):
            fetch(client, _spec(), SourceState("rd"))  # a fresh token refused: fatal
        result = fetch(client, _spec(), SourceState("rd"))  # cached tok-1 refused: renewed
    assert result.error is None and len(api.tokens()) == 2

    forget_tokens()
    bad = Api([], token=httpx.Response(401, json=_load("error-unauthorized.json")))
    with bad.client() as client, pytest.raises(FatalError, match="check credentials") as raised:
        fetch(client, _spec(), SourceState("rd"))
    assert "s3cr3t" not in str(raised.value)
    forget_tokens()
    odd = Api([], token=httpx.Response(200, json={"error": "unsupported_grant_type"}))
    with odd.client() as client, pytest.raises(FatalError, match="unsupported_grant_type"):
        fetch(client, _spec(), SourceState("rd"))


def test_nsfw_filter_and_follower_look_ups_are_settings():
    nsfw = dict(_post("t3_1p2p9z0"), over_18=True)
    api = Api([({"q": "Acme"}, httpx.Response(200, json=_listing([nsfw, _post("t3_1p2q3r4")])))],
              extra={"/user/dana_ops/about": httpx.Response(
                  200, json=_load("user-about-dana_ops.json"))})
    with api.client() as client:
        result = fetch(client, _spec(params={"include_nsfw": False,
                                             "author_followers": True}), SourceState("rd"))
    assert [m.external_id for m in result.mentions] == ["t3_1p2q3r4"]
    assert result.mentions[0].author.followers == 342
    assert [r.url.path for r in api.requests if "/user/" in r.url.path] == [
        "/user/dana_ops/about"]


def test_refresh_rereads_posts_by_fullname_with_fresh_counts(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "reddit", {
        "/api/info": fixture_route("reddit", "info.json", headers={
            "x-ratelimit-used": "6", "x-ratelimit-remaining": "594.0",
            "x-ratelimit-reset": "400"})})
    assert run.paths() == ["/api/info"]  # the token fetch got is reused
    (asked,) = run.params("/api/info")
    assert asked["id"] == [",".join(m.external_id for m in run.fetched)]
    assert asked["raw_json"] == ["1"]
    fresh, before = run.by_id(), run.by_id("fetched")
    # The "acme of skill" post was removed by a moderator: left out, its stored text stays.
    assert set(fresh) == set(before) - {"t3_1p2q6x7"}
    ticket = fresh["t3_1p2q3r4"]
    assert ticket.id == before["t3_1p2q3r4"].id
    assert (ticket.engagement.score, ticket.engagement.likes, ticket.engagement.replies,
            ticket.engagement.reposts) == (1450, 1450, 310, 4)
    assert ticket.text == before["t3_1p2q3r4"].text and ticket.is_repost is False
    assert fresh["t3_1p2q1a2"].is_own


def test_refresh_asks_100_fullnames_a_call_and_keeps_stored_followers():
    posts = [{**_post("t3_1p2q3r4"), "name": f"t3_x{i}"} for i in range(120)]
    stored = [to_mention(p, followers=342) for p in posts]
    seen: list[list[str]] = []

    def info(request: httpx.Request) -> httpx.Response:
        names = request.url.params["id"].split(",")
        seen.append(names)
        return httpx.Response(200, json=_listing([p for p in posts if p["name"] in names]))

    api = Api([({}, info)])
    with api.client() as client:
        fresh = refresh(client, _spec(), stored)
    assert all(r.url.path == "/api/info" for r in api.requests if r not in api.tokens())
    assert [len(names) for names in seen] == [100, 20]
    assert [m.external_id for m in fresh] == [m.external_id for m in stored]
    assert all(m.author.followers == 342 for m in fresh)  # not looked up again
