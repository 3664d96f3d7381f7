"""Retention (UK GDPR Article 5(1)(e), issue 21): a claim's contact details and evidence files are
erased a set number of calendar months after the claim ends, by the retention job, and an
administrator may erase them sooner from the command line. What was decided stays: the audit
chain still verifies, the register and the statistics do not change. Services on SQLite and
PostgreSQL; the commands, the e-mails and the links through the app."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from guarantee import cli
from guarantee.clock import UK, FixedClock
from guarantee.context import service_context, unit_of_work
from guarantee.extensions import db
from guarantee.models import (
    Attachment,
    AuditEvent,
    Claim,
    Contact,
    OutboxMessage,
    RuleSubscription,
    RuleSubscriptionToken,
)
from guarantee.services import following, publishing, register, register_open_data, retention
from guarantee.services.actors import GroupActor
from guarantee.services.audit import verify
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.evidence import add_evidence
from guarantee.statistics.counting import count
from tests.helpers import INPUTS, Cast, make_officer, submission, walk
from tests.support.register import regulation
from tests.test_console import Someone, sign_in_as
from tests.test_console import officer as console_officer
from tests.test_evidence import PDF
from tests.test_group_links import GROUP_EMAIL, Mailbox, opens_claim
from tests.test_publishing import accepted, decide

PERIODS = retention.Periods(contact_months=24, evidence_months=24)
TODAY = datetime(2026, 11, 2, 10, 0, tzinfo=UK)  # the ctx fixture's clock
ENDED_25_MONTHS_AGO = datetime(2024, 10, 1, 10, 0, tzinfo=UK)
ENDED_23_MONTHS_AGO = datetime(2024, 12, 1, 10, 0, tzinfo=UK)
FOLLOWER = "follower@example.net"


@pytest.fixture
def cast(ctx: ServiceContext) -> Cast:
    return Cast(ctx)


def withdrawn_on(ctx: ServiceContext, clock: FixedClock, moment: datetime) -> str:
    """A claim its group withdrew at ``moment``; the clock is put back to today."""
    clock.set(moment)
    reference = submit_claim(ctx, submission()).reference
    fire(ctx, reference, "withdraw", GroupActor(reference), INPUTS["withdraw"])
    clock.set(TODAY)
    return reference


def contact_of(ctx: ServiceContext, reference: str) -> Contact:
    found = ctx.session.scalar(select(Contact).join(Claim).where(Claim.reference == reference))
    assert found is not None
    ctx.session.refresh(found)
    return found


def erase_all(ctx: ServiceContext, periods: retention.Periods = PERIODS) -> list[retention.Due]:
    erased: list[retention.Due] = []
    while batch := retention.erase_batch(ctx, periods, 2, set()).erased:
        erased += batch
    return erased


# --- when something is due -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "before"),
    [
        (date(2026, 12, 4), 24, date(2024, 12, 4)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 5, 31), 3, date(2026, 2, 28)),
        (date(2026, 11, 2), 240, date(2006, 11, 2)),
    ],
)
def test_months_are_calendar_months_ending_on_the_months_last_day_when_shorter(
    day: date, months: int, before: date
) -> None:
    assert retention.months_before(day, months) == before


def test_only_the_claim_that_ended_more_than_24_months_ago_is_due(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    older = withdrawn_on(ctx, clock, ENDED_25_MONTHS_AGO)
    newer = withdrawn_on(ctx, clock, ENDED_23_MONTHS_AGO)
    clock.set(ENDED_25_MONTHS_AGO)
    still_open = submit_claim(ctx, submission()).reference
    clock.set(TODAY)

    plan = retention.due(ctx, PERIODS)

    assert plan.due == [retention.Due(older, "contact details", date(2024, 10, 1))]
    assert contact_of(ctx, older).email == GROUP_EMAIL, "the dry run changes nothing"

    assert erase_all(ctx) == plan.due
    assert contact_of(ctx, older).email is None and contact_of(ctx, older).erased_at == clock.now()
    for kept in (newer, still_open):
        assert contact_of(ctx, kept).email == GROUP_EMAIL
    assert retention.due(ctx, PERIODS).due == [], "nothing is erased twice"


def test_a_claim_is_due_the_day_after_the_period_ends(ctx: ServiceContext, clock: FixedClock) -> None:
    reference = withdrawn_on(ctx, clock, datetime(2024, 11, 2, 23, 30, tzinfo=UK))  # 23:30 GMT is UTC

    assert retention.due(ctx, PERIODS).due == [], "24 months ago today: kept until the day ends"
    clock.set(datetime(2026, 11, 2, 23, 59, tzinfo=UK))
    assert retention.due(ctx, PERIODS).due == []
    clock.set(datetime(2026, 11, 3, 0, 0, tzinfo=UK))
    assert [d.reference for d in retention.due(ctx, PERIODS).due] == [reference]


def test_the_periods_come_from_the_settings_not_the_service(ctx: ServiceContext, clock: FixedClock) -> None:
    reference = withdrawn_on(ctx, clock, ENDED_23_MONTHS_AGO)

    assert retention.due(ctx, retention.Periods(contact_months=24, evidence_months=24)).due == []
    assert [d.reference for d in retention.due(ctx, retention.Periods(22, 24)).due] == [reference]


def test_a_claim_reopened_since_it_ended_is_not_due(ctx: ServiceContext, clock: FixedClock, cast: Cast) -> None:
    clock.set(ENDED_25_MONTHS_AGO)
    reference = submit_claim(ctx, submission()).reference
    walk(ctx, cast, reference, "decline")
    clock.set(TODAY)
    assert [d.reference for d in retention.due(ctx, PERIODS).due] == [reference]

    walk(ctx, cast, reference, "reopen")

    assert retention.due(ctx, PERIODS).due == []
    assert erase_all(ctx) == []
    assert contact_of(ctx, reference).email == GROUP_EMAIL


def test_each_erasure_is_in_the_claims_audit_chain_by_retention_and_the_chains_still_verify(
    ctx: ServiceContext, clock: FixedClock
) -> None:
    reference = withdrawn_on(ctx, clock, ENDED_25_MONTHS_AGO)

    erase_all(ctx)

    last = ctx.session.scalars(
        select(AuditEvent).join(Claim).where(Claim.reference == reference).order_by(AuditEvent.seq.desc())
    ).first()
    assert last is not None
    assert (last.action, last.actor_type, last.actor_id) == ("contact_erased", "system", "retention")
    assert verify(ctx).problems == []


def test_a_claim_that_cannot_be_erased_is_reported_and_left_for_the_next_run(
    ctx: ServiceContext, clock: FixedClock, tmp_path: Path
) -> None:
    from guarantee.services.storage import EvidenceStore

    reference = withdrawn_on(ctx, clock, ENDED_25_MONTHS_AGO)
    ctx.evidence = EvidenceStore(tmp_path)
    clock.set(ENDED_25_MONTHS_AGO)
    other = submit_claim(ctx, submission()).reference
    add_evidence(ctx, other, GroupActor(other), "budget.pdf", PDF)
    fire(ctx, other, "withdraw", GroupActor(other), INPUTS["withdraw"])
    clock.set(TODAY)
    ctx.evidence = None  # the store is missing: the evidence cannot be erased

    skip: set[int] = set()
    first = retention.erase_batch(ctx, PERIODS, 10, skip)

    assert {(d.reference, d.what) for d in first.erased} == {(reference, "contact details"), (other, "contact details")}
    assert [(d.reference, d.what, why) for d, why in first.refused] == [
        (other, "evidence files", "No evidence store is configured.")
    ]
    again = retention.erase_batch(ctx, PERIODS, 10, skip)
    assert again.erased == again.refused == [], "not tried again in the same run"
    assert ctx.session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert verify(ctx).problems == []


def test_the_register_and_the_statistics_do_not_change(ctx: ServiceContext, clock: FixedClock, cast: Cast) -> None:
    clock.set(ENDED_25_MONTHS_AGO)
    second = make_officer(ctx, "reviewer")
    reference = accepted(ctx, cast)
    publishing.approve(ctx, second, decide(ctx, cast, reference).id)
    walk(ctx, cast, reference, "record_resolution")
    clock.set(TODAY)

    def published() -> tuple[object, ...]:
        shown = register.read_register(ctx.session, k=1, page_size=None, today=clock.now().date())
        counted = count(ctx.session, date(2024, 1, 1), date(2026, 9, 30), clock.now())
        return [register_open_data.as_record(s) for s in shown.statements], counted

    before = published()
    assert len(before[0]) == 1

    assert [d.what for d in erase_all(ctx)] == ["contact details"]

    assert published() == before
    assert verify(ctx).problems == []


def test_a_follower_who_stops_following_is_erased_at_once(ctx: ServiceContext) -> None:
    rule = regulation(ctx.session, "Premises licence", "premises-licence")
    following.follow(ctx, rule.id, FOLLOWER)
    subscription = ctx.session.scalar(select(RuleSubscription))
    assert subscription is not None
    assert following.confirm(ctx, following.mint(ctx, subscription.id, "confirm"))

    assert following.unsubscribe(ctx, following.mint(ctx, subscription.id, "unsubscribe"))

    assert ctx.session.scalar(select(func.count()).select_from(RuleSubscription)) == 0
    assert ctx.session.scalar(select(func.count()).select_from(RuleSubscriptionToken)) == 0
    assert ctx.session.scalars(select(OutboxMessage.to_address)).all() == [None], "the confirmation e-mail"
    assert retention.due(ctx, PERIODS).follow_requests == 0, "nothing left for retention"


def test_a_request_to_follow_never_confirmed_is_due_once_it_lapses(ctx: ServiceContext, clock: FixedClock) -> None:
    rule = regulation(ctx.session, "Premises licence", "premises-licence")
    following.follow(ctx, rule.id, FOLLOWER)

    clock.advance(days=7, minutes=-1)
    assert retention.due(ctx, PERIODS).follow_requests == 0
    clock.advance(minutes=1)
    assert retention.due(ctx, PERIODS).follow_requests == 1
    assert following.purge_unconfirmed(ctx) == 1
    assert ctx.session.scalar(select(func.count()).select_from(RuleSubscription)) == 0


# --- the commands, on the app ----------------------------------------------------------------


def on_app(app: Flask, clock: FixedClock, moment: datetime, *triggers: str, evidence: bool = False) -> str:
    """A claim filed at ``moment`` (with a PDF of evidence if asked), then walked by officers."""
    clock.set(moment)
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission()).reference
        if evidence:
            add_evidence(ctx, reference, GroupActor(reference), "budget.pdf", PDF)
        walk(ctx, Cast(ctx), reference, *triggers)
    clock.set(TODAY)
    return reference


def stored_files(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["GUARANTEE_EVIDENCE_DIR"]).rglob("*") if p.is_file())


def email_of(app: Flask, reference: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Contact.email).join(Claim).where(Claim.reference == reference))


def test_the_dry_run_lists_what_is_due_and_changes_nothing(app: Flask, clock: FixedClock) -> None:
    older = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline", evidence=True)
    newer = on_app(app, clock, ENDED_23_MONTHS_AGO, "decline")
    files = stored_files(app)

    result = app.test_cli_runner().invoke(args=["guarantee", "retention", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"Would erase {older}: contact details (the claim ended on 1 October 2024)" in result.output
    assert f"Would erase {older}: evidence files (the claim ended on 1 October 2024)" in result.output
    assert newer not in result.output
    assert "Dry run: 2 erasure(s) due (contact details are kept 24 months and evidence files 24 months" in result.output
    assert "Nothing was changed." in result.output
    assert email_of(app, older) == GROUP_EMAIL and stored_files(app) == files and len(files) == 1


def test_retention_removes_requests_to_follow_that_lapsed_and_the_dry_run_counts_them(
    app: Flask, clock: FixedClock
) -> None:
    with app.app_context(), unit_of_work() as ctx:
        following.follow(ctx, regulation(ctx.session, "Premises licence", "premises-licence").id, FOLLOWER)
    clock.advance(days=8)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["guarantee", "retention", "--dry-run"])
    assert "Would remove 1 request(s) to follow a rule not confirmed within seven days." in dry.output
    assert "Dry run: 1 erasure(s) due" in dry.output

    done = runner.invoke(args=["guarantee", "retention"])
    assert done.exit_code == 0, done.output
    assert "Removed 1 request(s) to follow a rule not confirmed within seven days." in done.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RuleSubscription)) == 0


def test_retention_erases_what_is_due_and_the_files_leave_the_disk(app: Flask, clock: FixedClock) -> None:
    older = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline", evidence=True)
    newer = on_app(app, clock, ENDED_23_MONTHS_AGO, "decline", evidence=True)
    assert len(stored_files(app)) == 2
    runner = app.test_cli_runner()

    result = runner.invoke(args=["guarantee", "retention", "--batch", "1"])

    assert result.exit_code == 0, result.output
    assert f"Erased {older}: contact details (the claim ended on 1 October 2024)" in result.output
    assert f"Erased {older}: evidence files (the claim ended on 1 October 2024)" in result.output
    assert "Erased the contact details of 1 claim(s) (retention)." in result.output
    assert "Erased the evidence files of 1 claim(s) (retention)." in result.output
    assert newer not in result.output
    assert email_of(app, older) is None and email_of(app, newer) == GROUP_EMAIL
    (left,) = stored_files(app)
    with app.app_context():
        assert (
            db.session.scalar(select(Attachment.stored_name).join(Claim).where(Claim.reference == newer)) == left.name
        )
    verified = runner.invoke(args=["guarantee", "audit", "verify"])
    assert verified.exit_code == 0 and "Audit verify passed" in verified.output

    again = runner.invoke(args=["guarantee", "retention"])
    assert again.exit_code == 0 and "Nothing was due for erasure" in again.output


def test_retention_counts_its_progress_claim_by_claim_and_is_quiet_off_a_terminal(
    app: Flask, clock: FixedClock
) -> None:
    first = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline", evidence=True)
    second = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline")
    on_app(app, clock, ENDED_23_MONTHS_AGO, "decline")
    with app.app_context():
        ctx = service_context()
        assert retention.claims_due(ctx, cli._periods()) == 2, "the first claim's two erasures are one claim"
        ctx.session.rollback()
        steps: list[int] = []
        run = cli._retention(1, steps.append)
    assert steps == [1, 1], "one claim a batch"
    assert {item.reference for item in run.erased} == {first, second}

    result = app.test_cli_runner().invoke(args=["guarantee", "retention"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Nothing was due for erasure (contact details are kept 24 months and "
        "evidence files 24 months after a claim ends)."
    ]


def test_the_sweep_runs_retention(app: Flask, clock: FixedClock) -> None:
    older = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline")

    result = app.test_cli_runner().invoke(args=["guarantee", "sweep"])

    assert result.exit_code == 0, result.output
    assert f"Erased {older}: contact details" in result.output
    assert email_of(app, older) is None


def test_a_claim_an_officer_is_changing_is_left_for_the_next_run(app: Flask, clock: FixedClock, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers: there is no row lock to skip")
    locked = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline")
    free = on_app(app, clock, ENDED_25_MONTHS_AGO, "decline")
    runner = app.test_cli_runner()
    with app.app_context(), db.engine.connect() as officer:
        with officer.begin():  # an officer's request holds the claim's row
            officer.execute(select(Claim.id).where(Claim.reference == locked).with_for_update())

            result = runner.invoke(args=["guarantee", "retention"])

            assert result.exit_code == 0, result.output
            assert f"Erased {free}: contact details" in result.output and locked not in result.output
        assert email_of(app, locked) == GROUP_EMAIL

    again = runner.invoke(args=["guarantee", "retention"])
    assert f"Erased {locked}: contact details" in again.output
    assert email_of(app, locked) is None


def test_after_retention_no_e_mail_goes_to_the_old_address_no_link_opens_the_claim_and_the_decision_stays(
    app: Flask, clock: FixedClock
) -> None:
    app.config["GUARANTEE_BASE_URL"] = "http://guarantee.test"
    mailbox = Mailbox()
    clock.set(ENDED_25_MONTHS_AGO)
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, submission())
        reference = filed.reference
        walk(ctx, Cast(ctx), reference, "decline")
    emailed = [r.link for r in mailbox.deliver(app) if r.to == GROUP_EMAIL]
    clock.set(TODAY)
    confirmation_link = f"/track/{reference}?token={filed.tracking_token}"  # it has no end
    assert emailed and opens_claim(app, confirmation_link)

    assert app.test_cli_runner().invoke(args=["guarantee", "retention"]).exit_code == 0
    with app.app_context(), unit_of_work() as ctx:  # a change the group would be told of
        walk(ctx, Cast(ctx), reference, "reopen")
        assert ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.template == "claim_reopened"))

    assert [r for r in mailbox.deliver(app) if r.to == GROUP_EMAIL] == []
    for link in [confirmation_link, *emailed]:
        ended = app.test_client().get(link)
        assert ended.status_code == 410, link
        assert "Parent-run nursery" not in ended.text
    console = sign_in_as(app, console_officer(app, "triage"))
    page = console.get(f"/officer/claims/{reference}")
    assert page.status_code == 200
    assert INPUTS["decline"]["explanation"] in page.text, "the decision record stays"


# --- erase-contact ---------------------------------------------------------------------------


@pytest.fixture
def admin(app: Flask) -> Someone:
    return console_officer(app, "admin")


def erase(app: Flask, *args: str, answer: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["guarantee", "erase-contact", *args], input=answer)
    return result.exit_code, result.output


def test_erase_contact_asks_first_and_names_the_administrator_in_the_audit_trail(
    app: Flask, clock: FixedClock, admin: Someone
) -> None:
    reference = on_app(app, clock, TODAY, "accept", evidence=True)

    code, output = erase(app, "--reference", reference, "--officer", admin.email, answer="n\n")
    assert code == 1 and "Aborted" in output
    assert f"Claim {reference} is still open (Under review)" in output
    assert email_of(app, reference) == GROUP_EMAIL

    code, output = erase(app, "--reference", reference.lower(), "--officer", admin.email, "--evidence", answer="y\n")

    assert code == 0, output
    assert "Erase the contact details (name, e-mail address and phone number) and 1 evidence file(s)" in output
    assert f"Erased the contact details of claim {reference}." in output
    assert f"Erased 1 evidence file(s) of claim {reference}." in output
    assert email_of(app, reference) is None and stored_files(app) == []
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_type, AuditEvent.actor_id)
            .join(Claim)
            .where(Claim.reference == reference)
            .order_by(AuditEvent.seq.desc())
            .limit(2)
        ).all()
    assert events == [("evidence_erased", "officer", str(admin.id)), ("contact_erased", "officer", str(admin.id))]
    assert "Audit verify passed" in app.test_cli_runner().invoke(args=["guarantee", "audit", "verify"]).output


def test_erase_contact_keeps_evidence_unless_asked_and_refuses_a_second_time(
    app: Flask, clock: FixedClock, admin: Someone
) -> None:
    reference = on_app(app, clock, TODAY, "decline", evidence=True)

    code, output = erase(app, "--reference", reference, "--officer", admin.email, "--yes")
    assert code == 0, output
    assert "Its 1 evidence file(s) are kept: add --evidence to erase them too." in output
    assert len(stored_files(app)) == 1

    code, output = erase(app, "--reference", reference, "--officer", admin.email, "--yes")
    assert code == 1
    assert f"The contact details of claim {reference} were already erased: there is nothing to erase." in output

    code, output = erase(app, "--reference", reference, "--officer", admin.email, "--evidence", "--yes")
    assert code == 0, output
    assert f"Erased 1 evidence file(s) of claim {reference}." in output and stored_files(app) == []


@pytest.mark.parametrize(
    ("reference", "officer", "says"),
    [
        ("CPG-2026-999999", "admin", "There is no claim CPG-2026-999999."),
        ("not a reference", "admin", "References look like CPG-2026-000123."),
        ("filed", "nobody@council.example", "There is no officer with the email address nobody@council.example."),
        ("filed", "triage", "Only an officer with the admin role can erase contact details."),
    ],
)
def test_erase_contact_explains_what_is_wrong_and_changes_nothing(
    app: Flask, clock: FixedClock, admin: Someone, *, reference: str, officer: str, says: str
) -> None:
    filed = on_app(app, clock, TODAY)
    emails = {"admin": admin.email, "triage": console_officer(app, "triage").email}

    code, output = erase(
        app, "--reference", filed if reference == "filed" else reference, "--officer", emails.get(officer, officer)
    )

    assert code == 1 and says in output
    assert "Traceback" not in output
    assert email_of(app, filed) == GROUP_EMAIL
