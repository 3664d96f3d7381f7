"""The load: groups filing claims (some with evidence), officers firing legal and illegal
triggers (some racing on a few hot claims), readers polling tracking pages and statistics.

Every attempt of every request is a line in the ledger (JSONL). Clients retry on connection
errors, timeouts, 5xx and 429 with backoff, with the *same* Idempotency-Key, as a careful
integrator would; the negative control's broken client retries with a new key instead.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from workflows import TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, SECTORS

TIMEOUT = (5, 30)  # connect, read
MAX_ATTEMPTS = 8
RETRYABLE_CONFLICT = ("Idempotency-Key", "Try again")


class Ledger:
    """Every attempt, one JSON line each, flushed as written (a crash of the harness keeps them)."""

    def __init__(self, path: Path, started: float) -> None:
        self.path = path
        self.started = started
        self._lock = threading.Lock()
        self._file = path.open("a", buffering=1)
        self.count = 0

    def write(self, **entry: Any) -> None:
        entry["t"] = round(time.monotonic() - self.started, 3)
        line = json.dumps(entry, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            self.count += 1

    def close(self) -> None:
        with self._lock:
            self._file.close()


@dataclass
class Plan:
    """What the clients do, and for how long."""

    base: str
    duration: float
    submissions_per_second: float = 20.0
    evidence_share: float = 0.10
    evidence_mib: tuple[int, int] = (1, 5)
    officer_threads: int = 3
    officer_pause: float = 0.35
    illegal_share: float = 0.2
    racer_threads: int = 3
    hot_claims: int = 4
    reader_threads: int = 2
    reader_pause: float = 0.25
    max_requests: int = 100_000
    drain: float = 45.0  # how long retries may go on after the load stops
    broken_retry: bool = False  # the negative control: a new key on every retry
    lost_response_share: float = 0.0  # the broken client also "loses" some 201s and files again
    marker: str = ""
    run_id: str = ""
    regulation_id: int = 1


@dataclass
class Filed:
    sid: str
    reference: str
    token: str
    url: str


class Registry:
    """The claims filed so far (as the clients learnt them), and the current hot claims."""

    def __init__(self, hot_count: int) -> None:
        self._lock = threading.Lock()
        self.filed: list[Filed] = []
        self.by_reference: dict[str, Filed] = {}
        self.hot: deque[str] = deque(maxlen=hot_count)
        self.hot_count = hot_count

    def add(self, filed: Filed) -> None:
        with self._lock:
            if filed.reference not in self.by_reference:
                self.filed.append(filed)
                self.by_reference[filed.reference] = filed
            if len(self.hot) < self.hot_count:
                self.hot.append(filed.reference)

    def recent(self, n: int = 400) -> Filed | None:
        with self._lock:
            if not self.filed:
                return None
            return random.choice(self.filed[-n:])  # noqa: S311

    def any(self) -> Filed | None:
        with self._lock:
            return random.choice(self.filed) if self.filed else None  # noqa: S311

    def hot_claim(self, tick: int) -> str | None:
        with self._lock:
            return self.hot[tick % len(self.hot)] if self.hot else None

    def cool(self, reference: str) -> None:
        """A hot claim that can go no further: replace it with the newest claim."""
        with self._lock:
            if reference in self.hot and self.filed:
                self.hot.remove(reference)
                for candidate in reversed(self.filed[-50:]):
                    if candidate.reference not in self.hot:
                        self.hot.append(candidate.reference)
                        break


@dataclass
class Officer:
    email: str
    password: str
    roles: tuple[str, ...]
    officer_id: int
    token: str = ""


@dataclass
class Counters:
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> int:
        with self.lock:
            self.requests += 1
            return self.requests


class Load:
    """Runs every client thread until the plan's time is up (or its request count is)."""

    def __init__(self, plan: Plan, ledger: Ledger, officers: list[Officer], racers: list[Officer]) -> None:
        self.plan = plan
        self.ledger = ledger
        self.officers = officers
        self.racers = racers
        self.registry = Registry(plan.hot_claims)
        self.counters = Counters()
        self.stop = threading.Event()  # no new work
        self.halt = threading.Event()  # no more retries either
        self._sequence = itertools.count(1)
        self._pace_lock = threading.Lock()
        self._next_slot = 0.0
        self.threads: list[threading.Thread] = []

    # --- one request, retried ---------------------------------------------------------

    def call(
        self,
        session: requests.Session,
        op: str,
        method: str,
        path: str,
        *,
        key: str | None = None,
        retry: bool = True,
        new_key: Callable[[], str] | None = None,
        note: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[requests.Response | None, dict[str, Any]]:
        """Send until a final answer. Every attempt but the last is written to the ledger here;
        the last is returned with the response (None: no answer), for the caller to complete
        and write."""
        headers = dict(kwargs.pop("headers", {}) or {})
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if key is not None:
                headers["Idempotency-Key"] = key
            if self.counters.take() > self.plan.max_requests:
                self.stop.set()
            started = time.monotonic()
            entry: dict[str, Any] = {"op": op, "method": method, "path": path, "key": key, "attempt": attempt}
            entry.update(note or {})
            response = None
            try:
                response = session.request(
                    method, self.plan.base + path, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs
                )
                entry["status"] = response.status_code
                if response.headers.get("Idempotent-Replayed"):
                    entry["replayed"] = True
            except requests.RequestException as exc:
                entry["status"] = None
                entry["error"] = type(exc).__name__
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            again = retry and self._should_retry(response)
            entry["final"] = not again or attempt == MAX_ATTEMPTS or self.halt.is_set()
            if response is not None and response.status_code >= 400:
                entry["detail"] = _detail(response)
            if entry["final"]:
                return response, entry
            self.ledger.write(**entry)
            time.sleep(self._backoff(attempt, response))
            if new_key is not None and key is not None:
                key = new_key()  # the broken client: a new key for the same request
        raise AssertionError("unreachable: the last attempt is final")

    @staticmethod
    def _should_retry(response: requests.Response | None) -> bool:
        if response is None:
            return True
        status = response.status_code
        if status >= 500 or status == 429:
            return True
        if status == 409:
            body = _json(response)
            detail = str(body.get("detail", ""))
            return "allowed_triggers" not in body and any(word in detail for word in RETRYABLE_CONFLICT)
        return False

    @staticmethod
    def _backoff(attempt: int, response: requests.Response | None) -> float:
        wait: float = min(0.25 * 2 ** (attempt - 1), 6.0)
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            wait = max(wait, min(float(response.headers["Retry-After"]), 6.0))
        return float(wait * random.uniform(0.7, 1.3))  # noqa: S311

    # --- groups filing claims -----------------------------------------------------------

    def _pace(self) -> bool:
        """Wait for the next submission slot (a shared rate); False when the load is over."""
        with self._pace_lock:
            now = time.monotonic()
            self._next_slot = max(self._next_slot + 1 / self.plan.submissions_per_second, now)
            slot = self._next_slot
        while not self.stop.is_set():
            delay = slot - time.monotonic()
            if delay <= 0:
                return True
            time.sleep(min(delay, 0.5))
        return False

    def submission(self, sid: str) -> dict[str, Any]:
        rnd = random.Random(sid)  # noqa: S311
        marker = self.plan.marker
        return {
            "group": {
                "name": f"Soak group {sid}",
                "contact_name": f"Contact {marker}",
                "email": f"{marker}.{sid.rsplit('-', 1)[-1]}@example.org",
            },
            "initiative": {
                "title": f"Soak {sid}",
                "description": "Neighbours run a weekly shared meal in the estate hall.",
                "sector": rnd.choice(SECTORS),
                "region": rnd.choice(REGIONS),
                "people_involved": rnd.randint(3, 80),
            },
            "barrier": {
                "regulation": "Food premises registration",
                "imposed_by": "District council",
                "category": rnd.choice(BARRIER_CATEGORIES),
                "how_it_blocks": "The hall would need to register as a food business for a weekly meal.",
                "remedy_sought": rnd.choice(("waiver", "clarification", "amendment")),
            },
            "consent": {"contact": rnd.random() < 0.8},
        }

    def submitter(self) -> None:
        session = requests.Session()
        while self._pace():
            sid = f"{self.plan.run_id}-{next(self._sequence)}"
            body = self.submission(sid)
            key = str(uuid.uuid4())
            new_key = (lambda: str(uuid.uuid4())) if self.plan.broken_retry else None
            response, entry = self.call(
                session, "submit", "POST", "/api/v1/claims", key=key, json=body, new_key=new_key, note={"sid": sid}
            )
            filed = None
            if response is not None and response.status_code == 201:
                data = _json(response)
                entry.update(reference=data.get("reference"), tracking_token=data.get("tracking_token"))
                entry["tracking_url"] = data.get("tracking_url")
                filed = Filed(sid, data["reference"], data["tracking_token"], data["tracking_url"])
            self.ledger.write(**entry)
            if filed is None:
                continue
            self.registry.add(filed)
            if self.plan.broken_retry and random.random() < self.plan.lost_response_share:  # noqa: S311
                # The broken client "never saw" this answer and files the same claim again, new key.
                again, entry = self.call(
                    session,
                    "submit",
                    "POST",
                    "/api/v1/claims",
                    key=str(uuid.uuid4()),
                    json=body,
                    note={"sid": sid, "resent_after_success": True},
                )
                if again is not None and again.status_code == 201:
                    data = _json(again)
                    entry.update(reference=data.get("reference"), tracking_token=data.get("tracking_token"))
                self.ledger.write(**entry)
            if random.random() < self.plan.evidence_share:  # noqa: S311
                self.upload_evidence(session, filed)

    def upload_evidence(self, session: requests.Session, filed: Filed) -> None:
        low, high = self.plan.evidence_mib
        size = random.randint(low * 2**20, high * 2**20)  # noqa: S311
        kind = random.choice(("pdf", "png", "jpg"))  # noqa: S311
        head = {"pdf": b"%PDF-1.7\n", "png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff\xe0"}[kind]
        data = head + os.urandom(size - len(head))
        digest = hashlib.sha256(data).hexdigest()
        response, entry = self.call(
            session,
            "evidence",
            "POST",
            f"/api/v1/claims/{filed.reference}/evidence",
            key=str(uuid.uuid4()),
            new_key=(lambda: str(uuid.uuid4())) if self.plan.broken_retry else None,
            headers={"Authorization": f"Bearer {filed.token}"},
            files={"file": (f"evidence.{kind}", data, "application/octet-stream")},
            note={"reference": filed.reference, "sha256": digest, "size": size},
        )
        if response is not None and response.status_code == 201:
            entry["attachment_id"] = _json(response).get("id")
        self.ledger.write(**entry)

    # --- officers -----------------------------------------------------------------------

    def token_for(self, session: requests.Session, officer: Officer) -> None:
        response, entry = self.call(
            session, "token", "POST", "/api/v1/tokens", json={"email": officer.email, "password": officer.password}
        )
        self.ledger.write(**entry)
        if response is None or response.status_code != 201:
            raise RuntimeError(f"no API token for {officer.email}: {response.status_code if response else 'no answer'}")
        officer.token = _json(response)["token"]

    def read_claim(
        self, session: requests.Session, reference: str, bearer: str, who: str
    ) -> tuple[str, int, list[str]] | None:
        response, entry = self.call(
            session,
            "read",
            "GET",
            f"/api/v1/claims/{reference}",
            headers={"Authorization": f"Bearer {bearer}"},
            note={"reference": reference, "as": who},
        )
        self.ledger.write(**entry)
        if response is None or response.status_code != 200:
            return None
        body = _json(response)
        return body["state"], int(body["version"]), list(body.get("allowed_triggers") or [])

    def fire(
        self,
        session: requests.Session,
        reference: str,
        trigger: str,
        seen: tuple[str, int],
        *,
        bearer: str,
        actor: str,
        legal: bool,
        hot: bool,
    ) -> requests.Response | None:
        state, version = seen
        response, entry = self.call(
            session,
            "transition",
            "POST",
            f"/api/v1/claims/{reference}/transitions",
            key=str(uuid.uuid4()),
            headers={"Authorization": f"Bearer {bearer}", "If-Match": f'"v{version}"'},
            json={"trigger": trigger, **trigger_input(trigger, self.plan.regulation_id)},
            note={
                "reference": reference,
                "trigger": trigger,
                "if_match": version,
                "state_seen": state,
                "actor": actor,
                "legal": legal,
                "hot": hot,
            },
        )
        if response is not None and response.status_code == 200:
            body = _json(response)
            entry.update(state_after=body.get("state"), version_after=body.get("version"))
        self.ledger.write(**entry)
        return response

    def officer(self, officer: Officer) -> None:
        session = requests.Session()
        self.token_for(session, officer)
        actor = f"officer:{officer.officer_id}"
        while not self.stop.is_set():
            time.sleep(self.plan.officer_pause * random.uniform(0.5, 1.5))  # noqa: S311
            filed = self.registry.recent()
            if filed is None:
                continue
            seen = self.read_claim(session, filed.reference, officer.token, actor)
            if seen is None:
                continue
            state, version, allowed = seen
            if random.random() < self.plan.illegal_share:  # noqa: S311
                trigger = random.choice([t for t in TRANSITIONS_BY_TRIGGER if t not in allowed])  # noqa: S311
                self.fire(
                    session,
                    filed.reference,
                    trigger,
                    (state, version),
                    bearer=officer.token,
                    actor=actor,
                    legal=False,
                    hot=False,
                )
                continue
            group_turn = _group_may(state)
            if group_turn and (not allowed or random.random() < 0.5):  # noqa: S311
                # The group's turn: it answers the question or appeals, with its tracking token.
                self.fire(
                    session,
                    filed.reference,
                    group_turn[0],
                    (state, version),
                    bearer=filed.token,
                    actor="group",
                    legal=True,
                    hot=False,
                )
            elif allowed:
                trigger = random.choice(allowed)  # noqa: S311
                self.fire(
                    session,
                    filed.reference,
                    trigger,
                    (state, version),
                    bearer=officer.token,
                    actor=actor,
                    legal=True,
                    hot=False,
                )

    def racer(self, officer: Officer, index: int) -> None:
        """Every racer wakes at the same instant each second and fires at the same hot claim."""
        session = requests.Session()
        self.token_for(session, officer)
        actor = f"officer:{officer.officer_id}"
        tick = int(time.time())
        while not self.stop.is_set():
            tick += 1
            time.sleep(max(0.0, tick - time.time()))
            reference = self.registry.hot_claim(tick)
            if reference is None:
                continue
            seen = self.read_claim(session, reference, officer.token, actor)
            if seen is None:
                continue
            state, version, allowed = seen
            choices = [t for t in allowed if t in RACE_TRIGGERS]
            if not choices:
                if index == 0:
                    self.registry.cool(reference)
                continue
            # Wait for the same instant again, so that the racers' requests cross.
            time.sleep(max(0.0, tick + 0.5 - time.time()))
            trigger = random.Random(f"{reference}{version}").choice(choices)  # noqa: S311 (all racers agree)
            self.fire(
                session, reference, trigger, (state, version), bearer=officer.token, actor=actor, legal=True, hot=True
            )

    # --- readers ------------------------------------------------------------------------

    def reader(self) -> None:
        opened: dict[str, requests.Session] = {}
        plain = requests.Session()
        while not self.stop.is_set():
            time.sleep(self.plan.reader_pause * random.uniform(0.5, 1.5))  # noqa: S311
            roll = random.random()  # noqa: S311
            if roll < 0.35:
                filed = self.registry.any()
                if filed is None:
                    continue
                browser = requests.Session()
                self.open_link(browser, filed)
                opened[filed.reference] = browser
                if len(opened) > 50:
                    opened.pop(next(iter(opened)))
            elif roll < 0.55 and opened:
                reference = random.choice(list(opened))  # noqa: S311
                _, entry = self.call(
                    opened[reference], "track_page", "GET", f"/track/{reference}", note={"reference": reference}
                )
                self.ledger.write(**entry)
            elif roll < 0.7:
                filed = self.registry.any()
                if filed is not None:
                    self.read_claim(plain, filed.reference, filed.token, "group")
            elif roll < 0.85:
                _, entry = self.call(plain, "stats_api", "GET", "/api/v1/statistics")
                self.ledger.write(**entry)
            else:
                _, entry = self.call(plain, "stats_page", "GET", "/statistics")
                self.ledger.write(**entry)

    def open_link(self, browser: requests.Session, filed: Filed) -> tuple[int | None, int | None]:
        """The tracking link: 303 to the page without the token, then the page."""
        link = urlsplit(filed.url)
        path = f"{link.path}?{link.query}"
        first, entry = self.call(browser, "track_link", "GET", path, note={"reference": filed.reference})
        self.ledger.write(**_without_query(entry))
        if first is None or first.status_code != 303:
            return (first.status_code if first is not None else None), None
        page, entry = self.call(
            browser, "track_page", "GET", f"/track/{filed.reference}", note={"reference": filed.reference}
        )
        self.ledger.write(**entry)
        return 303, page.status_code if page is not None else None

    # --- running ------------------------------------------------------------------------

    def start(self, submitters: int = 12) -> None:
        def spawn(target: Callable[..., None], *args: Any) -> None:
            thread = threading.Thread(target=self._guard, args=(target, *args), daemon=True)
            thread.start()
            self.threads.append(thread)

        for _ in range(submitters):
            spawn(self.submitter)
        for officer in self.officers:
            spawn(self.officer, officer)
        for index, officer in enumerate(self.racers):
            spawn(self.racer, officer, index)
        for _ in range(self.plan.reader_threads):
            spawn(self.reader)

    def _guard(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # a client's own bug must not hide the others' results
            self.ledger.write(op="client_crash", error=f"{type(exc).__name__}: {exc}")

    def finish(self) -> None:
        """Stop new work; let retries in flight end (at most ``drain`` seconds)."""
        self.stop.set()
        deadline = time.monotonic() + self.plan.drain
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.halt.set()
        for thread in self.threads:
            thread.join(timeout=30)


RACE_TRIGGERS = ("accept", "uphold", "not_uphold", "record_resolution", "request_information")


def _group_may(state: str) -> tuple[str, ...]:
    return tuple(t for t in ("provide_information", "appeal") if state in TRANSITIONS_BY_TRIGGER[t].sources)


def trigger_input(trigger: str, regulation_id: int) -> dict[str, Any]:
    """Valid input for each trigger, so that a refusal is about the trigger, not its input."""
    inputs: dict[str, dict[str, Any]] = {
        "accept": {"category": "food_hygiene", "regulation": regulation_id},
        "decline": {"reason_code": "out_of_scope", "explanation": "This is not about a regulation."},
        "request_information": {"question": "How many volunteers cook each week?"},
        "provide_information": {"answer": "Twelve volunteers; all hold a level 2 certificate."},
        "uphold": {"reasons": "The rule was applied more strictly than the law requires.", "remedy": "waiver"},
        "not_uphold": {
            "reasons": "The rule protects everyone and applies to every hall.",
            "reason_code": "regulation_necessary_and_proportionate",
        },
        "appeal": {"grounds": "The decision did not consider the supervision in place."},
        "allow_appeal": {"reasons": "The panel finds the rule disproportionate here.", "remedy": "guidance_clarified"},
        "dismiss_appeal": {"reasons": "The panel agrees with the original decision."},
        "record_resolution": {"outcome": "waiver_granted", "summary": "The council granted a waiver."},
        "withdraw": {"reason": "We found another venue."},
        "reopen": {"justification": "New evidence arrived by post."},
    }
    return inputs.get(trigger, {})


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(response: requests.Response) -> str:
    body = _json(response)
    if body:
        text = str(body.get("detail", ""))
        if "allowed_triggers" in body:
            text += f" allowed={body['allowed_triggers']}"
        return text[:200]
    return response.text[:120] if response.headers.get("Content-Type", "").startswith("text/plain") else ""


def _without_query(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "path": entry["path"].split("?", 1)[0]}
