"""Signing in and out. The sign-in form has no session yet, so its CSRF token is a random
value in a cookie that the form must echo (double submit); sign-out is a CSRF-checked POST."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.accounts import SESSION_LIFETIME, authenticate, end_session, start_session
from web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfForm,
    Db,
    Form,
    OptionalSession,
    SignedIn,
    render,
    set_cookie,
)
from web.security import local_path, same_origin

__all__ = ["router"]

router = APIRouter()
_LOGIN_FORM_AGE_S = 3600


def _login_page(request: Request, next_path: str, *, error: str | None = None,
                status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html",
                      {"login_csrf": token, "next": next_path, "error": error}, status_code)
    # SameSite=Strict and scoped to /login: it is only ever needed by the sign-in form.
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=_LOGIN_FORM_AGE_S,
               path="/login", samesite="strict")
    return response


@router.get("/login")
def login_form(request: Request, session: OptionalSession,
               # No max_length: local_path drops an over-long target (the sign-in redirect
               # of a long queue URL makes one) instead of failing the page with a 422.
               next_path: Annotated[str | None, Query(alias="next")] = None,
               ) -> Response:
    target = local_path(next_path, "/queue")
    if session is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, target)


@router.post("/login")
def login(request: Request, form: Form, store: Db) -> Response:
    request.state.session = None
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf_token", "")
    if not (cookie and same_origin(request)
            and hmac.compare_digest(sent.encode("utf-8"), cookie.encode("utf-8"))):
        raise HTTPException(403, "The sign-in form expired or did not come from this site. "
                                 "Reload the page and try again.")
    name = form.get("name", "").strip()[:64]
    password = form.get("password", "")[:1024]
    target = local_path(form.get("next"), "/queue")
    throttle = request.app.state.throttle
    # attempt() counts this try before the password is checked, so parallel guesses cannot
    # all slip in under the limit.
    if not throttle.attempt(name):
        return _login_page(request, target, status_code=429,
                           error="Too many failed attempts for this name. Wait 15 minutes.")
    if not authenticate(store, name, password):
        return _login_page(request, target, error="Wrong name or password.", status_code=401)
    throttle.succeeded(name)
    session = start_session(store, name)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, session.token,
               max_age=int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SignedIn, form: CsrfForm) -> Response:
    end_session(request.state.store, session.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
