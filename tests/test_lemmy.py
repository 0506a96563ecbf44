from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors import lemmy
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError
from connectors.lemmy import JWT, PAGE_LIMIT, fetch, parse_time, search_terms, to_mention
from earful.cycle import fetch_source
from earful.fixtureserver import Route

BASE = "https://lemmy.example"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")
LANGS = {32: "de", 37: "en"}


def _load(name: str):
    return json.loads((FIXTURES / "lemmy" / name).read_text())


def _view(kind: str, item_id: int) -> dict:
    for name in ("search-acme.json", "search-globex.json"):
        for view in _load(name)[f"{kind}s"]:
            if view[kind]["id"] == item_id:
                return view
    raise KeyError(item_id)


def _spec(**changes) -> SourceSpec:
    values = {"name": "lemmy", "kind": "lemmy", "url": BASE, "queries": QUERIES,
              "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


class Instance:
    """A fake instance: search answers by (q, page), else by q, else nothing found."""

    def __init__(self, answers=None, site=None):
        self.answers = {("Acme", None): "search-acme.json", ("Globex", None): "search-globex.json",
                        **(answers or {})}
        self.site = site
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/api/v3/site"):
            return self.site or httpx.Response(200, content=(FIXTURES / "lemmy" / "site.json")
                                               .read_bytes())
        q, page = request.url.params["q"], int(request.url.params["page"])
        answer = self.answers.get((q, page), self.answers.get((q, None), "search-empty.json"))
        if isinstance(answer, str):
            return httpx.Response(200, content=(FIXTURES / "lemmy" / answer).read_bytes())
        if isinstance(answer, dict):
            return httpx.Response(200, json=answer)
        return answer(request) if callable(answer) else answer

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def searches(self) -> list[tuple[str, str]]:
        return [(r.url.params["q"], r.url.params["page"]) for r in self.requests
                if r.url.path.endswith("/search")]


def _posts(count: int, newest: datetime, first_id: int = 9000) -> list[dict]:
    """`count` minimal PostViews, newest first, one minute apart."""
    template = _view("post", 5501)
    out = []
    for i in range(count):
        published = (newest - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        post = {**template["post"], "id": first_id + i, "published": published,
                "ap_id": f"{BASE}/post/{first_id + i}", "name": f"Acme thing {i}"}
        out.append({**template, "post": post})
    return out


def test_terms_that_contain_another_term_are_not_searched():
    assert search_terms(_spec()) == ["Acme", "Globex"]
    assert search_terms(_spec(queries=("Acme Cloud", "acme  cloud", "Globex"))) == [
        "Acme Cloud", "Globex"]


def test_timestamps_without_an_offset_are_utc():
    assert parse_time("2023-06-20T12:34:56.789012") == datetime(2023, 6, 20, 12, 34, 56,
                                                                789012, tzinfo=UTC)
    assert parse_time("2026-11-21T09:20:00.123456Z") == datetime(2026, 11, 21, 9, 20, 0,
                                                                 123456, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time(None)


def test_a_post_becomes_a_mention():
    mention = to_mention(_view("post", 5501), base=BASE, languages=LANGS)
    assert mention.source == "lemmy"
    assert mention.external_id == mention.url == f"{BASE}/post/5501"
    assert mention.title == "Acme Cloud deleted my volumes during maintenance"
    assert mention.text.startswith("Woke up to **three missing volumes**")
    assert mention.published_at == datetime(2026, 11, 21, 9, 20, 0, 123456, tzinfo=UTC)
    assert (mention.author.id, mention.author.handle, mention.author.name) == (
        f"{BASE}/u/dana", "@dana@lemmy.example", "Dana R.")
    assert mention.author.followers is None
    assert (mention.engagement.likes, mention.engagement.replies,
            mention.engagement.score) == (51, 12, 48)
    assert mention.lang == "en" and mention.thread_id == mention.external_id
    assert mention.parent_id is None and not mention.is_own and not mention.is_repost


def test_a_federated_link_post_keeps_its_origin_id_and_link():
    mention = to_mention(_view("post", 5497), base=BASE, languages=LANGS)
    assert mention.external_id == "https://feddit.example/post/88123"
    assert mention.text == "https://blog.feddit.example/acme-wechsel"
    assert mention.lang == "de" and mention.author.handle == "@karl@feddit.example"


def test_comments_know_their_thread_and_parent():
    reply = to_mention(_view("comment", 77131), base=BASE, own_handles=frozenset({"acme"}))
    assert reply.is_own and reply.title is None
    assert reply.thread_id == f"{BASE}/post/5501"
    assert reply.parent_id == f"{BASE}/comment/77120"  # from path "0.77120.77131"
    top = to_mention(_view("comment", 77120), base=BASE)
    assert top.parent_id == f"{BASE}/post/5501" and top.engagement.replies == 2
    remote = to_mention(_view("comment", 77140), base=BASE, languages=LANGS)
    assert remote.external_id == "https://sh.example/comment/901" and remote.lang is None


def test_only_the_brands_own_account_is_own():
    view = _view("comment", 77131)
    elsewhere = {**view, "creator": {**view["creator"],
                                     "actor_id": "https://elsewhere.example/u/acme"}}
    assert not to_mention(elsewhere, base=BASE, own_handles=frozenset({"acme"})).is_own
    assert to_mention(elsewhere, base=BASE,
                      own_handles=frozenset({"acme@elsewhere.example"})).is_own


@pytest.mark.parametrize("broken", [
    {"creator": None}, {"post": "x"}, {"comment": {"id": None}},
    {"creator": {"id": 1, "name": ""}},
])
def test_a_malformed_view_is_refused(broken):
    with pytest.raises((KeyError, ValueError)):
        to_mention({**_view("comment", 77120), **broken}, base=BASE)


def test_first_poll_reads_the_newest_page_of_each_term():
    instance = Instance()
    with instance.client() as client:
        result = fetch(client, _spec(secrets={JWT: "jw7"}), SourceState("lemmy"))
    assert instance.searches() == [("Acme", "1"), ("Globex", "1")]
    search = instance.requests[0].url.params
    assert (search["type_"], search["sort"], search["listing_type"], search["limit"]) == (
        "All", "New", "All", str(PAGE_LIMIT))
    assert all(r.headers["authorization"] == "Bearer jw7" for r in instance.requests)
    assert [r.url.path for r in instance.requests].count("/api/v3/site") == 1
    assert len(result.mentions) == 6 and result.error is None and result.item_errors == []
    assert result.state.cursors() == {"q:Acme": "2026-11-21T09:50:31.000000Z",
                                      "q:Globex": "2026-11-21T10:05:00.000000Z"}
    assert all("jw7" not in json.dumps(m.raw) for m in result.mentions)


def test_next_poll_pages_back_to_the_cursor_minus_the_overlap():
    newest = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    page1 = {"type_": "All", "posts": _posts(PAGE_LIMIT, newest), "comments": []}
    page2 = {"type_": "All", "posts": _posts(PAGE_LIMIT, newest - timedelta(hours=3), 8000),
             "comments": []}
    instance = Instance({("Acme", 1): page1, ("Acme", 2): page2,
                         ("Acme", 3): lambda r: pytest.fail("read past the window")})
    state = SourceState("lemmy").with_cursors({"q:Acme": "2026-11-21T11:20:00Z"})
    with instance.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), state)
    # Page 1 reaches back to 11:11, still inside the window (11:20 - 30 min): page 2 is read.
    assert instance.searches() == [("Acme", "1"), ("Acme", "2")]
    assert len(result.mentions) == 2 * PAGE_LIMIT
    assert result.state.cursors()["q:Acme"] == "2026-11-21T12:00:00.000000Z"


def test_pages_stop_at_the_cap_and_the_cursor_never_moves_back():
    page = {"type_": "All", "posts": _posts(PAGE_LIMIT, datetime(2026, 11, 21, 12, tzinfo=UTC)),
            "comments": []}
    instance = Instance({("Acme", None): page})
    older = SourceState("lemmy").with_cursors({"q:Acme": "2026-11-21T11:00:00Z"})
    newer = SourceState("lemmy").with_cursors({"q:Acme": "2026-11-21T13:00:00Z"})
    with instance.client() as client:
        capped = fetch(client, _spec(queries=("Acme",), params={"max_pages": 1}), older)
        assert instance.searches() == [("Acme", "1")]  # page 2 would still be in the window
        same = fetch(client, _spec(queries=("Acme",)), newer)
    assert capped.state.cursors()["q:Acme"] == "2026-11-21T12:00:00.000000Z"
    assert same.state.cursors()["q:Acme"] == "2026-11-21T13:00:00.000000Z"


def test_malformed_and_deleted_items_are_left_out():
    data = _load("search-acme.json")
    good = data["comments"][1]
    data["comments"] = ["junk", {"post": {}}, {**good, "comment": {**good["comment"],
                                                                   "published": "soon"}},
                        {**good, "creator": None},
                        {**good, "comment": {**good["comment"], "id": 1, "deleted": True}},
                        good]
    data["posts"] = [{**data["posts"][0], "post": {**data["posts"][0]["post"],
                                                   "removed": True}}]
    instance = Instance({("Acme", None): data})
    with instance.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("lemmy"))
    assert [m.external_id for m in result.mentions] == [f"{BASE}/comment/77120"]
    assert len(result.item_errors) == 4


