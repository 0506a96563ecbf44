"""prefect.yaml kept true without a server: entrypoints are flows, the parameters it sets
exist, every connector kind is polled by exactly one listen deployment, schedules are valid.
(tests/test_prefect_e2e.py deploys it for real.)"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from prefect import Flow

from connectors.registry import names as connector_names

REPO = Path(__file__).resolve().parents[1]
PREFECT_YAML = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = PREFECT_YAML["deployments"]
# Connectors the review-site and news issue names that may not be built yet: listed in
# prefect.yaml so that they are polled once they exist.
PLANNED_KINDS = {"appstore", "googleplay", "trustpilot", "yelp", "googlenews"}


def flow_for(entrypoint: str) -> Flow:
    path, name = entrypoint.split(":")
    assert (REPO / path).is_file(), path
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    assert isinstance(flow, Flow), entrypoint
    return flow


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_each_deployment(deployment):
    flow = flow_for(deployment["entrypoint"])
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(deployment.get("parameters") or {}) <= accepted
    assert deployment["work_pool"]["name"] == "earful-pool"
    assert deployment["schedules"] and all(s["active"] for s in deployment["schedules"])
    for schedule in deployment["schedules"]:
        assert ("interval" in schedule) != ("cron" in schedule)
        if "timezone" in schedule:
            ZoneInfo(schedule["timezone"])
    assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}


def test_every_connector_kind_is_polled_by_exactly_one_listen_deployment():
    listed = [kind for d in DEPLOYMENTS if d["entrypoint"] == "flows/listen.py:listen"
              for kind in d["parameters"]["kinds"]]
    assert len(listed) == len(set(listed)), "a kind is in two listen deployments"
    assert set(connector_names()) <= set(listed), "a connector kind is never polled"
    assert set(listed) - set(connector_names()) <= PLANNED_KINDS, "unknown kinds"


def test_the_flows_and_schedules_the_issue_asks_for():
    by_name = {d["name"]: d for d in DEPLOYMENTS}
    intervals = {name: by_name[name]["schedules"][0]["interval"]
                 for name in ("social", "feeds", "reviews", "hourly")}
    assert intervals == {"social": 300, "feeds": 900, "reviews": 3600, "hourly": 3600}
    assert by_name["daily"]["entrypoint"] == "flows/digest.py:digest"
    assert by_name["hourly"]["entrypoint"] == "flows/followup.py:followup"
    digest = by_name["daily"]["schedules"][0]
    assert digest["cron"] and digest["timezone"]
    (pull,) = PREFECT_YAML["pull"]
    assert pull == {"prefect.deployments.steps.set_working_directory":
                    {"directory": "{{ $PWD }}"}}
