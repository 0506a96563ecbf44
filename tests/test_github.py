from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError
from connectors.github import (
    API_VERSION,
    DEFAULT_OVERLAP,
    PAGE_SIZE,
    RESULT_CAP,
    TOKEN,
    build_query,
    fetch,
    refresh,
    to_mention,
    validate,
)
from earful.cycle import fetch_source

BASE = "https://api.github.test"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")
SECRET = "ghp_s3cr3tT0ken"


def _load(name: str):
    return json.loads((FIXTURES / "github" / name).read_text())


def _item(item_id: int):
    for name in ("search-acme.json", "search-acme-cloud.json", "search-globex.json"):
        for item in _load(name)["items"]:
            if item["id"] == item_id:
                return item
    raise KeyError(item_id)


def _spec(**changes) -> SourceSpec:
    values = {"name": "gh", "kind": "github", "url": BASE, "queries": QUERIES,
              "own_handles": frozenset({"acme", "globex"})}
    values.update(changes)
    return SourceSpec(**values)


def _page(items, incomplete: bool = False) -> dict:
    return {"total_count": len(items), "incomplete_results": incomplete, "items": items}


def _items(count: int, start: datetime, first_id: int = 1, login: str = "u") -> list[dict]:
    """`count` minimal issues, newest first, one minute apart from `start`."""
    out = [{"id": first_id + i, "number": first_id + i, "title": f"Acme issue {i}",
            "body": f"Acme body {i}", "html_url": f"https://github.example/o/r/issues/{i}",
            "created_at": (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": (start + timedelta(minutes=i, hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            "comments": 0, "user": {"login": login, "id": 7, "type": "User",
                                    "html_url": f"https://github.example/{login}"}}
           for i in range(count)]
    return list(reversed(out))


def _limit(remaining: int, reset: datetime, resource: str = "search") -> dict[str, str]:
    return {"x-ratelimit-limit": "30", "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(30 - remaining), "x-ratelimit-resource": resource,
            "x-ratelimit-reset": str(int(reset.timestamp()))}