def test_a_failing_term_keeps_the_others_and_their_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    instance = Instance({("Globex", None): httpx.Response(503)})
    with instance.client() as client:
        result = fetch(client, _spec(), SourceState("lemmy"))
    assert len(result.mentions) == 5 and result.error and "HTTP 503" in result.error
    assert set(result.state.cursors()) == {"q:Acme"}


def test_errors_before_anything_was_read_are_raised(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)

    def timeout(request):
        raise httpx.ConnectTimeout("slow", request=request)

    for answer, error, text in (
        (timeout, RetriableError, "timed out"),
        (httpx.Response(500), RetriableError, "HTTP 500"),
        (httpx.Response(400, json={"error": "couldnt_find_community"}), FatalError,
         "HTTP 400 .*: couldnt_find_community"),
    ):
        with Instance({("Acme", None): answer}).client() as client, \
                pytest.raises(error, match=text):
            fetch(client, _spec(), SourceState("lemmy"))


@pytest.mark.parametrize("status", [429, 400])  # 400 rate_limit_error: Lemmy ≤ 0.19
def test_a_spent_rate_limit_defers_the_source_without_sleeping(monkeypatch, status):
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail("slept"))
    limited = httpx.Response(status, content=(FIXTURES / "lemmy" / "rate-limited.json")
                             .read_bytes())
    before = datetime.now(UTC)
    with Instance({("Acme", None): limited}).client() as client, \
            pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("lemmy"))
    assert caught.value.status == status
    assert before + lemmy.RATE_LIMIT_FALLBACK <= caught.value.retry_at \
        <= datetime.now(UTC) + lemmy.RATE_LIMIT_FALLBACK

    with Instance({("Globex", None): limited}).client() as client:
        result = fetch(client, _spec(), SourceState("lemmy"))
    assert len(result.mentions) == 5 and result.error is None
    assert result.deferred_until >= before + lemmy.RATE_LIMIT_FALLBACK
    assert set(result.state.cursors()) == {"q:Acme"}


