from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from connector_support import RoutedApi
from connector_support import route as _route
from refresh_support import fetch_then_refresh, fixture_route

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError
from connectors.fields import parse_link_header
from connectors.mastodon import (
    PAGE_LIMIT,
    TOKEN,
    fetch,
    hashtag_for,
    hashtags,
    id_at,
    overlap_id,
    refresh,
    to_mention,
)
from earful.cycle import fetch_source

BASE = "https://mastodon.test"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")


def _load(name: str):
    return json.loads((FIXTURES / "mastodon" / name).read_text())


def _by_id(status_id: str):
    for name in ("tag-acme.json", "tag-acmecloud.json"):
        for status in _load(name):
            if status["id"] == status_id:
                return status
    for status in _load("search-acme.json")["statuses"]:
        if status["id"] == status_id:
            return status
    raise KeyError(status_id)


def _spec(**changes) -> SourceSpec:
    values = {"name": "fedi", "kind": "mastodon", "url": BASE, "queries": QUERIES,
              "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


class Api(RoutedApi, not_found={"error": "Record not found"}):
    """A fake instance (see RoutedApi)."""

    def paths(self) -> list[str]:
        return [f"{r.url.path}?{r.url.query.decode()}" for r in self.requests]


def _statuses(count: int, start: datetime, tag: str = "acme") -> list[dict]:
    """`count` minimal statuses, newest first, one second apart from `start`."""
    out = []
    for i in range(count):
        created = start + timedelta(seconds=i)
        status_id = str(id_at(created) | 7)
        out.append({
            "id": status_id, "created_at": created.isoformat().replace("+00:00", "Z"),
            "uri": f"{BASE}/users/u{i}/statuses/{status_id}", "url": f"{BASE}/@u{i}/{status_id}",
            "content": f"<p>Acme status {i} #{tag}</p>", "spoiler_text": "", "language": "en",
            "visibility": "public", "reblog": None, "in_reply_to_id": None,
            "replies_count": 0, "reblogs_count": 0, "favourites_count": i,
            "account": {"id": str(i), "username": f"u{i}", "acct": f"u{i}",
                        "display_name": "", "url": f"{BASE}/@u{i}", "followers_count": 10,
                        "bot": False},
        })
    return list(reversed(out))


def test_hashtags_come_from_the_terms_or_params():
    assert hashtag_for("Acme Cloud") == "acmecloud"
    assert hashtag_for("#acme") == "acme"
    assert hashtag_for("Acme-Cloud 2.0!") == "acmecloud20"
    assert hashtag_for("2026") is None  # a hashtag needs a letter
    assert hashtags(_spec()) == ["acme", "acmecloud", "globex"]  # deduplicated, in order
    assert hashtags(_spec(params={"hashtags": ["AcmeSupport", "#acme"]})) == [
        "acmesupport", "acme"]


def test_snowflake_ids_and_overlap():
    when = datetime(2026, 11, 21, 9, 31, 9, 777000, tzinfo=UTC)
    cursor = str(id_at(when) | 4242)
    assert cursor == "117653731395309714"
    assert overlap_id(cursor, timedelta(minutes=15)) == str(id_at(when - timedelta(minutes=15)))
    assert overlap_id(cursor, timedelta(0)) == str(id_at(when))
    assert overlap_id("01HZX3Q7ZK8M", timedelta(minutes=15)) == "01HZX3Q7ZK8M"  # not a number


def test_link_header_gives_the_paging_ids():
    links = parse_link_header(
        '<https://m.example/api/v1/timelines/tag/acme?max_id=7163058>; rel="next", '
        '<https://m.example/api/v1/timelines/tag/acme?min_id=7275607>; rel="prev"')
    assert links == {"next": {"max_id": "7163058"}, "prev": {"min_id": "7275607"}}
    assert parse_link_header(None) == {}


def test_status_becomes_a_mention():
    mention = to_mention(_by_id("117653731395309714"), instance=BASE)
    assert mention.source == "mastodon"
    assert mention.external_id == "https://mastodon.example/users/dana/statuses/117653731395309714"
    assert mention.url == "https://mastodon.example/@dana/117653731395309714"
    assert mention.text == ("Acme support has ignored my ticket for three days. Worst service "
                            "I have had all year. #acme")
    assert mention.published_at == datetime(2026, 11, 21, 9, 31, 9, 777000, tzinfo=UTC)
    assert mention.author.handle == "@dana" and mention.author.name == "Dana R."
    assert mention.author.id == "109871" and mention.author.followers == 1200
    assert (mention.engagement.likes, mention.engagement.reposts,
            mention.engagement.replies) == (9, 3, 2)
    assert mention.lang == "en" and not mention.is_repost and not mention.is_own
    assert mention.title is None


def test_content_warning_is_the_title_and_remote_handles_keep_their_domain():
    mention = to_mention(_by_id("117653629406482578"), instance=BASE)
    assert mention.title == "acme rant"
    assert mention.text == "Third outage this week.\nI pay for uptime, not apologies. #acme"
    assert mention.author.handle == "@gwen@infosec.example"


def test_a_boost_is_a_repost_by_the_booster_with_the_boosted_text():
    boost = _by_id("117653690189090962")
    mention = to_mention(boost, instance=BASE)
    assert mention.is_repost
    assert mention.external_id.endswith("/activity")  # the boost's own uri
    assert mention.author.handle == "@eli@fosstodon.example" and mention.author.followers == 860
    assert mention.text.startswith("The new Acme Cloud dashboard is lovely <3")
    assert mention.url == "https://social.example/@frank/113200000000000001"
    assert mention.engagement.likes == 0  # the boost's counts, not the original's
    original = to_mention(boost["reblog"], instance=BASE)
    assert original.external_id != mention.external_id and not original.is_repost
    assert original.engagement.likes == 40


def test_a_reply_to_a_local_status_names_its_parent_by_uri():
    # The desk matches a reply to its parent's stored mention, keyed by the federation uri.
    reply = dict(_by_id("117653422087737490"), in_reply_to_account_id="109871",
                 mentions=[{"id": "109871", "username": "dana", "acct": "dana",
                            "url": "https://mastodon.example/@dana"}],
                 in_reply_to_id="117653731395309714")
    parent = to_mention(_by_id("117653731395309714"), instance=BASE)
    assert to_mention(reply, instance=BASE).parent_id == parent.external_id
    # A thread: the author replying to their own local status.
    own = dict(reply, in_reply_to_account_id="100001", mentions=[])
    assert to_mention(own, instance=BASE).parent_id == (
        "https://mastodon.example/users/acme/statuses/117653731395309714")
    # A remote parent's uri is not known here: its API address on this instance.
    remote = dict(reply, in_reply_to_account_id="110502",
                  mentions=[{"id": "110502", "username": "frank", "acct": "frank@social.example"}])
    assert to_mention(remote, instance=BASE).parent_id == (
        f"{BASE}/api/v1/statuses/117653731395309714")


def test_own_reply_is_flagged_and_keeps_its_parent():
    mention = to_mention(_by_id("117653422087737490"), instance=BASE,
                         own_handles=frozenset({"acme"}))
    assert mention.is_own
    assert mention.parent_id == f"{BASE}/api/v1/statuses/117651025428484242"
    # Links keep their full address (the "invisible" spans are part of the text).
    assert mention.text.endswith("updates at https://status.acme.example")
    # A remote account of the same name is not the brand.
    remote = dict(_by_id("117653422087737490"),
                  account={"id": "9", "acct": "acme@elsewhere.example",
                           "url": "https://elsewhere.example/@acme"})
    assert not to_mention(remote, instance=BASE, own_handles=frozenset({"acme"})).is_own
    assert to_mention(remote, instance=BASE,
                      own_handles=frozenset({"acme@elsewhere.example"})).is_own


def test_without_a_token_only_hashtags_are_read_and_unknown_tags_are_skipped():
    api = Api({
        _route("/api/v1/timelines/tag/acme"): httpx.Response(200, json=_load("tag-acme.json")),
        _route("/api/v1/timelines/tag/acmecloud"): httpx.Response(
            200, json=_load("tag-acmecloud.json")),
    })
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("fedi"))
    assert [p.split("?")[0] for p in api.paths()] == [
        "/api/v1/timelines/tag/acme", "/api/v1/timelines/tag/acmecloud",
        "/api/v1/timelines/tag/globex"]
    assert all("authorization" not in r.headers for r in api.requests)
    assert all(r.url.params["limit"] == str(PAGE_LIMIT) for r in api.requests)
    assert len(result.mentions) == 5  # dana's status is in both timelines: kept once
    assert result.error is None and result.item_errors == []
    assert result.state.cursors() == {"tag:acme": "117653731395309714",
                                      "tag:acmecloud": "117653731395309714"}


