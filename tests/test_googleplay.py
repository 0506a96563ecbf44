"""Google Play reviews: the mapping of a Review resource, the service-account token exchange
(with a throwaway RSA key made here, never stored), paging, cursors, failures and quotas."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from connector_support import RoutedApi, assert_server_errors_and_timeouts_are_clear
from connector_support import route as _route
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import FIXTURES, make_settings
from connectors import http as http_module
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RateLimitedError, SkippableError
from connectors.googleplay import (
    ACCESS_TOKEN,
    KEY,
    PAGE_SIZE,
    SCOPE,
    access_token,
    fetch,
    to_mention,
    validate,
)
from earful.cycle import fetch_source

BASE = "https://play.test"
TOKEN_URL = "https://oauth2.test/token"
APP = "com.acme.app"
REVIEWS = f"/androidpublisher/v3/applications/{APP}/reviews"
PAGE2 = "CiAKGDE3MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAQABgA"
FIXTURE_TOKEN = "ya29.fixture-access-token-not-a-secret"


def _load(name: str):
    return json.loads((FIXTURES / "googleplay" / name).read_text())


@pytest.fixture(scope="module")
def rsa_key():
    """A throwaway key for this test run only: no private key is ever committed."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def service_account(rsa_key) -> dict[str, str]:
    pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {
        "type": "service_account", "project_id": "acme-reviews-test",
        "private_key_id": "0123456789abcdef", "private_key": pem,
        "client_email": "earful@acme-reviews-test.iam.gserviceaccount.example",
        "client_id": "100000000000000000001", "token_uri": TOKEN_URL,
    }


def _key_body(info: dict[str, str]) -> str:
    """A line from the middle of the PEM: what must never be seen outside the module."""
    return info["private_key"].splitlines()[5]


class Api(RoutedApi, not_found={"error": {"code": 404, "status": "NOT_FOUND"}}):
    """A fake Play API and token endpoint (see RoutedApi)."""


def _pages(app: str = APP):
    path = f"/androidpublisher/v3/applications/{app}/reviews"
    return {
        _route(path): httpx.Response(200, json=_load("reviews-page1.json")),
        _route(path, token=PAGE2): httpx.Response(200, json=_load("reviews-page2.json")),
    }


def _spec(secrets=None, **changes) -> SourceSpec:
    values = {"name": "play", "kind": "googleplay", "url": BASE,
              "params": {"apps": [APP]},
              "secrets": secrets if secrets is not None else {ACCESS_TOKEN: FIXTURE_TOKEN}}
    values.update(changes)
    return SourceSpec(**values)


def _review(review_id: str, seconds: int, stars: int = 3, text: str = "ok") -> dict:
    return {"reviewId": review_id, "authorName": "P",
            "comments": [{"userComment": {"text": text, "starRating": stars,
                                          "lastModified": {"seconds": str(seconds)}}}]}


def test_a_review_becomes_a_mention_with_its_title_stars_and_votes():
    item = _load("reviews-page1.json")["reviews"][0]
    m = to_mention(item, package=APP)
    assert m.source == "googleplay" and m.external_id == "gp:AOqpTOFixtureReview0001-crash"
    assert m.title == "Crashes on launch"
    assert m.text.startswith("Since the 4.2 update the Acme app crashes")
    assert m.rating == 1.0 and m.listing_ratings is None
    assert m.engagement.likes == 12 and m.engagement.replies == 0
    assert m.author.name == "Robin Fixture" and m.author.followers is None
    assert m.lang == "en"
    assert m.published_at == datetime(2026, 11, 22, 9, 0, 0, 713000, tzinfo=UTC)
    assert m.url == ("https://play.google.com/store/apps/details?id=com.acme.app"
                     "&reviewId=gp%3AAOqpTOFixtureReview0001-crash")
    assert m.raw is item and m.raw["comments"][0]["userComment"]["appVersionName"] == "4.2.0"
    assert not m.is_repost and not m.is_own