class Api:
    """A fake API: search answers by the term in `q` (plus other params), users by login."""

    def __init__(self, search=None, users=None):
        self.search = search or {}
        self.users = users if users is not None else {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/search/issues"):
            params = dict(request.url.params)
            term = params["q"].split('"')[1]
            best = None
            for (wanted_term, *wanted), answer in self.search.items():
                if wanted_term == term and all(params.get(k) == v for k, v in wanted) and (
                        best is None or len(wanted) > best[0]):
                    best = (len(wanted), answer)
            answer = best[1] if best else _page([])
        else:
            login = path.rsplit("/", 1)[1]
            answer = self.users.get(login, httpx.Response(404, json={"message": "Not Found"}))
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def searches(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.url.path.endswith("/issues")]

    def profiles(self) -> list[str]:
        return [r.url.path.rsplit("/", 1)[1] for r in self.requests if "/users/" in r.url.path]


def test_issue_becomes_a_mention():
    mention = to_mention(_item(3690012345))
    assert mention.source == "github"
    assert mention.external_id == "github.example:3690012345"
    assert mention.url == "https://github.example/octo-example/acme-sdk-python/issues/412"
    assert mention.title == "Acme SDK 4.2: every request fails with 401 Unauthorized"
    assert mention.text.startswith("### Describe the bug\nSince upgrading to **Acme** SDK 4.2")
    assert "Thanks for reporting" not in mention.text  # the template comment is dropped
    assert "<details>" not in mention.text and "Environment" in mention.text
    assert "client.list_buckets()" in mention.text
    assert mention.published_at == datetime(2026, 11, 21, 9, 12, 40, tzinfo=UTC)
    assert mention.author.id == "5811021" and mention.author.handle == "@dana-r"
    assert mention.author.name == "dana-r" and mention.author.followers is None
    assert mention.author.url == "https://github.example/dana-r"
    assert (mention.engagement.likes, mention.engagement.replies) == (5, 3)
    assert not mention.is_own and not mention.is_repost and mention.lang is None
    assert mention.raw["number"] == 412


def test_pull_requests_bots_empty_bodies_and_deleted_users():
    pr = to_mention(_item(3690009876))
    assert pr.url.endswith("/pull/17") and "pull_request" in pr.raw
    assert (pr.engagement.likes, pr.engagement.replies) == (2, 1)
    bot = to_mention(_item(3690000042))
    assert bot.author.handle == "@dependabot[bot]" and bot.raw["user"]["type"] == "Bot"
    assert bot.text == ("Bumps [acme-sdk](https://github.example/acme-example/acme-sdk-python) "
                        "from 4.1.0 to 4.2.0.\nRelease notes\nSourced from acme-sdk's releases.")
    empty = to_mention(_item(3690007777))
    assert empty.text == "" and empty.title == "Globex payments: partial refunds fail with HTTP 500"
    ghost = to_mention(dict(_item(3690007777), user=None, body_text="Plain  text\r\nbody"))
    assert ghost.author.id is None and ghost.author.handle is None
    assert ghost.text == "Plain text\nbody"  # body_text (text media type) wins


def test_own_issues_are_flagged_by_login_or_profile():
    own = _item(3690011111)
    assert to_mention(own, own_handles=frozenset({"acme"})).is_own
    assert to_mention(own, own_handles=frozenset({"https://github.example/acme"})).is_own
    assert not to_mention(_item(3690012345), own_handles=frozenset({"acme"})).is_own


def test_the_query_is_a_phrase_in_titles_and_bodies_with_qualifiers():
    since = datetime(2026, 11, 21, 8, 57, 40, tzinfo=UTC)
    assert build_query("Acme Cloud") == '"Acme Cloud" in:title,body'
    assert build_query('say "hi"', kind="issue", qualifiers=" -org:acme ", since=since,
                       date_field="updated") == (
        '"say hi" in:title,body is:issue -org:acme updated:>=2026-11-21T08:57:40Z')
    assert build_query("#acme", kind="pr") == '"#acme" in:title,body is:pull-request'


def test_search_sends_the_documented_request_and_fills_followers():
    api = Api(search={("Acme",): _load("search-acme.json"),
                      ("Acme Cloud",): _load("search-acme-cloud.json"),
                      ("Globex",): _load("search-globex.json")},
              users={login: _load(f"user-{login}.json")
                     for login in ("dana-r", "acme", "eli-ok", "gwen-li", "fara-n")})
    with api.client() as client:
        result = fetch(client, _spec(secrets={TOKEN: SECRET}), SourceState("gh"))
    for request in api.requests:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == API_VERSION
        assert request.headers["authorization"] == f"Bearer {SECRET}"
    searches = api.searches()
    assert [s["q"] for s in searches] == [f'"{t}" in:title,body' for t in QUERIES]
    assert all((s["sort"], s["order"], s["per_page"], s["page"]) ==
               ("created", "desc", str(PAGE_SIZE), "1") for s in searches)
    assert len(result.mentions) == 6  # the status issue and the PR found twice, kept once
    assert api.profiles() == ["dana-r", "acme", "eli-ok", "gwen-li", "fara-n"]  # no bot
    by_login = {m.author.handle: m for m in result.mentions}
    assert by_login["@dana-r"].author.followers == 1240
    assert by_login["@dana-r"].author.name == "Dana Rémy"
    assert by_login["@gwen-li"].author.name == "gwen-li"  # no profile name: the login
    assert by_login["@acme"].is_own and by_login["@dependabot[bot]"].author.followers is None
    assert result.state.cursors() == {"created:Acme": "2026-11-21T09:12:40Z",
                                      "created:Acme Cloud": "2026-11-21T09:05:00Z",
                                      "created:Globex": "2026-11-21T08:15:20Z"}
    assert result.error is None and result.item_errors == []
    assert all(SECRET not in json.dumps(m.raw) for m in result.mentions)


def test_a_deleted_authors_ghost_gets_no_profile_call():
    # Issues of deleted accounts are the `ghost` user's: its followers are not the author's.
    api = Api(search={("Acme",): _load("search-ghost.json")},
              users={"ghost": {"login": "ghost", "id": 10137, "followers": 9999}})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("gh"))
    (mention,) = result.mentions
    assert api.profiles() == []
    assert mention.external_id == "github.com:3690005555" and mention.author.handle == "@ghost"
    assert mention.author.followers is None
    assert (mention.engagement.likes, mention.engagement.replies) == (3, 2)


def test_without_a_token_and_on_enterprise_server():
    api = Api(search={("Acme",): _page(_items(2, datetime(2026, 11, 21, tzinfo=UTC)))},
              users={"u": _load("user-eli-ok.json")})
    with api.client() as client:
        result = fetch(client, _spec(url="https://ghe.example/api/v3/", queries=("Acme",)),
                       SourceState("gh"))
    assert [r.url.path for r in api.requests] == ["/api/v3/search/issues", "/api/v3/users/u"]
    assert all("authorization" not in r.headers for r in api.requests)
    assert len(result.mentions) == 2 and api.profiles() == ["u"]  # one call per author


