"""The benchmark suite: the service measured the way it is used, against its own stack's floors.

    make bench                                   # both databases, 10,000 and 1,000,000 claims
    .venv/bin/python -m benchmarks.run --databases sqlite --claims 10000 --duration 10
    .venv/bin/python -m benchmarks.run --smoke   # what CI runs: a tiny data set, half a second a workload

For each database and size it makes a fresh database, fills it (benchmarks/dataset.py), times
publishing a statistics release, starts gunicorn with the production configuration
(gunicorn.conf.py) on 127.0.0.1 serving ``benchmarks.wsgi:app`` (the production app plus the two
reference endpoints), drives every workload with wrk for a fixed time, then stops gunicorn and
times ``audit verify`` over everything, the run's own writes included. Each workload is reported
as a share of a reference endpoint measured in the same run (the framework floor, a hello-world
JSON view; the write floor, one ORM row committed), with p50/p95/p99 latency, CPU per request in
gunicorn (and in PostgreSQL) and the workers' memory. The report is JSON plus a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import redis
import requests
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import dataset  # noqa: E402
from benchmarks.app import create_bench_table  # noqa: E402
from guarantee import create_app  # noqa: E402
from guarantee.context import service_context, unit_of_work  # noqa: E402
from guarantee.extensions import db  # noqa: E402
from guarantee.public.forms import PAGES  # noqa: E402
from guarantee.services import audit  # noqa: E402
from guarantee.services.queue import NO_DUE_DATE, _encode  # noqa: E402
from guarantee.statistics import releases  # noqa: E402
from guarantee.statistics.document import settings_from  # noqa: E402
from workflows import ACTIVE_STATES  # noqa: E402

LUA = Path(__file__).resolve().parent / "lua"
POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = ("127.0.0.1", 6379)
PASSWORD_ENV = "BENCH_OFFICER_PASSWORD"  # noqa: S105 (the name of a variable, not a secret)
WELSH = "language=cy"  # the cookie the English | Cymraeg toggle sets (guarantee.i18n)
HOT_SET = 4  # claims shared by every officer in each second of the transition workload (transition.lua)


@dataclass(frozen=True)
class Workload:
    name: str
    label: str
    script: str
    floor: str | None  # "hello", "write", or None for a floor itself
    expected: tuple[int, ...] = (200,)
    share: float | None = None  # the target, as a share of the floor's req/s
    cpu: float | None = None  # the target: app CPU per request at most this many times the floor's
    p99_ms: float | None = None  # the target p99 at 16 clients
    reads: bool = True  # safe to warm up
    alongside: str | None = None  # a writing workload other clients run meanwhile, each at WRITERS_PACE_MS
    against: str | None = None  # the read-only run this one's p99 is held to (at most MIXED_P99x of it)


PAGE, JSON, WRITE = 3.0, 2.0, 1.5  # app CPU per request against the floor's: an HTML page, a JSON read, a write
FLOORS = (
    Workload("hello", "Framework floor: hello-world JSON", "get.lua", None),
    Workload("write", "Write floor: one ORM row committed", "write_floor.lua", None, (201,), reads=False),
)
WORKLOADS = (
    Workload(
        "api_submit", "API submission", "api_submit.lua", "write", (201,), share=0.6, cpu=WRITE, p99_ms=50, reads=False
    ),
    Workload("web_submit", "Web-form page sent (CSRF)", "web_submit.lua", "write", (303,), 0.6, WRITE, reads=False),
    Workload(
        "transition",
        "Transition via API (30% hot)",
        "transition.lua",
        "write",
        (200, 409, 412),
        share=0.6,
        cpu=WRITE,
        p99_ms=50,
        reads=False,
    ),
    Workload("claim_form", "Claim form: a question page", "get.lua", "hello", cpu=PAGE),
    Workload("tracking", "Tracking page", "get.lua", "hello", cpu=PAGE),
    # The same two pages in Welsh (issue 23): translation may not cost a page its target.
    Workload("claim_form_cy", "Claim form: a question page, in Welsh", "get.lua", "hello", cpu=PAGE),
    Workload("tracking_cy", "Tracking page, in Welsh", "get.lua", "hello", cpu=PAGE),
    Workload("api_read", "API claim read", "get.lua", "hello", cpu=JSON),
    Workload("console_claim", "Console: a claim's page", "get.lua", "hello", cpu=PAGE),
    Workload("queue_first", "Queue: first page", "get.lua", "hello", cpu=PAGE),
    Workload(
        "queue_filtered",
        "Queue: state + overdue + region",
        "get.lua",
        "hello",
        cpu=PAGE,
    ),
    Workload("queue_deep", "Queue: page 10,000 claims deep", "get.lua", "hello", cpu=PAGE),
    Workload(
        "queue_while_filing",
        "Queue: first page while groups file",
        "get.lua",
        "hello",
        alongside="api_submit",
        against="queue_first",
    ),
    Workload("stats_page", "Statistics page", "get.lua", "hello", cpu=PAGE),
    Workload("stats_api", "Statistics API", "get.lua", "hello", cpu=JSON),
    Workload("register_page", "Decision register: first page", "get.lua", "hello", cpu=PAGE),
    Workload("register_api", "Decision register API: first page", "get.lua", "hello", cpu=JSON),
    Workload("rule_page", "A rule's page", "get.lua", "hello", cpu=PAGE),
)
BY_NAME = {w.name: w for w in FLOORS + WORKLOADS}
# The mixed workload: groups file at a steady pace (each writing client once every WRITERS_PACE_MS)
# while officers read; the readers' p99 may be at most MIXED_P99X their p99 in a run on their own.
WRITERS, WRITERS_PACE_MS, MIXED_P99X = 2, 100, 2.0
QUEUE_DEPTH = 10_000
QUEUE_FILTER = "state=under_review&state=awaiting_information&due=overdue&region=london"
PUBLISH_LIMITS = {"postgresql": 10.0, "sqlite": 15.0}
VERIFY_PER_SECOND = 100_000
RSS_LIMIT_MB = 150
TRIES = 3  # a measurement that finishes no request is run again, each time four times as long
QUIET_CPU_SHARE = 0.02  # the workers use less than this share of a core: nothing left to answer
SETTLE_LIMIT_S = 120.0


class WorkloadFailed(RuntimeError):
    """A workload that could not be measured, with the reason a person can act on."""


@dataclass
class Options:
    databases: list[str]
    sizes: list[int]
    duration: float
    connections: int
    workers: int | None
    worker_class: str | None
    report_dir: Path
    smoke: bool = False
    keep: bool = False
    only: list[str] = field(default_factory=list)


# --- databases ----------------------------------------------------------------------


def reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def fresh_database(kind: str, size: int, workdir: Path, keep: bool) -> Iterator[str]:
    """An empty database for one run, dropped afterwards unless kept."""
    if kind == "sqlite":
        path = workdir / f"bench-{size}.sqlite3"
        yield f"sqlite:///{path}"
        return
    name = f"bench_{size}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRESQL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRESQL).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def in_process_app(url: str, first_day: date) -> Any:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(16),
            "GUARANTEE_LOG_JSON": False,
            "GUARANTEE_STATISTICS_SERIES_START": first_day.isoformat(),
        }
    )


def publish_release(url: str, first_day: date) -> dict[str, Any]:
    """Publish a release over every claim, as `flask guarantee statistics publish` does; timed."""
    app = in_process_app(url, first_day)
    with app.app_context():
        settings = settings_from(app.config, private=False, epsilon=None)
        started = time.perf_counter()
        with unit_of_work() as ctx:
            release = releases.publish(ctx, None, settings, None)
            number, size = release.number, len(release.document)
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return {"seconds": round(seconds, 2), "release": number, "bytes": size}


def verify_audit(url: str, first_day: date) -> dict[str, Any]:
    """`audit verify` over every chain and the admin log, as the command runs it (one worker
    process per CPU core); timed."""
    app = in_process_app(url, first_day)
    with app.app_context():
        ctx = service_context()
        started = time.perf_counter()
        report = audit.verify(ctx, workers=len(os.sched_getaffinity(0)))
        seconds = time.perf_counter() - started
        ctx.rollback()
        db.engine.dispose()
    return {
        "ok": report.ok,
        "problems": [str(p) for p in (report.problems or [])[:5]],
        "claims": report.claims,
        "events": report.events + report.admin_events,
        "seconds": round(seconds, 2),
        "events_per_second": round((report.events + report.admin_events) / seconds) if seconds else None,
    }


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn with the production configuration, serving the benchmark app on 127.0.0.1."""

    def __init__(self, url: str, first_day: date, workdir: Path, options: Options) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = workdir / "gunicorn.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "GUARANTEE_SECRET_KEY": secrets.token_hex(32),
            "GUARANTEE_BASE_URL": self.base,
            "GUARANTEE_EVIDENCE_DIR": str(workdir / "evidence"),
            "GUARANTEE_MAIL_DIR": str(workdir / "mail"),
            "GUARANTEE_STATISTICS_SERIES_START": first_day.isoformat(),
            # The limits stay on (their cost is part of each request) but high enough for a load test.
            "GUARANTEE_SUBMISSION_RATE_LIMIT": "10000000 per hour",
            "GUARANTEE_FORM_PAGE_RATE_LIMIT": "10000000 per hour",
            "GUARANTEE_TOKEN_RATE_LIMIT": "10000000 per hour",
        }
        if reachable(REDIS):
            # As in production with several workers: counts shared in Redis (a database of its own).
            self.env["GUARANTEE_RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/14"
            redis.Redis(host=REDIS[0], port=REDIS[1], db=14).flushdb()
        self.command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--no-control-socket",
        ]
        if options.workers:
            self.command += ["--workers", str(options.workers)]
        if options.worker_class:
            self.command += ["--worker-class", options.worker_class]
        self.command.append("benchmarks.wsgi:app")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log)  # noqa: S603
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start; see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within a minute; see {self.log}")

    def workers(self) -> list[psutil.Process]:
        assert self.process is not None
        return psutil.Process(self.process.pid).children()

    def cpu_seconds(self) -> float:
        assert self.process is not None
        total = 0.0
        for proc in [psutil.Process(self.process.pid), *self.workers()]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def worker_rss_mb(self) -> list[float]:
        return [round(p.memory_info().rss / 2**20, 1) for p in self.workers()]

    def settle(self, *, interval: float = 0.25, limit: float = SETTLE_LIMIT_S) -> float:
        """Wait until the workers are idle, and return how long that took.

        wrk stops at the end of its time with requests still in flight and more waiting in the
        listen queue; a sync worker answers every one of them, to nobody. On a loaded machine that
        backlog can take longer than the next run lasts, which then measures the last workload's
        leftovers and finishes no request of its own. So each measurement starts on idle workers.
        """
        started = time.monotonic()
        quiet = 0
        before = self.cpu_seconds()
        while quiet < 2:
            if time.monotonic() - started > limit:
                raise WorkloadFailed(f"the workers were still busy after {limit:.0f} s; see {self.log}")
            time.sleep(interval)
            after = self.cpu_seconds()
            quiet = quiet + 1 if after - before < QUIET_CPU_SHARE * interval else 0
            before = after
        return time.monotonic() - started

    def idle(self, *, interval: float = 0.25) -> tuple[float, bool]:
        """Wait until the workers are idle, as settle() does; if they are still busy at its limit
        (the last workload left more requests queued than they finish in it), start gunicorn
        again, which drops that backlog, so that one slow workload does not fail every one after
        it. Returns the time waited and whether gunicorn was started again."""
        try:
            return self.settle(interval=interval), False
        except WorkloadFailed:
            started = time.monotonic()
            self.stop()
            self.start()
            return time.monotonic() - started + self.settle(interval=interval), True

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def postgresql_cpu_seconds() -> float:
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("postgres", "postmaster"):
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
    return total