def test_a_429s_retry_after_sets_the_deferral():
    before = datetime.now(UTC)
    with Instance({("Globex", None): httpx.Response(
            429, headers={"Retry-After": "120"})}).client() as client:
        result = fetch(client, _spec(), SourceState("lemmy"))
    assert len(result.mentions) == 5 and result.error is None
    assert result.deferred_until and before + timedelta(seconds=119) <= result.deferred_until \
        < before + timedelta(minutes=3)
    assert set(result.state.cursors()) == {"q:Acme"}


def test_languages_are_optional():
    instance = Instance(site=httpx.Response(404, json={"error": "not_found"}))
    with instance.client() as client:
        result = fetch(client, _spec(), SourceState("lemmy"))
    assert len(result.mentions) == 6 and all(m.lang is None for m in result.mentions)
    assert [r.url.path for r in instance.requests].count("/api/v3/site") == 1


def test_settings_choose_type_listing_and_community_and_the_base_keeps_its_path():
    instance = Instance()
    spec = _spec(url="https://example.org/lemmy/", queries=("Globex",),
                 params={"type": "Comments", "listing_type": "Local", "community": "tech"})
    with instance.client() as client:
        result = fetch(client, spec, SourceState("lemmy"))
        with pytest.raises(FatalError, match=r"params\.type"):
            fetch(client, _spec(params={"type": "Users"}), SourceState("lemmy"))
    params = instance.requests[0].url.params
    assert instance.requests[0].url.path == "/lemmy/api/v3/search"
    assert (params["type_"], params["listing_type"], params["community_name"]) == (
        "Comments", "Local", "tech")
    assert "authorization" not in instance.requests[0].headers  # no JWT configured
    assert result.mentions[0].external_id == "https://sh.example/comment/901"
    view = _view("comment", 77140)
    bare = {**view, "comment": {**view["comment"], "ap_id": None},
            "post": {**view["post"], "ap_id": ""}}
    local = to_mention(bare, base="https://example.org/lemmy")
    assert local.url == "https://example.org/lemmy/comment/77140"
    assert local.thread_id == "https://example.org/lemmy/post/5490"


