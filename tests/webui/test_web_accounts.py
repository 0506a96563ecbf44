"""Users and sessions of the review web app: hashed passwords, `earful users`, sessions that
end, and nothing in the database that lets anyone sign in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from earful.cli import app
from sql.store import Store
from web.accounts import (
    SESSION_LIFETIME,
    AccountError,
    LoginThrottle,
    add_user,
    authenticate,
    csrf_token_for,
    end_session,
    list_users,
    remove_user,
    session_for,
    start_session,
)
from web.passwords import hash_password, verify_password

PASSWORD = "a long enough passphrase"


def test_password_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$32768$8$1$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first)
    assert not verify_password(PASSWORD + "!", first)
    assert not verify_password(PASSWORD, None)
    assert not verify_password(PASSWORD, "plain-text-in-the-db")
    assert not verify_password(PASSWORD, "scrypt$1073741824$8$1$AAAA$AAAA")  # absurd cost


def test_users_add_stores_only_a_hash_and_refuses_duplicates(tmp_path):
    store = Store(tmp_path / "w.duckdb")
    assert add_user(store, "alice", PASSWORD) is True
    with pytest.raises(AccountError, match="exists"):
        add_user(store, "alice", "another passphrase")
    with pytest.raises(AccountError, match="at least"):
        add_user(store, "bob", "short")
    with pytest.raises(AccountError, match="user name"):
        add_user(store, "<script>", PASSWORD)
    assert authenticate(store, "alice", PASSWORD)
    assert not authenticate(store, "alice", "wrong passphrase!")
    assert not authenticate(store, "nobody", PASSWORD)
    with store.connect() as con:
        dump = str(con.execute("SELECT * FROM users").fetchall())
    assert PASSWORD not in dump and "scrypt$" in dump
    assert [u["name"] for u in list_users(store)] == ["alice"]


def test_reset_sets_a_new_password_and_ends_sessions(tmp_path):
    store = Store(tmp_path / "w.duckdb")
    add_user(store, "alice", PASSWORD)
    session = start_session(store, "alice")
    assert add_user(store, "alice", "the new passphrase", reset=True) is False
    assert session_for(store, session.token) is None
    assert authenticate(store, "alice", "the new passphrase")
    assert not authenticate(store, "alice", PASSWORD)


def test_sessions_store_only_a_token_hash_expire_and_end(tmp_path):
    store = Store(tmp_path / "w.duckdb")
    add_user(store, "alice", PASSWORD)
    now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    session = start_session(store, "alice", now=now)
    with store.connect() as con:
        dump = str(con.execute("SELECT * FROM web_sessions").fetchall())
    assert session.token not in dump and session.csrf_token not in dump
    assert session.csrf_token == csrf_token_for(session.token) != csrf_token_for("other")
    assert session_for(store, session.token, now=now + timedelta(hours=1)).user == "alice"
    assert session_for(store, session.token, now=now + SESSION_LIFETIME) is None
    assert session_for(store, "forged-token", now=now) is None
    assert session_for(store, None) is None
    live = start_session(store, "alice")
    end_session(store, live.token)
    assert session_for(store, live.token) is None


def test_removing_a_user_ends_their_sessions(tmp_path):
    store = Store(tmp_path / "w.duckdb")
    add_user(store, "alice", PASSWORD)
    session = start_session(store, "alice")
    remove_user(store, "alice")
    assert session_for(store, session.token) is None
    assert not authenticate(store, "alice", PASSWORD)
    with pytest.raises(AccountError, match="no user"):
        remove_user(store, "alice")


def test_login_throttle_blocks_after_repeated_failures():
    throttle = LoginThrottle(limit=3, window_s=3600)
    for _ in range(3):
        assert not throttle.blocked("Mallory")
        throttle.failed("mallory")
    assert throttle.blocked("MALLORY")
    assert not throttle.blocked("alice")
    throttle.succeeded("mallory")
    assert not throttle.blocked("mallory")


def test_cli_users_add_list_remove(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    runner = CliRunner()
    env = {"EARFUL_CONFIG": str(tmp_path / "absent.toml")}
    added = runner.invoke(app, ["users", "add", "carol", "--db", db, "--password-stdin"],
                          input=PASSWORD + "\n", env=env)
    assert added.exit_code == 0, added.output
    assert "Added carol" in added.output and PASSWORD not in added.output
    again = runner.invoke(app, ["users", "add", "carol", "--db", db, "--password-stdin"],
                          input=PASSWORD + "\n", env=env)
    assert again.exit_code == 2 and "--reset" in again.output
    prompted = runner.invoke(app, ["users", "add", "dave", "--db", db],
                             input=f"{PASSWORD}\n{PASSWORD}\n", env=env)
    assert prompted.exit_code == 0, prompted.output
    assert authenticate(Store(db), "dave", PASSWORD)
    listed = runner.invoke(app, ["users", "list", "--db", db], env=env)
    assert "carol" in listed.output and "dave" in listed.output
    removed = runner.invoke(app, ["users", "remove", "carol", "--db", db], env=env)
    assert removed.exit_code == 0
    assert [u["name"] for u in list_users(Store(db))] == ["dave"]


def test_cli_users_disable_and_enable(tmp_path):
    db = str(tmp_path / "off.duckdb")
    store = Store(db)
    add_user(store, "erin", PASSWORD)
    session = start_session(store, "erin")
    runner = CliRunner()
    env = {"EARFUL_CONFIG": str(tmp_path / "absent.toml")}
    off = runner.invoke(app, ["users", "disable", "erin", "--db", db], env=env)
    assert off.exit_code == 0 and "Disabled erin" in off.output
    assert session_for(store, session.token) is None
    assert not authenticate(store, "erin", PASSWORD)
    assert "disabled" in runner.invoke(app, ["users", "list", "--db", db], env=env).output
    on = runner.invoke(app, ["users", "enable", "erin", "--db", db], env=env)
    assert on.exit_code == 0 and authenticate(store, "erin", PASSWORD)
    missing = runner.invoke(app, ["users", "disable", "nobody", "--db", db], env=env)
    assert missing.exit_code == 2 and "no user named" in missing.output
