"""The web app's defences that are not about accounts: response headers, which URLs may
become links, where a redirect may go, and reading a form body within limits."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSP",
    "MAX_FORM_BYTES",
    "FormError",
    "SecurityHeaders",
    "http_url",
    "local_path",
    "read_form",
    "same_origin",
]

# Scripts and styles only from our own /static files: no inline script can run, whatever a
# mention smuggles into the page. No frames around us (clickjacking), forms post only to us.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Mention links go to third-party sites: they learn nothing about the desk's URLs.
    # (Not "no-referrer": with it Chromium sends "Origin: null" on our own form posts.)
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
MAX_FORM_BYTES = 64 * 1024  # a reply or a note; anything larger is not a person typing
_MAX_LOCAL_PATH = 2000
_MAX_FIELDS = 32
# Browsers drop or ignore ASCII controls and spaces inside URLs ("java\tscript:"), so a URL
# containing any of them is not trusted at all rather than cleaned.
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\"'<>\\`]")


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response (static files and
    errors included) and keeping signed-in pages out of shared caches."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                if not is_static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            # Starlette's ServerErrorMiddleware sits outside every added middleware, so its
            # 500 would go out without these headers: answer here, then let it log the error
            # (it sends nothing once a response has started).
            if not started:
                body = b"Internal Server Error"
                await send_tracked({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())]})
                await send_tracked({"type": "http.response.body", "body": body})
            raise


def http_url(value: object) -> str | None:
    """The URL if it is an absolute http(s) URL safe to put in an href, else None. Anything
    else (javascript:, data:, relative, protocol-relative, odd characters) is shown as text."""
    if not isinstance(value, str) or len(value) > 4096 or _UNSAFE_URL_CHARS.search(value):
        return None
    lowered = value.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme) and len(value) > len(scheme) and value[len(scheme)] != "/":
            return value
    return None


def local_path(value: str | None, default: str) -> str:
    """A redirect target that stays on this site: a path starting with one '/', else the
    default (no open redirect through ?next=)."""
    if (not value or len(value) > _MAX_LOCAL_PATH or not value.startswith("/")
            or value.startswith("//") or _UNSAFE_URL_CHARS.search(value)):
        return default
    return value


def same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from our own pages, by the headers browsers
    set and scripts cannot forge (defence in depth next to the CSRF token)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


class FormError(ValueError):
    """The request body is not a form we accept; status is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as name → first value, refusing large or
    odd bodies (our pages send nothing else; no multipart parser is exposed)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("expected a form", 415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("form too large", 413)
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=_MAX_FIELDS, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("malformed form") from exc
    return {key: values[0] for key, values in parsed.items()}