def test_the_developers_reply_counts_as_a_reply_and_stays_in_raw():
    item = _load("reviews-page1.json")["reviews"][1]
    m = to_mention(item, package=APP)
    assert m.engagement.replies == 1 and m.title is None and m.rating == 5.0
    assert m.raw["comments"][1]["developerComment"]["text"].startswith("Thanks Sam")
    assert m.published_at == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # the user's time


def test_the_service_account_signs_a_jwt_exchanged_for_a_token(service_account, rsa_key):
    from google.auth import jwt

    api = Api({_route("/token"): httpx.Response(200, json=_load("token.json")), **_pages()})
    with api.client() as client:
        result = fetch(client, _spec({KEY: json.dumps(service_account)}), SourceState("play"))
    token_call = api.to("/token")[0]
    assert token_call.method == "POST" and str(token_call.url) == TOKEN_URL
    form = {k: v[0] for k, v in parse_qs(token_call.content.decode()).items()}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    public = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(form["assertion"], certs=public, audience=TOKEN_URL)
    assert claims["iss"] == service_account["client_email"] and claims["scope"] == SCOPE
    assert claims["exp"] - claims["iat"] == 3600
    reads = api.to(REVIEWS)
    assert [r.headers["authorization"] for r in reads] == [f"Bearer {FIXTURE_TOKEN}"] * 2
    assert [r.url.params.get("token") for r in reads] == [None, PAGE2]
    assert reads[0].url.params["maxResults"] == str(PAGE_SIZE)
    assert len(result.mentions) == 4 and result.error is None


def test_no_secret_reaches_raw_state_errors_or_logs(service_account, caplog, tmp_path,
                                                    monkeypatch):
    caplog.set_level(logging.DEBUG)
    api = Api({_route("/token"): httpx.Response(200, json=_load("token.json")), **_pages()})
    with api.client() as client:
        result = fetch(client, _spec({KEY: json.dumps(service_account)}), SourceState("play"))
    assertion = parse_qs(api.to("/token")[0].content.decode())["assertion"][0]
    stored = json.dumps([m.raw for m in result.mentions]) + str(result.state) + \
        " ".join(r.getMessage() for r in caplog.records)
    for secret in (_key_body(service_account), assertion, FIXTURE_TOKEN):
        assert secret not in stored
    # A key that cannot be read fails with a message naming the variable, not its value.
    broken = {**service_account, "private_key": service_account["private_key"][:200]}
    monkeypatch.setenv(KEY, json.dumps(broken))
    settings = make_settings(tmp_path, [{"name": "play", "kind": "googleplay", "url": BASE,
                                         "params": {"apps": [APP]}}])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState("play"), settings)
    assert outcome.status == "error" and KEY in outcome.message
    assert broken["private_key"][40:80] not in outcome.message
    assert all(broken["private_key"][40:80] not in r.getMessage() for r in caplog.records)


def test_a_key_that_is_not_a_service_account_is_a_clear_error():
    with Api({}).client() as client:
        with pytest.raises(FatalError, match="not a JSON object") as exc:
            fetch(client, _spec({KEY: "-----BEGIN PRIVATE KEY----- nope"}), SourceState("p"))
        assert "nope" not in str(exc.value)
        with pytest.raises(FatalError, match="no private_key"):
            fetch(client, _spec({KEY: json.dumps({"client_email": "a@b.example"})}),
                  SourceState("p"))


def test_a_refused_assertion_names_the_oauth_error_only(service_account):
    api = Api({_route("/token"): httpx.Response(400, json=_load("token-invalid-grant.json"))})
    with api.client() as client, pytest.raises(FatalError) as exc:
        access_token(client, service_account, source="play")
    assert "invalid_grant" in str(exc.value) and "HTTP 400" in str(exc.value)
    assert _key_body(service_account) not in str(exc.value)


