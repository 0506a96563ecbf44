"""What every route shares: rendering a page, the signed-in session, and the checks a
state-changing form must pass (a session, a valid CSRF token, our own origin)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sql.store import Store
from web.accounts import Session, session_for
from web.security import FormError, read_form, same_origin

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "CsrfForm",
    "Db",
    "Form",
    "LoginRequired",
    "OptionalSession",
    "SignedIn",
    "login_required_response",
    "render",
    "set_cookie",
]

SESSION_COOKIE = "earful_session"
LOGIN_CSRF_COOKIE = "earful_login_csrf"


class LoginRequired(Exception):
    """The request needs a signed-in user and has none."""


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    session: Session | None = getattr(request.state, "session", None)
    env = request.app.state.env
    html = env.get_template(template).render(
        user=session.user if session else None,
        csrf_token=session.csrf_token if session else "",
        now=datetime.now(UTC),
        **(context or {}),
    )
    return HTMLResponse(html, status_code=status_code)


def set_cookie(request: Request, response: Response, name: str, value: str, *,
               max_age: int | None, path: str = "/", samesite: str = "lax") -> None:
    """HttpOnly always; Secure whenever the page came over HTTPS (directly or through a proxy
    uvicorn trusts), so a deployment behind TLS never leaks the cookie over plain HTTP."""
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        secure=request.url.scheme == "https", samesite=samesite)  # type: ignore[arg-type]


def _request_store(request: Request) -> Iterator[Store]:
    """One DuckDB connection for the whole request: opening one costs ~30 ms and a ticket
    page runs half a dozen queries. Each request has its own Store, so concurrent requests
    never share a connection; it closes (and frees the file) when the response is ready."""
    shared: Store = request.app.state.store
    store = Store(shared.path, lock_timeout_s=shared.lock_timeout_s)
    with store.session():
        request.state.store = store
        yield store


Db = Annotated[Store, Depends(_request_store)]


def _optional_session(request: Request, store: Db) -> Session | None:
    # Plain defs: FastAPI runs them in the thread pool, off the event loop, as DuckDB blocks.
    session = session_for(store, request.cookies.get(SESSION_COOKIE))
    request.state.session = session
    return session


def _require_session(session: Annotated[Session | None, Depends(_optional_session)]) -> Session:
    if session is None:
        raise LoginRequired
    return session


async def _form(request: Request) -> dict[str, str]:
    try:
        return await read_form(request)
    except FormError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _csrf_form(request: Request, session: Annotated[Session, Depends(_require_session)],
               form: Annotated[dict[str, str], Depends(_form)]) -> dict[str, str]:
    token = form.get("csrf_token", "")
    if not same_origin(request) or not hmac.compare_digest(
            token.encode("utf-8"), session.csrf_token.encode("utf-8")):
        raise HTTPException(403, "The form's security token is missing or stale. Reload the "
                                 "page and try again.")
    return form


OptionalSession = Annotated[Session | None, Depends(_optional_session)]
SignedIn = Annotated[Session, Depends(_require_session)]
Form = Annotated[dict[str, str], Depends(_form)]
CsrfForm = Annotated[dict[str, str], Depends(_csrf_form)]


def login_required_response(request: Request) -> Response:
    """A page asks for sign-in and comes back afterwards; anything else is refused (401)."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    request.state.session = None
    return render(request, "error.html", {"status": 401, "message": "Sign in first."}, 401)
