"""End to end, the operator's way (README "Running it with Prefect"): a real `prefect server
start` on a free loopback port with a temporary PREFECT_HOME, `prefect work-pool create`,
`prefect --no-prompt deploy --all` from prefect.yaml, `prefect worker start`, then
`prefect deployment run listen/feeds --watch` against the loopback fixture server; the
DuckDB file must then hold the mentions and tickets. Everything it starts is stopped, even
on failure, and the test checks that no process of theirs is left.

One deviation from the README: the server runs with `--no-scheduler`, so that no scheduled
run of another deployment lands on the worker during the test (the schedules themselves are
created and checked)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from conftest import FIXTURES
from earful.fixtureserver import FixtureServer, routes_from_dir
from sql.store import Store

REPO = Path(__file__).resolve().parents[1]
POOL = "earful-pool"
# Generous bounds for a slow CI machine; here the whole test takes ~30 s.
SERVER_START_S = 90
COMMAND_S = 60
RUN_S = 90
STOP_S = 15


def _prefect_command() -> list[str]:
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Background:
    """Long-running commands, each in its own process group (the worker's flow-run
    subprocesses included), stopped in reverse order: a polite signal, then SIGKILL."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen[bytes], signal.Signals]] = []

    def start(self, name: str, args: list[str], env: dict[str, str],
              stop_with: signal.Signals = signal.SIGTERM) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(args, cwd=REPO, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.started.append((name, process, stop_with))
        return process

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop_all(self) -> list[str]:
        """Stop everything; the names of process groups that would not die."""
        leftovers = []
        for name, process, stop_with in reversed(self.started):
            pgid = process.pid  # start_new_session: the group id is the leader's pid
            if process.poll() is None:
                os.killpg(pgid, stop_with)
                try:
                    process.wait(STOP_S)
                except subprocess.TimeoutExpired:
                    os.killpg(pgid, signal.SIGKILL)
                    process.wait(STOP_S)
            deadline = time.monotonic() + STOP_S
            while _group_alive(pgid) and time.monotonic() < deadline:
                os.killpg(pgid, signal.SIGKILL)  # children that outlived their parent
                time.sleep(0.2)
            if _group_alive(pgid):
                leftovers.append(name)
        self.started.clear()
        return leftovers


@pytest.fixture
def background(tmp_path) -> Iterator[Background]:
    procs = Background(tmp_path)
    try:
        yield procs
    finally:
        leftovers = procs.stop_all()
        assert not leftovers, f"processes left running: {leftovers}"


@pytest.fixture
def feeds() -> Iterator[FixtureServer]:
    server = FixtureServer(routes_from_dir(FIXTURES / "rss", "/feeds/")).start()
    yield server
    server.stop()


def _run(args: list[str], env: dict[str, str], timeout: float = COMMAND_S,
         more: Callable[[], str] = str) -> str:
    """A prefect command that must succeed; on failure, its output and `more()`."""
    done = subprocess.run([*_prefect_command(), *args], cwd=REPO, env=env, timeout=timeout,
                          capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{output[-3000:]}\n{more()}"
    return output


def _wait_healthy(api: str, server: subprocess.Popen[bytes], background: Background) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"prefect server exited:\n{background.log('server')}"
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"prefect server not healthy after {SERVER_START_S}s:\n"
                f"{background.log('server')}")


def _config(tmp_path: Path, feeds: FixtureServer) -> Path:
    path = tmp_path / "earful.toml"
    path.write_text(f"""
[database]
path = "{tmp_path / 'e2e.duckdb'}"

[[brands]]
name = "Acme"
terms = ["Acme"]

[[sources]]
name = "liftoff"
kind = "rss"
url = "{feeds.url('/feeds/rss2.xml')}"
audience = 20000

[[sources]]
name = "alerts"
kind = "rss"
url = "{feeds.url('/feeds/google-alerts.xml')}"
audience = 7000

# Not a feed: the feeds deployment's `kinds` leaves it to the social one.
[[sources]]
name = "hn"
kind = "hackernews"
url = "http://127.0.0.1:9"
""", encoding="utf-8")
    return path


def test_deploy_and_run_listen_on_a_real_prefect_server(tmp_path, background, feeds):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    config = _config(tmp_path, feeds)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT_", "EARFUL_"))}
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PWD": str(REPO),  # prefect.yaml's pull step: {{ $PWD }}, resolved at deploy time
    })

    # 1. The server.
    server = background.start("server", [*_prefect_command(), "server", "start", "--host",
                                         "127.0.0.1", "--port", str(port), "--no-scheduler",
                                         "--no-ui"], env)
    _wait_healthy(api, server, background)

    # 2. The work pool and the deployments, exactly as the README says.
    _run(["work-pool", "create", POOL, "--type", "process"], env)
    _run(["--no-prompt", "deploy", "--all"], env)
    declared = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    deployed = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    assert {d["name"] for d in deployed} == {d["name"] for d in declared["deployments"]}
    assert all(d["schedules"] and d["work_pool_name"] == POOL for d in deployed)
    # One run at a time, a run due meanwhile cancelled rather than queued.
    assert {(d["global_concurrency_limit"]["limit"], d["concurrency_options"]["collision_strategy"])
            for d in deployed} == {(1, "CANCEL_NEW")}, deployed[0]
    assert {d["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]["directory"]
            for d in deployed} == {str(REPO)}

    # 3. A worker, with the config in its environment (as an operator would set it).
    worker = background.start("worker", [*_prefect_command(), "worker", "start", "--pool",
                                         POOL], {**env, "EARFUL_CONFIG": str(config)},
                              stop_with=signal.SIGINT)

    # 4. Trigger the feeds deployment and wait for the run to finish (--watch exits 1 when
    # the run fails).
    output = _run(["deployment", "run", "listen/feeds", "--watch", "--watch-interval", "1",
                   "--watch-timeout", str(RUN_S)], env, timeout=RUN_S + 30,
                  more=lambda: "worker log:\n" + background.log("worker"))
    assert "in 'Completed'" in output.strip().splitlines()[-1], output[-2000:]
    assert worker.poll() is None, background.log("worker")

    # 5. The database holds what the run stored.
    store = Store(tmp_path / "e2e.duckdb")
    assert store.count("mentions") == 4  # 3 of liftoff's 4 entries name Acme, 1 alert
    tickets = store.query("open_tickets")
    assert {t["source_name"] for t in tickets} == {"liftoff", "alerts"}
    with store.connect() as con:
        runs = con.execute("SELECT status, flow_run_id FROM runs").fetchall()
        polled = {row[0] for row in con.execute("SELECT source_key FROM run_sources").fetchall()}
    assert [status for status, _ in runs] == ["completed"] and runs[0][1]
    assert polled == {"liftoff", "alerts"}  # not "hn": kinds kept it out
