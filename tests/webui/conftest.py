"""The review web app under test: one DuckDB file seeded through the real ingest pipeline,
the real app served by uvicorn on a loopback port in a thread, and (for the browser tests)
one Debian chromium driven by Playwright for the whole session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from earful.ingest import ingest_file
from earful.settings import settings_from_dict
from sql.store import Store
from web.accounts import add_user
from webui.webdesk import CHROMIUM, PASSWORD, Desk, Server, seed_lines


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    from web.app import create_app

    folder = tmp_path_factory.mktemp("web")
    settings = settings_from_dict({
        "database": {"path": str(folder / "earful.duckdb")},
        "brands": [{"name": "Acme", "terms": ["Acme"], "handles": ["@acme"]}],
    }, "web test config")
    export = folder / "mentions.jsonl"
    export.write_text("".join(json.dumps(line) + "\n" for line in seed_lines()), encoding="utf-8")
    report = ingest_file(export, settings, workers=1)
    assert not report.errors and report.tickets == 6, report
    store = Store(settings.db_path)
    add_user(store, "alice", PASSWORD)
    add_user(store, "bob", PASSWORD)
    with Server(create_app(settings, store)) as server:
        yield Desk(settings, store, f"http://127.0.0.1:{server.port}")


@pytest.fixture
def client(desk: Desk) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.base_url, follow_redirects=False, timeout=30) as c:
        yield c


# -- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y "
                    "chromium`; .ci/run does it) or point EARFUL_CHROMIUM at a Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, desk: Desk) -> Iterator[Any]:
    context = browser.new_context(base_url=desk.base_url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