def test_a_private_instance_fails_clearly_without_echoing_the_jwt(tmp_path, monkeypatch):
    monkeypatch.setenv(JWT, "expired-jwt")
    instance = Instance({("Acme", None): httpx.Response(
        400, content=(FIXTURES / "lemmy" / "instance-private.json").read_bytes())})
    settings = make_settings(tmp_path, [{"name": "lemmy", "kind": "lemmy", "url": BASE}])
    with instance.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("lemmy"), settings)
    assert outcome.status == "error" and "HTTP 400" in outcome.message
    assert "instance_is_private" in outcome.message and "expired-jwt" not in outcome.message
    assert instance.requests[0].headers["authorization"] == "Bearer expired-jwt"


def test_settings_need_a_url_and_sane_params(tmp_path):
    with pytest.raises(Exception, match="needs a url"):
        make_settings(tmp_path, [{"name": "lemmy", "kind": "lemmy"}])
    assert lemmy.CONNECTOR.requires_url
    assert lemmy.validate(_spec(url=None, params={"listing_type": "Subscribed"})) == [
        "url is required: the instance's address (https://lemmy.example.org)",
        "params.listing_type must be one of All, Local",
    ]


def test_refresh_rereads_posts_and_comments_by_local_id(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "lemmy", {
        "/api/v3/post?id=5501": fixture_route("lemmy", "post-5501.json"),
        "/api/v3/comment?id=77120": fixture_route("lemmy", "comment-77120.json"),
        "/api/v3/comment?id=77050": fixture_route("lemmy", "comment-77050.json"),
        "/api/v3/comment?id=77131": Route(b'{"error":"couldnt_find_comment"}', status=400,
                                          content_type="application/json",
                                          conditional=False),
    })
    # Asked by the instance's own ids (the external ids are federation ap_ids); 5497 and
    # 77140 answer 404, 77131 Lemmy 0.19's 400 couldnt_find_comment, 77050 is deleted.
    assert run.paths() == ["/api/v3/post", "/api/v3/post", "/api/v3/comment",
                           "/api/v3/comment", "/api/v3/comment", "/api/v3/comment"]
    assert [p["id"] for path in ("/api/v3/post", "/api/v3/comment")
            for p in run.params(path)] == [["5501"], ["5497"], ["77131"], ["77120"],
                                           ["77050"], ["77140"]]
    fresh, before = run.by_id(), run.by_id("fetched")
    post, comment = "https://lemmy.example/post/5501", "https://lemmy.example/comment/77120"
    assert set(fresh) == {post, comment}
    assert fresh[post].id == before[post].id
    e = fresh[post].engagement
    assert (e.likes, e.score, e.replies) == (402, 390, 140)
    assert fresh[post].lang == "en"  # the stored language stays (no /api/v3/site call)
    e = fresh[comment].engagement
    assert (e.likes, e.score, e.replies) == (70, 66, 9)
    assert fresh[comment].parent_id == before[comment].parent_id


def test_refresh_a_rate_limit_is_typed_and_other_refusals_are_errors():
    stored = [to_mention(_view("post", 5501), base=BASE)]

    def answer(status: int, body: dict):
        return httpx.Client(transport=httpx.MockTransport(
            lambda request: httpx.Response(status, json=body)))

    with answer(400, {"error": "rate_limit_error"}) as client, \
            pytest.raises(RateLimitedError):
        lemmy.refresh(client, _spec(), stored)
    with answer(400, {"error": "instance_is_private"}) as client, \
            pytest.raises(FatalError, match="instance_is_private"):
        lemmy.refresh(client, _spec(), stored)