def test_token_url_can_be_redirected(service_account):
    api = Api({_route("/proxy/token"): httpx.Response(200, json=_load("token.json"))})
    with api.client() as client:
        token = access_token(client, service_account, source="play",
                             token_url="https://gateway.test/proxy/token")
    assert token == FIXTURE_TOKEN
    assert str(api.requests[0].url) == "https://gateway.test/proxy/token"


def test_missing_credentials_skip_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY, raising=False)
    monkeypatch.delenv(ACCESS_TOKEN, raising=False)
    with Api({}).client() as client:
        with pytest.raises(SkippableError, match=KEY):
            fetch(client, _spec({}), SourceState("play"))
        settings = make_settings(tmp_path, [{"name": "play", "kind": "googleplay",
                                             "params": {"apps": [APP]}}])
        outcome = fetch_source(client, settings.sources[0], SourceState("play"), settings)
    assert outcome.status == "skipped" and KEY in outcome.message


def test_a_ready_access_token_is_used_when_no_key_is_set():
    api = Api(_pages())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("play"))
    assert not api.to("/token")
    assert api.requests[0].headers["authorization"] == f"Bearer {FIXTURE_TOKEN}"
    assert {m.external_id for m in result.mentions} >= {"gp:AOqpTOFixtureReview0004-login"}


def test_next_poll_reads_back_to_the_overlap_and_dedupes():
    api = Api(_pages())
    state = SourceState("play").with_cursors({f"app:{APP}": "2026-11-22T08:30:00Z"})
    with api.client() as client:
        result = fetch(client, _spec(), state)
    # Page 1 reaches back past 07:30 (an hour before the cursor): page 2 is not needed.
    assert len(api.to(REVIEWS)) == 1
    assert len(result.mentions) == 3
    assert result.state.cursors()[f"app:{APP}"] == "2026-11-22T09:00:00.713000Z"
    with api.client() as client:
        again = fetch(client, _spec(), result.state)
    assert {m.external_id for m in again.mentions} <= {m.external_id for m in result.mentions}
    assert again.state.cursors() == result.state.cursors()


def test_the_cursor_never_moves_back():
    later = "2026-11-23T00:00:00.000000Z"
    api = Api(_pages())
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("play").with_cursors({f"app:{APP}": later}))
    assert result.state.cursors()[f"app:{APP}"] == later


def test_page_cap_and_translation_are_settings():
    api = Api(_pages())
    spec = _spec(params={"apps": [APP], "max_pages": 1, "translation_language": "en"})
    with api.client() as client:
        result = fetch(client, spec, SourceState("play"))
    assert len(api.requests) == 1 and len(result.mentions) == 3
    assert api.requests[0].url.params["translationLanguage"] == "en"


def test_a_failure_keeps_what_was_read_and_only_completed_cursors(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    other = "/androidpublisher/v3/applications/com.acme.other/reviews"
    api = Api({**_pages(), _route(other): httpx.Response(500, text="backend error")})
    spec = _spec(params={"apps": [APP, "com.acme.other"]})
    with api.client() as client:
        result = fetch(client, spec, SourceState("play"))
    assert len(result.mentions) == 4
    assert result.error and "HTTP 500" in result.error
    assert result.state.cursors() == {f"app:{APP}": "2026-11-22T09:00:00.713000Z"}


def test_a_failed_second_page_keeps_page_one_but_not_the_cursor(monkeypatch):
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)
    api = Api({**_pages(), _route(REVIEWS, token=PAGE2): httpx.Response(503)})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("play"))
    assert len(result.mentions) == 3 and "HTTP 503" in (result.error or "")
    assert result.state.cursors() == {}  # the app is read again from the top next poll