# --- what the clients need: tokens, signed-in sessions, opened tracking links -------


class _Fields(HTMLParser):
    """name -> value of every field a browser would send from a page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag != "input" or not a.get("name"):
            return
        kind = a.get("type", "text")
        if kind in ("radio", "checkbox") and "checked" not in a:
            return
        if kind in ("submit", "button", "file"):
            return
        self.values[str(a["name"])] = a.get("value") or ""


def form_fields(html: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(html)
    return parser.values


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


FORM_PAGES = tuple(page.slug for page in PAGES)  # the claim form's question pages, in order
CLAIM_ANSWERS = {
    "group_name": "Riverside Community Kitchen",
    "group_contact_name": "Sam Patel",
    "group_email": "sam@example.org",
    "initiative_title": "Weekly shared meal",
    "initiative_description": "Neighbours cook and eat together every Thursday in the estate hall.",
    "initiative_sector": "community_safety",
    "initiative_region": "north_west",
    "initiative_people_involved": "24",
    "barrier_regulation": "Food premises registration",
    "barrier_imposed_by": "District council environmental health",
    "barrier_category": "food_hygiene",
    "barrier_how_it_blocks": "The hall would need to register as a food business for a weekly meal.",
    "barrier_remedy_sought": "waiver",
    "consent_contact": "yes",
    "consent_publish": "yes",
}
API_SUBMISSION = {
    "group": {"name": "Little Acorns Parents @N@", "contact_name": "Sam Patel", "email": "sam@example.org"},
    "initiative": {
        "title": "Parent-run nursery",
        "description": "Parents run a nursery on a rota with one qualified lead.",
        "sector": "children_and_families",
        "region": "north_west",
        "people_involved": 24,
    },
    "barrier": {
        "regulation": "Early years staffing ratios",
        "imposed_by": "Ofsted",
        "category": "professional_standards_and_qualifications",
        "how_it_blocks": "Every parent on the rota would need a level 3 qualification.",
        "remedy_sought": "waiver",
    },
    "consent": {"contact": True},
}


class Clients:
    """Signs in and opens links once, then writes each workload's data file for wrk."""

    def __init__(self, server: Server, manifest: dataset.Manifest, url: str, threads: int) -> None:
        self.server = server
        self.manifest = manifest
        self.url = url
        self.threads = threads
        self.engine = create_engine(url)

    def _officers(self, *roles: str) -> list[dict[str, Any]]:
        return [o for o in self.manifest.officers if set(roles) <= set(o["roles"])]

    def api_token(self, officer: dict[str, Any]) -> str:
        answer = requests.post(
            self.server.base + "/api/v1/tokens",
            json={"email": officer["email"], "password": officer["password"]},
            timeout=30,
        )
        answer.raise_for_status()
        return str(answer.json()["token"])

    def console_cookie(self, officer: dict[str, Any]) -> str:
        browser = requests.Session()
        page = browser.get(self.server.base + "/officer/sign-in", timeout=30)
        fields = form_fields(page.text)
        fields.update(email=officer["email"], password=officer["password"])
        signed_in = browser.post(self.server.base + "/officer/sign-in", data=fields, timeout=30, allow_redirects=False)
        if signed_in.status_code != 303:
            raise RuntimeError(f"signing in {officer['email']} gave {signed_in.status_code}")
        return cookie_header(browser)

    def rows(self, name: str) -> list[list[str]]:
        """The tab-separated lines of a workload's data file."""
        base = self.server.base
        if name == "hello":
            return [["/bench/hello"]]
        if name == "write":
            return []
        if name == "api_submit":
            return [[json.dumps(API_SUBMISSION)]]
        if name == "web_submit":
            return [self._web_session() for _ in range(min(self.threads, 16))]
        if name == "tracking_cy":
            return [[path, f"{cookie}; {WELSH}"] for path, cookie in self.rows("tracking")]
        if name == "claim_form_cy":
            return [[*row, f"Cookie={WELSH}"] for row in self.rows("claim_form")]
        if name == "tracking":
            rows = []
            for sample in self.manifest.tracking[:200]:
                browser = requests.Session()
                opened = browser.get(
                    f"{base}/track/{sample['reference']}",
                    params={"token": sample["token"]},
                    timeout=30,
                    allow_redirects=False,
                )
                if opened.status_code != 303:
                    raise RuntimeError(f"the tracking link of {sample['reference']} gave {opened.status_code}")
                rows.append([f"/track/{sample['reference']}", f"Cookie={cookie_header(browser)}"])
            return rows
        if name == "api_read":
            tokens = [self.api_token(o) for o in self._officers("reviewer")[:4]]
            return [
                [f"/api/v1/claims/{s['reference']}", f"Authorization=Bearer {tokens[k % len(tokens)]}"]
                for k, s in enumerate(self.manifest.tracking)
            ]
        if name.startswith("queue_"):
            path = {
                "queue_first": "/officer",
                "queue_while_filing": "/officer",
                "queue_filtered": f"/officer?{QUEUE_FILTER}",
                "queue_deep": f"/officer?{urlencode({'cursor': self._deep_cursor()})}",
            }[name]
            return [[path, f"Cookie={c}"] for c in self._reviewer_cookies()]
        if name == "console_claim":
            cookies = self._reviewer_cookies()
            return [
                [f"/officer/claims/{s['reference']}", f"Cookie={cookies[k % len(cookies)]}"]
                for k, s in enumerate(self.manifest.tracking)
            ]
        if name == "claim_form":
            return [[f"/claims/new/{FORM_PAGES[2]}"]]  # the initiative page: the most options
        if name == "rule_page":
            with self.engine.connect() as conn:
                slugs = conn.execute(
                    text(
                        "SELECT r.slug FROM regulations r JOIN claims c ON c.regulation_id = r.id "
                        "GROUP BY r.slug ORDER BY count(*) DESC, r.slug LIMIT 10"
                    )
                ).scalars()
                return [[f"/rules/{slug}"] for slug in slugs]
        if name == "stats_page":
            return [["/statistics"]]
        if name == "stats_api":
            return [["/api/v1/statistics"]]
        if name == "register_page":
            return [["/decisions"]]
        if name == "register_api":
            return [["/api/v1/decisions"]]
        if name == "transition":
            return self._transition_rows()
        raise ValueError(name)

    def _reviewer_cookies(self) -> list[str]:
        if not hasattr(self, "_cookies"):
            reviewers = [o for o in self._officers("reviewer") if "admin" not in o["roles"]]
            self._cookies = [self.console_cookie(o) for o in reviewers[:2]]
        return self._cookies

    def _web_session(self) -> list[str]:
        """A browser that has answered the claim form's pages up to the last, which it sends: its
        answers are checked (the whole claim, by the API's rules) and kept in its draft."""
        browser = requests.Session()
        base = self.server.base
        for slug in FORM_PAGES:
            page = browser.get(f"{base}/claims/new/{slug}", timeout=30)
            answers = {**form_fields(page.text), **CLAIM_ANSWERS}
            sent = browser.post(f"{base}/claims/new/{slug}", data=answers, timeout=30, allow_redirects=False)
            if sent.status_code != 303:
                raise RuntimeError(f"the claim form's {slug} page gave {sent.status_code}")
        return [cookie_header(browser), f"/claims/new/{FORM_PAGES[-1]}", urlencode(answers)]

    def _deep_cursor(self) -> str:
        active = ", ".join(f"'{s}'" for s in ACTIVE_STATES)
        deepest = (
            f"SELECT due_on, id FROM claims WHERE state IN ({active}) "  # noqa: S608 (constants)
            "ORDER BY coalesce(due_on, :none), id LIMIT 1 OFFSET :depth"
        )
        last = (
            f"SELECT due_on, id FROM claims WHERE state IN ({active}) "  # noqa: S608 (constants)
            "ORDER BY coalesce(due_on, :none) DESC, id DESC LIMIT 1 OFFSET 50"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(text(deepest), {"none": NO_DUE_DATE, "depth": QUEUE_DEPTH - 1}).all()
            if not rows:  # a small data set: the last page
                rows = conn.execute(text(last), {"none": NO_DUE_DATE}).all()
        due_on, claim_id = rows[0]
        due = date.fromisoformat(str(due_on)) if due_on is not None else NO_DUE_DATE
        return _encode([due.isoformat(), int(claim_id)])

    def _transition_rows(self) -> list[list[str]]:
        deciders = self._officers("triage", "reviewer") or self._officers("admin")
        tokens = [self.api_token(o) for o in deciders[:2]]
        with self.engine.connect() as conn:
            regulations = conn.execute(text("SELECT id FROM regulations ORDER BY id LIMIT 20")).scalars().all()
            claims = conn.execute(
                text(
                    "SELECT reference, version, state FROM claims WHERE state = 'submitted' "
                    "ORDER BY id DESC LIMIT 20000"
                )
            ).all()
        hot_count = min(len(claims) // 4, HOT_SET * 120)
        rows = [["token", tokens[0]]] + [["regulation", str(r)] for r in regulations]
        for k, (reference, version, state) in enumerate(claims):
            rows.append(["hot" if k < hot_count else "cold", reference, str(version), state])
        return rows


# --- driving a workload -------------------------------------------------------------


def wrk(
    server: Server, workload: Workload, data: list[list[str]], *, seconds: float, threads: int, workdir: Path
) -> Any:
    return wrk_finish(wrk_start(server, workload, data, seconds=seconds, threads=threads, workdir=workdir))


def wrk_start(
    server: Server,
    workload: Workload,
    data: list[list[str]],
    *,
    seconds: float,
    threads: int,
    workdir: Path,
    pace_ms: int = 0,
    name: str | None = None,
) -> tuple[subprocess.Popen[str], Path, str]:
    """wrk running ``workload`` (each client waiting ``pace_ms`` between requests, if given)."""
    name = name or workload.name
    script = workdir / f"{name}.lua"
    script.write_text((LUA / "common.lua").read_text() + "\n" + (LUA / workload.script).read_text())
    data_file = workdir / f"{name}.tsv"
    data_file.write_text("".join("\t".join(row) + "\n" for row in data))
    out = workdir / f"{name}.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BENCH_DATA": str(data_file),
        "BENCH_OUT": str(out),
        "BENCH_RUN": uuid.uuid4().hex[:8],
        "BENCH_THREADS": str(threads),
        "BENCH_STARTED": str(int(time.time())),
        "BENCH_PACE_MS": str(pace_ms),
    }
    command = [
        shutil.which("wrk") or "wrk",
        f"--threads={threads}",
        f"--connections={threads}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={script}",
        server.base,
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    return process, out, name


def wrk_finish(running: tuple[subprocess.Popen[str], Path, str]) -> Any:
    process, out, name = running
    stdout, stderr = process.communicate()
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed on {name}: {stderr or stdout}")
    return json.loads(out.read_text())


def drive(
    server: Server, clients: Clients, workload: Workload, *, options: Options, workdir: Path, database: str
) -> dict[str, Any]:
    data = clients.rows(workload.name)
    threads = options.connections
    # Fill caches and compile templates, as a server that has been up a while has; the smoke run
    # only checks that each workload answers, so it skips this.
    restarted = False
    if workload.reads and not options.smoke:
        restarted = server.idle()[1]
        wrk(server, workload, data, seconds=1, threads=threads, workdir=workdir)
    duration, tries = options.duration, 0
    while True:
        tries += 1
        settled, again = server.idle(interval=0.1 if options.smoke else 0.25)
        restarted = restarted or again
        cpu_before, db_before = server.cpu_seconds(), postgresql_cpu_seconds() if database == "postgresql" else 0.0
        writers = (
            wrk_start(
                server,
                BY_NAME[workload.alongside],
                clients.rows(workload.alongside),
                seconds=duration,
                threads=WRITERS,
                workdir=workdir,
                pace_ms=WRITERS_PACE_MS,
                name=f"{workload.name}_writers",
            )
            if workload.alongside
            else None
        )
        result = wrk(server, workload, data, seconds=duration, threads=threads, workdir=workdir)
        alongside = wrk_finish(writers) if writers else None
        cpu_after, db_after = server.cpu_seconds(), postgresql_cpu_seconds() if database == "postgresql" else 0.0
        requests_done = result["requests"]
        if requests_done:
            break
        errors = {k: v for k, v in result["errors"].items() if v}
        if tries == TRIES:
            raise WorkloadFailed(
                f"no request finished in {tries} runs, the last of {duration:g} s"
                + (f" (errors: {errors})" if errors else "")
                + f"; see {server.log}"
            )
        duration *= 4
    seconds = result["duration_us"] / 1e6
    statuses = {int(k): v for k, v in result["statuses"].items()}
    expected = sum(v for k, v in statuses.items() if k in workload.expected)
    latency = result["latency_us"]
    measured: dict[str, Any] = {}
    if alongside is not None:  # the app's CPU is shared with the writers: not this workload's own
        writes = BY_NAME[workload.alongside or ""]
        written = {int(k): v for k, v in alongside["statuses"].items()}
        measured["alongside"] = {
            "label": f"{writes.label}, {WRITERS} clients each every {WRITERS_PACE_MS} ms",
            "requests": alongside["requests"],
            "req_per_s": round(alongside["requests"] / (alongside["duration_us"] / 1e6), 1),
            "p99_ms": round(alongside["latency_us"]["p99"] / 1000, 2),
            "statuses": {str(k): v for k, v in sorted(written.items())},
            "expected_share": round(
                sum(v for k, v in written.items() if k in writes.expected) / alongside["requests"], 4
            )
            if alongside["requests"]
            else 0.0,
        }
    return measured | {
        "label": workload.label,
        "requests": requests_done,
        "seconds": round(seconds, 2),
        "req_per_s": round(requests_done / seconds, 1) if seconds else 0.0,
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p95_ms": round(latency["p95"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "max_ms": round(latency["max"] / 1000, 2),
        # With writers alongside, the CPU of both, over both's requests.
        "cpu_ms_per_request": round(
            1000 * (cpu_after - cpu_before) / (requests_done + (alongside["requests"] if alongside else 0)), 3
        )
        if requests_done
        else None,
        # None where a PostgreSQL process ended during the workload and took its CPU time with it.
        "db_cpu_ms_per_request": round(1000 * (db_after - db_before) / requests_done, 3)
        if requests_done and database == "postgresql" and db_after >= db_before
        else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "expected_share": round(expected / requests_done, 4) if requests_done else 0.0,
        "socket_errors": {k: v for k, v in result["errors"].items() if v and k != "status"},
        "tries": tries,
        "settled_s": round(settled, 2),
        # gunicorn was started again first: the workload before left more than SETTLE_LIMIT_S of work.
        "restarted": restarted,
    }


def failed(workload: Workload, reason: str) -> dict[str, Any]:
    """The result of a workload that could not be measured: its reason, and no numbers."""
    return {"label": workload.label, "failed": reason, "requests": 0, "statuses": {}}


def fmt(value: Any, spec: str) -> str:
    """A number for the report's table; a blank where there is none."""
    return "" if value is None else format(value, spec)


# --- one database at one size ------------------------------------------------------


def run_one(database: str, size: int, options: Options) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{database}-{size}-"))
    run: dict[str, Any] = {"database": database, "claims": size, "workdir": str(workdir)}
    try:
        with fresh_database(database, size, workdir, options.keep) as url:
            print(f"[{database} {size:,}] generating the data set", flush=True)
            manifest = dataset.generate(url, size)
            run["generation"] = {"seconds": round(manifest.seconds, 1), "events": manifest.events}
            create_bench_table(url)
            print(f"[{database} {size:,}] publishing a statistics release", flush=True)
            run["publish"] = publish_release(url, manifest.first_day)
            server = Server(url, manifest.first_day, workdir, options)
            server.start()
            clients = Clients(server, manifest, url, options.connections)
            results: dict[str, Any] = {}
            try:
                chosen = [w for w in WORKLOADS if not options.only or w.name in options.only]
                for workload in (*FLOORS, *chosen, *FLOORS):
                    name = workload.name if workload.name not in results else f"{workload.name}_again"
                    print(f"[{database} {size:,}] {workload.label}", flush=True)
                    try:
                        results[name] = drive(
                            server, clients, workload, options=options, workdir=workdir, database=database
                        )
                    except Exception as error:  # reported as the workload's failure; the run goes on
                        results[name] = failed(workload, f"{type(error).__name__}: {error}")
                        print(f"    FAILED: {results[name]['failed']}", flush=True)
                        continue
                    print(
                        f"    {results[name]['req_per_s']:>8} req/s  p99 {results[name]['p99_ms']} ms  "
                        f"{results[name]['statuses']}"
                        + (
                            "  (on gunicorn started again: the workload before left it busy)"
                            if results[name]["restarted"]
                            else ""
                        ),
                        flush=True,
                    )
                run["worker_rss_mb"] = server.worker_rss_mb()
                run["gunicorn"] = {"command": " ".join(server.command[1:]), "workers": len(server.workers())}
            finally:
                server.stop()
                clients.engine.dispose()
            for floor in FLOORS:  # the floor is the mean of its runs before and after the workloads
                again = results.pop(f"{floor.name}_again")
                first = results[floor.name]
                if "failed" in first or "failed" in again:
                    if "failed" not in first:  # measured before the workloads but not after: no floor
                        results[floor.name] = {**again, "failed": f"after the workloads: {again['failed']}"}
                    continue
                first["req_per_s_runs"] = [first["req_per_s"], again["req_per_s"]]
                first["req_per_s"] = round((first["req_per_s"] + again["req_per_s"]) / 2, 1)
            run["workloads"] = results
            print(f"[{database} {size:,}] audit verify", flush=True)
            run["verify"] = verify_audit(url, manifest.first_day)
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return run


# --- targets and the report -------------------------------------------------------


def judge(runs: list[dict[str, Any]], smoke: bool) -> list[dict[str, Any]]:
    """Each target of the issue against what was measured: met or missed, and by how much."""
    checks: list[dict[str, Any]] = []
    by_key = {(r["database"], r["claims"]): r for r in runs}
    for run in runs:
        where = f"{run['database']}, {run['claims']:,} claims"
        results = run["workloads"]
        for name, result in results.items():
            workload = BY_NAME[name]
            if "failed" in result:
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label} ({name}): answers as expected",
                        "target": ">= 99%",
                        "measured": f"failed: {result['failed']}",
                        "met": False,
                    }
                )
                continue
            if result["expected_share"] < 0.99:
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label}: answers as expected",
                        "target": ">= 99%",
                        "measured": f"{100 * result['expected_share']:.1f}% {result['statuses']}",
                        "met": False,
                    }
                )
            if workload.floor is None:
                continue
            if "failed" in results[workload.floor]:
                continue  # no floor to compare with; the floor's own failure is reported
            floor_result = results[workload.floor]
            if workload.share is not None:
                floor = floor_result["req_per_s"]
                share = result["req_per_s"] / floor if floor else 0.0
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label}: share of the {workload.floor} floor's throughput",
                        "target": f">= {workload.share:.0%}",
                        "measured": f"{share:.0%} ({result['req_per_s']:.0f} of {floor:.0f} req/s)",
                        "met": share >= workload.share,
                    }
                )
            if workload.cpu is not None and result["cpu_ms_per_request"] and floor_result["cpu_ms_per_request"]:
                ratio = result["cpu_ms_per_request"] / floor_result["cpu_ms_per_request"]
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label}: app CPU per request against the {workload.floor} floor's",
                        "target": f"<= {workload.cpu:g}x",
                        "measured": f"{ratio:.1f}x ({result['cpu_ms_per_request']:.2f} vs "
                        f"{floor_result['cpu_ms_per_request']:.2f} ms)",
                        "met": ratio <= workload.cpu,
                    }
                )
            alone = results.get(workload.against or "", {})
            if workload.against and "p99_ms" in alone:
                ratio = result["p99_ms"] / alone["p99_ms"] if alone["p99_ms"] else float("inf")
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label}: p99 against the same reads on their own",
                        "target": f"<= {MIXED_P99X:g}x",
                        "measured": f"{ratio:.2f}x ({result['p99_ms']:.1f} vs {alone['p99_ms']:.1f} ms; "
                        f"{result['alongside']['req_per_s']:.0f} claims filed a second)",
                        "met": ratio <= MIXED_P99X,
                    }
                )
            if workload.p99_ms is not None:
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label}: p99 at {result.get('clients', 16)} clients",
                        "target": f"< {workload.p99_ms:.0f} ms",
                        "measured": f"{result['p99_ms']:.1f} ms",
                        "met": result["p99_ms"] < workload.p99_ms,
                    }
                )
            small = by_key.get((run["database"], 10_000))
            if run["claims"] >= 1_000_000 and small and "p99_ms" in small["workloads"].get(name, {}):
                base = small["workloads"][name]["p99_ms"]
                checks.append(
                    {
                        "where": where,
                        "what": f"{workload.label}: p99 against 10,000 claims",
                        "target": "<= 1.5x",
                        "measured": f"{result['p99_ms'] / base:.2f}x ({result['p99_ms']:.1f} vs {base:.1f} ms)",
                        "met": result["p99_ms"] <= 1.5 * base,
                    }
                )
        if run["claims"] >= 1_000_000 or smoke:
            limit = PUBLISH_LIMITS[run["database"]]
            checks.append(
                {
                    "where": where,
                    "what": "Publish a statistics release",
                    "target": f"<= {limit:.0f} s",
                    "measured": f"{run['publish']['seconds']:.2f} s",
                    "met": run["publish"]["seconds"] <= limit,
                }
            )
        verify = run["verify"]
        checks.append(
            {
                "where": where,
                "what": "audit verify",
                "target": f">= {VERIFY_PER_SECOND:,} events/s, no problems",
                "measured": f"{fmt(verify['events_per_second'], ',')} events/s ({verify['events']:,} events)"
                + ("" if verify["ok"] else f", problems: {verify['problems']}"),
                "met": verify["ok"] and (verify["events_per_second"] or 0) >= VERIFY_PER_SECOND,
            }
        )
        checks.append(
            {
                "where": where,
                "what": "Worker memory after the whole run",
                "target": f"<= {RSS_LIMIT_MB} MB RSS each",
                "measured": ", ".join(f"{mb:.0f}" for mb in run["worker_rss_mb"]) + " MB",
                "met": max(run["worker_rss_mb"]) <= RSS_LIMIT_MB,
            }
        )
    return checks


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    postgresql = None
    if reachable(("127.0.0.1", 5432)):
        with create_engine(POSTGRESQL).connect() as conn:
            postgresql = conn.execute(text("SHOW server_version")).scalar_one()
    wrk_version = subprocess.run(  # noqa: S603 (our own command)
        [shutil.which("wrk") or "wrk", "--version"], capture_output=True, text=True, check=False
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": postgresql,
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("[")[0].strip(),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Measured {report['date']} on {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"{report['machine']['memory_gb']} GB; Python {report['machine']['python']}, "
        f"PostgreSQL {report['machine']['postgresql']}, SQLite {report['machine']['sqlite']}, "
        f"{report['machine']['wrk']}; {report['options']['connections']} clients, "
        f"{report['options']['duration']} s a workload; load generator on the same machine.",
        "",
    ]
    for run in report["runs"]:
        lines += [
            f"### {run['database']}, {run['claims']:,} claims",
            "",
            f"Data set: {run['claims']:,} claims and {run['generation']['events']:,} audit events generated in "
            f"{run['generation']['seconds']} s. Publish a release: {run['publish']['seconds']} s. Audit verify: "
            f"{run['verify']['events']:,} events in {run['verify']['seconds']} s "
            f"({fmt(run['verify']['events_per_second'], ',')}/s). gunicorn: {run['gunicorn']['command']}; worker RSS after "
            f"the run: {', '.join(str(m) for m in run['worker_rss_mb'])} MB.",
            "",
            "| workload | req/s | of floor | p50 ms | p95 ms | p99 ms | app CPU ms/req | DB CPU ms/req | answers |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, r in run["workloads"].items():
            workload = BY_NAME[name]
            if "failed" in r:
                lines.append(f"| {r['label']} | | | | | | | | **failed**: {r['failed']} |")
                continue
            floor = run["workloads"].get(workload.floor or "", {}).get("req_per_s") if workload.floor else None
            share = f"{r['req_per_s'] / floor:.0%} {workload.floor}" if floor else "floor" if not workload.floor else ""
            answers = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
            if "alongside" in r:
                w = r["alongside"]
                answers += f"; meanwhile {w['label']}: {w['req_per_s']:.0f}/s, p99 {w['p99_ms']:.0f} ms, " + ", ".join(
                    f"{k}: {v}" for k, v in w["statuses"].items()
                )
            lines.append(
                f"| {r['label']} | {fmt(r['req_per_s'], '.0f')} | {share} | {fmt(r['p50_ms'], '.1f')} | "
                f"{fmt(r['p95_ms'], '.1f')} | {fmt(r['p99_ms'], '.1f')} | {fmt(r['cpu_ms_per_request'], '.2f')} | "
                f"{fmt(r['db_cpu_ms_per_request'], '.2f')} | {answers} |"
            )
        lines.append("")
    lines += ["### Targets", "", "| where | what | target | measured | met |", "|---|---|---|---|---|"]
    for check in report["targets"]:
        mark = "yes" if check["met"] else "**no**"
        lines.append(f"| {check['where']} | {check['what']} | {check['target']} | {check['measured']} | {mark} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--claims", default="10000,1000000", help="data set sizes, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds each workload runs")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class (default: gunicorn.conf.py)")
    parser.add_argument("--report-dir", default=str(ROOT / "benchmarks" / "reports"))
    parser.add_argument("--only", default="", help="run only these workloads (comma-separated names)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and working files")
    parser.add_argument("--smoke", action="store_true", help="300 claims, half a second a workload, no warm-up (CI)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install wrk (or make bench, which installs it as root)")
    options = Options(
        databases=[d.strip() for d in args.databases.split(",") if d.strip()],
        sizes=[int(s) for s in args.claims.split(",")] if not args.smoke else [300],
        duration=args.duration if not args.smoke else 0.5,
        connections=args.connections,
        workers=args.workers,
        worker_class=args.worker_class,
        report_dir=Path(args.report_dir),
        smoke=args.smoke,
        keep=args.keep,
        only=[w.strip() for w in args.only.split(",") if w.strip()],
    )
    if "postgresql" in options.databases and not reachable(("127.0.0.1", 5432)):
        if args.smoke:
            options.databases.remove("postgresql")
        else:
            parser.error("PostgreSQL does not answer on 127.0.0.1:5432")
    runs = [run_one(database, size, options) for size in sorted(options.sizes) for database in options.databases]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {
            "databases": options.databases,
            "sizes": options.sizes,
            "duration": options.duration,
            "connections": options.connections,
        },
        "runs": runs,
    }
    report["targets"] = judge(runs, options.smoke)
    options.report_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (options.report_dir / f"bench-{stamp}.json").write_text(json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    (options.report_dir / f"bench-{stamp}.md").write_text(table)
    print(table)
    missed = [c for c in report["targets"] if not c["met"]]
    print(f"{len(report['targets']) - len(missed)} of {len(report['targets'])} targets met.")
    if options.smoke:  # the smoke run checks that every workload still works, not how fast
        broken = [c for c in missed if "answers as expected" in c["what"] or "problems:" in c["measured"]]
        for check in broken:
            print(f"BROKEN: {check['where']}: {check['what']}: {check['measured']}", file=sys.stderr)
        return 1 if broken else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
