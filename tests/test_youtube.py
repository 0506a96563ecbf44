from __future__ import annotations

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
from connectors.errors import FatalError, RateLimitedError, RetriableError, SkippableError
from connectors.http import redact_url
from connectors.youtube import (
    API_KEY,
    RATE_LIMIT_PAUSE,
    SEARCH_PAGE,
    fetch,
    quota_reset,
    refresh,
    to_mention,
    validate,
)
from earful.cycle import fetch_source

BASE = "https://yt.test/youtube/v3"
KEY = "AIzaTestKey-not-real_0123456789"
QUERIES = ("Acme", "Acme Cloud", "#acme", "Globex")


def _load(name: str):
    return json.loads((FIXTURES / "youtube" / name).read_text())


def _result(video_id: str):
    for name in ("search-acme.json", "search-globex.json"):
        for item in _load(name)["items"]:
            if item["id"]["videoId"] == video_id:
                return item
    raise KeyError(video_id)


def _video(video_id: str):
    return next(v for v in _load("videos.json")["items"] if v["id"] == video_id)


def _thread(thread_id: str):
    for name in ("comments-AcmeOutag01.json", "comments-AcmeLaunch3.json"):
        for item in _load(name)["items"]:
            if item["id"] == thread_id:
                return item
    raise KeyError(thread_id)


def _spec(**changes) -> SourceSpec:
    values = {"name": "yt", "kind": "youtube", "url": BASE, "queries": QUERIES,
              "secrets": {API_KEY: KEY}, "own_handles": frozenset({"acme"})}
    values.update(changes)
    return SourceSpec(**values)


class Api(RoutedApi, not_found={"error": {"code": 404, "message": "Not Found"}}):
    """A fake YouTube Data API: routes name paths below /youtube/v3 (see RoutedApi)."""

    def wanted(self, key, request):
        path, wanted = key
        return wanted if request.url.path == "/youtube/v3" + path else None

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/youtube/v3" + path]


def _ok(name: str) -> httpx.Response:
    return httpx.Response(200, json=_load(name))


def _fixture_routes() -> dict:
    return {
        _route("/search"): _ok("search-empty.json"),
        _route("/search", q="Acme"): _ok("search-acme.json"),
        _route("/search", q="Acme Cloud"): _ok("search-acme-cloud.json"),
        _route("/search", q="Globex"): _ok("search-globex.json"),
        _route("/videos"): _ok("videos.json"),
        _route("/commentThreads", videoId="AcmeOutag01"): _ok("comments-AcmeOutag01.json"),
        _route("/commentThreads", videoId="AcmeLaunch3"): _ok("comments-AcmeLaunch3.json"),
        _route("/channels"): _ok("channels.json"),
    }


def _quota(name: str = "quota-exceeded.json") -> httpx.Response:
    return httpx.Response(403, json=_load(name))


