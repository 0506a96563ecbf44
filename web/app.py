"""The review web app: a FastAPI application rendering Jinja pages, with no front-end build
(one static script for the keyboard, one stylesheet)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from earful.settings import Settings
from sql.store import LockTimeoutError, Store
from web.accounts import LoginThrottle
from web.auth_routes import router as auth_router
from web.deps import LoginRequired, login_required_response, render
from web.desk_routes import router as desk_router
from web.security import SecurityHeaders
from web.templating import make_environment

__all__ = ["create_app"]


async def _login_required(request: Request, exc: Exception) -> Response:
    return login_required_response(request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not hasattr(request.state, "session"):
        request.state.session = None
    message = exc.detail if isinstance(exc.detail, str) else "Something went wrong."
    return render(request, "error.html", {"status": exc.status_code, "message": message},
                  exc.status_code)


async def _bad_parameters(request: Request, exc: Exception) -> Response:
    # FastAPI's default is a JSON 422; people reach these URLs in a browser.
    if not hasattr(request.state, "session"):
        request.state.session = None
    return render(request, "error.html", {"status": 400, "message":
                  "The address has a parameter this page cannot use (too long?)."}, 400)


async def _database_busy(request: Request, exc: Exception) -> Response:
    # A flow held the DuckDB file longer than a request waits: say so, rather than a bare 500.
    if not hasattr(request.state, "session"):
        request.state.session = None
    response = render(request, "error.html", {"status": 503, "message":
                      "The database is busy (a listening run is writing to it). Nothing was "
                      "changed: try again in a minute."}, 503)
    response.headers["retry-after"] = "30"
    return response


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The app for one database. The schema is brought up to date here, once."""
    store = store or Store(settings.db_path)
    store.migrate()
    app = FastAPI(title="earful review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = store
    app.state.env = make_environment()
    app.state.throttle = LoginThrottle()
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(packages=[("web", "static")]), name="static")
    app.include_router(auth_router)
    app.include_router(desk_router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _bad_parameters)
    app.add_exception_handler(LockTimeoutError, _database_busy)
    return app