def test_next_poll_reads_from_the_cursor_minus_the_overlap_and_follows_link_pages():
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    cursor = "2026-11-21T08:30:00Z"
    page1, page2 = _items(PAGE_SIZE, start + timedelta(hours=3)), _items(3, start, 500)
    link = ('<https://api.github.test/search/issues?q=x&page=2>; rel="next", '
            '<https://api.github.test/search/issues?q=x&page=2>; rel="last"')
    api = Api(search={("Acme", ("page", "1")): httpx.Response(200, json=_page(page1),
                                                              headers={"Link": link}),
                      ("Acme", ("page", "2")): _page(page2)})
    state = SourceState("gh").with_cursors({"created:Acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_profiles": 0}), state)
    since = (datetime(2026, 11, 21, 8, 30, tzinfo=UTC) - DEFAULT_OVERLAP).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert [s["page"] for s in api.searches()] == ["1", "2"]
    assert {s["q"] for s in api.searches()} == {f'"Acme" in:title,body created:>={since}'}
    assert len(result.mentions) == PAGE_SIZE + 3
    assert result.state.cursors()["created:Acme"] == page1[0]["created_at"]
    assert api.profiles() == []  # max_profiles 0


def test_updated_mode_sorts_and_moves_by_updated_at():
    items = _items(2, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    api = Api(search={("Acme",): _page(items)})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={
            "date_field": "updated", "max_profiles": 0}), SourceState("gh").with_cursors(
                {"updated:Acme": "2026-11-21T09:00:00Z"}))
    search = api.searches()[0]
    assert search["sort"] == "updated" and "updated:>=2026-11-21T08:45:00Z" in search["q"]
    assert result.state.cursors()["updated:Acme"] == items[0]["updated_at"]


def test_pages_stop_at_the_result_cap():
    start = datetime(2026, 11, 21, tzinfo=UTC)

    def endless(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=_page(_items(1, start, first_id=page)), headers={
            "Link": f'<{BASE}/search/issues?q=x&page={page + 1}>; rel="next"'})

    api = Api(search={("Acme",): endless})
    state = SourceState("gh").with_cursors({"created:Acme": "2026-11-20T00:00:00Z"})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_pages": 50,
                                                                "max_profiles": 0}), state)
    assert len(api.searches()) == RESULT_CAP // PAGE_SIZE
    assert result.state.cursors()["created:Acme"] == "2026-11-21T00:00:00Z"


def test_incomplete_results_keep_the_items_but_not_the_cursor():
    items = _items(2, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    api = Api(search={("Acme",): _page(items, incomplete=True)})
    state = SourceState("gh").with_cursors({"created:Acme": "2026-11-21T08:00:00Z"})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_profiles": 0}), state)
    assert len(result.mentions) == 2
    assert result.state.cursors() == {"created:Acme": "2026-11-21T08:00:00Z"}


def test_a_failed_page_keeps_what_was_read_and_only_finished_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    old = "2026-11-20T00:00:00Z"
    link = f'<{BASE}/search/issues?q=x&page=2>; rel="next"'
    api = Api(search={
        ("Acme",): _page(_items(2, start)),
        ("Globex", ("page", "1")): httpx.Response(200, json=_page(_items(2, start, 50)),
                                                  headers={"Link": link}),
        ("Globex", ("page", "2")): httpx.Response(502),
    })
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex", "Initech")),
                       SourceState("gh").with_cursors({"created:Acme": old,
                                                       "created:Globex": old}))
    assert len(result.mentions) == 4
    assert result.error and "HTTP 502" in result.error
    assert result.state.cursors() == {"created:Acme": "2026-11-21T09:01:00Z",
                                      "created:Globex": old}
    assert "Initech" not in " ".join(s["q"] for s in api.searches())
    assert api.profiles() == ["u"]  # what was read still gets its followers


def test_malformed_items_are_skipped_and_counted():
    good = _items(1, datetime(2026, 11, 21, tzinfo=UTC))[0]
    api = Api(search={("Acme",): _page([good, "not an issue", {"title": "no id"},
                                        dict(good, id="2"), dict(good, id=3, created_at=None)])})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_profiles": 0}),
                       SourceState("gh"))
    assert [m.external_id for m in result.mentions] == ["github.example:1"]
    assert len(result.item_errors) == 4


def test_a_body_that_is_not_json_is_a_clear_error():
    api = Api(search={("Acme",): httpx.Response(200, text="<html>unicorn</html>")})
    with api.client() as client, pytest.raises(FatalError, match="not valid JSON"):
        fetch(client, _spec(queries=("Acme",)), SourceState("gh"))