def _results(count: int, start: datetime, prefix: str = "v") -> dict:
    items = []
    for i in range(count):
        at = (start - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        vid = f"{prefix}{i:010d}"[:11]
        items.append({"kind": "youtube#searchResult", "id": {"kind": "youtube#video",
                                                             "videoId": vid},
                      "snippet": {"publishedAt": at, "channelId": "UCdanaReviews000000000ab",
                                  "title": f"Acme video {i}", "description": "",
                                  "channelTitle": "Dana Reviews"}})
    return {"kind": "youtube#searchListResponse", "items": items}


def test_a_search_result_with_its_video_details_becomes_a_mention():
    mention = to_mention(_result("AcmeOutag01"), video=_video("AcmeOutag01"), followers=15400)
    assert mention.source == "youtube"
    assert mention.external_id == "video:AcmeOutag01"
    assert mention.url == "https://www.youtube.com/watch?v=AcmeOutag01"
    assert mention.title == "Acme Cloud went down AGAIN & nobody told us"
    assert mention.text.startswith("Third Acme Cloud outage this month.")
    assert mention.text.endswith("1:12 What happened")  # the full description, not the cut
    assert mention.published_at == datetime(2026, 11, 21, 8, 15, tzinfo=UTC)
    assert mention.author.id == "UCdanaReviews000000000ab"
    assert mention.author.name == "Dana Reviews" and mention.author.handle is None
    assert mention.author.url == "https://www.youtube.com/channel/UCdanaReviews000000000ab"
    assert mention.author.followers == 15400
    assert (mention.engagement.views, mention.engagement.likes,
            mention.engagement.replies) == (48210, 1320, 2)
    assert mention.lang == "en" and mention.thread_id == "video:AcmeOutag01"
    assert not mention.is_own and not mention.is_repost
    assert mention.raw == _video("AcmeOutag01")


def test_a_search_result_alone_is_unescaped_and_has_no_counts():
    mention = to_mention(_result("AcmeOutag01"))
    assert mention.title == "Acme Cloud went down AGAIN & nobody told us"
    assert "Here's" in mention.text
    assert mention.engagement.views is None and mention.lang is None
    assert mention.raw == _result("AcmeOutag01")


def test_the_brands_own_channel_is_flagged():
    own = to_mention(_result("AcmeLaunch3"), own_handles=frozenset({"acme"}))
    assert own.is_own
    by_id = to_mention(_result("AcmeLaunch3"),
                       own_handles=frozenset({"ucacmeofficial00000000aa"}))
    assert by_id.is_own
    assert not to_mention(_result("GlobexBill1"), own_handles=frozenset({"acme"})).is_own


def test_a_comment_thread_becomes_a_mention_of_its_top_level_comment():
    mention = to_mention(_thread("UgzErinComplains0001AaABAg"), followers=12)
    assert mention.external_id == "comment:UgzErinComplains0001AaABAg"
    assert mention.url == ("https://www.youtube.com/watch?v=AcmeOutag01"
                           "&lc=UgzErinComplains0001AaABAg")
    assert mention.text == ('Same here. Acme support closed my ticket without reading it & the '
                            'status page said "all green".\nSwitching providers.')
    assert mention.title is None
    assert mention.author.handle == "@erin-complains"
    assert mention.author.id == "UCerinComments0000000aaa"
    assert mention.author.url == "http://www.youtube.com/@erin-complains"
    assert mention.author.followers == 12
    assert (mention.engagement.likes, mention.engagement.replies) == (14, 3)
    assert mention.thread_id == mention.parent_id == "video:AcmeOutag01"
    assert mention.published_at == datetime(2026, 11, 21, 9, 2, 31, tzinfo=UTC)


def test_comment_text_falls_back_to_textdisplay_and_own_comments_are_flagged():
    thread = _thread("UgzAcmeTeamReply003AaABAg")
    del thread["snippet"]["topLevelComment"]["snippet"]["textOriginal"]
    mention = to_mention(thread, own_handles=frozenset({"acme"}))
    assert mention.text == ("Acme team here: the rollout finishes Friday. Updates at "
                            "https://status.acme.example")
    assert mention.is_own


def test_fetch_reads_every_term_then_counts_comments_and_subscribers():
    api = Api(_fixture_routes())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("yt"))
    assert result.error is None and result.item_errors == [] and result.deferred_until is None
    searches = api.calls("/search")
    assert [r.url.params["q"] for r in searches] == list(QUERIES)
    for request in searches:
        params = request.url.params
        assert (params["part"], params["type"], params["order"], params["maxResults"]) == (
            "snippet", "video", "date", str(SEARCH_PAGE))
        assert "publishedAfter" not in params and "pageToken" not in params  # first poll
    assert all(r.url.params["key"] == KEY for r in api.requests)
    # One videos.list per search page that found something, ids batched.
    videos = api.calls("/videos")
    assert [r.url.params["id"] for r in videos] == [
        "AcmeOutag01,AcmeLaunch3,SpeedRun042", "AcmeOutag01", "GlobexBill1"]
    assert all(r.url.params["part"] == "statistics,snippet" for r in videos)
    # Comments only where commentCount > 0, newest video first.
    assert [r.url.params["videoId"] for r in api.calls("/commentThreads")] == [
        "AcmeOutag01", "AcmeLaunch3"]
    channels = api.calls("/channels")
    assert len(channels) == 1 and channels[0].url.params["part"] == "statistics"
    assert set(channels[0].url.params["id"].split(",")) == {
        "UCdanaReviews000000000ab", "UCacmeOfficial00000000aa", "UCgwenPlays000000000000a",
        "UChankRants0000000000abc", "UCerinComments0000000aaa", "UCfrankFirst00000000000a"}
    by_id = {m.external_id: m for m in result.mentions}
    assert len(by_id) == len(result.mentions) == 7  # the outage video found twice, kept once
    assert by_id["video:AcmeOutag01"].author.followers == 15400
    assert by_id["video:SpeedRun042"].author.followers is None  # hidden
    assert by_id["comment:UgzErinComplains0001AaABAg"].author.followers == 12
    assert by_id["video:AcmeLaunch3"].is_own and by_id["comment:UgzAcmeTeamReply003AaABAg"].is_own
    assert result.state.cursors() == {"q:Acme": "2026-11-21T08:15:00Z",
                                      "q:Acme Cloud": "2026-11-21T08:15:00Z",
                                      "q:Globex": "2026-11-21T06:45:10Z"}


