from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from refresh_support import fetch_then_refresh

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, RetriableError
from connectors.stackexchange import (
    KEY,
    PAGE_SIZE,
    QUOTA_WINDOW,
    fetch,
    refresh,
    site_of,
    sites,
    to_mention,
    validate,
)
from earful.cycle import fetch_source
from earful.fixtureserver import FixtureServer, Route

BASE = "https://api.stackexchange.test/2.3"
SEARCH = "/2.3/search/advanced"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")
SECRET_KEY = "s3cr3t-key(("


def _load(name: str):
    return json.loads((FIXTURES / "stackexchange" / name).read_text())


def _question(question_id: int):
    for name in ("search-acme.json", "search-acme-cloud.json", "search-globex.json"):
        for item in _load(name)["items"]:
            if item["question_id"] == question_id:
                return item
    raise KeyError(question_id)


def _spec(**changes) -> SourceSpec:
    values = {"name": "so", "kind": "stackexchange", "url": BASE, "queries": QUERIES}
    values.update(changes)
    return SourceSpec(**values)


def _wrap(items, remaining=250, has_more=False, **extra) -> dict:
    return {"items": items, "has_more": has_more, "quota_max": 300,
            "quota_remaining": remaining, **extra}


def _questions(count: int, start: datetime, first_id: int = 1) -> list[dict]:
    """`count` minimal questions, newest first, one minute apart from `start`."""
    out = [{"question_id": first_id + i, "creation_date": int((start + timedelta(minutes=i))
                                                              .timestamp()),
            "title": f"Acme question {i}", "body": f"<p>Acme body {i}</p>",
            "link": f"https://stackoverflow.example/questions/{first_id + i}/q",
            "score": 0, "view_count": 1, "answer_count": 0,
            "owner": {"user_id": 7, "display_name": "u", "reputation": 1,
                      "link": "https://stackoverflow.example/users/7/u"}}
           for i in range(count)]
    return list(reversed(out))


def _gzip_json(data) -> httpx.Response:
    return httpx.Response(200, content=gzip.compress(json.dumps(data).encode()),
                          headers={"Content-Encoding": "gzip",
                                   "Content-Type": "application/json; charset=utf-8"})


class Api:
    """A fake API: answers by query parameters (the largest matching set wins)."""

    def __init__(self, routes):
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = dict(request.url.params)
        best = None
        for wanted, answer in self.routes.items():
            if all(params.get(k) == v for k, v in wanted) and (
                    best is None or len(wanted) > best[0]):
                best = (len(wanted), answer)
        if best is None:
            return _gzip_json(_wrap([]))
        answer = best[1]
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer if isinstance(answer, httpx.Response) else _gzip_json(answer)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def params(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests]


def _q(**params: str):
    return tuple(sorted(params.items()))


def test_question_becomes_a_mention():
    mention = to_mention(_question(79100001), site="stackoverflow")
    assert mention.source == "stackexchange"
    assert mention.external_id == "stackoverflow.example:79100001"
    assert mention.url == ("https://stackoverflow.example/questions/79100001/"
                           "acme-sdk-throws-401-unauthorized-after-upgrading-to-4-2")
    assert mention.title == 'Acme SDK throws "401 Unauthorized" after upgrading to 4.2'
    assert mention.text.startswith("Since upgrading the Acme SDK to 4.2 every call fails with "
                                   "401 Unauthorized.")
    assert "Support hasn't answered" in mention.text and "<" not in mention.text
    assert "client.list_buckets() # raises AuthError" in mention.text  # code kept as text
    assert mention.published_at == datetime(2026, 11, 21, 9, 12, 40, tzinfo=UTC)
    assert mention.author.id == "20114411" and mention.author.name == "Dana Rémy"
    assert mention.author.handle is None  # display names are not unique
    assert mention.author.url == "https://stackoverflow.example/users/20114411/dana-remy"
    assert mention.author.followers == 1873  # reputation
    assert (mention.engagement.score, mention.engagement.views,
            mention.engagement.replies) == (3, 57, 1)
    assert mention.lang is None and not mention.is_own and not mention.is_repost
    assert mention.raw["question_id"] == 79100001


def test_a_deleted_owner_and_encoded_entities():
    mention = to_mention(_question(79100005), site="stackoverflow")
    assert mention.author.id is None and mention.author.url is None
    assert mention.author.name == "Old Display Name" and mention.author.followers is None
    assert "HTTP 500 & an empty body" in mention.text


