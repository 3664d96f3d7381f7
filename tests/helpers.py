"""Builders shared by the tests: a valid submission, officers, walking a claim along a path."""

from __future__ import annotations

import copy
import secrets
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from werkzeug.test import TestResponse

from guarantee.models import Officer, OfficerRole
from guarantee.services.actors import GroupActor, OfficerActor, SystemActor
from guarantee.services.claims import Fired, fire
from guarantee.services.context import ServiceContext
from guarantee.services.officers import hash_password

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2id is slow on purpose

VALID_SUBMISSION: dict[str, Any] = {
    "group": {
        "name": "Little Acorns Parents",
        "contact_name": "Ada Lovelace-Testperson",
        "email": "ada.testperson@example.org",
        "phone": "01632 960 001",
    },
    "initiative": {
        "title": "Parent-run nursery",
        "description": "Parents run a nursery on a rota with one qualified lead.",
        "sector": "children_and_families",
        "region": "north_west",
        "people_involved": 24,
    },
    "barrier": {
        "regulation": "Early years staffing ratios",
        "regulation_reference": "EYFS 3.28",
        "imposed_by": "Ofsted",
        "category": "professional_standards_and_qualifications",
        "how_it_blocks": "Every parent on the rota would need a level 3 qualification.",
        "remedy_sought": "waiver",
    },
    "consent": {"contact": True},
}


def submission(**sections: dict[str, Any]) -> dict[str, Any]:
    """A valid submission, with some fields of some sections replaced."""
    data = copy.deepcopy(VALID_SUBMISSION)
    for name, fields in sections.items():
        data[name].update(fields)
    return data


def make_officer(ctx: ServiceContext, *roles: str, active: bool = True) -> OfficerActor:
    officer = Officer(
        email=f"officer-{secrets.token_hex(4)}@council.example",
        name="Test Officer",
        password_hash=_PASSWORD_HASH,
        active=active,
        session_nonce=secrets.token_hex(16),
        must_change_password=False,
        created_at=ctx.now(),
        role_rows=[OfficerRole(role=r) for r in roles],
    )
    ctx.session.add(officer)
    ctx.session.flush()
    return OfficerActor(officer.id)


# What a decision's statement says on the public register (kept only if the group agreed to it).
SUMMARY = "A community initiative asked for relief from a staffing rule. The council decided on the merits."
# Valid input for every trigger.
INPUTS: dict[str, dict[str, Any]] = {
    "accept": {"category": "food_hygiene", "regulation": {"title": "Food premises registration"}},
    "decline": {"reason_code": "out_of_scope", "explanation": "This is a national rule."},
    "request_information": {"question": "How many volunteers take part?"},
    "provide_information": {"answer": "Twelve, all with food hygiene level 2."},
    "information_lapsed": {},
    "uphold": {"reasons": "The rule was applied too strictly.", "remedy": "waiver", "public_summary": SUMMARY},
    "not_uphold": {
        "reasons": "The rule protects children.",
        "reason_code": "regulation_necessary_and_proportionate",
        "public_summary": SUMMARY,
    },
    "appeal": {"grounds": "A qualified lead is always present."},
    "appeal_window_closed": {},
    "allow_appeal": {
        "reasons": "The panel finds the rule disproportionate.",
        "remedy": "guidance_clarified",
        "public_summary": SUMMARY,
    },
    "dismiss_appeal": {"reasons": "The panel agrees with the decision.", "public_summary": SUMMARY},
    "record_resolution": {"outcome": "waiver_granted", "summary": "A waiver was granted for a year."},
    "withdraw": {"reason": "We found another venue."},
    "reopen": {"justification": "The group sent new evidence by post."},
}


class Cast:
    """One officer per role, plus the group and the system, for walking claims."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.triage = make_officer(ctx, "triage")
        self.reviewer = make_officer(ctx, "reviewer")
        self.appeal_panel = make_officer(ctx, "appeal_panel")
        self.admin = make_officer(ctx, "admin")
        self.team_leader = make_officer(ctx, "team_leader")
        self.system = SystemActor()

    def for_role(self, role: str, reference: str) -> OfficerActor | GroupActor | SystemActor:
        if role == "group":
            return GroupActor(reference)
        if role == "system":
            return self.system
        actor: OfficerActor = getattr(self, role)
        return actor


def walk(ctx: ServiceContext, cast: Cast, reference: str, *triggers: str) -> Fired | None:
    """Fire triggers in order, each by the first role the workflow allows."""
    from workflows import TRANSITIONS_BY_TRIGGER

    fired = None
    for trigger in triggers:
        role = TRANSITIONS_BY_TRIGGER[trigger].fired_by[0]
        fired = fire(ctx, reference, trigger, cast.for_role(role, reference), INPUTS[trigger])
    return fired


def start_gunicorn(
    command: list[str], env: dict[str, str], url: str, *, stdout: IO[bytes], stderr: IO[bytes] | int, log: Path
) -> subprocess.Popen[bytes]:
    """Start gunicorn from the repository root and wait until it answers /healthz (60 s at most: a
    machine busy with other test runs starts it slowly; otherwise the test fails with the end of its
    log, and the server is stopped and waited for, so that no later test meets it)."""
    process = subprocess.Popen(
        command, cwd=Path(__file__).resolve().parent.parent, env=env, stdout=stdout, stderr=stderr
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=10)
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)


def at_once(calls: list[Callable[[], TestResponse]]) -> list[TestResponse | BaseException]:
    """Run each call in its own thread, released together behind a barrier."""
    barrier = threading.Barrier(len(calls), timeout=60)
    results: list[TestResponse | BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    return [r for r in results if r is not None]
