"""`earful serve` (the review web app) and `earful users add/list/remove` (who may sign in)."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from earful.clicommon import ConfigOpt, DbOpt, console, err, fail, require_database, settings_for

__all__ = ["app"]

app = typer.Typer()
users_app = typer.Typer(help="People who may sign in to the review web app.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    config: ConfigOpt = None,
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
) -> None:
    """Run the review web app: the ticket queue, ticket pages and actions, for signed-in users."""
    import uvicorn

    from sql.store import Store
    from web.accounts import list_users
    from web.app import create_app

    settings = settings_for(config, db, required=False)
    require_database(settings)
    store = Store(settings.db_path)
    application = create_app(settings, store)
    if not any(not u["disabled"] for u in list_users(store)):
        err.print("[yellow]warning:[/] nobody can sign in yet: add someone with "
                  f"`earful users add NAME --db {escape(str(settings.db_path))}`")
    if not _is_loopback(host):
        err.print("[yellow]warning:[/] listening beyond this machine over plain HTTP: put it "
                  "behind an HTTPS reverse proxy (cookies become Secure over HTTPS).")
    console.print(f"Review queue on [bold]http://{escape(host)}:{port}/[/] "
                  f"for {escape(str(settings.db_path))} (Ctrl+C stops it)")
    # proxy_headers: behind a reverse proxy on this machine, X-Forwarded-Proto marks HTTPS.
    uvicorn.run(application, host=host, port=port, proxy_headers=True, server_header=False,
                log_level="info")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="sign-in name (letters, digits, . _ @ -)")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="read the password from the first line of stdin "
        "(for scripts) instead of prompting")] = False,
    reset: Annotated[bool, typer.Option(
        "--reset", help="set a new password for an existing user (signs them out)")] = False,
) -> None:
    """Add a user who may sign in to the review web app (the password is asked for, never
    taken as an argument, and stored only as a salted scrypt hash)."""
    from sql.store import Store
    from web.accounts import AccountError, add_user

    settings = settings_for(config, db, required=False)
    password = _read_password(password_stdin)
    try:
        created = add_user(Store(settings.db_path), name, password, reset=reset)
    except AccountError as exc:
        raise fail(str(exc)) from None
    verb = "Added" if created else "Set a new password for"
    console.print(f"{verb} [bold]{escape(name)}[/] in {escape(str(settings.db_path))}. "
                  f"Start the web app with `earful serve --db {escape(str(settings.db_path))}`.")


@users_app.command("list")
def users_list(config: ConfigOpt = None, db: DbOpt = None) -> None:
    """List the users of the review web app."""
    from sql.store import Store
    from web.accounts import list_users

    settings = settings_for(config, db, required=False)
    require_database(settings)
    rows = list_users(Store(settings.db_path))
    if not rows:
        console.print("No users yet: add one with `earful users add NAME`.")
    for row in rows:
        state = "disabled" if row["disabled"] else f"{row['live_sessions']} live sessions"
        console.print(f"{escape(row['name'])}  (since {row['created_at']:%Y-%m-%d}, {state})")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="the user to remove")],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Remove a user and end their sessions (their name stays on past ticket events)."""
    from sql.store import Store
    from web.accounts import AccountError, remove_user

    settings = settings_for(config, db, required=False)
    require_database(settings)  # else a mistyped --db would leave an empty database behind
    try:
        remove_user(Store(settings.db_path), name)
    except AccountError as exc:
        raise fail(str(exc)) from None
    console.print(f"Removed {escape(name)}.")


def _set_disabled(name: str, config: Path | None, db: Path | None, disabled: bool) -> None:
    from sql.store import Store
    from web.accounts import AccountError, set_disabled

    settings = settings_for(config, db, required=False)
    require_database(settings)
    try:
        set_disabled(Store(settings.db_path), name, disabled)
    except AccountError as exc:
        raise fail(str(exc)) from None
    console.print(f"{'Disabled' if disabled else 'Enabled'} {escape(name)}.")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="the user to disable")],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Stop a user signing in and end their sessions, keeping the account (`enable` undoes)."""
    _set_disabled(name, config, db, True)


@users_app.command("enable")
def users_enable(
    name: Annotated[str, typer.Argument(help="the user to enable")],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(name, config, db, False)