def test_own_account_is_known_by_its_profile_not_its_display_name():
    question = dict(_question(79100002), owner={
        "user_id": 1001, "display_name": "acme", "reputation": 50,
        "link": "https://stackoverflow.example/users/1001/acme-support"})
    assert to_mention(question, site="stackoverflow",
                      own_handles=frozenset({"stackoverflow.example/users/1001"})).is_own
    assert to_mention(question, site="stackoverflow", own_handles=frozenset(
        {"https://stackoverflow.example/users/1001/acme-support"})).is_own
    # Anyone can call themselves "acme": the name alone does not make it the brand's post.
    assert not to_mention(question, site="stackoverflow", own_handles=frozenset({"acme"})).is_own


def test_localised_sites_give_the_language_and_the_site_falls_back_to_the_param():
    question = dict(_question(79100002), link="https://ru.stackoverflow.com/questions/1/x")
    assert to_mention(question, site="ru.stackoverflow").lang == "ru"
    no_link = {k: v for k, v in _question(79100002).items() if k != "link"}
    mention = to_mention(no_link, site="serverfault")
    assert mention.external_id == "serverfault:79100002" and mention.url is None


def test_sites_come_from_params():
    assert sites({}) == ["stackoverflow"]
    assert sites({"site": "serverfault"}) == ["serverfault"]
    assert sites({"sites": ["superuser", "superuser", "askubuntu"]}) == ["superuser", "askubuntu"]


def test_gzip_answers_from_a_real_server_with_a_key():
    def route(name: str) -> Route:
        body = (FIXTURES / "stackexchange" / name).read_bytes()
        return Route(gzip.compress(body), content_type="application/json; charset=utf-8",
                     headers={"Content-Encoding": "gzip"}, conditional=False)

    server = FixtureServer({
        "/2.3/search/advanced?q=Acme": route("search-acme.json"),
        "/2.3/search/advanced?q=Acme+Cloud": route("search-acme-cloud.json"),
        # A proxy that drops Content-Encoding: still gzip ("if it is missing, assume GZIP").
        "/2.3/search/advanced?q=Globex": Route(
            gzip.compress((FIXTURES / "stackexchange" / "search-globex.json").read_bytes()),
            content_type="application/json", conditional=False),
        "/2.3/search/advanced": Route(json.dumps(_wrap([], 297)).encode(),
                                      content_type="application/json", conditional=False),
    }).start()
    try:
        with httpx.Client() as client:
            result = fetch(client, _spec(url=server.url("/2.3"),
                                         secrets={KEY: SECRET_KEY}), SourceState("so"))
        sent = [dict(httpx.URL(path).params) for path, _ in server.requests]
    finally:
        server.stop()
    assert [p["q"] for p in sent] == list(QUERIES)
    for params in sent:
        assert params["site"] == "stackoverflow" and params["sort"] == "creation"
        assert params["order"] == "desc" and params["pagesize"] == str(PAGE_SIZE)
        assert params["filter"] == "withbody" and params["page"] == "1"
        assert params["key"] == SECRET_KEY and "fromdate" not in params
    assert len(result.mentions) == 5  # the Acme Cloud question, found twice, is kept once
    assert result.error is None and result.item_errors == []
    assert result.state.cursors() == {"stackoverflow:Acme": 1795252360,
                                      "stackoverflow:Acme Cloud": 1795251775,
                                      "stackoverflow:Globex": 1795248920}
    assert result.state.rate_limit_remaining == 296
    assert all(SECRET_KEY not in json.dumps(m.raw) for m in result.mentions)


def test_every_site_is_searched_with_its_own_cursor_and_the_base_url_is_honoured():
    api = Api({_q(site="serverfault"): _wrap(_questions(1, datetime(2026, 11, 21, tzinfo=UTC)))})
    with api.client() as client:
        result = fetch(client, _spec(url="https://proxy.test/se/2.3/", queries=("Acme",),
                                     params={"sites": ["stackoverflow", "serverfault"]}),
                       SourceState("so"))
    assert [r.url.path for r in api.requests] == ["/se/2.3/search/advanced"] * 2
    assert [p["site"] for p in api.params()] == ["stackoverflow", "serverfault"]
    assert "key" not in api.params()[0]  # no key set: none sent
    assert list(result.state.cursors()) == ["serverfault:Acme"]


