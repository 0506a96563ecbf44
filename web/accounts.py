"""Users and sign-in sessions of the review web app, kept in the DuckDB file (migration 0006).

Sessions are server-side rows rather than signed cookies: signing out really ends a session,
removing or disabling a user ends theirs at once, and there is no signing secret to generate,
store and rotate. The browser holds a random token; the table holds only its SHA-256, and the
CSRF token of a session is an HMAC keyed by the session token, so nothing in the file (which
analysts copy and read) lets anyone act as a user."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sql.store import Store, load_query
from web.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password

__all__ = [
    "SESSION_LIFETIME",
    "AccountError",
    "LoginThrottle",
    "Session",
    "add_user",
    "authenticate",
    "csrf_token_for",
    "end_session",
    "list_users",
    "remove_user",
    "session_for",
    "start_session",
    "valid_user_name",
]

# A working day and a bit: long enough not to sign a care agent out mid-shift, short enough
# that a forgotten browser does not stay signed in for good.
SESSION_LIFETIME = timedelta(hours=12)
_MAX_TRACKED = 10_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class AccountError(ValueError):
    """A user cannot be added or removed; the message says why."""


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    token: str  # the browser's token (never stored)
    expires_at: datetime

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.token)


def valid_user_name(name: str) -> bool:
    """Names appear as actors on ticket events and as assignees: letters, digits and ._@-."""
    return bool(_NAME.match(name))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token bound to a session: derivable only by whoever holds the session token."""
    return hmac.new(session_token.encode("utf-8"), b"earful-csrf-v1", hashlib.sha256).hexdigest()


def add_user(store: Store, name: str, password: str, *, reset: bool = False,
             now: datetime | None = None) -> bool:
    """Add a user (or, with reset, set a new password for an existing one and sign them out
    everywhere). Returns whether the user was new."""
    if not valid_user_name(name):
        raise AccountError(f"user name {name!r}: use 1-64 letters, digits and . _ @ - "
                           "(starting with a letter or digit)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hash_password(password)  # outside the transaction: it takes ~0.1 s
    now = now or datetime.now(UTC)
    with store.transaction() as con:
        exists = con.execute(load_query("web_user"), {"name": name}).fetchone() is not None
        if exists and not reset:
            raise AccountError(f"user {name!r} exists; use --reset to set a new password")
        con.execute(load_query("web_upsert_user"),
                    {"name": name, "password_hash": password_hash, "now": now})
        con.execute(load_query("web_delete_user_sessions"), {"name": name})
    return not exists


def remove_user(store: Store, name: str) -> None:
    """Remove a user and end their sessions. Their name stays on past ticket events."""
    with store.transaction() as con:
        if con.execute(load_query("web_user"), {"name": name}).fetchone() is None:
            raise AccountError(f"no user named {name!r}")
        con.execute(load_query("web_delete_user_sessions"), {"name": name})
        con.execute(load_query("web_delete_user"), {"name": name})


def set_disabled(store: Store, name: str, disabled: bool, now: datetime | None = None) -> None:
    """Disable a user (they cannot sign in, their sessions end at once) or enable them again;
    unlike removing, the account and its password stay."""
    with store.transaction() as con:
        if con.execute(load_query("web_user"), {"name": name}).fetchone() is None:
            raise AccountError(f"no user named {name!r}")
        con.execute(load_query("web_set_user_disabled"),
                    {"name": name, "disabled": disabled, "now": now or datetime.now(UTC)})
        if disabled:
            con.execute(load_query("web_delete_user_sessions"), {"name": name})


def list_users(store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    return store.query("web_users", {"now": now or datetime.now(UTC)})


def authenticate(store: Store, name: str, password: str) -> bool:
    """Whether name and password belong to an enabled user (same work either way)."""
    rows = store.query("web_user", {"name": name}) if valid_user_name(name) else []
    row = rows[0] if rows else None
    matches = verify_password(password, row["password_hash"] if row else None)
    return matches and row is not None and not row["disabled"]


def start_session(store: Store, user: str, now: datetime | None = None) -> Session:
    """A new session for a user who just signed in (a fresh token every time, so a token
    planted before sign-in is worthless). Expired sessions are swept on the way."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    expires_at = now + SESSION_LIFETIME
    with store.transaction() as con:
        con.execute(load_query("web_purge_sessions"), {"now": now})
        con.execute(load_query("web_insert_session"), {
            "token_hash": _token_hash(token), "user_name": user, "now": now,
            "expires_at": expires_at})
    return Session(user, token, expires_at)


def session_for(store: Store, token: str | None, now: datetime | None = None) -> Session | None:
    """The live session behind a cookie's token, or None."""
    if not token or len(token) > 128:
        return None
    rows = store.query("web_session_user", {"token_hash": _token_hash(token),
                                            "now": now or datetime.now(UTC)})
    if not rows:
        return None
    return Session(rows[0]["user_name"], token, rows[0]["expires_at"])


def end_session(store: Store, token: str) -> None:
    with store.transaction() as con:
        con.execute(load_query("web_delete_session"), {"token_hash": _token_hash(token)})


class LoginThrottle:
    """Failed sign-ins per user name, in memory: after `limit` failures within `window_s`
    the name is refused until the window has passed, so guessing online stays slow even
    with scrypt's cost spread over many connections."""

    def __init__(self, limit: int = 5, window_s: float = 900.0):
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def blocked(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name.lower(), time.monotonic())) >= self.limit

    def attempt(self, name: str) -> bool:
        """Whether a sign-in for this name may be checked now; if so it is counted as a
        failure at once (succeeded() forgets it). Checking and counting in one step matters:
        password checks take ~0.1 s, so with blocked() then failed() a burst of parallel
        guesses would all pass blocked() before the first failure was recorded."""
        with self._lock:
            key = name.lower()
            now = time.monotonic()
            self._sweep(now)
            recent = self._recent(key, now)
            if len(recent) >= self.limit:
                return False
            self._failures[key] = [*recent, now]
            return True

    def _sweep(self, now: float) -> None:
        if len(self._failures) > _MAX_TRACKED:  # names sprayed at random: drop stale ones
            for other in list(self._failures):
                self._recent(other, now)

    def failed(self, name: str) -> None:
        with self._lock:
            key = name.lower()
            now = time.monotonic()
            self._sweep(now)
            self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.lower(), None)
