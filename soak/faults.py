"""The faults of a run, on a schedule scaled to its length, each recorded with its time."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak.cluster import Cluster
from soak.server import Gunicorn


@dataclass(order=True)
class Fault:
    at: float  # seconds after the load started
    name: str = field(compare=False)
    action: Callable[[], dict[str, Any] | None] = field(compare=False, repr=False)


def schedule(
    duration: float,
    server: Gunicorn,
    cluster: Cluster | None,
    evidence_dir: Path,
    checkpoint: Callable[[str], dict[str, Any]],
) -> list[Fault]:
    """Worker kills all along; the rest once each, spread out, the last sixth left quiet so that
    the run ends on a service that has recovered."""
    short = duration < 300
    every = 15.0 if short else 60.0
    faults = [
        Fault(t, "kill -9 a gunicorn worker", lambda: {"pid": server.kill_worker()}) for t in _every(every, duration)
    ]
    unwritable = max(8.0, duration * 0.06)
    faults += [
        Fault(duration * 0.12, "audit checkpoint", lambda: checkpoint("early")),
        Fault(
            duration * 0.32,
            f"evidence storage unwritable for {unwritable:.0f}s",
            lambda: _unwritable(evidence_dir, unwritable),
        ),
        Fault(duration * 0.45, "SIGHUP to the gunicorn master", lambda: _hup(server)),
        Fault(duration * 0.70, "kill -9 the gunicorn master, then start it again", lambda: _kill_master(server)),
        Fault(duration * 0.80, "audit checkpoint", lambda: checkpoint("late")),
    ]
    if cluster is not None:
        faults += [
            Fault(duration * 0.20, "pg_ctl restart -m immediate", lambda: _restart(cluster, "immediate")),
            Fault(duration * 0.58, "pg_ctl restart -m fast", lambda: _restart(cluster, "fast")),
        ]
    return sorted(faults)


def _every(period: float, duration: float) -> list[float]:
    times, t = [], period / 2
    while t < duration * 0.85:
        times.append(round(t, 1))
        t += period
    return times


def _kill_worker(server: Gunicorn) -> dict[str, Any]:
    """kill -9 a random worker (waiting a little if gunicorn is just being restarted)."""
    deadline = time.monotonic() + 30
    while (pid := server.kill_worker()) is None and time.monotonic() < deadline:
        time.sleep(1)
    return {"pid": pid}


def _unwritable(folder: Path, seconds: float) -> dict[str, Any]:
    """chmod 000 on the store (gunicorn is not root, so writes really fail), then restore it."""
    mode = folder.stat().st_mode & 0o7777
    folder.chmod(0)
    time.sleep(seconds)
    folder.chmod(mode)
    return {"seconds": seconds, "mode_restored": oct(mode)}


def _hup(server: Gunicorn) -> dict[str, Any]:
    before = sorted(p.pid for p in server.workers())
    server.hup()
    time.sleep(3)
    return {"workers_before": before, "workers_after": sorted(p.pid for p in server.workers())}


def _kill_master(server: Gunicorn) -> dict[str, Any]:
    detail: dict[str, Any] = {"master": server.pid}
    detail.update(server.kill_master())
    started = time.monotonic()
    server.start()
    detail["restart_seconds"] = round(time.monotonic() - started, 1)
    return detail


def _restart(cluster: Cluster, mode: str) -> dict[str, Any]:
    before = cluster.postmaster_pid()
    started = time.monotonic()
    try:
        cluster.restart(mode)
    except subprocess.CalledProcessError as exc:
        return {"error": (exc.stderr or "")[-300:]}
    return {
        "postmaster_before": before,
        "after": cluster.postmaster_pid(),
        "seconds": round(time.monotonic() - started, 1),
    }


class Injector:
    """Runs each fault in its own thread at its time (a slow one, such as a checkpoint or the
    storage outage, delays no other), writing each to ``faults.jsonl`` when it ends."""

    def __init__(self, faults: list[Fault], path: Path, started: float) -> None:
        self.faults = faults
        self.path = path
        self.started = started
        self.done: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(f,), daemon=True) for f in faults]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _run(self, fault: Fault) -> None:
        delay = fault.at - (time.monotonic() - self.started)
        if delay > 0 and self.stop.wait(delay):
            return
        began = time.monotonic() - self.started
        try:
            detail = fault.action() or {}
        except Exception as exc:  # recorded, and the run goes on: reconciliation judges it
            detail = {"error": f"{type(exc).__name__}: {exc}"}
        record = {
            "t": round(began, 2),
            "end": round(time.monotonic() - self.started, 2),
            "fault": fault.name,
            "detail": detail,
        }
        with self._lock:
            self.done.append(record)
            self.done.sort(key=lambda r: r["t"])
            with self.path.open("a") as out:
                out.write(json.dumps(record) + "\n")

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