def test_429_with_retry_after_defers_without_sleeping(tmp_path, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(http_module.time, "sleep", slept.append)
    monkeypatch.delenv(TOKEN, raising=False)
    api = Api(search={("Acme",): httpx.Response(429, headers={"Retry-After": "120"})})
    settings = make_settings(tmp_path, [{"name": "gh", "kind": "github", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("gh"), settings)
    assert outcome.status == "deferred" and "retry after 120s" in outcome.message
    assert slept == [] and len(api.requests) == 1


def test_a_403_secondary_limit_without_retry_after_waits_a_minute():
    api = Api(search={("Acme",): httpx.Response(403, json=_load("rate-limited.json"))})
    before = datetime.now(UTC)
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("gh"))
    assert before + timedelta(seconds=59) < caught.value.retry_at < before + timedelta(minutes=2)
    assert "rate limit" in str(caught.value) and len(api.requests) == 1


def test_a_403_primary_limit_is_a_rate_limit_and_a_refusal_is_an_error():
    before = datetime.now(UTC)
    limited = Api(search={("Acme",): httpx.Response(403, json=_load("rate-limited-primary.json"),
                                                    headers=_limit(0, before))})
    with limited.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("gh"))
    assert "API rate limit exceeded" in str(caught.value)
    assert caught.value.retry_at >= before + timedelta(seconds=59)
    # x-ratelimit-remaining 0: the wait lasts until x-ratelimit-reset, as GitHub asks.
    later = before + timedelta(minutes=40)
    limited = Api(search={("Acme",): httpx.Response(403, json=_load("rate-limited-primary.json"),
                                                    headers=_limit(0, later))})
    with limited.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("gh"))
    assert caught.value.retry_at == later.replace(microsecond=0)
    assert len(limited.requests) == 1

    refused = Api(search={("Acme",): httpx.Response(403, json=_load("forbidden.json"))})
    with refused.client() as client, pytest.raises(FatalError) as caught:
        fetch(client, _spec(secrets={TOKEN: SECRET}), SourceState("gh"))
    message = str(caught.value)
    assert not isinstance(caught.value, RateLimitedError) and caught.value.status == 403
    assert "HTTP 403" in message and "Resource not accessible" in message
    assert SECRET not in message and len(refused.requests) == 1


def test_a_refusal_after_some_terms_fails_the_source_and_keeps_them(tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN, raising=False)
    api = Api(search={("Acme",): _load("search-acme.json"),
                      ("Acme Cloud",): httpx.Response(403, json=_load("forbidden.json"))})
    settings = make_settings(tmp_path, [{"name": "gh", "kind": "github", "url": BASE,
                                         "params": {"max_profiles": 0}}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("gh"), settings)
    assert outcome.status == "error" and "Resource not accessible" in outcome.message
    assert outcome.result.deferred_until is None and len(outcome.result.mentions) == 5
    assert list(outcome.result.state.cursors()) == ["created:Acme"]


def test_a_spent_search_budget_stops_the_terms_until_its_reset():
    reset = (datetime.now(UTC) + timedelta(seconds=40)).replace(microsecond=0)
    api = Api(search={("Acme",): httpx.Response(
        200, json=_page(_items(2, datetime(2026, 11, 21, tzinfo=UTC))),
        headers=_limit(0, reset))})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("gh"))
        assert len(api.requests) == 1  # the other terms and profiles wait
        assert len(result.mentions) == 2 and result.deferred_until == reset
        assert result.state.rate_limit_remaining == 0
        assert result.state.rate_limit_reset == reset
        assert list(result.state.cursors()) == ["created:Acme"]
        with pytest.raises(RateLimitedError, match="spent until"):
            fetch(client, _spec(), result.state)
    assert len(api.requests) == 1


def test_core_limit_headers_do_not_count_as_the_search_budget():
    reset = datetime.now(UTC) + timedelta(minutes=30)
    api = Api(search={("Acme",): httpx.Response(
        200, json=_page(_items(1, datetime(2026, 11, 21, tzinfo=UTC), login="a")
                        + _items(1, datetime(2026, 11, 20, tzinfo=UTC), 9, login="b")),
        headers=_limit(25, reset))},
        users={"a": httpx.Response(200, json=_load("user-eli-ok.json"),
                                   headers=_limit(0, reset, "core"))})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("gh"))
    assert api.profiles() == ["a"]  # the core budget is spent: b is not looked up
    assert result.deferred_until is None and result.state.rate_limit_remaining == 25


