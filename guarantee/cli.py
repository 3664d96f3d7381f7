"""``flask guarantee ...``: operators' commands. Each parses options, calls services, commits."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from guarantee import i18n, mail
from guarantee.context import service_context, unit_of_work
from guarantee.database import reading
from guarantee.models import Attachment, Contact, Officer
from guarantee.services import audit, following, retention, schedule, sender
from guarantee.services.actors import OfficerActor
from guarantee.services.admin import reset_two_step
from guarantee.services.casework import erase_contact
from guarantee.services.claims import get_claim
from guarantee.services.context import ServiceContext
from guarantee.services.demo import seed_demo
from guarantee.services.drafts import purge_expired_drafts
from guarantee.services.errors import NotFound, ServiceError, ValidationFailed
from guarantee.services.evidence import erase_evidence, remove_unreferenced_files
from guarantee.services.idempotency import purge_expired
from guarantee.services.officers import MIN_PASSWORD_LENGTH, create_officer, require_role
from guarantee.services.storage import StorageUnavailable
from guarantee.services.sweep import sweep_batch
from guarantee.services.tokens import revoke_officer_tokens
from guarantee.services.two_step_secrets import (
    KEY_FILE_SETTING,
    KEY_SETTING,
    KeyInvalid,
    SecretUnreadable,
    TwoStepKey,
    create_key_file,
    read_key_file,
    rotate,
)
from guarantee.services.validation import unstorable
from guarantee.statistics import counting, releases
from guarantee.statistics.document import settings_from
from guarantee.webhooks import delivery as webhook_delivery
from guarantee.webhooks import endpoints as webhook_endpoints
from guarantee.webhooks import urls as webhook_urls
from workflows import INITIAL_STATE, STATE_LABELS, diagram, is_terminal
from workflows.vocabulary import LANGUAGES, ROLES

UNSTORABLE = "has a character that cannot be stored (a NUL byte, or bytes that are not UTF-8): type it again"


class StorableCommand(click.Command):
    """A command whose text options pass the rule the web's edge applies (guarantee.input_guard):
    none carries a character no database can store, whatever the command does with it."""

    def invoke(self, ctx: click.Context) -> object:
        for param in self.params:
            value = ctx.params.get(param.name or "")
            values = value if isinstance(value, tuple | list) else (value,)
            if any(isinstance(v, str) and unstorable(v) for v in values):
                raise click.BadParameter(UNSTORABLE, ctx=ctx, param=param)
        return super().invoke(ctx)


guarantee_cli = AppGroup("guarantee", help="Run the Co-production Guarantee service.")
audit_cli = AppGroup("audit", help="Verify and checkpoint the audit trail.")
statistics_cli = AppGroup("statistics", help="Publish and check the anonymised statistics.")
for _group in (guarantee_cli, audit_cli, statistics_cli):
    _group.command_class = StorableCommand
guarantee_cli.add_command(audit_cli)
guarantee_cli.add_command(statistics_cli)


# Off a terminal, a long command writes how far it has got once every this many seconds.
PROGRESS_EVERY = 30.0


@contextmanager
def progress_shown(label: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
    """A callback for a long command's service, called with how many more of ``total`` are done.
    On a terminal (standard error) it draws a bar with the rate and the time left; otherwise (a
    log, a pipe, a test) it is quiet, but for a line on standard error every PROGRESS_EVERY
    seconds of a long run. Standard output stays as it was, for scripts that read it."""
    started = time.monotonic()
    done = 0

    def rate() -> float:
        return done / max(time.monotonic() - started, 1e-9)

    if sys.stderr.isatty():
        with click.progressbar(
            length=total,
            label=label,
            file=sys.stderr,
            show_eta=True,
            show_pos=True,
            item_show_func=lambda shown: shown,
        ) as bar:

            def draw(count: int) -> None:
                nonlocal done
                done += count
                bar.update(count, f"{rate():,.0f} {unit}/s")

            yield draw
        return
    logged = started

    def log(count: int) -> None:
        nonlocal done, logged
        done += count
        now = time.monotonic()
        if now - logged < PROGRESS_EVERY or not total:
            return
        logged = now
        left = (total - done) / rate() if done else 0
        click.echo(
            f"{label}: {done:,} of {total:,} {unit} ({done * 100 // total}%), {rate():,.0f} {unit}/s, "
            f"about {_duration(left)} left",
            err=True,
        )

    yield log


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _fail(message: str) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


PASSWORD_RULE = (
    f"The password must be at least {MIN_PASSWORD_LENGTH} characters long. "
    "A few unrelated words make a strong password."
)


def _password_problem(password: str) -> str | None:
    """Why this password will not do, or None: the rule the service applies, checked before
    anything is written, so that a person typing it can be asked again."""
    if unstorable(password):
        return f"The password {UNSTORABLE}."
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long: yours has {len(password)}."
    return None


def _interactive() -> bool:
    """Whether a person is typing the answers (standard input is a terminal), so that a bad
    password can be asked for again; a script piping them in gets the reason and exit 1."""
    return sys.stdin.isatty()


def _ask_password() -> str:
    """The password, typed twice (hidden), after the rule is shown. A person is asked again until
    it follows the rule and both match; from a pipe the first bad answer ends the command."""
    click.echo(PASSWORD_RULE)
    while True:
        password = click.prompt("Password", hide_input=True, default="", show_default=False)
        problem = _password_problem(password)
        if problem is None:
            if click.prompt("Type it again", hide_input=True, default="", show_default=False) == password:
                return str(password)
            problem = "The two passwords do not match."
        if not _interactive():
            _fail(problem)
        click.secho(f"{problem} Try again.", fg="red", err=True)


@guarantee_cli.command("create-officer")
@click.option("--email", required=True, help="The officer's work email; they sign in with it.")
@click.option("--name", required=True, help="The officer's full name.")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeat for several roles."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
def create_officer_command(email: str, name: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create an officer account. The password is prompted for twice (hidden), never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        problem = _password_problem(password)
        if problem:
            _fail(problem)
    else:
        password = _ask_password()
    try:
        with unit_of_work() as ctx:
            officer = create_officer(ctx, email=email, name=name, roles=roles, password=password)
            summary = f"Created officer {officer.email} ({', '.join(sorted(officer.roles))})."
    except ValidationFailed as exc:
        _fail("\n".join(f"{field}: {msg}" for field, msgs in exc.errors.items() for msg in msgs))
    click.echo(summary)


@guarantee_cli.command("revoke-tokens")
@click.option("--email", required=True, help="The officer whose API tokens to revoke.")
def revoke_tokens_command(email: str) -> None:
    """Revoke every live API token of an officer, at once."""
    try:
        with unit_of_work() as ctx:
            count = revoke_officer_tokens(ctx, email)
    except NotFound as exc:
        _fail(exc.message)
    click.echo(f"Revoked {count} token(s) of {email}.")


@guarantee_cli.command("reset-two-step")
@click.option("--email", required=True, help="The officer who lost the phone with their authenticator app.")
def reset_two_step_command(email: str) -> None:
    """Turn off an officer's two-step verification and give them a temporary password (for an
    only administrator who lost their phone; otherwise an admin does it in the console)."""
    try:
        with unit_of_work() as ctx:
            officer = ctx.session.scalar(select(Officer).where(Officer.email == email.strip().lower()))
            if officer is None:
                raise NotFound(f"There is no officer with the email address {email}.")
            password = reset_two_step(ctx, None, officer.id)
    except NotFound as exc:
        _fail(exc.message)
    click.echo(f"Two-step verification of {email} is off; their sessions and API tokens have ended.")
    click.echo(f"Temporary password (shown once; they choose a new one when they sign in): {password}")


@guarantee_cli.command("rotate-key")
@click.option(
    "--new-key-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The file holding the new key (64 hex digits or base64); made, with a new random key, if it does not exist.",
)
def rotate_key_command(new_key_file: str) -> None:
    """Encrypt every officer's two-step secret again under a new key, in one transaction: all or
    none. The old key is the one configured now. Stop the service first; afterwards, configure
    the new key and start it again."""
    old: TwoStepKey = current_app.extensions["guarantee.two_step_key"]
    path = Path(new_key_file).absolute()
    try:
        new = read_key_file(path) if path.exists() else create_key_file(path)
        with unit_of_work() as ctx:
            rotated = rotate(ctx.session, old, new)
            webhook_secrets = webhook_endpoints.rotate(ctx, old, new)  # sealed under the same key
    except (KeyInvalid, SecretUnreadable, webhook_endpoints.SecretLost) as exc:
        _fail(f"{exc} Nothing was changed in the database.")
    click.echo(
        f"Re-encrypted {rotated.total} two-step secret(s) ({rotated.in_use} in use, {rotated.being_set_up} being "
        f"set up) under key {new.id}, in {path}. Key {old.id}, from {old.origin}, no longer decrypts them."
    )
    if webhook_secrets:
        click.echo(f"Re-encrypted the signing secrets of {webhook_secrets} webhook endpoint(s) too.")
    if old.from_file:
        change = f"set {KEY_FILE_SETTING}={path} (or replace {old.origin} with it: mv {path} {old.origin})"
    else:
        change = f"set {KEY_FILE_SETTING}={path} and remove {KEY_SETTING}"
    click.echo(
        f"Now {change}, then start the service again: until then it refuses to start. Keep the old key only "
        "as long as you keep database backups made before now."
    )


@contextmanager
def _handling(handler: Callable[[int, Any], None], *signals: signal.Signals) -> Iterator[None]:
    """``handler`` for these signals while the block runs, and the handlers before it again after
    (a command run in another program's process, as the tests do, must not leave its own behind)."""
    before = {number: signal.signal(number, handler) for number in signals}
    try:
        yield
    finally:
        for number, previous in before.items():
            signal.signal(number, previous)


SCHEDULE_EVERY = 300.0  # seconds between looking for reminders and digests to queue


@guarantee_cli.command("notify")
@click.option("--loop", is_flag=True, help="Keep running, as a worker; stop cleanly on SIGTERM or Ctrl-C.")
@click.option("--batch", type=click.IntRange(1, 1000), default=50, show_default=True, help="Messages per claim.")
@click.option(
    "--interval", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True, help="Seconds between polls."
)
def notify_command(loop: bool, batch: int, interval: float) -> None:
    """Send what the outbox holds (and queue the day's reminders and digests) and deliver the
    webhooks that are due: once, or --loop."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stopping = threading.Event()

    received: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stopping.set()

    with _handling(stop, signal.SIGTERM, signal.SIGINT):
        transport = mail.transport_for(app)
        attempts = app.config["GUARANTEE_MAIL_MAX_ATTEMPTS"]
        totals = sender.Outcome()
        hooks = webhook_delivery.Outcome()
        scheduled_at = -SCHEDULE_EVERY
        while True:
            if time.monotonic() - scheduled_at >= SCHEDULE_EVERY:  # reminders and digests: now and then
                with unit_of_work() as ctx:
                    schedule.queue_scheduled(ctx)
                scheduled_at = time.monotonic()
            while not stopping.is_set():
                outcome = sender.send_batch(
                    unit_of_work, transport, mail.render, limit=batch, max_attempts=attempts, stop=stopping.is_set
                )
                for name in ("sent", "retried", "failed", "skipped"):
                    getattr(totals, name).extend(getattr(outcome, name))
                if outcome.handled < batch:
                    break
            _deliver_webhooks(app, batch, hooks, stopping.is_set)  # signed webhooks: the same worker
            if not loop or stopping.wait(interval):
                break
    if received:
        click.echo(f"Stopped after the message being sent ({received[0]}).")
    click.echo(
        f"Notify finished: {len(totals.sent)} sent, {len(totals.retried)} to try again, "
        f"{len(totals.failed)} failed, {len(totals.skipped)} with no one to send to."
    )
    if hooks.handled:
        click.echo(
            f"Webhooks: {len(hooks.delivered)} delivered, {len(hooks.retried)} to try again, {len(hooks.failed)} failed."
        )
    for endpoint_id in hooks.turned_off:
        click.secho(f"Webhook endpoint {endpoint_id} was turned off after repeated failures.", fg="red", err=True)


def _deliver_webhooks(app: Flask, batch: int, totals: webhook_delivery.Outcome, stop: Callable[[], bool]) -> None:
    """Deliver the webhook messages that are due, a batch at a time, until none is left or
    ``stop()`` (guarantee.webhooks.delivery)."""
    key = app.extensions["guarantee.two_step_key"]
    policy = webhook_urls.policy_from(app.config)
    while not stop():
        outcome = webhook_delivery.deliver_batch(
            unit_of_work,
            key,
            policy,
            limit=batch,
            max_attempts=app.config["GUARANTEE_WEBHOOKS_MAX_ATTEMPTS"],
            stop=stop,
        )
        for name in ("delivered", "retried", "failed", "turned_off"):
            getattr(totals, name).extend(getattr(outcome, name))
        if outcome.handled < batch:
            break


@guarantee_cli.command("sweep")
@click.option("--batch", type=click.IntRange(1, 10_000), default=None, help="Claims per transaction.")
def sweep_command(batch: int | None) -> None:
    """Fire the system triggers whose deadlines have passed, tidy expired idempotency keys and
    unfiled claim drafts (seven days after their last change), erase what the retention periods
    say is due (as `flask guarantee retention` does: contact details and evidence files of claims
    that ended long enough ago, requests to follow a rule not confirmed within seven days), and
    remove evidence files no claim refers to (left by a worker stopped mid-upload, after an hour).

    Safe to run on several machines at once.
    """
    size = batch or current_app.config["GUARANTEE_SWEEP_BATCH"]
    skip: set[int] = set()
    fired = refused = 0
    while True:
        with unit_of_work() as ctx:
            result = sweep_batch(ctx, size, skip)
        for reference, trigger in result.fired:
            click.echo(f"{reference}: {trigger}")
        fired += len(result.fired)
        refused += len(result.refused)
        if not result.fired and not result.refused:
            break
    with unit_of_work() as ctx:
        purged = purge_expired(ctx)
        drafts = purge_expired_drafts(ctx)
        webhook_log = webhook_delivery.prune(ctx)  # the webhook delivery log: 30 days
    erased = _retention(size)
    unreadable = None
    try:
        with unit_of_work() as ctx:
            unreferenced = remove_unreferenced_files(ctx)
    except StorageUnavailable as failed:
        unreferenced, unreadable = 0, failed.message
    click.echo(f"Sweep finished: {fired} fired, {refused} could not be fired.")
    if purged:
        click.echo(f"Removed {purged} expired idempotency record(s).")
    if drafts:
        click.echo(f"Removed {drafts} unfiled claim draft(s) left for seven days.")
    if webhook_log:
        click.echo(f"Removed {webhook_log} webhook delivery log line(s) older than 30 days.")
    _report_retention(erased)
    if unreferenced:
        click.echo(f"Removed {unreferenced} evidence file(s) that no claim refers to.")
    if unreadable:
        _fail(unreadable)


def _periods() -> retention.Periods:
    return retention.Periods(
        contact_months=int(current_app.config["GUARANTEE_RETENTION_CONTACT_MONTHS"]),
        evidence_months=int(current_app.config["GUARANTEE_RETENTION_EVIDENCE_MONTHS"]),
    )


@dataclass
class _RetentionRun:
    erased: list[retention.Due] = field(default_factory=list)
    refused: list[tuple[retention.Due, str]] = field(default_factory=list)
    follow_requests: int = 0


def _retention(size: int, progress: Callable[[int], None] | None = None) -> _RetentionRun:
    """Erase everything due, one transaction per batch of claims (a long run holds no lock for
    long, and what it did so far stays done if it stops); then the lapsed requests to follow.
    ``progress`` is called with the claims of each batch."""
    periods = _periods()
    run = _RetentionRun()
    skip: set[int] = set()
    while True:
        with unit_of_work() as ctx:
            batch = retention.erase_batch(ctx, periods, size, skip)
        run.erased += batch.erased
        run.refused += batch.refused
        if not batch.claims:
            break
        if progress is not None:
            progress(batch.claims)
    with unit_of_work() as ctx:
        run.follow_requests = following.purge_unconfirmed(ctx)
    return run


def _ended(item: retention.Due) -> str:
    return f"{item.reference}: {item.what} (the claim ended on {item.ended_on:%-d %B %Y})"


def _report_retention(run: _RetentionRun) -> None:
    for item in run.erased:
        click.echo(f"Erased {_ended(item)}")
    for item, why in run.refused:
        click.secho(f"Could not erase {_ended(item)}: {why}", fg="red", err=True)
    for what in (retention.CONTACT, retention.EVIDENCE):
        count = sum(1 for item in run.erased if item.what == what)
        if count:
            click.echo(f"Erased the {what} of {count} claim(s) (retention).")
    if run.follow_requests:
        click.echo(f"Removed {run.follow_requests} request(s) to follow a rule not confirmed within seven days.")


@guarantee_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="List what is due for erasure, and change nothing.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=None, help="Claims per transaction.")
def retention_command(dry_run: bool, batch: int | None) -> None:
    """Erase the personal data the retention periods say is due: the contact details and the
    evidence files of claims that ended more than GUARANTEE_RETENTION_CONTACT_MONTHS and
    GUARANTEE_RETENTION_EVIDENCE_MONTHS calendar months ago, and requests to follow a rule never
    confirmed. Each erasure is recorded in its claim's audit trail; the decisions stay.
    `flask guarantee sweep` runs this too.
    """
    periods = _periods()
    kept = (
        f"contact details are kept {periods.contact_months} months and evidence files "
        f"{periods.evidence_months} months after a claim ends"
    )
    if dry_run:
        ctx = service_context()
        plan = retention.due(ctx, periods)
        ctx.session.rollback()
        for item in plan.due:
            click.echo(f"Would erase {_ended(item)}")
        if plan.follow_requests:
            click.echo(
                f"Would remove {plan.follow_requests} request(s) to follow a rule not confirmed within seven days."
            )
        found = len(plan.due) + plan.follow_requests
        click.echo(f"Dry run: {f'{found} erasure(s)' if found else 'nothing'} due ({kept}). Nothing was changed.")
        return
    ctx = service_context()
    claims = retention.claims_due(ctx, periods)
    ctx.session.rollback()
    with progress_shown("Erasing what is due", claims, "claims") as progress:
        run = _retention(batch or current_app.config["GUARANTEE_SWEEP_BATCH"], progress)
    _report_retention(run)
    if not run.erased and not run.follow_requests and not run.refused:
        click.echo(f"Nothing was due for erasure ({kept}).")
    if run.refused:
        _fail(f"{len(run.refused)} erasure(s) could not be done: they are tried again at the next run.")


def _admin_named(ctx: ServiceContext, email: str, doing: str) -> OfficerActor:
    """The administrator a command acts for, so that the audit trail names a person."""
    officer = ctx.session.scalar(select(Officer).where(Officer.email == email.strip().lower()))
    if officer is None:
        raise NotFound(f"There is no officer with the email address {email}.")
    actor = OfficerActor(officer.id)
    require_role(ctx, actor, ("admin",), doing)
    return actor


@guarantee_cli.command("erase-contact")
@click.option("--reference", required=True, help="The claim's reference, such as CPG-2026-000123.")
@click.option(
    "--officer",
    "officer_email",
    required=True,
    help="The e-mail address of the administrator who decided the erasure: the audit trail names them.",
)
@click.option("--evidence", is_flag=True, help="Erase the claim's evidence files too.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_contact_command(reference: str, officer_email: str, evidence: bool, yes: bool) -> None:
    """Erase a claim's group's contact details now (for example, at the group's request), and
    with --evidence its evidence files. The claim, its decisions and its audit trail stay; its
    tracking links stop working and no more e-mails go to the group. Cannot be undone."""
    reference = reference.strip().upper()
    ctx = service_context()
    try:
        actor = _admin_named(ctx, officer_email, "erase contact details")
        claim = get_claim(ctx, reference)
        contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))
        files = ctx.session.scalar(select(func.count()).where(Attachment.claim_id == claim.id)) or 0
        contact_left = contact is not None and contact.erased_at is None
        state, still_open = STATE_LABELS[claim.state], not is_terminal(claim.state)
    except ServiceError as exc:
        _fail(exc.message)
    finally:
        ctx.session.rollback()
    if not contact_left and not (evidence and files):
        already = f"The contact details of claim {reference} were already erased"
        _fail(f"{already}{' and it has no evidence files' if evidence else ''}: there is nothing to erase.")
    doing = [
        *(["the contact details (name, e-mail address and phone number)"] if contact_left else []),
        *([f"{files} evidence file(s)"] if evidence and files else []),
    ]
    if not contact_left:
        click.echo(f"The contact details of claim {reference} were already erased.")
    if files and not evidence:
        click.echo(f"Its {files} evidence file(s) are kept: add --evidence to erase them too.")
    if still_open:
        click.echo(
            f"Claim {reference} is still open ({state}): once its contact details are erased its group gets no "
            "more e-mails about it and its tracking links stop working."
        )
    if not yes:
        click.confirm(
            f"Erase {' and '.join(doing)} of claim {reference} ({state}), on the authority of {officer_email}? "
            "This cannot be undone",
            abort=True,
        )
    try:
        with unit_of_work() as ctx:
            if contact_left:
                erase_contact(ctx, reference, actor)
            erased_files = erase_evidence(ctx, reference, actor) if evidence else 0
    except ServiceError as exc:
        _fail(exc.message)
    if contact_left:
        click.echo(f"Erased the contact details of claim {reference}.")
    if erased_files:
        click.echo(f"Erased {erased_files} evidence file(s) of claim {reference}.")
    click.echo(f"Recorded in the claim's audit trail as done by {officer_email}.")


def _cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _trusted_key(public_key_file: str | None) -> Ed25519PublicKey:
    if public_key_file:
        key = serialization.load_pem_public_key(Path(public_key_file).read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            _fail(f"{public_key_file} is not an Ed25519 public key")
        return key
    path = Path(current_app.config["GUARANTEE_AUDIT_SIGNING_KEY"])
    if not path.exists():
        # Never make a key here: a new key would "verify" nothing and sign later checkpoints.
        _fail(f"There is no signing key at {path}. Pass --public-key with the key that signed the checkpoint.")
    return audit.load_or_create_signing_key(path).public_key()


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also compare with a signed checkpoint.",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM public key that signed the checkpoint (default: this service's key).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes hashing the chains at once (default: one for each CPU core).",
)
def verify_command(checkpoint_file: str | None, public_key: str | None, workers: int | None) -> None:
    """Recompute every claim's hash chain and replay its events to its state, and recompute the
    admin log's chain (officer accounts, the regulation catalogue). Every broken chain is named
    at its first broken link. On a terminal a bar shows how far it has got."""
    checkpoint = None
    if checkpoint_file:
        try:
            checkpoint = audit.read_checkpoint(checkpoint_file, _trusted_key(public_key))
        except audit.CheckpointInvalid as exc:
            _fail(str(exc))
    ctx = service_context()
    with reading():  # on SQLite, filing and deciding go on while it reads
        total = audit.count_claims(ctx)
        with progress_shown("Verifying the audit chains", total, "claims") as progress:
            report = audit.verify(ctx, checkpoint, workers=workers or _cores(), progress=progress)
        ctx.session.rollback()
    if report.problems:
        for problem in report.problems:
            click.secho(f"BROKEN {problem}", fg="red", err=True)
        _fail(f"Audit verify failed: {len(report.problems)} problem(s) in {report.claims} claims and the admin log.")
    against = f", matching checkpoint of {checkpoint.created_at}" if checkpoint else ""
    click.echo(
        f"Audit verify passed: {report.claims} claims, {report.events} events, "
        f"and the admin log's {report.admin_events} events{against}."
    )


@audit_cli.command("checkpoint")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="File to write; keep a copy outside the database server.",
)
def checkpoint_command(output: str) -> None:
    """Write a signed (Ed25519) digest of every chain head."""
    key = audit.load_or_create_signing_key(current_app.config["GUARANTEE_AUDIT_SIGNING_KEY"])
    ctx = service_context()
    checkpoint = audit.make_checkpoint(ctx)
    ctx.session.rollback()
    audit.write_checkpoint(checkpoint, key, output)
    click.echo(f"Checkpoint of {len(checkpoint.heads)} chains and the admin log written to {output}.")


@guarantee_cli.command("diagram")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Where to write it.  [default: guarantee/static/workflow.svg, or workflow.cy.svg in Welsh]",
)
@click.option("--dot", "dot_only", is_flag=True, help="Write the Graphviz source instead of drawing it.")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=LANGUAGES[0],
    show_default=True,
    help="The language of the diagram's words: cy draws them from the compiled Welsh catalogue.",
)
def diagram_command(output: str | None, dot_only: bool, language: str) -> None:
    """Draw the workflow as SVG from workflows/ (needs Graphviz's dot: apt-get install graphviz)."""
    output = output or f"guarantee/static/{diagram.FILE_NAMES[language]}"
    with i18n.language(language):
        if language != LANGUAGES[0] and i18n.say(STATE_LABELS[INITIAL_STATE]) == STATE_LABELS[INITIAL_STATE]:
            _fail(
                f"The {language} catalogue is not compiled, or does not translate the workflow: run make translations."
            )
        source = diagram.to_dot(i18n.say)
    if dot_only:
        Path(output).write_text(source, encoding="utf-8")
        click.echo(f"Graphviz source of the workflow written to {output}.")
        return
    dot = shutil.which("dot")
    if dot is None:
        _fail("Graphviz's dot is not installed: apt-get install graphviz (or pass --dot for the source).")
    drawn = subprocess.run(  # noqa: S603
        [dot, "-Tsvg"], input=source, capture_output=True, text=True, encoding="utf-8", check=False
    )
    if drawn.returncode != 0:
        _fail(f"dot could not draw the workflow: {drawn.stderr.strip()}")
    Path(output).write_text(drawn.stdout, encoding="utf-8")
    click.echo(f"Workflow diagram written to {output}.")


@guarantee_cli.command("seed-demo")
@click.option("--claims", type=click.IntRange(1, 100_000), default=60, show_default=True)
def seed_demo_command(claims: int) -> None:
    """Add demonstration claims in every state, and demo officers (never in production)."""
    with unit_of_work() as ctx:
        result = seed_demo(ctx, claims)
    click.echo(f"Added {result.claims} demonstration claims.")
    for role, (email, password) in result.officers.items():
        shown = f"password {password}" if password else "password unchanged"
        click.echo(f"  {role:<13} {email}  {shown}")


@statistics_cli.command("publish")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The last day the release counts (default: yesterday). Must be before today.",
)
@click.option("--private", is_flag=True, help="Add noise (differential privacy) instead of hiding small numbers.")
@click.option(
    "--epsilon", type=click.FloatRange(0.01, 10), default=None, help="Epsilon of each table (implies --private)."
)
def publish_statistics_command(until: datetime | None, private: bool, epsilon: float | None) -> None:
    """Publish a release of the statistics: counted, protected, checked against every earlier
    release and added to the register. Refused, with the reasons, if it would give anything away."""
    settings = settings_from(current_app.config, private=private, epsilon=epsilon)
    try:
        with (
            unit_of_work() as ctx,
            progress_shown("Counting the claims", counting.scans(), "scans") as progress,
        ):
            release = releases.publish(ctx, None, settings, until.date() if until else None, progress)
            summary = (
                f"Published release {release.number} ({release.method.replace('_', ' ')}), claims submitted "
                f"{release.period_start:%-d %B %Y} to {release.period_end:%-d %B %Y}. SHA-256 {release.sha256}"
            )
    except releases.StatisticsRefused as exc:
        _fail("Not published:\n" + "\n".join(f"- {reason}" for reason in exc.reasons))
    click.echo(summary)


@statistics_cli.command("verify")
def verify_statistics_command() -> None:
    """Check that every release in the register still matches its SHA-256."""
    ctx = service_context()
    problems = releases.verify(ctx.session)
    count = len(releases.releases(ctx.session))
    ctx.session.rollback()
    if problems:
        for problem in problems:
            click.secho(f"BROKEN {problem}", fg="red", err=True)
        _fail(f"Statistics verify failed: {len(problems)} problem(s) in {count} release(s).")
    click.echo(f"Statistics verify passed: {count} release(s) match their SHA-256.")


def init_app(app: Flask) -> None:
    app.cli.add_command(guarantee_cli)