def test_next_poll_overlaps_the_cursor_and_follows_page_tokens():
    start = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    page1 = dict(_results(SEARCH_PAGE, start), nextPageToken="CDIQAA")
    page2 = _results(3, start - timedelta(hours=1), prefix="w")
    api = Api({
        _route("/search"): httpx.Response(200, json=page1),
        _route("/search", pageToken="CDIQAA"): httpx.Response(200, json=page2),
        _route("/videos"): httpx.Response(200, json={"items": []}),
        _route("/channels"): httpx.Response(200, json={"items": []}),
    })
    state = SourceState("yt").with_cursors({"q:Acme": "2026-11-22T10:00:00Z"})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"overlap_minutes": 30}), state)
    searches = api.calls("/search")
    assert [r.url.params.get("pageToken") for r in searches] == [None, "CDIQAA"]
    assert all(r.url.params["publishedAfter"] == "2026-11-22T09:30:00Z" for r in searches)
    assert len(result.mentions) == SEARCH_PAGE + 3
    assert result.state.cursors() == {"q:Acme": "2026-11-22T12:00:00Z"}


def test_the_page_cap_stops_a_term_and_the_cursor_never_moves_back():
    start = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    api = Api({
        _route("/search"): httpx.Response(200, json=dict(_results(SEARCH_PAGE, start),
                                                         nextPageToken="more")),
        _route("/videos"): httpx.Response(200, json={"items": []}),
        _route("/channels"): httpx.Response(200, json={"items": []}),
    })
    state = SourceState("yt").with_cursors({"q:Acme": "2026-11-23T00:00:00Z"})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",), params={"max_pages": 1}), state)
    assert len(api.calls("/search")) == 1
    assert result.state.cursors() == {"q:Acme": "2026-11-23T00:00:00Z"}


def test_a_failed_term_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    routes = _fixture_routes()
    routes[_route("/search", q="Acme Cloud")] = httpx.Response(
        500, json={"error": {"code": 500, "message": "Backend Error"}})
    api = Api(routes)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("yt"))
    assert result.error and "HTTP 500" in result.error
    assert KEY not in result.error and "key=REDACTED" in result.error
    assert {m.external_id for m in result.mentions} == {
        "video:AcmeOutag01", "video:AcmeLaunch3", "video:SpeedRun042"}
    assert result.state.cursors() == {"q:Acme": "2026-11-21T08:15:00Z"}
    assert [r.url.params["q"] for r in api.calls("/search")] == [
        "Acme", *["Acme Cloud"] * (1 + http_module.RETRIES)]  # retried, then given up
    assert api.calls("/commentThreads") == []  # no more calls after a failure


