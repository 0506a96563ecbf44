"""A loopback HTTP server that replays fixed responses and honours conditional GETs
(ETag / If-None-Match, Last-Modified / If-Modified-Since). The demo serves its sample feeds
with it; the tests serve their fixtures with it."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

__all__ = ["FixtureServer", "Route", "routes_from_dir", "serve"]

_FIXED_LAST_MODIFIED = "Sat, 21 Nov 2026 09:00:00 GMT"
_TYPES = {".xml": "application/xml", ".rss": "application/rss+xml",
          ".atom": "application/atom+xml", ".json": "application/json",
          ".html": "text/html; charset=utf-8"}


@dataclass(slots=True)
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/xml"
    headers: Mapping[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer 304 to a matching If-None-Match / If-Modified-Since

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def routes_from_dir(folder: Path, prefix: str = "/") -> dict[str, Route]:
    """Every file in `folder` served at prefix + file name."""
    return {
        prefix + path.name: Route(path.read_bytes(),
                                  content_type=_TYPES.get(path.suffix, "application/octet-stream"))
        for path in sorted(folder.iterdir()) if path.is_file()
    }


class FixtureServer:
    def __init__(self, routes: Mapping[str, Route] | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("fixture server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of each request to `path` (query string ignored unless given)."""
        return [headers for p, headers in self.requests
                if p == path or ("?" not in path and p.split("?", 1)[0] == path)]

    def match(self, target: str) -> Route | None:
        """The route for a request target: an exact match, else the route on the same path
        whose query parameters are the largest subset of the request's, else the bare path.
        Lets fixtures tell pages apart by cursor (`/search?after=t3_2`) whatever the order
        or extra parameters of the request."""
        if target in self.routes:
            return self.routes[target]
        path, _, query = target.partition("?")
        asked = set(parse_qsl(query, keep_blank_values=True))
        best: tuple[int, Route] | None = None
        for key, route in self.routes.items():
            key_path, _, key_query = key.partition("?")
            if key_path != path:
                continue
            wanted = set(parse_qsl(key_query, keep_blank_values=True))
            if wanted <= asked and (best is None or len(wanted) > best[0]):
                best = (len(wanted), route)
        return best[1] if best else None

    def start(self) -> FixtureServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                self.do_GET()

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.path, headers))
                route = server.match(self.path)
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                extra = dict(route.headers)
                if route.status == 200 and route.conditional:
                    extra.setdefault("ETag", route.etag)
                    extra.setdefault("Last-Modified", _FIXED_LAST_MODIFIED)
                    if self._not_modified(headers, extra):
                        self._send(304, b"", route.content_type, extra)
                        return
                self._send(route.status, route.body, route.content_type, extra)

            def _not_modified(self, headers: dict[str, str], extra: dict[str, str]) -> bool:
                if "if-none-match" in headers:
                    tags = {t.strip() for t in headers["if-none-match"].split(",")}
                    return extra["ETag"] in tags or "*" in tags
                if "if-modified-since" in headers:
                    try:
                        since = parsedate_to_datetime(headers["if-modified-since"])
                        modified = parsedate_to_datetime(extra["Last-Modified"])
                    except (TypeError, ValueError):
                        return False
                    return modified <= since
                return False

            def _send(self, status: int, body: bytes, content_type: str,
                      headers: Mapping[str, str]) -> None:
                self.send_response(status)
                if status != 304:
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test and demo output clean

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="earful-fixture-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@contextmanager
def serve(routes: Mapping[str, Route]) -> Iterator[FixtureServer]:
    server = FixtureServer(routes).start()
    try:
        yield server
    finally:
        server.stop()
