from __future__ import annotations

from earful.secrets import resolve_secrets


def test_a_secret_loses_its_line_ending_and_nothing_else(monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", "AAAA-token\n")
    monkeypatch.setenv("SMTP_PASSWORD", " pass word \r\n")
    monkeypatch.setenv("EMPTY_SECRET", "\n")
    monkeypatch.delenv("UNSET_SECRET", raising=False)
    assert resolve_secrets(["X_BEARER_TOKEN", "SMTP_PASSWORD", "EMPTY_SECRET",
                            "UNSET_SECRET"]) == {"X_BEARER_TOKEN": "AAAA-token",
                                                 "SMTP_PASSWORD": " pass word "}