def test_next_poll_reads_from_the_cursor_minus_the_overlap_and_follows_pages():
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    cursor = int(start.timestamp())
    page1 = _questions(PAGE_SIZE, start + timedelta(hours=2))
    page2 = _questions(3, start + timedelta(hours=1), first_id=500)
    api = Api({_q(q="Acme", page="1"): _wrap(page1, has_more=True),
               _q(q="Acme", page="2"): _wrap(page2, has_more=False)})
    state = SourceState("so").with_cursors({"stackoverflow:Acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), state)
    assert [p["page"] for p in api.params()] == ["1", "2"]
    assert {p["fromdate"] for p in api.params()} == {str(cursor - 30 * 60)}
    assert len(result.mentions) == PAGE_SIZE + 3
    assert result.state.cursors()["stackoverflow:Acme"] == page1[0]["creation_date"]


def test_pages_are_capped_and_the_cursor_never_moves_back():
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    cursor = int((start + timedelta(days=1)).timestamp())
    api = Api({_q(q="Acme"): _wrap(_questions(2, start), has_more=True)})
    state = SourceState("so").with_cursors({"stackoverflow:Acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_pages": 2,
                                                                 "overlap_minutes": 0}), state)
    assert [p["page"] for p in api.params()] == ["1", "2"]
    assert api.params()[0]["fromdate"] == str(cursor)
    assert result.state.cursors()["stackoverflow:Acme"] == cursor


def test_a_failed_page_keeps_what_was_read_and_only_finished_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    cursors = {"stackoverflow:Acme": 1, "stackoverflow:Globex": 1}
    api = Api({
        _q(q="Acme"): _wrap(_questions(2, start)),
        _q(q="Globex", page="1"): _wrap(_questions(2, start, first_id=50), has_more=True),
        _q(q="Globex", page="2"): httpx.Response(502, text="Bad Gateway"),
    })
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme", "Globex", "Initech")),
                       SourceState("so").with_cursors(cursors))
    assert len(result.mentions) == 4
    assert result.error and "HTTP 502" in result.error
    assert result.state.cursors() == {"stackoverflow:Acme": int(start.timestamp()) + 60,
                                      "stackoverflow:Globex": 1}
    assert "Initech" not in [p["q"] for p in api.params()]  # stopped at the failure


def test_malformed_items_are_skipped_and_counted():
    good = _questions(1, datetime(2026, 11, 21, tzinfo=UTC))[0]
    api = Api({(): _wrap([good, "not a question", {"title": "no id", "creation_date": 1},
                          dict(good, question_id=2, creation_date="yesterday"),
                          dict(good, question_id="3")])})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("so"))
    assert [m.external_id for m in result.mentions] == ["stackoverflow.example:1"]
    assert len(result.item_errors) == 4
    assert any("is not a question" in e for e in result.item_errors)


def test_a_body_that_is_not_json_is_a_clear_error():
    api = Api({(): httpx.Response(200, text="<html>maintenance</html>")})
    with api.client() as client, pytest.raises(FatalError, match="not valid JSON"):
        fetch(client, _spec(queries=("Acme",), secrets={KEY: SECRET_KEY}), SourceState("so"))


def test_backoff_stops_the_source_and_keeps_the_page():
    backoff = _load("backoff.json")
    state = SourceState("so").with_cursors({"stackoverflow:Acme": 1795240000})
    api = Api({_q(q="Acme"): backoff})
    before = datetime.now(UTC)
    with api.client() as client:
        result = fetch(client, _spec(), state)
    assert len(api.requests) == 1  # neither page 2 nor the other terms are asked for
    assert [m.external_id for m in result.mentions] == ["stackoverflow.example:79100002"]
    assert result.error is None
    assert before + timedelta(seconds=9) < result.deferred_until < datetime.now(
        UTC) + timedelta(seconds=11)
    assert result.state.cursors() == {"stackoverflow:Acme": 1795240000}  # not finished


def test_a_spent_quota_defers_until_the_window_ends_and_blocks_the_next_poll():
    api = Api({_q(q="Acme"): _load("quota-spent.json")})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("so"))
        assert len(api.requests) == 1
        assert len(result.mentions) == 1
        assert result.deferred_until > datetime.now(UTC) + QUOTA_WINDOW - timedelta(minutes=1)
        assert result.state.rate_limit_remaining == 0
        assert result.state.rate_limit_reset == result.deferred_until
        with pytest.raises(RateLimitedError, match="quota is spent"):
            fetch(client, _spec(), result.state)
    assert len(api.requests) == 1  # the next poll did not call


def test_the_quota_window_starts_with_its_first_request():
    api = Api({(): _wrap([], remaining=299)})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("so"))
    reset = result.state.rate_limit_reset
    assert reset is not None and reset > datetime.now(UTC) + QUOTA_WINDOW - timedelta(minutes=1)
    assert result.deferred_until is None and result.state.rate_limit_remaining == 299


