"""`earful doctor`'s secrets report (README "Running it with Prefect" → Secrets): missing
secrets are named, with the Prefect Secret block each may live in, and a value that is set
never appears in the output, whether it comes from the environment or from a block."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import earful.doctor
from conftest import write_config
from earful.cli import app

runner = CliRunner()

X_VALUE = "x-token-VALUE-must-not-print-4242"
SLACK_VALUE = "https://hooks.example.test/slack-VALUE-must-not-print-777"
BLOCK_VALUE = "youtube-VALUE-from-a-block-must-not-print-9191"
MOTHERDUCK_VALUE = "motherduck-VALUE-must-not-print-5151"

CONFIG = """
[[brands]]
name = "Acme"
terms = ["Acme"]

[[sources]]
name = "tweets"
kind = "x"

[[sources]]
name = "videos"
kind = "youtube"

[notifications.channels.care]
sink = "slack"

[notifications.channels.issues]
sink = "github"
repo = "acme/care"
"""

SECRET_VARS = ("X_BEARER_TOKEN", "YOUTUBE_API_KEY", "EARFUL_SLACK_WEBHOOK_URL",
               "EARFUL_GITHUB_TOKEN", "motherduck_token", "MOTHERDUCK_TOKEN")


def doctor(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["doctor", *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


@pytest.fixture
def env(monkeypatch):
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("X_BEARER_TOKEN", X_VALUE)
    monkeypatch.setenv("EARFUL_SLACK_WEBHOOK_URL", SLACK_VALUE)
    return monkeypatch


def test_missing_secrets_are_named_and_values_never_printed(tmp_path, env):
    env.setattr(earful.doctor, "prefect_api_url", lambda: None)
    config = write_config(tmp_path, CONFIG)
    code, text = doctor("--config", str(config), "--db", str(tmp_path / "e.duckdb"))
    assert code == 1, text
    assert "ok source tweets: x, every 15m" in text
    assert ("FAIL source videos: missing secret YOUTUBE_API_KEY (environment variable, or "
            "Prefect Secret block youtube-api-key)") in text
    assert "ok channel care: slack" in text
    assert ("FAIL channel issues: missing secret EARFUL_GITHUB_TOKEN (environment variable, "
            "or Prefect Secret block earful-github-token)") in text
    assert "looked up in the environment only" in text
    assert X_VALUE not in text and SLACK_VALUE not in text and "VALUE" not in text


def test_an_unanswering_prefect_api_is_said_not_silently_skipped(tmp_path, env):
    env.setattr(earful.doctor, "prefect_api_url", lambda: "http://127.0.0.1:9/api")
    env.setattr(earful.doctor, "prefect_api_problem",
                lambda: "ConnectError: [Errno 111] Connection refused")
    config = write_config(tmp_path, CONFIG)
    code, text = doctor("--config", str(config), "--db", str(tmp_path / "e.duckdb"))
    assert code == 1
    assert ("warn secrets: the Prefect API at http://127.0.0.1:9/api does not answer "
            "(ConnectError: [Errno 111] Connection refused): only the environment was "
            "checked") in text
    assert "missing secret YOUTUBE_API_KEY" in text


@pytest.mark.usefixtures("prefect_harness")
def test_a_secret_block_counts_and_its_value_is_never_printed(tmp_path, env):
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client

    env.setenv("EARFUL_GITHUB_TOKEN", "set")
    config = write_config(tmp_path, CONFIG)
    Secret(value=BLOCK_VALUE).save("youtube-api-key", overwrite=True)
    try:
        code, text = doctor("--config", str(config), "--db", str(tmp_path / "e.duckdb"))
    finally:  # the harness is shared: later flow tests must not find the key
        with get_client(sync_client=True) as client:
            block = client.read_block_document_by_name("youtube-api-key", "secret")
            client.delete_block_document(block.id)
    assert code == 0, text
    assert "then in the Prefect Secret blocks of http" in text
    assert "ok source videos: youtube, every 15m" in text
    assert BLOCK_VALUE not in text and X_VALUE not in text and "VALUE" not in text


def test_motherduck_token_is_checked_by_name(tmp_path, env):
    env.setattr(earful.doctor, "prefect_api_url", lambda: None)
    config = write_config(tmp_path, '[[brands]]\nname = "Acme"\nterms = ["Acme"]\n')
    code, text = doctor("--config", str(config), "--db", "md:earful")
    assert code == 1
    assert "FAIL database: md:earful is a MotherDuck database: missing secret " \
           "motherduck_token" in text
    env.setenv("motherduck_token", MOTHERDUCK_VALUE)
    code, text = doctor("--config", str(config), "--db", "md:earful")
    assert code == 0, text
    assert "ok database: md:earful: MotherDuck, token set" in text
    assert MOTHERDUCK_VALUE not in text


def test_doctor_runs_each_connectors_own_validation(tmp_path, monkeypatch):
    for name in ("GOOGLE_PLAY_SERVICE_ACCOUNT_JSON", "GOOGLE_PLAY_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_PLAY_ACCESS_TOKEN", "ya29.doctor-never-prints-this")
    config = tmp_path / "earful.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "d.duckdb"}"\n\n'
        '[[brands]]\nname = "Acme"\nterms = ["Acme"]\n\n'
        '[[sources]]\nname = "play"\nkind = "googleplay"\nabout = "Acme"\n'
        'params = { apps = ["com.acme.app"] }\n\n'
        '[[sources]]\nname = "play-without-apps"\nkind = "googleplay"\nabout = "Acme"\n')
    checks = {c.subject: c for c in earful.doctor.run_checks(config, None)}
    # A ready access token is the documented alternative to the JSON key.
    assert checks["source play"].level == "ok", checks["source play"].detail
    bad = checks["source play-without-apps"]
    assert bad.level == "fail" and "apps" in bad.detail
    assert all("doctor-never-prints-this" not in c.detail for c in checks.values())
