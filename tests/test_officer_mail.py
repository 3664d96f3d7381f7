"""Officers hear about what needs them: an appeal on a claim no officer holds reaches the appeal
panel (or the appeals team's mailbox, when configured) through the real sender; triage officers
get a daily list of the claims filed since the last working day began; each officer chooses
which kinds of e-mail they get, and every officer message respects the choice."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from guarantee.clock import FixedClock
from guarantee.config import from_environment
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AdminEvent, Officer, OutboxMessage
from guarantee.services import officers, schedule
from guarantee.services.actors import GroupActor, OfficerActor
from guarantee.services.casework import assign
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, ValidationFailed
from guarantee.services.notifications import KIND_OF_TEMPLATE, OFFICER_MESSAGE_KINDS
from guarantee.services.officers import change_mail_settings, mail_settings
from tests.helpers import INPUTS, Cast, make_officer, submission, walk
from tests.test_notifications import Inbox, notify, text_of
from workflows.vocabulary import OFFICER_MESSAGE_KINDS as KINDS

TEAM = "appeals-team@council.example"


def email_of(ctx: ServiceContext, actor: OfficerActor) -> str:
    return officers.active_officer(ctx, actor).email


def appealed_unassigned(ctx: ServiceContext, cast: Cast) -> str:
    reference = submit_claim(ctx, submission()).reference
    walk(ctx, cast, reference, "accept", "not_uphold", "appeal")
    return reference


def subjects(inbox: Inbox, address: str) -> list[str]:
    return [str(m["Subject"]) for m in inbox.to(address)]


# --- an appeal nobody holds ----------------------------------------------------------------------


def test_an_appeal_on_a_claim_no_officer_holds_reaches_every_appeal_panel_member_who_wants_it(
    mailing_app: Flask, inbox: Inbox
) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        second = make_officer(ctx, "appeal_panel", "reviewer")
        away = make_officer(ctx, "appeal_panel", active=False)
        quiet = make_officer(ctx, "appeal_panel")
        change_mail_settings(ctx, quiet, {"assignments", "group_replies", "withdrawals", "daily_digest"})
        panel = {email_of(ctx, cast.appeal_panel), email_of(ctx, second)}
        others = {email_of(ctx, o) for o in (cast.triage, cast.reviewer, cast.admin, cast.team_leader, quiet)}
        others.add(ctx.session.get(Officer, away.officer_id).email)  # type: ignore[union-attr]
        reference = appealed_unassigned(ctx, cast)
    assert "0 failed" in notify(app)
    expected = f"Claim {reference} was appealed and no officer holds it"
    for address in panel:
        (message,) = [m for m in inbox.to(address) if str(m["Subject"]) == expected]
        body = text_of(message)
        assert f"http://guarantee.test/officer/claims/{reference}" in body
        assert "took no part in the decision" in body and "must decide by" in body
    for address in others:
        assert expected not in subjects(inbox, address)
    assert not [m for m in inbox.messages if str(m["Subject"]) == expected and m["To"] not in panel]


def test_with_a_team_address_configured_the_appeal_goes_there_and_not_to_each_panel_member(
    mailing_app: Flask, inbox: Inbox
) -> None:
    app = mailing_app
    app.config["GUARANTEE_APPEALS_TEAM_EMAIL"] = TEAM
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        panel = email_of(ctx, cast.appeal_panel)
        reference = appealed_unassigned(ctx, cast)
    notify(app)
    (message,) = inbox.to(TEAM)
    assert str(message["Subject"]) == f"Claim {reference} was appealed and no officer holds it"
    assert text_of(message).startswith("Hello,")
    assert not [m for m in inbox.to(panel) if "no officer holds it" in str(m["Subject"])]
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "appeal_waiting")).one()
        assert (row.recipient_type, row.officer_id, row.to_address, row.status) == ("team", None, None, "sent")


def test_a_team_message_waiting_when_the_team_address_is_removed_is_skipped_saying_why(
    mailing_app: Flask, inbox: Inbox
) -> None:
    app = mailing_app
    app.config["GUARANTEE_APPEALS_TEAM_EMAIL"] = TEAM
    with app.app_context(), unit_of_work() as ctx:
        appealed_unassigned(ctx, Cast(ctx))
    app.config["GUARANTEE_APPEALS_TEAM_EMAIL"] = None
    notify(app)
    assert inbox.to(TEAM) == []
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "appeal_waiting")).one()
        assert row.status == "skipped" and "GUARANTEE_APPEALS_TEAM_EMAIL" in (row.last_error or "")


def test_an_appeal_on_a_claim_an_officer_holds_goes_to_that_officer_only(ctx: ServiceContext) -> None:
    cast = Cast(ctx)
    reference = submit_claim(ctx, submission()).reference
    assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
    walk(ctx, cast, reference, "accept", "not_uphold", "appeal")
    to_officers = ctx.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_type != "group", OutboxMessage.template.like("appeal%"))
    ).all()
    assert [(m.template, m.officer_id) for m in to_officers] == [("appeal_lodged", cast.reviewer.officer_id)]


def test_the_team_address_setting_must_be_one_address() -> None:
    assert from_environment({"GUARANTEE_APPEALS_TEAM_EMAIL": f" {TEAM} "})["GUARANTEE_APPEALS_TEAM_EMAIL"] == TEAM
    for wrong in ("appeals", "a@b.example, c@d.example", "Appeals <a@b.example>"):
        with pytest.raises(ValueError, match="GUARANTEE_APPEALS_TEAM_EMAIL must be one e-mail address"):
            from_environment({"GUARANTEE_APPEALS_TEAM_EMAIL": wrong})


# --- the daily list of new claims ----------------------------------------------------------------

MONDAY = date(2026, 11, 9)
FRIDAY = date(2026, 11, 6)


def new_claims_digests(ctx: ServiceContext) -> list[OutboxMessage]:
    return list(ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "new_claims")))


def test_triage_officers_get_on_monday_the_claims_filed_on_friday_and_at_the_weekend(
    ctx: ServiceContext, clock: FixedClock
) -> None:
    cast = Cast(ctx)
    second_triage = make_officer(ctx, "triage", "reviewer")
    make_officer(ctx, "triage", active=False)
    clock.set_day(date(2026, 11, 5), hour=23)  # Thursday: in Friday's list
    thursday = submit_claim(ctx, submission()).reference
    filed = []
    for day in (FRIDAY, date(2026, 11, 7), date(2026, 11, 8)):
        clock.set_day(day, hour=9)
        filed.append(submit_claim(ctx, submission()).reference)
    withdrawn = submit_claim(ctx, submission()).reference
    walk(ctx, cast, withdrawn, "withdraw")
    clock.set_day(MONDAY, hour=7)
    today = submit_claim(ctx, submission()).reference  # in Tuesday's list
    assert schedule.queue_digests(ctx) == 2
    digests = new_claims_digests(ctx)
    assert sorted(m.officer_id for m in digests) == sorted([cast.triage.officer_id, second_triage.officer_id])
    listed = [row["reference"] for row in digests[0].payload["rows"]]
    assert listed == filed, "Friday's and the weekend's, still open, oldest first"
    assert thursday not in listed and today not in listed and withdrawn not in listed
    assert digests[0].payload["since"] == FRIDAY.isoformat()
    assert schedule.queue_digests(ctx) == 0, "once a day, however often the sender runs"
    clock.set_day(date(2026, 11, 10), hour=8)
    schedule.queue_digests(ctx)
    tuesday = [m for m in new_claims_digests(ctx) if m.payload["day"] == "2026-11-10"]
    assert {row["reference"] for m in tuesday for row in m.payload["rows"]} == {today}


def test_no_list_of_new_claims_when_none_were_filed_nor_on_a_bank_holiday(
    ctx: ServiceContext, clock: FixedClock
) -> None:
    cast = Cast(ctx)
    clock.set_day(MONDAY, hour=9)
    assert schedule.queue_digests(ctx) == 0, "nothing filed since Friday began"
    clock.set_day(date(2026, 12, 24), hour=9)  # Christmas Eve, a Thursday
    eve = submit_claim(ctx, submission()).reference
    for holiday in (date(2026, 12, 25), date(2026, 12, 28)):  # Christmas Day, Boxing Day's substitute
        clock.set_day(holiday, hour=9)
        assert schedule.queue_digests(ctx) == 0
    clock.set_day(date(2026, 12, 29), hour=9)  # the next working day: Christmas Eve is the one before
    assert schedule.queue_digests(ctx) == 1
    (digest,) = new_claims_digests(ctx)
    assert (digest.officer_id, digest.payload["since"]) == (cast.triage.officer_id, "2026-12-24")
    assert [row["reference"] for row in digest.payload["rows"]] == [eve]


def test_the_new_claims_list_of_a_triage_officer_who_turned_it_off_is_not_queued(
    ctx: ServiceContext, clock: FixedClock
) -> None:
    cast = Cast(ctx)
    change_mail_settings(ctx, cast.triage, {"assignments"})
    clock.set_day(FRIDAY, hour=9)
    submit_claim(ctx, submission())
    clock.set_day(MONDAY, hour=9)
    assert schedule.queue_digests(ctx) == 0
    assert new_claims_digests(ctx) == []


def test_the_new_claims_list_arrives_through_the_sender_with_links_to_each_claim(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    app = mailing_app
    clock.set_day(FRIDAY, hour=9)
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        address = email_of(ctx, cast.triage)
        first = submit_claim(ctx, submission()).reference
        second = submit_claim(ctx, submission()).reference
        assign(ctx, second, cast.triage.officer_id, cast.triage)
    clock.set_day(MONDAY, hour=8)
    notify(app)
    (message,) = [m for m in inbox.to(address) if str(m["Subject"]).startswith("New claims")]
    assert str(message["Subject"]) == "New claims: 2 filed since 6 November 2026"
    body = text_of(message)
    assert f"- {first}: Professional standards and qualifications, North West (England); triage due" in body
    assert f"http://guarantee.test/officer/claims/{first}" in body and f"/officer/claims/{second}" in body
    assert body.count("(not assigned)") == 1


# --- each officer's choice -----------------------------------------------------------------------


def test_every_kind_of_e_mail_is_on_until_the_officer_turns_it_off(ctx: ServiceContext) -> None:
    reviewer = make_officer(ctx, "reviewer")
    settings = mail_settings(ctx, reviewer)
    assert [s.kind for s in settings] == [k for k in KINDS if k != "new_claims_digest"], "triage's list is not theirs"
    assert all(s.on and s.label and s.hint for s in settings)
    triage = make_officer(ctx, "triage")
    assert [s.kind for s in mail_settings(ctx, triage)] == list(KINDS)


def test_an_officer_turns_kinds_off_and_on_again_and_the_admin_log_records_each_change(ctx: ServiceContext) -> None:
    triage = make_officer(ctx, "triage")
    now = change_mail_settings(ctx, triage, {"assignments", "appeals", "withdrawals"})
    assert {s.kind for s in now if not s.on} == {"group_replies", "daily_digest", "new_claims_digest"}
    assert {s.kind: s.on for s in mail_settings(ctx, triage)} == {s.kind: s.on for s in now}
    change_mail_settings(ctx, triage, {"assignments", "appeals", "withdrawals"})  # no change: not logged
    change_mail_settings(ctx, triage, set(KINDS) - {"daily_digest"})
    events = ctx.session.scalars(
        select(AdminEvent).where(AdminEvent.officer_id == triage.officer_id).order_by(AdminEvent.seq)
    ).all()
    assert [(e.action, e.actor_id, e.payload) for e in events] == [
        (
            "mail_settings_changed",
            triage.officer_id,
            {"turned_on": [], "turned_off": ["daily_digest", "group_replies", "new_claims_digest"]},
        ),
        (
            "mail_settings_changed",
            triage.officer_id,
            {"turned_on": ["group_replies", "new_claims_digest"], "turned_off": []},
        ),
    ]


def test_a_kind_not_on_the_officers_list_is_refused_and_nothing_changes(ctx: ServiceContext) -> None:
    reviewer = make_officer(ctx, "reviewer")
    for wrong in ({"newsletters"}, {"new_claims_digest"}):
        with pytest.raises(ValidationFailed) as refused:
            change_mail_settings(ctx, reviewer, wrong)
        assert refused.value.errors == {
            "kinds": ["Choose the e-mails you want from the list: some of those chosen are not on it"]
        }
    assert all(s.on for s in mail_settings(ctx, reviewer))


def test_a_kind_the_officers_roles_do_not_bring_keeps_its_setting(ctx: ServiceContext) -> None:
    officer = make_officer(ctx, "triage", "reviewer")
    change_mail_settings(ctx, officer, set(KINDS) - {"new_claims_digest"})
    from guarantee.services.admin import set_roles

    admin = make_officer(ctx, "admin")
    set_roles(ctx, admin, officer.officer_id, ["reviewer"])
    change_mail_settings(ctx, officer, set(KINDS) - {"new_claims_digest"})  # the reviewer's whole list
    set_roles(ctx, admin, officer.officer_id, ["reviewer", "triage"])
    assert {s.kind: s.on for s in mail_settings(ctx, officer)}["new_claims_digest"] is False


def test_only_an_active_officer_has_e_mail_settings(ctx: ServiceContext) -> None:
    reference = submit_claim(ctx, submission()).reference
    for stranger in (GroupActor(reference), make_officer(ctx, "triage", active=False)):
        with pytest.raises(Forbidden):
            mail_settings(ctx, stranger)
        with pytest.raises(Forbidden):
            change_mail_settings(ctx, stranger, set())


def test_every_officer_message_respects_the_officers_choice(ctx: ServiceContext, clock: FixedClock) -> None:
    cast = Cast(ctx)
    change_mail_settings(ctx, cast.reviewer, set())  # nothing at all
    asked = submit_claim(ctx, submission()).reference
    assign(ctx, asked, cast.reviewer.officer_id, cast.triage)  # assigned
    walk(ctx, cast, asked, "accept", "request_information")
    fire(ctx, asked, "provide_information", GroupActor(asked), INPUTS["provide_information"])  # group_replied
    walk(ctx, cast, asked, "not_uphold", "appeal")  # appeal_lodged
    gone = submit_claim(ctx, submission()).reference
    assign(ctx, gone, cast.reviewer.officer_id, cast.triage)
    walk(ctx, cast, gone, "withdraw")  # claim_withdrawn
    late = submit_claim(ctx, submission()).reference
    assign(ctx, late, cast.reviewer.officer_id, cast.triage)
    clock.advance(days=10)
    schedule.queue_digests(ctx)  # daily_digest
    to_reviewer = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.officer_id == cast.reviewer.officer_id))
    assert list(to_reviewer) == []
    change_mail_settings(ctx, cast.reviewer, set(KINDS) - {"new_claims_digest"})
    assign(ctx, late, cast.triage.officer_id, cast.triage)
    assign(ctx, late, cast.reviewer.officer_id, cast.triage)
    schedule.queue_digests(ctx)
    templates = set(
        ctx.session.scalars(select(OutboxMessage.template).where(OutboxMessage.officer_id == cast.reviewer.officer_id))
    )
    assert templates == {"assigned", "daily_digest"}, "on again"


def test_an_officer_who_turns_a_kind_off_after_it_was_queued_does_not_get_it(mailing_app: Flask, inbox: Inbox) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        address = email_of(ctx, cast.reviewer)
        reference = submit_claim(ctx, submission()).reference
        assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
        change_mail_settings(ctx, cast.reviewer, set(KINDS) - {"assignments", "new_claims_digest"})
    notify(app)
    assert inbox.to(address) == []
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "assigned")).one()
        assert row.status == "skipped" and "turned these messages off" in (row.last_error or "")


def test_each_kind_is_one_the_database_allows_and_each_of_its_messages_has_a_template() -> None:
    from pathlib import Path

    assert tuple(OFFICER_MESSAGE_KINDS) == KINDS
    mail = Path(__file__).resolve().parent.parent / "guarantee" / "templates" / "mail"
    for template in KIND_OF_TEMPLATE:
        assert (mail / f"{template}.txt").exists(), template
