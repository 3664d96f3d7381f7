"""The benchmark suite's smoke run: a tiny data set and half a second a workload, so the suite keeps
working. How fast each workload is, is the full run's business (make bench), not a test's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import run as bench
from tests.conftest import POSTGRESQL_URL

ROOT = Path(__file__).resolve().parent.parent

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("GUARANTEE_REQUIRE_WRK"),
    reason="wrk is not installed (apt-get install wrk; make test installs it as root)",
)


@needs_wrk
def test_every_workload_runs_and_answers_as_expected_on_every_database(tmp_path: Path) -> None:
    databases = "sqlite,postgresql" if POSTGRESQL_URL else "sqlite"
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--databases", databases, "--report-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]

    (report_file,) = tmp_path.glob("bench-*.json")
    report = json.loads(report_file.read_text())
    assert [run["database"] for run in report["runs"]] == databases.split(",")
    for run in report["runs"]:
        workloads = run["workloads"]
        assert set(workloads) == {
            "hello",
            "write",
            "api_submit",
            "web_submit",
            "transition",
            "claim_form",
            "tracking",
            "claim_form_cy",
            "tracking_cy",
            "api_read",
            "console_claim",
            "queue_first",
            "queue_filtered",
            "queue_deep",
            "queue_while_filing",
            "stats_page",
            "stats_api",
            "register_page",
            "register_api",
            "rule_page",
        }
        for name, result in workloads.items():
            assert result["requests"] > 0, name
            assert result["expected_share"] >= 0.99, (name, result["statuses"])
            assert result["p99_ms"] > 0 and result["cpu_ms_per_request"] > 0, name
        filed_meanwhile = workloads["queue_while_filing"]["alongside"]
        assert filed_meanwhile["requests"] > 0 and filed_meanwhile["expected_share"] >= 0.99, filed_meanwhile
        transitions = workloads["transition"]["statuses"]
        assert int(transitions.get("200", 0)) > 0, transitions  # some officers won, and moved claims on
        assert run["publish"]["release"] == 1
        assert run["verify"]["ok"], run["verify"]["problems"]
        assert run["verify"]["claims"] >= run["claims"]  # the generated claims and those the run filed
        assert all(mb > 0 for mb in run["worker_rss_mb"])
    assert (tmp_path / report_file.name.replace(".json", ".md")).read_text().startswith("Measured ")


class _IdleServer:
    """What drive() asks of gunicorn, with nothing running: always idle, no CPU spent."""

    log = Path("gunicorn.log")

    idle = bench.Server.idle

    def __init__(self, busy: int = 0) -> None:
        self.settled = 0
        self.busy = busy  # times the workers are still busy at settle()'s limit
        self.started = 0

    def settle(self, *, interval: float = 0.25) -> float:
        self.settled += 1
        if self.busy:
            self.busy -= 1
            raise bench.WorkloadFailed("the workers were still busy after 120 s")
        return 0.0

    def stop(self) -> None:
        pass

    def start(self) -> None:
        self.started += 1

    def cpu_seconds(self) -> float:
        return 0.0


class _Clients:
    def rows(self, name: str) -> list[list[str]]:
        return [["/officer"]]


def _wrk_summary(requests: int) -> dict[str, Any]:
    return {
        "requests": requests,
        "duration_us": 1_000_000,
        "bytes": 0,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
        "latency_us": {"mean": 0.0, "max": 0, "p50": 0, "p90": 0, "p95": 0, "p99": 0}
        if not requests
        else {"mean": 9e5, "max": 990_000, "p50": 900_000, "p90": 950_000, "p95": 960_000, "p99": 990_000},
        "statuses": {"200": requests} if requests else {},
    }


def _drive(
    monkeypatch: pytest.MonkeyPatch, answers: list[int], *, smoke: bool = False, busy: int = 0
) -> tuple[dict[str, Any], list[float], _IdleServer]:
    durations: list[float] = []

    def wrk(server: object, workload: object, data: object, *, seconds: float, **_: object) -> dict[str, Any]:
        durations.append(seconds)
        return _wrk_summary(answers.pop(0))

    monkeypatch.setattr(bench, "wrk", wrk)
    server = _IdleServer(busy)
    options = bench.Options(["sqlite"], [300], 1.0, 16, None, None, Path("."), smoke=smoke)
    result = bench.drive(
        server,  # type: ignore[arg-type]
        _Clients(),  # type: ignore[arg-type]
        bench.BY_NAME["queue_first"],
        options=options,
        workdir=Path("."),
        database="sqlite",
    )
    return result, durations, server


def test_each_measurement_starts_on_idle_workers_and_one_that_finishes_no_request_runs_again_for_longer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The warm-up (1 s), then a run that a loaded machine let finish nothing, then one four times as long.
    result, durations, server = _drive(monkeypatch, [0, 0, 3])
    assert durations == [1, 1.0, 4.0]
    assert server.settled == 3  # before the warm-up and before each measured run
    assert result["tries"] == 2 and result["requests"] == 3 and result["cpu_ms_per_request"] == 0


def test_the_smoke_run_measures_each_workload_without_warming_it_up(monkeypatch: pytest.MonkeyPatch) -> None:
    result, durations, server = _drive(monkeypatch, [3], smoke=True)
    assert durations == [1.0] and server.settled == 1 and result["requests"] == 3


def test_a_workload_after_one_that_left_the_workers_busy_starts_on_gunicorn_started_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result, _, server = _drive(monkeypatch, [3, 3], busy=1)
    assert server.started == 1 and result["restarted"] and result["requests"] == 3
    quiet, _, server = _drive(monkeypatch, [3, 3])
    assert server.started == 0 and not quiet["restarted"]


def test_workers_still_busy_on_gunicorn_started_again_fail_the_workload(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(bench.WorkloadFailed, match="still busy"):
        _drive(monkeypatch, [3, 3], busy=2)


def test_a_workload_that_never_finishes_a_request_fails_naming_why(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(bench.WorkloadFailed, match=r"no request finished in 3 runs, the last of 16 s"):
        _drive(monkeypatch, [0] * (1 + bench.TRIES))


def _measured(label: str, req_per_s: float) -> dict[str, Any]:
    return {
        "label": label,
        "requests": 10,
        "req_per_s": req_per_s,
        "p50_ms": 1.0,
        "p95_ms": 2.0,
        "p99_ms": 3.0,
        "cpu_ms_per_request": 1.5,
        "db_cpu_ms_per_request": None,
        "statuses": {"200": 10},
        "expected_share": 1.0,
    }


def test_a_failed_workload_is_reported_by_name_and_reason_in_the_targets_and_the_table() -> None:
    run = {
        "database": "sqlite",
        "claims": 300,
        "generation": {"seconds": 1.0, "events": 900},
        "publish": {"seconds": 0.5, "release": 1, "bytes": 10},
        "verify": {"ok": True, "problems": [], "claims": 300, "events": 900, "seconds": 0.0, "events_per_second": None},
        "gunicorn": {"command": "gunicorn", "workers": 2},
        "worker_rss_mb": [80.0, 81.0],
        "workloads": {
            "hello": _measured("Framework floor", 100.0),
            "write": bench.failed(bench.BY_NAME["write"], "WorkloadFailed: no request finished"),
            "api_submit": _measured("API submission", 50.0),
            "queue_first": bench.failed(bench.BY_NAME["queue_first"], "RuntimeError: signing in gave 500"),
        },
    }
    targets = bench.judge([run], smoke=True)
    missed = [f"{c['what']}: {c['measured']}" for c in targets if not c["met"]]
    assert "Queue: first page (queue_first): answers as expected: failed: RuntimeError: signing in gave 500" in missed
    assert (
        "Write floor: one ORM row committed (write): answers as expected: failed: WorkloadFailed: "
        "no request finished" in missed
    )
    report = {
        "date": "2026-12-03T12:00:00+00:00",
        "machine": {
            "cpu": "x",
            "cores": 2,
            "memory_gb": 4,
            "python": "3.11",
            "postgresql": None,
            "sqlite": "3",
            "wrk": "wrk",
        },
        "options": {"connections": 16, "duration": 1.0},
        "runs": [run],
        "targets": targets,
    }
    table = bench.markdown(report)
    assert "| Queue: first page | | | | | | | | **failed**: RuntimeError: signing in gave 500 |" in table
    assert "| API submission | 50 |  | 1.0 | 2.0 | 3.0 | 1.50 |  | 200: 10 |" in table  # no floor to share


def test_pages_are_held_to_their_cpu_against_the_floor_and_reads_beside_writers_to_their_p99_alone() -> None:
    def measured(label: str, cpu_ms: float, p99_ms: float = 3.0) -> dict[str, Any]:
        return {**_measured(label, 100.0), "cpu_ms_per_request": cpu_ms, "p99_ms": p99_ms}

    run = {
        "database": "sqlite",
        "claims": 10_000,
        "publish": {"seconds": 0.5},
        "verify": {"ok": True, "problems": [], "events": 900, "events_per_second": 200_000},
        "worker_rss_mb": [80.0],
        "workloads": {
            "hello": measured("Framework floor", 1.0),
            "tracking": measured("Tracking page", 2.9),
            "api_read": measured("API claim read", 2.5),
            "queue_first": measured("Queue: first page", 3.5, p99_ms=40.0),
            "queue_while_filing": {
                **measured("Queue: first page while groups file", 9.0, p99_ms=95.0),
                "alongside": {"req_per_s": 19.0},
            },
        },
    }
    checks = {c["what"]: (c["measured"], c["met"]) for c in bench.judge([run], smoke=False)}

    assert checks["Tracking page: app CPU per request against the hello floor's"] == ("2.9x (2.90 vs 1.00 ms)", True)
    assert checks["API claim read: app CPU per request against the hello floor's"] == ("2.5x (2.50 vs 1.00 ms)", False)
    assert checks["Queue: first page: app CPU per request against the hello floor's"][1] is False
    assert checks["Queue: first page while groups file: p99 against the same reads on their own"] == (
        "2.38x (95.0 vs 40.0 ms; 19 claims filed a second)",
        False,
    )
    # Its CPU is shared with the writers, so it is not held to a page's.
    assert not any(what.startswith("Queue: first page while groups file: app CPU") for what in checks)
