"""Connector scenarios: each tests/fixtures/<connector>/conformance.json describes the
routes a loopback server replays for that connector, the source to configure and what the
first poll must produce. Shared by the conformance test and the all-connectors flow test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earful.fixtureserver import Route

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Scenario:
    name: str
    folder: Path
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.data["source"]["kind"]

    @property
    def prefix(self) -> str:
        return f"/{self.name}"

    def routes(self, key: str = "routes") -> dict[str, Route]:
        routes = {}
        for spec in self.data.get(key, []):
            body = (self.folder / spec["file"]).read_bytes() if "file" in spec else \
                spec.get("body", "").encode()
            routes[self.prefix + spec["path"]] = Route(
                body,
                status=spec.get("status", 200),
                content_type=spec.get("content_type", "application/json"),
                headers=spec.get("headers", {}),
                conditional=spec.get("conditional", self.kind == "rss"),
            )
        return routes

    def source(self, base_url: str) -> dict[str, Any]:
        source = {"name": self.name, **self.data["source"]}
        source["url"] = base_url + self.prefix + self.data.get("url_path", "")
        return source

    @property
    def env(self) -> dict[str, str]:
        return self.data.get("env", {})

    @property
    def brands(self) -> list[dict[str, Any]] | None:
        return self.data.get("brands")

    @property
    def expect(self) -> dict[str, Any]:
        return self.data["expect"]


def scenarios() -> list[Scenario]:
    found = []
    for path in sorted(FIXTURES.glob("*/conformance.json")):
        found.append(Scenario(path.parent.name, path.parent, json.loads(path.read_text())))
    return found