def test_malformed_items_are_skipped_and_counted():
    page = _load("search-acme.json")
    broken = json.loads(json.dumps(page["items"][0]))
    broken["snippet"]["publishedAt"] = "yesterday"
    page["items"] = ["not a result", {"kind": "youtube#searchResult", "id": {}}, broken,
                     *page["items"][1:]]
    api = Api({_route("/search"): httpx.Response(200, json=page),
               _route("/videos"): httpx.Response(200, json={"items": []}),
               _route("/channels"): _ok("channels.json")})
    with api.client() as client:
        result = fetch(client, _spec(queries=("Acme",)), SourceState("yt"))
    assert {m.external_id for m in result.mentions} == {"video:AcmeLaunch3",
                                                         "video:SpeedRun042"}
    assert len(result.item_errors) == 3 and result.error is None


def test_a_body_that_is_not_json_is_a_clear_error_without_the_key():
    api = Api({_route("/search"): httpx.Response(200, text="<html>oops</html>")})
    with api.client() as client, pytest.raises(FatalError) as caught:
        fetch(client, _spec(queries=("Acme",)), SourceState("yt"))
    assert "not valid JSON" in str(caught.value) and KEY not in str(caught.value)


@pytest.mark.parametrize("fixture", ["quota-exceeded.json", "daily-limit-exceeded.json"])
def test_quota_exceeded_before_anything_defers_until_midnight_pacific(fixture):
    api = Api({_route("/search"): _quota(fixture)})
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("yt"))
    now = datetime.now(UTC)
    assert now < caught.value.retry_at <= quota_reset(now)  # midnight Pacific
    assert "quota" in str(caught.value) and KEY not in str(caught.value)
    assert len(api.requests) == 1


def test_a_403_rate_limit_waits_the_pause_not_the_day():
    api = Api({_route("/search"): _quota("rate-limit-exceeded.json")})
    before = datetime.now(UTC)
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("yt"))
    assert before + RATE_LIMIT_PAUSE <= caught.value.retry_at <= datetime.now(
        UTC) + RATE_LIMIT_PAUSE
    assert "rateLimitExceeded" in str(caught.value) and len(api.requests) == 1