def test_a_token_adds_status_search_and_leaves_private_statuses_out():
    search = _load("search-acme.json")
    api = Api({
        _route("/api/v1/timelines/tag/acme"): httpx.Response(200, json=[]),
        _route("/api/v2/search", q="Acme"): httpx.Response(200, json=search),
        _route("/api/v2/search"): httpx.Response(200, json={"statuses": []}),
    })
    spec = _spec(secrets={TOKEN: "t0ken"}, params={"hashtags": ["acme"]})
    with api.client() as client:
        result = fetch(client, spec, SourceState("fedi"))
        searches = [r for r in api.requests if r.url.path == "/api/v2/search"]
        assert [r.url.params["q"] for r in searches] == list(QUERIES)
        assert all(r.url.params["type"] == "statuses" for r in searches)
        assert all(r.headers["authorization"] == "Bearer t0ken" for r in api.requests)
        assert {m.author.handle for m in result.mentions} == {"@eli@fosstodon.example", "@dana"}
        assert result.state.cursors()["q:Acme"] == "117653731395309714"
        with_private = fetch(client, _spec(secrets={TOKEN: "t0ken"},
                                           params={"hashtags": ["acme"],
                                                   "include_private": True}),
                             SourceState("fedi"))
    assert "@ivy" in {m.author.handle for m in with_private.mentions}