def test_a_throttle_violation_in_the_body_is_a_rate_limit():
    api = Api({(): _load("error-throttle.json")})
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("so"))
    assert caught.value.retry_after_s == 81234
    assert "throttle_violation" in str(caught.value)


def test_http_400_is_a_clear_error_without_the_key():
    api = Api({(): httpx.Response(400, json=_load("error-bad-parameter.json"))})
    with api.client() as client, pytest.raises(FatalError) as caught:
        fetch(client, _spec(secrets={KEY: SECRET_KEY}), SourceState("so"))
    message = str(caught.value)
    assert "error 400 bad_parameter: site" in message  # the body's error_name and message
    assert "HTTP 400" in message and "params.sites" in message
    assert SECRET_KEY not in message and "key=REDACTED" in message
    assert not isinstance(caught.value, RateLimitedError)


def test_the_apis_own_failures_as_http_400_are_retriable_not_fatal():
    unavailable = httpx.Response(400, content=gzip.compress(
        (FIXTURES / "stackexchange" / "error-temporarily-unavailable.json").read_bytes()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    with Api({(): unavailable}).client() as client, \
            pytest.raises(RetriableError) as caught:
        fetch(client, _spec(), SourceState("so"))
    assert not isinstance(caught.value, (FatalError, RateLimitedError))
    assert "error 503 temporarily_unavailable" in str(caught.value)

    # In a JSONP-style 200 body too, and internal_error (500) alike.
    failed = {"error_id": 500, "error_message": "an internal error", "error_name":
              "internal_error"}
    with Api({(): failed}).client() as client, pytest.raises(RetriableError):
        fetch(client, _spec(), SourceState("so"))

    # After a term was read: its mentions are kept and the poll records the error.
    api = Api({_q(q="Acme"): _load("search-acme.json"), _q(q="Acme Cloud"): unavailable})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("so"))
    assert len(result.mentions) == 3 and result.deferred_until is None
    assert "temporarily_unavailable" in (result.error or "")
    assert list(result.state.cursors()) == ["stackoverflow:Acme"]


def test_http_400_without_a_readable_body_still_says_what_to_check():
    api = Api({(): httpx.Response(400, text="<html>Bad Request</html>")})
    with api.client() as client, pytest.raises(FatalError, match=r"params\.sites") as caught:
        fetch(client, _spec(), SourceState("so"))
    assert "HTTP 400" in str(caught.value)


def test_a_throttle_violation_as_http_400_defers_for_the_seconds_it_names():
    throttled = httpx.Response(400, content=gzip.compress(
        (FIXTURES / "stackexchange" / "error-throttle.json").read_bytes()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    before = datetime.now(UTC)
    with Api({(): throttled}).client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(secrets={KEY: SECRET_KEY}), SourceState("so"))
    assert caught.value.retry_after_s == 81234 and caught.value.status == 400
    assert caught.value.retry_at >= before + timedelta(seconds=81234)
    assert "throttle_violation" in str(caught.value) and SECRET_KEY not in str(caught.value)

    api = Api({_q(q="Acme"): _load("search-acme.json"), _q(q="Acme Cloud"): throttled})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("so"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until >= before + timedelta(seconds=81234)
    assert list(result.state.cursors()) == ["stackoverflow:Acme"]


def test_429_with_retry_after_defers_without_sleeping(tmp_path, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(http_module.time, "sleep", slept.append)
    api = Api({(): httpx.Response(429, headers={"Retry-After": "600"})})
    settings = make_settings(tmp_path, [{"name": "so", "kind": "stackexchange", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("so"), settings)
    assert outcome.status == "deferred" and "retry after 600s" in outcome.message
    assert slept == [] and len(api.requests) == 1


def test_429_after_some_terms_keeps_them_and_defers():
    api = Api({_q(q="Acme"): _load("search-acme.json"),
               _q(q="Acme Cloud"): httpx.Response(429, headers={"Retry-After": "900"})})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("so"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until > datetime.now(UTC) + timedelta(minutes=14)
    assert list(result.state.cursors()) == ["stackoverflow:Acme"]


def test_server_errors_and_timeouts_are_clear_and_keep_the_key_out(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    spec = _spec(secrets={KEY: SECRET_KEY})
    with Api({(): httpx.Response(500)}).client() as client, pytest.raises(
            RetriableError) as caught:
        fetch(client, spec, SourceState("so"))
    assert "HTTP 500" in str(caught.value) and SECRET_KEY not in str(caught.value)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with Api({(): slow}).client() as client, pytest.raises(RetriableError, match="timed out"):
        fetch(client, spec, SourceState("so"))


def test_no_key_is_no_problem_and_settings_are_checked(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY, raising=False)
    api = Api({(): _wrap([], remaining=120)})
    settings = make_settings(tmp_path, [{"name": "so", "kind": "stackexchange", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("so"), settings)
        assert outcome.status == "ok"  # the key only raises the quota
        with pytest.raises(FatalError, match="max_pages"):
            fetch(client, _spec(params={"max_pages": 0}), SourceState("so"))
        with pytest.raises(FatalError, match="nothing to search"):
            fetch(client, _spec(queries=()), SourceState("so"))
    assert validate(_spec(params={"sites": "stackoverflow", "overlap_minutes": -1})) == [
        "params.overlap_minutes must be an integer ≥ 0",
        "params.sites must be a list of site names (e.g. stackoverflow)"]


def test_refresh_rereads_questions_by_id_with_the_search_filter(tmp_path, monkeypatch):
    ids = "79100001;79100002;79100003;79100004;79100005"
    body = (FIXTURES / "stackexchange" / "questions.json").read_bytes()
    run = fetch_then_refresh(tmp_path, monkeypatch, "stackexchange", {
        f"/questions/{ids}": Route(gzip.compress(body), headers={"Content-Encoding": "gzip"},
                                   content_type="application/json; charset=utf-8",
                                   conditional=False)})
    assert run.paths() == [f"/questions/{ids}"]  # one call, ids semicolon-separated
    (asked,) = run.params(f"/questions/{ids}")
    assert (asked["site"], asked["filter"], asked["pagesize"]) == (
        ["stackoverflow"], ["withbody"], ["100"])
    assert asked["key"] == ["fixture-key-not-a-secret(("]
    fresh, before = run.by_id(), run.by_id("fetched")
    # 79100003 was deleted: not in `items`, left out.
    assert set(fresh) == set(before) - {"stackoverflow.example:79100003"}
    sdk = fresh["stackoverflow.example:79100001"]
    assert sdk.id == before[sdk.external_id].id
    assert (sdk.engagement.score, sdk.engagement.views, sdk.engagement.replies,
            sdk.author.followers) == (21, 1840, 4, 1900)
    assert sdk.text == before[sdk.external_id].text


def test_refresh_groups_by_site_100_ids_a_call_and_honours_a_backoff():
    stored = [to_mention(q, site="stackoverflow") for q in
              _questions(130, datetime(2026, 11, 21, 8, 0, tzinfo=UTC))]
    stored.append(to_mention({**_question(79100001), "question_id": 5,
                              "link": "https://unix.stackexchange.example/questions/5/q"},
                             site="unix"))
    answered: list[tuple[str, str]] = []

    def lookup(request: httpx.Request) -> httpx.Response:
        ids = request.url.path.rsplit("/", 1)[1].split(";")
        answered.append((request.url.params["site"], str(len(ids))))
        return _gzip_json(_wrap([]))

    with Api({(): lookup}).client() as client:
        assert refresh(client, _spec(params={"sites": ["stackoverflow", "unix"]}),
                       stored) == []
    # stackoverflow.example is the configured stackoverflow; unix.stackexchange.example is
    # not "unix" + one label, so its host is sent as the site (the API takes domains).
    assert answered == [("stackoverflow", "100"), ("stackoverflow", "30"),
                        ("unix.stackexchange.example", "1")]
    assert site_of("ru.stackoverflow.com", ["ru.stackoverflow"]) == "ru.stackoverflow"
    assert site_of("stackoverflow.com", ["serverfault"]) == "stackoverflow.com"



def test_refresh_stops_at_a_backoff_keeping_what_it_reread():
    questions = _questions(130, datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    stored = [to_mention(q, site="stackoverflow") for q in questions]

    def first_of_batch(request: httpx.Request) -> httpx.Response:
        first = int(request.url.path.rsplit("/", 1)[1].split(";")[0])
        return _gzip_json(_wrap([q for q in questions if q["question_id"] == first],
                                backoff=30))

    api = Api({(): first_of_batch})
    with api.client() as client:
        kept = refresh(client, _spec(), stored)
    assert len(api.requests) == 1  # the backoff is honoured: no second batch
    assert [m.external_id for m in kept] == [stored[0].external_id]

    with Api({(): _gzip_json(_wrap([], backoff=30))}).client() as client, \
            pytest.raises(RateLimitedError) as caught:
        refresh(client, _spec(), stored)
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(seconds=20)