def test_a_403_refusal_fails_the_source_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY, KEY)
    api = Api({_route("/search"): _quota("access-not-configured.json")})
    settings = make_settings(tmp_path, [{"name": "yt", "kind": "youtube", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("yt"), settings)
        with pytest.raises(FatalError, match="accessNotConfigured") as caught:
            fetch(client, _spec(), SourceState("yt"))
    assert outcome.status == "error" and "HTTP 403" in outcome.message
    assert "has not been used in project" in outcome.message and KEY not in outcome.message
    assert caught.value.status == 403 and not isinstance(caught.value, RateLimitedError)


def test_quota_exceeded_on_comments_or_channels_defers_and_keeps_the_videos():
    for path in ("/commentThreads", "/channels"):
        routes = {**_fixture_routes(), _route(path): _quota()}
        routes.pop(_route("/commentThreads", videoId="AcmeOutag01"))
        api = Api(routes)
        with api.client() as client:
            result = fetch(client, _spec(), SourceState("yt"))
        assert result.deferred_until == quota_reset(datetime.now(UTC)), path
        assert result.error is None and any("quota" in e for e in result.item_errors)
        assert "video:AcmeOutag01" in {m.external_id for m in result.mentions}
        assert set(result.state.cursors()) == {"q:Acme", "q:Acme Cloud", "q:Globex"}
        assert api.calls("/channels") == ([] if path == "/commentThreads" else api.calls(path))


def test_quota_exceeded_mid_run_keeps_the_mentions_and_defers():
    routes = _fixture_routes()
    routes[_route("/search", q="Acme Cloud")] = _quota()
    api = Api(routes)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("yt"))
    assert len(result.mentions) == 3 and result.error is None
    assert result.deferred_until == quota_reset(datetime.now(UTC))
    assert result.state.cursors() == {"q:Acme": "2026-11-21T08:15:00Z"}
    assert any("quota" in e for e in result.item_errors)
    assert api.calls("/channels") == [] and api.calls("/commentThreads") == []


def test_quota_reset_is_midnight_pacific_in_winter_and_summer():
    assert quota_reset(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == datetime(
        2026, 11, 24, 8, 0, tzinfo=UTC)  # PST, UTC-8
    assert quota_reset(datetime(2026, 7, 1, 6, 59, tzinfo=UTC)) == datetime(
        2026, 7, 1, 7, 0, tzinfo=UTC)  # PDT, UTC-7: still June 30 in California


def test_comments_turned_off_skip_that_video_only():
    routes = _fixture_routes()
    routes[_route("/commentThreads", videoId="AcmeOutag01")] = httpx.Response(
        403, json=_load("comments-disabled.json"))
    api = Api(routes)
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("yt"))
    ids = {m.external_id for m in result.mentions}
    assert "comment:UgzAcmeTeamReply003AaABAg" in ids
    assert "comment:UgzErinComplains0001AaABAg" not in ids
    assert "video:AcmeOutag01" in ids
    assert result.deferred_until is None and result.error is None
    assert len(result.item_errors) == 1 and "AcmeOutag01" in result.item_errors[0]
    assert KEY not in result.item_errors[0]


def test_comment_settings_cap_the_calls():
    api = Api(_fixture_routes())
    with api.client() as client:
        fetch(client, _spec(params={"comment_videos": 1, "comments_per_video": 5}),
              SourceState("yt"))
        calls = api.calls("/commentThreads")
        assert [r.url.params["maxResults"] for r in calls] == ["5"]
        fetch(client, _spec(params={"comment_videos": 0}), SourceState("yt"))
    assert len(api.calls("/commentThreads")) == 1


def test_429_with_retry_after_defers_without_sleeping(monkeypatch):
    monkeypatch.setattr(http_module.time, "sleep", lambda s: pytest.fail("slept"))
    api = Api({_route("/search"): httpx.Response(429, headers={"Retry-After": "120"})})
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        fetch(client, _spec(), SourceState("yt"))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(seconds=100)
    assert KEY not in str(caught.value)


def test_server_errors_are_retried_without_the_key_in_any_message_or_log(monkeypatch, caplog):
    slept: list[float] = []
    monkeypatch.setattr(http_module.time, "sleep", slept.append)
    api = Api({_route("/search"): httpx.Response(503)})
    with caplog.at_level("WARNING", logger="earful.http"), api.client() as client, \
            pytest.raises(RetriableError) as caught:
        fetch(client, _spec(), SourceState("yt"))
    assert "HTTP 503" in str(caught.value) and KEY not in str(caught.value)
    assert len(api.requests) == 1 + http_module.RETRIES and len(slept) == http_module.RETRIES
    assert "retrying" in caplog.text and "key=REDACTED" in caplog.text
    assert KEY not in caplog.text
    assert all(KEY not in str(getattr(r, "url", "")) for r in caplog.records)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    with httpx.Client(transport=httpx.MockTransport(timeout)) as client, \
            pytest.raises(RetriableError, match="timed out") as caught:
        fetch(client, _spec(), SourceState("yt"))
    assert KEY not in str(caught.value)


def test_missing_key_skips_the_source():
    with Api({}).client() as client, pytest.raises(SkippableError, match=API_KEY):
        fetch(client, _spec(secrets={}), SourceState("yt"))


def test_the_base_url_is_honoured():
    api = Api(_fixture_routes())
    with api.client() as client:
        fetch(client, _spec(url=BASE + "/"), SourceState("yt"))
    assert {r.url.host for r in api.requests} == {"yt.test"}
    assert {r.url.path.rsplit("/", 1)[0] for r in api.requests} == {"/youtube/v3"}


def test_the_key_never_reaches_raw_or_stored_text():
    api = Api(_fixture_routes())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("yt"))
    for mention in result.mentions:
        assert KEY not in json.dumps(mention.raw) and KEY not in (mention.url or "")
    assert KEY not in (result.state.cursor or "")
    assert redact_url(f"{BASE}/search?q=a&key={KEY}&x=1") == (
        f"{BASE}/search?q=a&key=REDACTED&x=1")


