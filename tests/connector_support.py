"""A fake HTTP API for connector tests, served through httpx.MockTransport: routes keyed by
path and query parameters, the most specific match answering, every request recorded; and
the failure checks every keyed API connector must pass in the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from conftest import make_settings
from connectors import http as http_module
from connectors.base import FetchResult, SourceSpec, SourceState
from connectors.errors import RetriableError, SkippableError
from earful.cycle import fetch_source

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]
Wanted = tuple[tuple[str, str], ...]
Fetch = Callable[[httpx.Client, SourceSpec, SourceState], FetchResult]


def route(path: str, **params: str) -> tuple[str, Wanted]:
    """A route key: the path and the query parameters a request must carry (others may be
    there too)."""
    return (path, tuple(sorted(params.items())))


class RoutedApi:
    """Answers a request with the route whose path matches and whose parameters it carries,
    the one naming the most parameters winning; a request no route matches gets a 404 with
    `not_found` as its JSON body (each API words it its own way: a subclass names it, as in
    `class Api(RoutedApi, not_found={"message": "Not found"})`)."""

    not_found: ClassVar[Any] = None

    def __init_subclass__(cls, not_found: Any = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.not_found = not_found

    def __init__(self, routes: Mapping[Any, Answer]):
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def wanted(self, key: Any, request: httpx.Request) -> Wanted | None:
        """The parameters route `key` asks for, if its path is the request's; else None."""
        path, wanted = key
        return wanted if path == request.url.path else None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = dict(request.url.params)
        best = None
        for key, answer in self.routes.items():
            wanted = self.wanted(key, request)
            if (wanted is not None and all(params.get(k) == v for k, v in wanted)
                    and (best is None or len(wanted) > best[0])):
                best = (len(wanted), answer)
        if best is None:
            return httpx.Response(404, json=self.not_found)
        answer = best[1]
        return answer(request) if callable(answer) else answer

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def assert_server_errors_and_timeouts_are_clear(
    monkeypatch: pytest.MonkeyPatch, api: type[RoutedApi], key: Any, fetch: Fetch,
    spec: SourceSpec, timeout: type[httpx.TimeoutException] = httpx.ReadTimeout,
) -> RoutedApi:
    """A 500 at route `key`, then a timeout there, fail the fetch as RetriableErrors that
    say so; returns the API that timed out (its requests show the retries)."""
    monkeypatch.setattr(http_module, "RETRY_BACKOFF_S", 0)

    def time_out(request: httpx.Request) -> httpx.Response:
        raise timeout("slow", request=request)

    with api({key: httpx.Response(500)}).client() as client, \
            pytest.raises(RetriableError, match="HTTP 500"):
        fetch(client, spec, SourceState(spec.name))
    slow = api({key: time_out})
    with slow.client() as client, pytest.raises(RetriableError, match="timed out"):
        fetch(client, spec, SourceState(spec.name))
    return slow


def assert_missing_key_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             api: type[RoutedApi], fetch: Fetch, spec: SourceSpec,
                             source: Mapping[str, Any], key: str) -> None:
    """Without the secret `key`, `spec` (given without secrets) and the configured `source`
    (the variable unset) are skipped, naming the variable."""
    monkeypatch.delenv(key, raising=False)
    with api({}).client() as client:
        with pytest.raises(SkippableError, match=key):
            fetch(client, spec, SourceState(spec.name))
        settings = make_settings(tmp_path, [dict(source)])
        outcome = fetch_source(client, settings.sources[0], SourceState(spec.name), settings)
    assert outcome.status == "skipped" and key in outcome.message


def assert_bad_key_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 api: RoutedApi, source: Mapping[str, Any], key: str,
                                 value: str) -> None:
    """A configured `source` whose key `value` the API refuses (`api` answers 401) fails
    with a message that says so and never shows the key."""
    monkeypatch.setenv(key, value)
    settings = make_settings(tmp_path, [dict(source)])
    with api.client() as client:
        outcome = fetch_source(client, settings.sources[0], SourceState(source["name"]),
                               settings)
    assert outcome.status == "error" and "HTTP 401" in outcome.message
    assert "check credentials" in outcome.message and value not in outcome.message