def test_next_poll_pages_forward_from_before_the_cursor():
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    cursor = str(id_at(start - timedelta(minutes=1)))
    page1 = _statuses(PAGE_LIMIT, start)
    page2 = _statuses(3, start + timedelta(minutes=5))
    first_min = overlap_id(cursor, timedelta(minutes=15))
    newest1 = page1[0]["id"]
    api = Api({
        _route("/api/v1/timelines/tag/acme", min_id=first_min): httpx.Response(
            200, json=page1,
            headers={"Link": f'<{BASE}/api/v1/timelines/tag/acme?max_id={page1[-1]["id"]}>; '
                             f'rel="next", <{BASE}/api/v1/timelines/tag/acme?min_id={newest1}>;'
                             ' rel="prev"'}),
        _route("/api/v1/timelines/tag/acme", min_id=newest1): httpx.Response(200, json=page2),
    })
    state = SourceState("fedi").with_cursors({"tag:acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(params={"hashtags": ["acme"]}), state)
    assert [r.url.params["min_id"] for r in api.requests] == [first_min, newest1]
    assert len(result.mentions) == PAGE_LIMIT + 3
    assert result.state.cursors()["tag:acme"] == page2[0]["id"]


def test_a_failed_page_keeps_what_was_read_and_the_cursor_where_it_stopped(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    cursor = str(id_at(start - timedelta(minutes=1)))
    page1 = _statuses(PAGE_LIMIT, start)
    api = Api({
        _route("/api/v1/timelines/tag/acme"): httpx.Response(200, json=page1),
        _route("/api/v1/timelines/tag/acme", min_id=page1[0]["id"]): httpx.Response(502),
    })
    state = SourceState("fedi").with_cursors({"tag:acme": cursor})
    with api.client() as client:
        result = fetch(client, _spec(params={"hashtags": ["acme", "acmecloud"]}), state)
    assert len(result.mentions) == PAGE_LIMIT
    assert result.error and "HTTP 502" in result.error
    assert result.state.cursors()["tag:acme"] == page1[0]["id"]  # page 1 is safely read
    assert "acmecloud" not in " ".join(api.paths())  # stopped at the failure


def test_the_cursor_never_moves_back():
    state = SourceState("fedi").with_cursors({"tag:acme": "117653731395309714"})
    api = Api({_route("/api/v1/timelines/tag/acme"): httpx.Response(
        200, json=_load("tag-acme.json")[1:])})  # only older statuses come back
    with api.client() as client:
        result = fetch(client, _spec(params={"hashtags": ["acme"]}), state)
    assert result.state.cursors()["tag:acme"] == "117653731395309714"
    assert api.requests[0].url.params["min_id"] == overlap_id("117653731395309714")


def test_local_only_and_page_cap_are_settings():
    api = Api({_route("/api/v1/timelines/tag/acme"): httpx.Response(200, json=[])})
    with api.client() as client:
        fetch(client, _spec(params={"hashtags": ["acme"], "local": True}), SourceState("fedi"))
        with pytest.raises(FatalError, match="max_pages"):
            fetch(client, _spec(params={"max_pages": 0}), SourceState("fedi"))
    assert api.requests[0].url.params["local"] == "true"


def test_an_instance_that_knows_no_tag_is_an_error():
    with Api({}).client() as client, pytest.raises(FatalError, match="is it a Mastodon"):
        fetch(client, _spec(), SourceState("fedi"))


def test_spent_rate_limit_defers_the_source_until_its_reset():
    reset = (datetime.now(UTC) + timedelta(minutes=4)).replace(microsecond=0)
    api = Api({_route("/api/v1/timelines/tag/acme"): httpx.Response(
        200, json=_load("tag-acme.json"),
        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                 "X-RateLimit-Reset": reset.isoformat().replace("+00:00", ".000Z")})})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("fedi"))
    assert len(api.requests) == 1  # acmecloud and globex wait for the reset
    assert len(result.mentions) == 3
    assert result.deferred_until == reset
    assert result.state.rate_limit_remaining == 0 and result.state.rate_limit_reset == reset


def test_429_after_some_pages_keeps_them_and_defers():
    api = Api({
        _route("/api/v1/timelines/tag/acme"): httpx.Response(200, json=_load("tag-acme.json")),
        _route("/api/v1/timelines/tag/acmecloud"): httpx.Response(
            429, headers={"Retry-After": "600"}),
    })
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("fedi"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until is not None
    assert result.deferred_until > datetime.now(UTC) + timedelta(minutes=9)
    assert result.state.cursors() == {"tag:acme": "117653731395309714"}


def test_a_bad_token_fails_the_source_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN, "expired")
    api = Api({
        _route("/api/v1/timelines/tag/acme"): httpx.Response(
            401, json={"error": "The access token is invalid"}),
    })
    settings = make_settings(tmp_path, [{"name": "fedi", "kind": "mastodon", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("fedi"), settings)
    assert outcome.status == "error"
    assert "HTTP 401" in outcome.message and "check credentials" in outcome.message
    assert "expired" not in outcome.message  # the token is never echoed


def test_refresh_rereads_statuses_by_their_local_id(tmp_path, monkeypatch):
    dana, frank, hugo = "117653731395309714", "117653530404720786", "117653592297312402"
    run = fetch_then_refresh(tmp_path, monkeypatch, "mastodon", {
        f"/api/v1/statuses/{dana}": fixture_route("mastodon", f"status-{dana}.json"),
        f"/api/v1/statuses/{frank}": fixture_route("mastodon", f"status-{frank}.json"),
        # An id that answers with another status (another instance's id): not taken.
        f"/api/v1/statuses/{hugo}": fixture_route("mastodon", f"status-{dana}.json"),
    })
    # External ids are federation uris; each status is asked for by its id on this instance
    # (frank's uri is on social.example, his status is 1176… here). Unrouted ids answer 404.
    assert run.paths() == [f"/api/v1/statuses/{m.raw['id']}" for m in run.fetched]
    fresh, before = run.by_id(), run.by_id("fetched")
    dana_uri = "https://mastodon.example/users/dana/statuses/117653731395309714"
    frank_uri = "https://social.example/users/frank/statuses/113200000000000001"
    assert set(fresh) == {dana_uri, frank_uri}
    assert fresh[dana_uri].id == before[dana_uri].id
    e = fresh[dana_uri].engagement
    assert (e.likes, e.reposts, e.replies, fresh[dana_uri].author.followers) == \
        (210, 88, 45, 1260)
    assert fresh[frank_uri].engagement.likes == 95
    assert fresh[frank_uri].author.followers == 25100


def test_refresh_without_a_stored_id_uses_a_local_uri_and_a_rate_limit_is_typed():
    status = _by_id("117653731395309714")
    stored = [dataclasses.replace(to_mention(status, instance="https://mastodon.example"),
                                  raw={})]
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=status)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        fresh = refresh(client, _spec(url="https://mastodon.example"), stored)
    assert seen == ["/api/v1/statuses/117653731395309714"]
    assert [m.external_id for m in fresh] == [stored[0].external_id]

    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"X-RateLimit-Remaining": "0",
                                            "X-RateLimit-Reset": "2026-11-21T09:35:00.000Z"})

    with httpx.Client(transport=httpx.MockTransport(limited)) as client, \
            pytest.raises(RateLimitedError):
        refresh(client, _spec(url="https://mastodon.example"), stored)