def test_a_rejected_key_fails_the_source_without_echoing_it(tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY, KEY)
    api = Api({_route("/search"): httpx.Response(400, json={"error": {
        "code": 400, "message": "API key not valid. Please pass a valid API key.",
        "errors": [{"domain": "global", "reason": "badRequest"}]}})})
    settings = make_settings(tmp_path, [{"name": "yt", "kind": "youtube", "url": BASE}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("yt"), settings)
    assert outcome.status == "error"
    assert "HTTP 400" in outcome.message and KEY not in outcome.message


def test_settings_are_validated():
    assert validate(_spec()) == []
    assert validate(_spec(params={"comments_per_video": 101, "max_pages": 0})) == [
        "params.max_pages must be an integer ≥ 1",
        "params.comments_per_video must be an integer ≥ 1 and ≤ 100"]
    with Api({}).client() as client, pytest.raises(FatalError, match="max_pages"):
        fetch(client, _spec(params={"max_pages": "2"}), SourceState("yt"))


def test_refresh_rereads_videos_and_comment_threads_by_id(tmp_path, monkeypatch):
    run = fetch_then_refresh(tmp_path, monkeypatch, "youtube", {
        "/videos?part=snippet,statistics": fixture_route("youtube", "videos-refresh.json"),
        "/commentThreads?id=UgzErinComplains0001AaABAg,UgzFrankFirst00000002AaABAg,"
        "UgzAcmeTeamReply003AaABAg": fixture_route("youtube", "comment-threads.json"),
    })
    assert run.paths() == ["/videos", "/commentThreads", "/channels"]
    fetched = run.by_id("fetched")
    (videos,) = run.params("/videos")
    assert videos["part"] == ["snippet,statistics"] and videos["key"] == [
        "fixture-key-not-a-secret"]
    assert videos["id"] == [",".join(i.removeprefix("video:") for i in fetched
                                     if i.startswith("video:"))]
    (threads,) = run.params("/commentThreads")
    assert threads["part"] == ["snippet"] and "videoId" not in threads
    fresh = run.by_id()
    # The speedrun video and Frank's "first!" are gone (not in `items`): left out.
    assert set(fresh) == set(fetched) - {"video:SpeedRun042",
                                         "comment:UgzFrankFirst00000002AaABAg"}
    outage = fresh["video:AcmeOutag01"]
    assert outage.id == fetched["video:AcmeOutag01"].id
    assert (outage.engagement.views, outage.engagement.likes, outage.engagement.replies) == \
        (391500, 9870, 412)
    assert outage.author.followers == 15400  # channels.list, as fetch does
    erin = fresh["comment:UgzErinComplains0001AaABAg"]
    assert (erin.engagement.likes, erin.engagement.replies) == (260, 41)
    assert erin.text == fetched[erin.external_id].text and erin.thread_id == "video:AcmeOutag01"
    assert fresh["comment:UgzAcmeTeamReply003AaABAg"].is_own


def test_refresh_a_spent_quota_is_a_typed_error():
    stored = [to_mention(_video("AcmeOutag01"))]
    api = Api({_route("/videos"): _quota()})
    with api.client() as client, pytest.raises(RateLimitedError) as caught:
        refresh(client, _spec(), stored)
    now = datetime.now(UTC)
    assert now < caught.value.retry_at <= quota_reset(now)  # midnight Pacific