def test_malformed_reviews_are_skipped_and_counted():
    good = _review("ok-1", 1795338000, 2, "Acme broke")
    page = {"reviews": [
        good, "not a review", {"authorName": "no id", "comments": []},
        _review("bad-stars", 1795338000, stars="five"),  # type: ignore[arg-type]
        {"reviewId": "no-time", "comments": [{"userComment": {"text": "x", "starRating": 2}}]},
        _review("out-of-range", 1795338000, stars=9),
        {"reviewId": "only-reply", "comments": [{"developerComment": {"text": "hi"}}]},
    ]}
    api = Api({_route(REVIEWS): httpx.Response(200, json=page)})
    with api.client() as client:
        result = fetch(client, _spec(), SourceState("play"))
    assert [m.external_id for m in result.mentions] == ["ok-1"]
    assert len(result.item_errors) == 6 and result.error is None


def test_a_body_that_is_not_json_is_a_clear_error():
    api = Api({_route(REVIEWS): httpx.Response(200, text="<html>oops</html>")})
    with api.client() as client, pytest.raises(FatalError, match="not valid JSON"):
        fetch(client, _spec(), SourceState("play"))


def test_spent_quota_defers_without_sleeping(monkeypatch):
    def no_sleep(seconds):
        raise AssertionError(f"slept {seconds}s")

    monkeypatch.setattr(http_module.time, "sleep", no_sleep)
    quota = httpx.Response(429, json=_load("quota-exceeded.json"))
    with Api({_route(REVIEWS): quota}).client() as client, \
            pytest.raises(RateLimitedError, match="quota") as exc:
        fetch(client, _spec(), SourceState("play"))
    assert exc.value.retry_at is not None
    assert exc.value.retry_at > datetime.now(UTC) + timedelta(minutes=55)  # the hourly bucket
    # After one app was read, a 403 rateLimitExceeded with Retry-After keeps it and defers.
    other = "/androidpublisher/v3/applications/com.acme.other/reviews"
    limited = httpx.Response(403, json={"error": {"code": 403, "errors": [
        {"reason": "userRateLimitExceeded"}]}}, headers={"Retry-After": "600"})
    api = Api({**_pages(), _route(other): limited})
    with api.client() as client:
        result = fetch(client, _spec(params={"apps": [APP, "com.acme.other"]}),
                       SourceState("play"))
    assert len(result.mentions) == 4 and result.error is None
    assert result.deferred_until is not None
    assert result.deferred_until > datetime.now(UTC) + timedelta(minutes=9)
    assert list(result.state.cursors()) == [f"app:{APP}"]


def test_permission_and_unknown_apps_are_clear_errors(monkeypatch):
    denied = httpx.Response(403, json=_load("permission-denied.json"))
    with Api({_route(REVIEWS): denied}).client() as client, \
            pytest.raises(FatalError, match="Reply to reviews"):
        fetch(client, _spec(), SourceState("play"))
    with Api({}).client() as client, pytest.raises(FatalError, match="package name"):
        fetch(client, _spec(), SourceState("play"))


def test_server_errors_and_timeouts_are_clear(monkeypatch):
    api = assert_server_errors_and_timeouts_are_clear(monkeypatch, Api, _route(REVIEWS), fetch,
                                                      _spec())
    assert len(api.requests) == 3  # retried twice by http.py, then given up


def test_the_base_url_is_honoured():
    api = Api({_route("/gateway/play" + REVIEWS): httpx.Response(
        200, json=_load("reviews-page2.json"))})
    with api.client() as client:
        result = fetch(client, _spec(url="https://proxy.test/gateway/play/"),
                       SourceState("play"))
    assert str(api.requests[0].url).startswith(f"https://proxy.test/gateway/play{REVIEWS}")
    assert len(result.mentions) == 1


def test_apps_are_required():
    with Api({}).client() as client, pytest.raises(FatalError, match=r"params\.apps"):
        fetch(client, _spec(params={}), SourceState("play"))
    assert validate(_spec(params={"apps": [], "max_pages": 0}, secrets={})) == [
        "params.apps must list the package names of the apps to read (e.g. [\"com.acme.app\"])",
        "params.max_pages must be an integer ≥ 1",
        f"no {KEY} (or {ACCESS_TOKEN})",
    ]
    assert validate(_spec()) == []