def test_a_quote_post_loses_its_fallback_link_and_quotes_count_as_reposts():
    quote, quoted = _load("tag-acme-quote.json")
    mention = to_mention(quote, instance=BASE)
    # docs client/quotes: remove the `quote-inline` fallback when the status has a `quote`.
    assert mention.text == "An hour, they said. Still read-only at 09:40. #acme"
    assert mention.engagement.reposts == 1  # 1 boost, 0 quotes
    original = to_mention(quoted, instance=BASE)
    assert (original.engagement.likes, original.engagement.reposts) == (30, 12 + 4)
    # Without a resolved `quote` the fallback is the only link to what was quoted: kept.
    unresolved = to_mention(dict(quote, quote=None), instance=BASE)
    assert unresolved.text.startswith(f"RE: https://mastodon.example/@acme/{quoted['id']}\n")
    # Before 4.5 there is no quotes_count: reposts are the boosts alone.
    older = {k: v for k, v in quoted.items() if k != "quotes_count"}
    assert to_mention(older, instance=BASE).engagement.reposts == 12


def test_a_quote_post_in_a_timeline_becomes_one_mention_each():
    api = Api({_route("/api/v1/timelines/tag/acme"): httpx.Response(
        200, json=_load("tag-acme-quote.json"))})
    with api.client() as client:
        result = fetch(client, _spec(params={"hashtags": ["acme"]}), SourceState("fedi"))
    by_handle = {m.author.handle: m for m in result.mentions}
    assert set(by_handle) == {"@ivo", "@acme"}
    assert by_handle["@acme"].is_own and not by_handle["@ivo"].is_own
    assert "RE:" not in by_handle["@ivo"].text
