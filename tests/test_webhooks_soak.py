"""The webhook soak (issue 24): claims are filed and moved while two notification workers deliver
their webhooks to the receiver in tools/, each a process of its own; the receiver and one worker
are killed (SIGKILL) mid-delivery and started again. Then everything is reconciled: every event
was delivered at least once, with one webhook-id, none lost, and every signature verified.

About 25 seconds of load per database. Time is fast-forwarded once, at the end (the retries'
backoff and the dead worker's lease are minutes long): the workers are stopped, every wait is
made due, and one worker drains what is left.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from guarantee import create_app
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import WebhookAttempt, WebhookMessage
from guarantee.services.claims import submit_claim
from guarantee.services.two_step_secrets import parse_key
from guarantee.webhooks import endpoints, urls
from tests.conftest import _app_config
from tests.helpers import Cast, submission, walk
from tests.support.browser import free_port

ROOT = Path(__file__).resolve().parent.parent
TWO_STEP_KEY = "50a4" * 16
LOAD_SECONDS = 24.0


class Processes:
    """The receiver and the workers, each started as an operator would, and killed at will."""

    def __init__(self, tmp: Path, url: str, secret: str, port: int) -> None:
        self.tmp, self.secret, self.port = tmp, secret, port
        self.received = tmp / "received.jsonl"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARANTEE_", "DATABASE_URL", "FLASK_"))}
        self.env.update(
            {
                "FLASK_APP": "wsgi",
                "DATABASE_URL": url,
                "GUARANTEE_SECRET_KEY": "soak-" + "k" * 40,
                "GUARANTEE_TWO_STEP_KEY": TWO_STEP_KEY,
                "GUARANTEE_MAIL_DIR": str(tmp / "mail"),
                "GUARANTEE_EVIDENCE_DIR": str(tmp / "evidence"),
                "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp / "signing-key.pem"),
                "GUARANTEE_LOG_JSON": "false",
                "GUARANTEE_WEBHOOKS_ALLOW_HTTP": "true",
                "GUARANTEE_WEBHOOKS_ALLOW_PRIVATE": "true",
                "GUARANTEE_WEBHOOKS_MAX_ATTEMPTS": "20",  # never gives up during the soak
            }
        )
        self.receiver: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def start_receiver(self) -> None:
        self.receiver = self._start(
            "receiver",
            [
                *(sys.executable, "-m", "tools.webhook_receiver"),
                *("--port", str(self.port), "--secret", self.secret, "--log", str(self.received)),
            ],
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the receiver did not start")

    def start_worker(self) -> None:
        flask = str(Path(sys.executable).parent / "flask")
        command = [flask, "guarantee", "notify", "--loop", "--interval", "0.2", "--batch", "5"]
        self.workers.append(self._start("worker", command))

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in [*self.workers, *([self.receiver] if self.receiver else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.kill(process)
        self.workers = []

    def verified(self) -> list[dict[str, Any]]:
        if not self.received.exists():
            return []
        return [json.loads(line) for line in self.received.read_text().splitlines() if line.strip()]


def _load(processes: Processes) -> set[tuple[str, str, int]]:
    """File and accept claims for LOAD_SECONDS while the faults happen; the events expected,
    as (type, claim, audit seq or 0)."""
    expected: set[tuple[str, str, int]] = set()
    started = time.monotonic()

    # Each fault waits for its moment (it says whether it happened): the receiver is started again
    # only once a try has failed against it; a worker is killed while a message is being delivered.
    def kill_receiver() -> bool:
        assert processes.receiver is not None
        processes.kill(processes.receiver)
        return True

    def start_receiver_after_a_failure() -> bool:
        if not _a_try_failed():
            return False
        processes.start_receiver()
        return True

    def kill_a_worker_mid_delivery() -> bool:
        if not _one_being_delivered():
            return False
        processes.kill(processes.workers[0])
        return True

    def start_a_worker() -> bool:
        processes.start_worker()
        return True

    faults = [
        (4.0, kill_receiver),
        (5.0, start_receiver_after_a_failure),
        (8.0, kill_a_worker_mid_delivery),
        (9.0, start_a_worker),
    ]
    while (elapsed := time.monotonic() - started) < LOAD_SECONDS or faults:
        assert elapsed < 3 * LOAD_SECONDS, f"a fault never found its moment: {len(faults)} left"
        if faults and elapsed >= faults[0][0] and faults[0][1]():
            faults.pop(0)
        with unit_of_work() as ctx:
            filed = submit_claim(ctx, submission())
            expected.add(("claim.submitted", filed.reference, 0))
            fired = walk(ctx, Cast(ctx), filed.reference, "accept")
            assert fired is not None
            expected.add(("claim.moved", filed.reference, fired.event.seq))
        time.sleep(0.1)
    return expected


def _a_try_failed() -> bool:
    with unit_of_work() as ctx:
        return (
            ctx.session.scalar(select(WebhookAttempt.id).where(WebhookAttempt.outcome == "failed").limit(1)) is not None
        )


def _one_being_delivered() -> bool:
    with unit_of_work() as ctx:
        return (
            ctx.session.scalar(select(WebhookMessage.id).where(WebhookMessage.status == "sending").limit(1)) is not None
        )


def _drain(processes: Processes) -> None:
    """Fast-forward: stop the workers cleanly, end every lease and wait, and drain with one."""
    for worker in processes.workers:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    processes.workers = []
    with unit_of_work() as ctx:
        ctx.session.execute(
            update(WebhookMessage)
            .where(WebhookMessage.status.in_(("pending", "sending")))
            .values(status="pending", next_attempt_at=ctx.now(), lease_until=None, lease_token=None)
        )
    processes.start_worker()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with unit_of_work() as ctx:
            left = ctx.session.scalars(
                select(WebhookMessage.id).where(WebhookMessage.status.in_(("pending", "sending")))
            ).all()
        if not left:
            return
        time.sleep(0.5)


def _event_of(payload: dict[str, Any]) -> tuple[str, str, int]:
    return payload["type"], payload["data"]["claim"], int(payload["data"].get("seq", 0))


@pytest.mark.soak
@pytest.mark.timeout(300)
def test_killing_the_receiver_and_a_worker_mid_delivery_loses_no_event(fresh_url: str, tmp_path: Path) -> None:
    app = create_app(_app_config(fresh_url, GUARANTEE_TWO_STEP_KEY=TWO_STEP_KEY))
    port = free_port()
    with app.app_context():
        with unit_of_work() as ctx:
            added = endpoints.add(
                ctx,
                Cast(ctx).admin,
                parse_key(TWO_STEP_KEY, "soak"),
                urls.Policy(allow_http=True, allow_private=True),
                url=f"http://127.0.0.1:{port}/webhooks",
                description="Soak receiver",
                events=["claim.submitted", "claim.moved"],
            )
        processes = Processes(tmp_path, fresh_url, added.secret, port)
        try:
            processes.start_receiver()
            processes.start_worker()
            processes.start_worker()
            expected = _load(processes)
            _drain(processes)
        finally:
            processes.stop_all()
        with unit_of_work() as ctx:
            rows = ctx.session.execute(
                select(
                    WebhookMessage.message_id, WebhookMessage.status, WebhookMessage.attempts, WebhookMessage.payload
                )
            ).all()
        db.engine.dispose()
    verified = processes.verified()
    accepted = [r for r in verified if not r.get("rejected")]
    # Reconcile. Every event the load made has exactly one message, with one webhook-id...
    ids_by_event: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for message_id, _, _, payload in rows:
        ids_by_event[_event_of(payload)].add(message_id)
    assert set(ids_by_event) == expected
    assert all(len(ids) == 1 for ids in ids_by_event.values())
    # ...every one delivered, and received at least once, verified, under that same webhook-id...
    assert {status for _, status, _, _ in rows} == {"delivered"}, [r for r in rows if r[1] != "delivered"][:5]
    received: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    for record in accepted:
        received[record["webhook_id"]].add(_event_of(record["event"]))
    assert set(received) == {message_id for message_id, _, _, _ in rows}
    assert all(len(events) == 1 for events in received.values())  # a repeat is the same event
    # ...and no signature failed to verify.
    assert [r for r in verified if r.get("rejected")] == []
    # The faults did happen mid-delivery: the receiver's death made some tries fail.
    assert any(attempts > 1 for _, _, attempts, _ in rows), "no delivery was ever retried: the faults missed"
    repeats = len(accepted) - len(received)
    print(f"webhook soak: {len(expected)} events, {len(accepted)} received ({repeats} repeats), all verified")
