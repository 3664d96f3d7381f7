"""The soak and fault run: load and faults for a while, then reconciliation (RELIABILITY.md).

    python -m soak.run                         # 10 minutes on PostgreSQL
    python -m soak.run --short                 # 90 seconds (CI)
    python -m soak.run --short --database sqlite
    python -m soak.run --negative-control      # a broken client and a deleted row: must be caught

Exit status 0 when every reconciliation check passes (for the negative control: when the
planted loss and duplicates are both detected), 1 otherwise, 2 when the harness cannot run here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import redis
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guarantee import create_app  # noqa: E402
from guarantee.clock import UK, FixedClock, today  # noqa: E402
from guarantee.context import unit_of_work  # noqa: E402
from guarantee.extensions import db  # noqa: E402
from guarantee.models import Regulation  # noqa: E402
from guarantee.services.audit import load_or_create_signing_key  # noqa: E402
from guarantee.services.officers import create_officer  # noqa: E402
from guarantee.statistics import releases  # noqa: E402
from guarantee.statistics.document import settings_from  # noqa: E402
from soak import cluster as pg  # noqa: E402
from soak import reconcile  # noqa: E402
from soak.faults import Injector, schedule  # noqa: E402
from soak.load import Ledger, Load, Officer, Plan  # noqa: E402
from soak.server import Gunicorn, as_runner, give_to_runner  # noqa: E402

REPORTS = Path(__file__).resolve().parent / "reports"
REDIS_DB = 13
OFFICERS = (
    ("triage", "reviewer"),
    ("triage", "reviewer"),
    ("reviewer", "appeal_panel"),
)
RACERS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(message: str) -> None:
    print(f"[soak {datetime.now():%H:%M:%S}] {message}", flush=True)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.control = args.negative_control
        self.database = "postgresql" if self.control else args.database
        self.duration = args.duration or (90.0 if args.short or self.control else 600.0)
        self.run_id = secrets.token_hex(4)
        self.marker = f"zqmarker{secrets.token_hex(6)}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"soak-{self.run_id}-"))
        self.dir.chmod(0o755)
        self.evidence = self.dir / "evidence"
        self.checkpoints = self.dir / "checkpoints"
        self.signing_key = self.dir / "audit-signing-key.pem"
        self.cluster: pg.Cluster | None = None
        self.server: Gunicorn | None = None
        self.secret_key = secrets.token_hex(32)
        self.two_step_key = secrets.token_hex(32)  # the service runs as another user: no instance key file
        self.officers: list[Officer] = []
        self.racers: list[Officer] = []
        self.regulation_id = 0
        self.series_start = (datetime.now(UK).date() - timedelta(days=7)).isoformat()
        self.checkpoint_results: list[tuple[str, int, str]] = []
        self.started_wall = 0.0

    # --- set-up -------------------------------------------------------------------------

    def database_url(self) -> str:
        if self.cluster is not None:
            return self.cluster.url
        return f"sqlite:///{self.dir / 'db' / 'soak.sqlite3'}"

    def app(self, clock: Any = None) -> Any:
        settings: dict[str, Any] = {
            "SQLALCHEMY_DATABASE_URI": self.database_url(),
            "SECRET_KEY": self.secret_key,
            "GUARANTEE_TWO_STEP_KEY": self.two_step_key,
            "GUARANTEE_LOG_JSON": False,
            "GUARANTEE_EVIDENCE_DIR": str(self.evidence),
            "GUARANTEE_AUDIT_SIGNING_KEY": str(self.signing_key),
            "GUARANTEE_STATISTICS_SERIES_START": self.series_start,
        }
        if clock is not None:
            settings["GUARANTEE_CLOCK"] = clock
        return create_app(settings)

    def set_up(self) -> None:
        for folder in (self.evidence, self.checkpoints, self.dir / "db", self.dir / "mail"):
            folder.mkdir()
        self.evidence.chmod(0o700)
        if self.database == "postgresql":
            self.cluster = pg.Cluster(self.dir / "pg", free_port(), fsync=not self.control)
            self.cluster.init()
            self.cluster.start()
            self.cluster.create_database()
            log(
                f"PostgreSQL on 127.0.0.1:{self.cluster.port} (fsync {'off' if self.control else 'on'}), as user postgres"
            )
        app = self.app()
        with app.app_context():
            upgrade()
            with unit_of_work() as ctx:
                regulation = Regulation(
                    title="Food premises registration", category="food_hygiene", created_at=ctx.now()
                )
                ctx.session.add(regulation)
                ctx.session.flush()
                self.regulation_id = regulation.id
                for index, roles in enumerate(OFFICERS + (("triage", "reviewer"),) * RACERS):
                    password = secrets.token_urlsafe(18)
                    email = f"soak{index}@council.example"
                    officer = create_officer(
                        ctx, email=email, name=f"Soak Officer {index}", roles=roles, password=password
                    )
                    who = Officer(email, password, roles, officer.id)
                    (self.officers if index < len(OFFICERS) else self.racers).append(who)
            with unit_of_work() as ctx:
                settings = settings_from(app.config)
                releases.publish(ctx, None, settings, None)  # release 1: what readers poll from the start
            db.engine.dispose()
        load_or_create_signing_key(self.signing_key)
        give_to_runner(self.evidence, self.checkpoints, self.dir / "db", self.dir / "mail", self.signing_key)

    def server_env(self, base: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARANTEE_", "DATABASE_URL", "FLASK_"))}
        env.update(
            {
                "HOME": str(self.dir),
                "PYTHONDONTWRITEBYTECODE": "1",
                "FLASK_APP": "wsgi",
                "DATABASE_URL": self.database_url(),
                "GUARANTEE_SECRET_KEY": self.secret_key,
                "GUARANTEE_TWO_STEP_KEY": self.two_step_key,
                "GUARANTEE_BASE_URL": base,
                "GUARANTEE_EVIDENCE_DIR": str(self.evidence),
                "GUARANTEE_MAIL_DIR": str(self.dir / "mail"),
                "GUARANTEE_AUDIT_SIGNING_KEY": str(self.signing_key),
                "GUARANTEE_STATISTICS_SERIES_START": self.series_start,
                "GUARANTEE_SUBMISSION_RATE_LIMIT": "10000000 per hour",
                "GUARANTEE_TOKEN_RATE_LIMIT": "10000000 per hour",
            }
        )
        try:
            redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=1).flushdb()
            env["GUARANTEE_RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:6379/{REDIS_DB}"
        except redis.RedisError:
            pass  # each worker counts on its own: the limits are far above the load anyway
        return env

    def flask(self, *arguments: str) -> tuple[int, str]:
        """A `flask` command as an operator runs it, as gunicorn's user."""
        assert self.server is not None
        done = subprocess.run(  # noqa: S603 (our own command line)
            as_runner([str(Path(sys.executable).parent / "flask"), *arguments], self.dir / "mnt-cli"),
            cwd=ROOT,
            env=self.server.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        return done.returncode, done.stdout + done.stderr

    def checkpoint(self, name: str) -> dict[str, Any]:
        path = self.checkpoints / f"{name}.json"
        code, output = self.flask("guarantee", "audit", "checkpoint", "--output", str(path))
        return {"file": path.name, "exit": code, "output": output.strip()[-300:]}

    # --- the run ------------------------------------------------------------------------

    def run(self) -> int:
        log(f"code: {code_version()}")
        log(
            f"run {self.run_id}: {self.database}, {self.duration:.0f}s{', NEGATIVE CONTROL' if self.control else ''}; in {self.dir}"
        )
        self.set_up()
        port = free_port()
        self.server = Gunicorn(self.dir, port, self.server_env(f"http://127.0.0.1:{port}"), self.args.workers)
        self.server.start()
        log(
            f"gunicorn (as {os.environ.get('GUARANTEE_SOAK_USER', 'nobody')}) on {self.server.base}, {self.args.workers} workers"
        )
        started, self.started_wall = time.monotonic(), time.time()
        ledger = Ledger(self.dir / "ledger.jsonl", started)
        plan = Plan(
            base=self.server.base,
            duration=self.duration,
            max_requests=int(self.duration * 200),
            broken_retry=self.control,
            lost_response_share=0.02 if self.control else 0.0,
            marker=self.marker,
            run_id=self.run_id,
            regulation_id=self.regulation_id,
        )
        load = Load(plan, ledger, self.officers, self.racers)
        injector = Injector(
            schedule(self.duration, self.server, self.cluster, self.evidence, self.checkpoint),
            self.dir / "faults.jsonl",
            started,
        )
        load.start()
        injector.start()
        deadline = started + self.duration
        while time.monotonic() < deadline and not load.stop.is_set():
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            log(
                f"{time.monotonic() - started:5.0f}s  {ledger.count} attempts, {len(load.registry.filed)} claims filed, {len(injector.done)} faults"
            )
        log("load stopping; retries in flight may finish")
        load.finish()
        injector.stop.set()
        injector.join(timeout=180)
        ledger.close()
        elapsed = time.monotonic() - started
        log(f"load ran {elapsed:.0f}s: {ledger.count} attempts")
        if self.server.process is None or self.server.process.poll() is not None:
            self.server.start()
        self.checkpoint_results_add("final")
        tampered = self.tamper() if self.control else None
        for path in sorted(self.checkpoints.glob("*.json")):
            code, output = self.flask("guarantee", "audit", "verify", "--checkpoint", str(path))
            self.checkpoint_results.append((path.stem, code, output))
        entries = reconcile.Ledger(reconcile.read_ledger(self.dir / "ledger.jsonl"))
        log("opening every acknowledged claim's tracking link")
        links = reconcile.tracking_links(entries, self.server.base)
        self.server.stop()
        return self.reconcile(entries, links, injector.done, elapsed, tampered)

    def checkpoint_results_add(self, name: str) -> None:
        result = self.checkpoint(name)
        if result["exit"] != 0:
            log(f"checkpoint {name} failed: {result['output']}")

    def tamper(self) -> dict[str, Any]:
        """The negative control's loss: a committed, acknowledged claim deleted behind the app's
        back (triggers off, as only a superuser can), as a crash that lost a commit would."""
        assert self.cluster is not None
        engine = create_engine(self.cluster.url)
        entries = reconcile.read_ledger(self.dir / "ledger.jsonl")
        reference = next(e["reference"] for e in entries if e.get("op") == "submit" and e.get("status") == 201)
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            claim_id = conn.execute(text("SELECT id FROM claims WHERE reference = :r"), {"r": reference}).scalar_one()
            conn.execute(text("DELETE FROM audit_events WHERE claim_id = :c"), {"c": claim_id})
            conn.execute(text("DELETE FROM claims WHERE id = :c"), {"c": claim_id})
        engine.dispose()
        log(f"negative control: deleted {reference} behind the app's back")
        return {"deleted": reference}

    # --- reconciliation -----------------------------------------------------------------

    def publish_after(self) -> tuple[dict[str, Any], tuple[str, str]]:
        """A release over the run's claims, published by the service with tomorrow's clock (a
        release must end before the day it is published)."""
        day = datetime.now(UK).date()
        clock = FixedClock(datetime(day.year, day.month, day.day, 12, tzinfo=UK) + timedelta(days=1))
        app = self.app(clock)
        with app.app_context():
            with unit_of_work() as ctx:
                release = releases.publish(ctx, None, settings_from(app.config), today(clock) - timedelta(days=1))
                document = json.loads(release.document)
            db.engine.dispose()
        return document, (self.series_start, day.isoformat())

    def reconcile(
        self,
        entries: reconcile.Ledger,
        links: reconcile.Check,
        faults: list[dict[str, Any]],
        elapsed: float,
        tampered: dict[str, Any] | None,
    ) -> int:
        engine = create_engine(self.database_url())
        lost, lost_figures = reconcile.nothing_lost(entries, engine, self.run_id)
        duplicates, duplicate_count = reconcile.no_duplicates(entries, engine, self.run_id)
        replay, claims = reconcile.states_replay(engine)
        evidence, evidence_figures = reconcile.evidence(entries, engine, self.evidence, self.started_wall)
        checks = [lost, duplicates, links, reconcile.audit_verified(self.checkpoint_results), replay]
        checks += reconcile.transitions(entries, engine)
        checks.append(evidence)
        try:
            document, period = self.publish_after()
            checks.append(reconcile.statistics(document, engine, period))
        except releases.StatisticsRefused as exc:
            checks.append(reconcile.Check("Statistics equal the database", False, "release refused", exc.reasons))
        engine.dispose()
        secrets_ = {e["tracking_token"] for e in entries.entries if e.get("tracking_token")}
        secrets_ |= {o.token for o in self.officers + self.racers if o.token}
        secrets_ |= {o.password for o in self.officers + self.racers} | {self.secret_key}
        logs = [self.dir / "access.log", self.dir / "error.log"]
        if self.cluster is not None:
            logs.append(self.cluster.log)
        checks.append(reconcile.logs_clean(logs, [self.marker], secrets_))
        checks.append(reconcile.no_server_errors(entries))
        crashed = [e["error"] for e in entries.entries if e.get("op") == "client_crash"]
        checks.append(
            reconcile.Check("No client thread crashed (the harness itself)", not crashed, str(len(crashed)), crashed)
        )

        statuses = reconcile.status_table(entries)
        requests_sent = sum(sum(s.values()) for s in statuses.values())
        show(checks, statuses, faults, evidence_figures)
        fault_names = Counter(f["fault"] for f in faults)
        passed = all(c.ok for c in checks)
        summary: dict[str, Any] = {
            "run": self.run_id,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "code": code_version(),
            "database": self.database,
            "negative_control": self.control,
            "duration_s": self.duration,
            "load_seconds": round(elapsed, 1),
            "requests": requests_sent,
            "submissions_per_second": round(len(entries.acknowledged()) / self.duration, 1),
            "by_status": dict(sum((Counter(s) for s in statuses.values()), Counter())),
            "by_operation": statuses,
            "faults": len(faults),
            "faults_by_kind": dict(fault_names),
            "claims_reconciled": claims,
            **lost_figures,
            "duplicates": duplicate_count,
            "evidence": evidence_figures,
            "checks": [{"name": c.name, "ok": c.ok, "figure": c.figure, "details": c.details[:20]} for c in checks],
            "fault_log": faults,
            "tampered": tampered,
        }
        if self.control:
            detected = lost_figures["lost"] >= 1 and duplicate_count >= 1
            summary["control_detected"] = detected
            verdict = (
                f"NEGATIVE CONTROL {'DETECTED' if detected else 'NOT DETECTED'}: "
                f"{lost_figures['lost']} lost, {duplicate_count} duplicates found by reconciliation"
            )
            code = 0 if detected else 1
        else:
            verdict = f"SOAK {'PASSED' if passed else 'FAILED'}: {sum(c.ok for c in checks)} of {len(checks)} checks"
            code = 0 if passed else 1
        summary["verdict"] = verdict
        reports = Path(self.args.report_dir)
        reports.mkdir(parents=True, exist_ok=True)
        report = (
            reports / f"soak-{datetime.now():%Y%m%d-%H%M%S}-{self.database}{'-control' if self.control else ''}.json"
        )
        report.write_text(json.dumps(summary, indent=1) + "\n")
        (self.dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(
            f"\n{requests_sent} attempts, {len(faults)} faults, {claims} claims reconciled, "
            f"{lost_figures['lost']} lost, {duplicate_count} duplicates"
        )
        print(f"{verdict}\nreport: {report}", flush=True)
        self.failed = code != 0
        return code

    def clean_up(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.cluster is not None:
            self.cluster.stop()
        if self.args.keep or getattr(self, "failed", True):
            log(f"kept {self.dir} (ledger.jsonl, faults.jsonl, logs)")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def show(
    checks: list[reconcile.Check],
    statuses: dict[str, dict[str, int]],
    faults: list[dict[str, Any]],
    evidence: dict[str, Any],
) -> None:
    print("\n" + reconcile.print_table(checks) + "\n", flush=True)
    print("Attempts by operation and status:")
    for op, counts in statuses.items():
        print(f"  {op:12} " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if evidence["orphan_files"]:
        print(f"Evidence files no attachment refers to, written at (s): {evidence['orphans_written_at_s']}")
    print("Faults:")
    for fault in faults:
        print(f"  {fault['t']:7.1f}s  {fault['fault']}  {json.dumps(fault['detail'])[:160]}")


def code_version() -> str:
    """The commit the run served, and whether files differed from it: a run must serve one
    version of the code (workers that restart load the files as they are then)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GUARANTEE_SOAK_COMMIT", "not a git checkout")
    return commit + (f" with {len(changed)} changed files" if changed else "")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="90 seconds, faults more often (CI)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--negative-control",
        action="store_true",
        help="PostgreSQL with fsync off, a client that retries with new keys and a row deleted behind "
        "the app's back: passes only if reconciliation catches the loss and the duplicates",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run directory (ledger, logs, data)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load (overrides --short)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--report-dir", default=str(REPORTS), help="where the JSON summary goes (default soak/reports)")
    args = parser.parse_args(argv)
    why = pg.missing() if args.database == "postgresql" or args.negative_control else None
    if why is None and os.geteuid() != 0:
        why = "the soak harness runs gunicorn as an unprivileged user, so it must run as root"
    if why:
        print(f"soak: cannot run here: {why}", file=sys.stderr)
        return 2
    run = Run(args)
    try:
        return run.run()
    finally:
        run.clean_up()


if __name__ == "__main__":
    sys.exit(main())