def test_a_missing_profile_is_skipped():
    api = Api(search={("Acme",): _page(_items(1, datetime(2026, 11, 21, tzinfo=UTC),
                                              login="gone"))})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("gh"))
    assert result.mentions[0].author.followers is None and result.item_errors == []


def test_errors_are_clear_and_never_show_the_token(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    spec = _spec(secrets={TOKEN: SECRET})
    cases = [
        (httpx.Response(401, json={"message": "Bad credentials"}), FatalError,
         "check credentials"),
        (httpx.Response(422, json=_load("validation-failed.json")), FatalError,
         "params.qualifiers"),
        (httpx.Response(500), RetriableError, "HTTP 500"),
    ]
    for answer, kind, text in cases:
        with Api(search={("Acme",): answer}).client() as client, pytest.raises(kind) as caught:
            fetch(client, spec, SourceState("gh"))
        assert text in str(caught.value) and SECRET not in str(caught.value)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    with Api(search={("Acme",): slow}).client() as client, pytest.raises(
            RetriableError, match="timed out"):
        fetch(client, spec, SourceState("gh"))


def test_settings_are_checked():
    with Api().client() as client:
        for params, text in (({"max_pages": 0}, "max_pages"), ({"type": "wiki"}, "params.type"),
                             ({"date_field": "closed"}, "date_field"),
                             ({"qualifiers": ["org:acme"]}, "qualifiers")):
            with pytest.raises(FatalError, match=text):
                fetch(client, _spec(params=params), SourceState("gh"))
        with pytest.raises(FatalError, match="nothing to search"):
            fetch(client, _spec(queries=()), SourceState("gh"))
    assert validate(_spec(params={"type": "wiki", "max_profiles": -1})) == [
        "params.max_profiles must be an integer ≥ 0", "params.type must be issue, pr or both"]


def test_refresh_rereads_each_issue_from_its_repository(tmp_path, monkeypatch):
    core = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4990",
            "x-ratelimit-reset": "1795255200", "x-ratelimit-resource": "core"}
    run = fetch_then_refresh(tmp_path, monkeypatch, "github", {
        "/repos/octo-example/acme-sdk-python/issues/412": fixture_route(
            "github", "issue-412.json", headers=core),
        "/repos/acme-example/status/issues/88": fixture_route(
            "github", "issue-88.json", headers=core),
    })
    # One call per issue or pull request, built on the configured base from the stored
    # repository_url and number; unrouted ones answer 404 (deleted or hidden): left out.
    assert run.paths() == [
        "/repos/octo-example/acme-sdk-python/issues/412", "/repos/acme-example/status/issues/88",
        "/repos/eli-ok/cloud-recipes/issues/17", "/repos/gwen-li/reading-list/issues/5",
        "/repos/octo-example/acme-sdk-python/issues/409", "/repos/fara-n/shop/issues/230"]
    fresh, before = run.by_id(), run.by_id("fetched")
    assert set(fresh) == {"github.example:3690012345", "github.example:3690011111"}
    dana = fresh["github.example:3690012345"]
    assert dana.id == before[dana.external_id].id
    assert (dana.engagement.likes, dana.engagement.replies) == (48, 27)
    # Followers and the profile's name came from /users at fetch time: they stay.
    stored = before[dana.external_id].author
    assert (dana.author.followers, dana.author.name) == (stored.followers, stored.name)
    assert fresh["github.example:3690011111"].is_own


def test_refresh_stops_at_a_spent_core_limit_and_sends_the_token():
    reset = datetime.now(UTC) + timedelta(minutes=30)
    items = [{**_item(3690012345), "id": 10 + i, "number": 10 + i} for i in range(3)]
    stored = [to_mention(i) for i in items]
    seen: list[httpx.Request] = []

    def issue(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        number = int(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(200, json={**items[number - 10], "comments": 50},
                              headers=_limit(0, reset, "core"))

    with httpx.Client(transport=httpx.MockTransport(issue)) as client:
        fresh = refresh(client, _spec(secrets={TOKEN: SECRET}), stored)
    assert len(seen) == 1 and seen[0].headers["authorization"] == f"Bearer {SECRET}"
    assert seen[0].url.path == "/repos/octo-example/acme-sdk-python/issues/10"
    assert [m.engagement.replies for m in fresh] == [50]  # the rest waits for the reset

    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json=_load("rate-limited-primary.json"))

    with httpx.Client(transport=httpx.MockTransport(limited)) as client, \
            pytest.raises(RateLimitedError):
        refresh(client, _spec(), stored)
