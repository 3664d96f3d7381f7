"""The benchmark suite's smoke run: a tiny data set and a second a workload, so the suite keeps
working. How fast each workload is, is the full run's business (make bench), not a test's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
            "tracking",
            "api_read",
            "queue_first",
            "queue_filtered",
            "queue_deep",
            "stats_page",
            "stats_api",
        }
        for name, result in workloads.items():
            assert result["requests"] > 0, name
            assert result["expected_share"] >= 0.99, (name, result["statuses"])
            assert result["p99_ms"] > 0 and result["cpu_ms_per_request"] > 0, name
        transitions = workloads["transition"]["statuses"]
        assert int(transitions.get("200", 0)) > 0, transitions  # some officers won, and moved claims on
        assert run["publish"]["release"] == 1
        assert run["verify"]["ok"], run["verify"]["problems"]
        assert run["verify"]["claims"] >= run["claims"]  # the generated claims and those the run filed
        assert all(mb > 0 for mb in run["worker_rss_mb"])
    assert (tmp_path / report_file.name.replace(".json", ".md")).read_text().startswith("Measured ")
