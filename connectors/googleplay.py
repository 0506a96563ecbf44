"""Google Play: the reviews of the brand's own apps from the Play Developer API
(androidpublisher v3 `reviews.list`), authorised with a service account. Reviews come newest
first (created or last modified) and only for the last week; each app keeps the newest
modification time it has seen and the next poll reads back to a little before it.

The service account's JSON key never leaves this module: it is parsed, signs one JWT
(google-auth) that is exchanged for an access token through the injected client, and no
message, log line, URL or `raw` payload carries the key, the assertion or the token."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import (
    Author,
    Connector,
    Engagement,
    FetchResult,
    Mention,
    SourceSpec,
    SourceState,
)
from connectors.errors import ConnectorError, FatalError, RateLimitedError, SkippableError
from connectors.fields import count, integer, lang_code
from connectors.google import google_error
from connectors.http import parse_json, request
from connectors.polling import id_list_param, int_param, int_param_problems, overlap_param
from connectors.reviews import ReviewPoll
from connectors.text import normalize_whitespace

__all__ = ["CONNECTOR", "access_token", "fetch", "to_mention", "validate"]

NAME = "googleplay"

DEFAULT_BASE = "https://androidpublisher.googleapis.com"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
KEY = "GOOGLE_PLAY_SERVICE_ACCOUNT_JSON"
ACCESS_TOKEN = "GOOGLE_PLAY_ACCESS_TOKEN"
_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google's largest assertion lifetime (developers.google.com/identity/protocols/oauth2/
# service-account: "exp ... a maximum of 1 hour after the issued time").
_JWT_LIFETIME_S = 3600
# "By default, 10 reviews appear on each page. You can display up to 100 reviews per page
# by setting the maxResults parameter" (android-publisher/reply-to-reviews).
PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 5
# A review's position follows its last modification; one edited while we paged moves up.
# Re-reading an hour before the newest time seen is cheap (one page) and ids dedupe.
DEFAULT_OVERLAP = timedelta(hours=1)
# The reviews GET quota is counted per app and hour (200 an hour by default, Play Console
# "Reply to Reviews API quota request" form): a spent quota waits for the next hour.
QUOTA_WAIT = timedelta(hours=1)
_QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                            "dailyLimitExceeded"})
# Public review link: the listing opened on that review.
_REVIEW_URL = "https://play.google.com/store/apps/details?id={package}&reviewId={review}"


def _timestamp(value: Any) -> datetime:
    """A protobuf Timestamp in JSON: {"seconds": "1443676826" (int64 as string), "nanos"}."""
    if not isinstance(value, Mapping):
        raise ValueError("lastModified is missing")
    seconds = integer(value.get("seconds"))
    if seconds is None:
        raise ValueError(f"lastModified.seconds is not a number: {value.get('seconds')!r}")
    nanos = count(value.get("nanos")) or 0
    return datetime.fromtimestamp(seconds + nanos / 1e9, UTC)


def to_mention(review: Mapping[str, Any], *, package: str) -> Mention:
    """One Review resource as a Mention. Pure. The user's comment gives the text, stars,
    thumbs-up and time; a developer comment (the app's reply) makes `replies` 1 and stays in
    `raw`. Reviews written with a title carry it before a tab in `text`."""
    review_id = review.get("reviewId")
    if not isinstance(review_id, str) or not review_id:
        raise ValueError("review without a reviewId")
    comments = review.get("comments")
    if not isinstance(comments, list):
        raise ValueError(f"review {review_id} has no comments list")
    user = next((c["userComment"] for c in comments
                 if isinstance(c, Mapping) and isinstance(c.get("userComment"), Mapping)), None)
    if user is None:
        raise ValueError(f"review {review_id} has no userComment")
    replied = any(isinstance(c, Mapping) and isinstance(c.get("developerComment"), Mapping)
                  for c in comments)
    body = user.get("text")
    if not isinstance(body, str):
        raise ValueError(f"review {review_id}: userComment.text is not a string")
    title, tab, rest = body.partition("\t")
    stars = user.get("starRating")
    if stars is not None and (isinstance(stars, bool) or not isinstance(stars, int)):
        raise ValueError(f"review {review_id}: starRating is not an integer")
    lang = user.get("reviewerLanguage")
    author = review.get("authorName")
    return Mention(
        source=NAME,
        external_id=review_id,
        url=_REVIEW_URL.format(package=quote(package, safe="."),
                               review=quote(review_id, safe="")),
        title=(normalize_whitespace(title) or None) if tab else None,
        text=normalize_whitespace(rest if tab else body),
        published_at=_timestamp(user.get("lastModified")),
        # Reviewers are known by name only: no id, handle, profile or followers.
        author=Author(name=(normalize_whitespace(author) or None)
                      if isinstance(author, str) else None),
        engagement=Engagement(likes=count(user.get("thumbsUpCount")),
                              replies=1 if replied else 0),
        # The device's language ("en_GB"): a hint, not a guarantee of the text's language.
        lang=lang_code(lang.replace("_", "-")) if isinstance(lang, str) else None,
        rating=float(stars) if stars else None,
        raw=review,
    )


def _service_account(value: Any, source: str) -> Mapping[str, Any]:
    """The key as a mapping: a Prefect Secret block may hold it parsed, the environment as
    JSON text. No error repeats any part of it."""
    info = value
    if isinstance(value, (str, bytes)):
        try:
            info = json.loads(value)
        except ValueError:
            info = None
    if not isinstance(info, Mapping):
        raise FatalError(f"{source}: {KEY} is not a JSON object (the contents of a service "
                         "account key file)", source=source)
    missing = [k for k in ("client_email", "private_key") if not isinstance(info.get(k), str)]
    if missing:
        raise FatalError(f"{source}: {KEY} has no {' or '.join(missing)}: is it a service "
                         "account key?", source=source)
    return info


def access_token(client: httpx.Client, info: Mapping[str, Any], *, source: str,
                 token_url: str | None = None) -> str:
    """Exchange a JWT signed with the service account's key for an access token
    (OAuth 2.0 JWT bearer grant, RFC 7523). The assertion's audience is the key's
    token_uri; the POST goes to `token_url` when set (a proxy, a test server)."""
    from google.auth import crypt, jwt  # imported here: only Play sources need it

    try:
        signer = crypt.RSASigner.from_service_account_info(info)
    except Exception:  # any parse failure; the key must not reach the message or a trace
        raise FatalError(f"{source}: the private_key in {KEY} cannot be read",
                         source=source) from None
    audience = str(info.get("token_uri") or DEFAULT_TOKEN_URL)
    issued = int(datetime.now(UTC).timestamp())
    claims = {"iss": info["client_email"], "scope": SCOPE, "aud": audience,
              "iat": issued, "exp": issued + _JWT_LIFETIME_S}
    assertion = jwt.encode(signer, claims).decode("ascii")
    url = token_url or audience
    try:
        response = request(client, "POST", url, source=source,
                           headers={"Accept": "application/json"},
                           form={"grant_type": _GRANT, "assertion": assertion})
    except RateLimitedError:
        raise
    except ConnectorError as exc:
        if exc.status in (400, 401, 403):
            reason = _json_field(exc.body, "error")
            raise FatalError(f"{source}: {url} refused the service account (HTTP {exc.status}"
                             + (f" {reason}" if reason else "") + f"): check {KEY} and that "
                             "the account may use the Play Developer API", source=source,
                             status=exc.status) from None
        raise
    data = parse_json(response, source)
    token = data.get("access_token") if isinstance(data, Mapping) else None
    if not isinstance(token, str) or not token:
        raise FatalError(f"{source}: {url} answered without an access_token", source=source)
    return token


def _json_field(body: str | None, key: str) -> str | None:
    """A short string field of a JSON error body (OAuth's `error`), never the whole body."""
    try:
        value = json.loads(body or "").get(key)
    except (ValueError, AttributeError):
        return None
    return value[:60] if isinstance(value, str) else None


def _quota_reason(body: str | None) -> str | None:
    """The reason a Google API error body gives when it says a quota or rate limit is
    spent."""
    error = google_error(body)
    reasons = [*error.reasons, *(["RESOURCE_EXHAUSTED"] if error.status == "RESOURCE_EXHAUSTED"
                                 else [])]
    return next((r for r in reasons if r in _QUOTA_REASONS or r == "RESOURCE_EXHAUSTED"), None)


def _apps(source: SourceSpec) -> list[str]:
    return id_list_param(source, "apps", "the package names of the apps to read (e.g. "
                         "[\"com.acme.app\"])")


@dataclass(kw_only=True)
class _Poll(ReviewPoll):
    translation: str | None

    def refused(self, exc: ConnectorError, where: str) -> None:
        name, package = self.source.name, where
        reason = _quota_reason(exc.body)
        if isinstance(exc, RateLimitedError) or reason:
            retry_at = getattr(exc, "retry_at", None) or datetime.now(UTC) + QUOTA_WAIT
            raise RateLimitedError(
                f"{name}: {package}: quota spent (HTTP {exc.status}"
                + (f" {reason}" if reason else "") + f"); resumes {retry_at:%H:%M} UTC",
                retry_at=retry_at, source=name, status=exc.status) from None
        if exc.status == 404:
            raise FatalError(f"{name}: {package}: not found (HTTP 404): is the package "
                             "name right and the app in this developer account?",
                             source=name, status=404) from None
        if exc.status == 403:
            raise FatalError(f"{name}: {package}: HTTP 403: the service account needs "
                             "the \"Reply to reviews\" permission for this app",
                             source=name, status=403) from None

    def app(self, package: str) -> None:
        """Read one app's reviews, newest first, back to the overlap before its cursor. The
        cursor moves only once the app is read, so a failure re-reads it next poll."""
        reading = self.reading(f"app:{package}")
        query: dict[str, Any] = {"maxResults": PAGE_SIZE}
        if self.translation:
            query["translationLanguage"] = self.translation
        path = f"/androidpublisher/v3/applications/{quote(package, safe='')}/reviews"
        for _ in range(self.max_pages):
            data = self.get_object(path, query, where=package, call="reviews.list")
            self.take(reading, self.review_list(data, package),
                      partial(to_mention, package=package), package)
            paging = data.get("tokenPagination")
            token = paging.get("nextPageToken") if isinstance(paging, Mapping) else None
            if not token or reading.past_floor:
                break
            query["token"] = token
        else:
            self.page_cap(package, self.max_pages, "older reviews skipped")
        self.finish(reading, "microseconds")


def fetch(client: httpx.Client, source: SourceSpec, state: SourceState) -> FetchResult:
    apps = _apps(source)
    params = source.params
    key, token = source.secrets.get(KEY), source.secrets.get(ACCESS_TOKEN)
    if not key and not token:
        raise SkippableError(f"{source.name}: missing credentials {KEY} (or {ACCESS_TOKEN})",
                             source=source.name)
    poll = _Poll(
        source=source, state=state, client=client, base=source.base(DEFAULT_BASE),
        headers={"Accept": "application/json"},
        max_pages=int_param(source, "max_pages", DEFAULT_MAX_PAGES),
        overlap=overlap_param(source, DEFAULT_OVERLAP),
        translation=str(params["translation_language"])
        if params.get("translation_language") else None,
    )
    if key:  # a key mints fresh tokens; a ready token is for when no key is at hand
        token_url = params.get("token_url")
        token = access_token(client, _service_account(key, source.name), source=source.name,
                             token_url=str(token_url) if token_url else None)
    poll.headers["Authorization"] = f"Bearer {token}"
    poll.run(lambda p=p: poll.app(p) for p in apps)
    return poll.result()


def validate(source: SourceSpec) -> list[str]:
    problems = []
    try:
        _apps(source)
    except FatalError as exc:
        problems.append(str(exc).split(": ", 1)[-1])
    problems += int_param_problems(source.params, {"max_pages": 1, "overlap_minutes": 0})
    if not source.secrets.get(KEY) and not source.secrets.get(ACCESS_TOKEN):
        problems.append(f"no {KEY} (or {ACCESS_TOKEN})")
    return problems


CONNECTOR = Connector(
    name=NAME,
    summary="Google Play: the reviews of your own apps (Play Developer API reviews.list, "
    "last week only), stars, thumbs-up, app version, device and your reply; one cursor per "
    "app. Set the source's `about` to the brand so reviews count whether they name it.",
    fetch=fetch,
    settings={
        "url": f"the API base (default {DEFAULT_BASE})",
        "params.apps": "package names of the apps to read (required), e.g. [\"com.acme.app\"]",
        "params.translation_language": "have Google translate reviews into this language "
        "(e.g. 'en'); the original stays in raw as originalText",
        "params.max_pages": f"pages of {PAGE_SIZE} reviews per app and poll "
        f"(default {DEFAULT_MAX_PAGES})",
        "params.overlap_minutes": "how far before the newest review seen each poll re-reads "
        f"(default {int(DEFAULT_OVERLAP.total_seconds() // 60)})",
        "params.token_url": "where to exchange the signed JWT for a token (default: the "
        f"key's token_uri, else {DEFAULT_TOKEN_URL})",
    },
    # One of the two is needed (validate says so when neither is set): a ready token is the
    # alternative to the key, so neither is listed as required on its own.
    optional_secrets={
        KEY: "the service account's JSON key (the file's contents; this or "
             f"{ACCESS_TOKEN} is required); the account needs the \"Reply to reviews\" "
             "permission in Play Console",
        ACCESS_TOKEN: "a ready OAuth access token (androidpublisher scope), used only when "
                      "no JSON key is set",
    },
    validate=validate,
)
