"""Did the remedy happen? (issue 20, item 7.) After an upheld claim's resolution is recorded, the
group gets a check-in 3, 6 and 12 months later, with the service's clock moved; its one answer is
kept and audited, and "not in place" opens a follow-up for the admins, with a clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from guarantee.clock import FixedClock
from guarantee.models import AuditEvent, Claim, OutboxMessage, RemedyCheckIn, TimelineEntry
from guarantee.services import audit, remedies, schedule
from guarantee.services.casework import erase_contact
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guarantee.statistics.disclosure import SUPPRESSED, Rules
from tests.helpers import Cast, make_officer, submission, walk

RESOLVED_ON = date(2026, 11, 2)  # the clock's start (tests/conftest.py): when the resolution is recorded


def resolved_claim(
    ctx: ServiceContext, cast: Cast, *, regulation: int | None = None, **sections: dict[str, object]
) -> str:
    """A claim upheld and resolved now; under the catalogue entry ``regulation``, or a new one."""
    reference = submit_claim(ctx, submission(**sections)).reference
    if regulation is None:
        walk(ctx, cast, reference, "accept")
    else:
        fire(ctx, reference, "accept", cast.triage, {"category": "food_hygiene", "regulation": regulation})
    walk(ctx, cast, reference, "uphold", "record_resolution")
    return reference


def check_ins(ctx: ServiceContext, reference: str) -> list[tuple[int, date]]:
    rows = ctx.session.execute(
        select(RemedyCheckIn.months, RemedyCheckIn.due_on)
        .join(Claim, Claim.id == RemedyCheckIn.claim_id)
        .where(Claim.reference == reference)
        .order_by(RemedyCheckIn.months)
    )
    return [(m, d) for m, d in rows]


def check_in_mail(ctx: ServiceContext, reference: str) -> list[OutboxMessage]:
    return list(
        ctx.session.scalars(
            select(OutboxMessage)
            .join(Claim, Claim.id == OutboxMessage.claim_id)
            .where(Claim.reference == reference, OutboxMessage.template == remedies.TEMPLATE)
            .order_by(OutboxMessage.id)
        )
    )


def on(clock: FixedClock, day: date) -> None:
    clock.set_day(day, hour=9)


def sent_link(ctx: ServiceContext, reference: str, months: int = 3) -> str:
    """What the sender does when it sends the check-in's e-mail: mint its link."""
    (message,) = [m for m in check_in_mail(ctx, reference) if m.payload["months"] == months]
    minted = remedies.mint_link(ctx, message)
    assert minted is not None
    return minted[0]


def three_month_check_in(ctx: ServiceContext, clock: FixedClock, cast: Cast) -> tuple[str, str]:
    """A resolved claim on the day of its 3-month check-in, the check-in queued and its link
    sent: the claim's reference and the link's token."""
    reference = resolved_claim(ctx, cast)
    on(clock, date(2027, 2, 2))  # a Tuesday
    schedule.queue_scheduled(ctx)
    return reference, sent_link(ctx, reference)


@pytest.fixture
def cast(ctx: ServiceContext) -> Cast:
    return Cast(ctx)


# --- when check-ins come ---------------------------------------------------------------------


def test_check_ins_come_3_6_and_12_months_after_the_resolution_with_the_clock_moved(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference = resolved_claim(ctx, cast)
    for months, due in [(3, date(2027, 2, 2)), (6, date(2027, 5, 2)), (12, date(2027, 11, 2))]:
        on(clock, due - timedelta(days=1))
        schedule.queue_scheduled(ctx)
        assert (months, due) not in check_ins(ctx, reference), f"not before its day ({months} months)"
        on(clock, due)
        assert schedule.queue_scheduled(ctx)["check_ins"] == 1
        assert check_ins(ctx, reference)[-1] == (months, due)
    mail = check_in_mail(ctx, reference)
    assert [m.payload["months"] for m in mail] == [3, 6, 12]
    assert [m.message_id for m in mail] == [
        remedies.message_id(m.claim_id or 0, n) for m, n in zip(mail, (3, 6, 12), strict=True)
    ]
    assert {m.recipient_type for m in mail} == {"group"}


def test_the_3_month_check_in_is_queued_once_even_if_the_round_runs_twice(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference = resolved_claim(ctx, cast)
    on(clock, date(2027, 2, 2))
    assert schedule.queue_scheduled(ctx)["check_ins"] == 1
    clock.advance(hours=5)
    assert schedule.queue_scheduled(ctx)["check_ins"] == 0
    on(clock, date(2027, 2, 20))
    assert schedule.queue_scheduled(ctx)["check_ins"] == 0
    assert len(check_in_mail(ctx, reference)) == 1
    assert check_ins(ctx, reference) == [(3, date(2027, 2, 2))]


def test_a_group_that_did_not_agree_to_be_contacted_or_whose_contact_was_erased_gets_no_check_in(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    no_consent = resolved_claim(ctx, cast, consent={"contact": False})
    erased = resolved_claim(ctx, cast)
    erase_contact(ctx, erased, cast.admin)
    on(clock, date(2027, 2, 2))
    assert schedule.queue_scheduled(ctx)["check_ins"] == 0
    assert check_ins(ctx, no_consent) == check_ins(ctx, erased) == []
    assert check_in_mail(ctx, no_consent) == check_in_mail(ctx, erased) == []


def test_claims_not_upheld_or_whose_appeal_was_dismissed_get_no_check_in(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    dismissed = submit_claim(ctx, submission()).reference
    walk(ctx, cast, dismissed, "accept", "not_uphold", "appeal", "dismiss_appeal")
    not_upheld = submit_claim(ctx, submission()).reference
    walk(ctx, cast, not_upheld, "accept", "not_uphold")
    upheld_only = submit_claim(ctx, submission()).reference
    walk(ctx, cast, upheld_only, "accept", "uphold")  # no resolution recorded yet
    on(clock, date(2027, 2, 2))
    assert schedule.queue_scheduled(ctx)["check_ins"] == 0
    for reference in (dismissed, not_upheld, upheld_only):
        assert check_ins(ctx, reference) == []


def test_a_check_in_whose_day_passed_long_ago_is_skipped_not_sent_late(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference = resolved_claim(ctx, cast)
    on(clock, date(2027, 7, 1))  # the 3-month day long gone; the 6-month one come
    assert schedule.queue_scheduled(ctx)["check_ins"] == 1
    assert check_ins(ctx, reference) == [(6, date(2027, 5, 2))]
    on(clock, date(2028, 3, 1))  # 12 months and 4 on: too late for any
    assert schedule.queue_scheduled(ctx)["check_ins"] == 0
    assert [m for m, _ in check_ins(ctx, reference)] == [6]


def test_the_same_day_months_later_is_the_last_of_a_shorter_month() -> None:
    assert remedies.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert remedies.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert remedies.add_months(date(2026, 11, 2), 12) == date(2027, 11, 2)


# --- the answer -------------------------------------------------------------------------------


def test_an_answer_is_kept_and_audited_and_the_audit_chain_still_verifies(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference, token = three_month_check_in(ctx, clock, cast)
    words = "The hall is ours on Tuesdays now."
    row = remedies.answer_check_in(
        ctx, reference, token, "running_remedy_in_place", f"  {words}\r\n", follow_up_days=20
    )
    assert (row.answer, row.answered_at, row.follow_up_due_on) == ("running_remedy_in_place", clock.now(), None)
    assert row.token_hash != token, "only the token's hash is kept"
    event = ctx.session.scalars(
        select(AuditEvent).where(AuditEvent.claim_id == row.claim_id).order_by(AuditEvent.seq.desc())
    ).first()
    assert (event.action, event.actor_type, event.from_state, event.to_state) == (
        "remedy_checked_in",
        "group",
        None,
        None,
    )
    assert event.payload == {
        "months": 3,
        "answer": "running_remedy_in_place",
        "text_sha256": {"anything_else": audit.text_digest(words)},
    }
    entry = ctx.session.scalar(
        select(TimelineEntry).where(TimelineEntry.claim_id == row.claim_id, TimelineEntry.seq == event.seq)
    )
    assert entry is not None and entry.body == words and words not in str(event.payload)
    assert audit.verify(ctx).ok


def test_not_in_place_opens_a_follow_up_due_in_working_days_which_an_admin_closes_with_a_note(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference, token = three_month_check_in(ctx, clock, cast)
    row = remedies.answer_check_in(ctx, reference, token, "remedy_not_in_place", "", follow_up_days=20)
    assert row.follow_up_due_on == date(2027, 3, 2), "20 working days on"
    (open_one,) = remedies.open_follow_ups(ctx, cast.admin)
    assert (open_one.reference, open_one.answer, open_one.overdue(date(2027, 3, 2))) == (
        reference,
        "remedy_not_in_place",
        False,
    )
    assert open_one.overdue(date(2027, 3, 3))
    with pytest.raises(Forbidden):
        remedies.open_follow_ups(ctx, cast.reviewer)
    with pytest.raises(ValidationFailed) as empty:
        remedies.close_follow_up(ctx, cast.admin, row.id, "   ")
    assert empty.value.errors == {"note": ["Enter what was done"]}

    remedies.close_follow_up(ctx, cast.admin, row.id, "Rang the licensing team: the waiver is signed.")
    assert remedies.open_follow_ups(ctx, cast.admin) == []
    closed = remedies.follow_up(ctx, cast.admin, row.id)
    assert closed.follow_up_note == "Rang the licensing team: the waiver is signed."
    assert row.follow_up_closed_by == cast.admin.officer_id
    event = ctx.session.scalars(
        select(AuditEvent).where(AuditEvent.claim_id == row.claim_id).order_by(AuditEvent.seq.desc())
    ).first()
    assert event.action == "remedy_follow_up_closed" and event.payload["check_in"] == row.id
    with pytest.raises(Conflict):
        remedies.close_follow_up(ctx, cast.admin, row.id, "Again")
    assert audit.verify(ctx).ok


def test_a_second_answer_to_the_same_check_in_is_refused(ctx: ServiceContext, clock: FixedClock, cast: Cast) -> None:
    reference, token = three_month_check_in(ctx, clock, cast)
    remedies.answer_check_in(ctx, reference, token, "remedy_in_place_not_running", None, follow_up_days=20)
    with pytest.raises(remedies.AlreadyAnswered):
        remedies.answer_check_in(ctx, reference, token, "remedy_not_in_place", None, follow_up_days=20)
    with pytest.raises(remedies.AlreadyAnswered):
        remedies.open_check_in(ctx, reference, token)
    answers = ctx.session.scalars(select(AuditEvent).where(AuditEvent.action == "remedy_checked_in")).all()
    assert len(answers) == 1


def test_the_check_in_link_of_one_claim_cannot_answer_another(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    first, second = resolved_claim(ctx, cast), resolved_claim(ctx, cast)
    on(clock, date(2027, 2, 2))
    schedule.queue_scheduled(ctx)
    token = sent_link(ctx, first)
    sent_link(ctx, second)
    with pytest.raises(NotFound):
        remedies.answer_check_in(ctx, second, token, "remedy_not_in_place", None, follow_up_days=20)
    for wrong in ("", "x" * 43, token[:-1], None, token + "\x00"):
        with pytest.raises(NotFound):
            remedies.open_check_in(ctx, first, wrong)
    assert remedies.open_check_in(ctx, first, token).months == 3


def test_a_link_ends_after_its_time_and_when_the_contact_is_erased(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference, token = three_month_check_in(ctx, clock, cast)
    on(clock, date(2027, 5, 5))  # 92 days on: its last day
    remedies.open_check_in(ctx, reference, token)
    on(clock, date(2027, 5, 6))
    with pytest.raises(remedies.CheckInEnded):
        remedies.open_check_in(ctx, reference, token)
    on(clock, date(2027, 2, 3))
    erase_contact(ctx, reference, cast.admin)
    with pytest.raises(remedies.CheckInEnded):
        remedies.answer_check_in(ctx, reference, token, "remedy_not_in_place", None, follow_up_days=20)


def test_an_answer_must_be_chosen_and_words_must_be_storable_and_not_too_long(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference, token = three_month_check_in(ctx, clock, cast)
    for answer, words, field in [
        (None, None, "answer"),
        ("maybe", None, "answer"),
        ("remedy_not_in_place", "a\x00b", "anything_else"),
        ("remedy_not_in_place", "x" * (remedies.FREE_TEXT_LIMIT + 1), "anything_else"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            remedies.answer_check_in(ctx, reference, token, answer, words, follow_up_days=20)
        assert list(refused.value.errors) == [field]
    assert remedies.open_check_in(ctx, reference, token).answer is None


# --- how many remedies are confirmed in place ---------------------------------------------------


def test_confirmed_in_place_counts_each_claims_latest_answer_by_rule_and_publishes_it_under_the_10_5_rule(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    first = resolved_claim(ctx, cast)
    rule = ctx.session.scalar(select(Claim.regulation_id).where(Claim.reference == first))
    assert rule is not None
    references = [first, resolved_claim(ctx, cast, regulation=rule), resolved_claim(ctx, cast)]
    other_rule = ctx.session.scalar(select(Claim.regulation_id).where(Claim.reference == references[2]))
    on(clock, date(2027, 2, 2))
    schedule.queue_scheduled(ctx)
    answers = ["running_remedy_in_place", "remedy_in_place_not_running", "remedy_not_in_place"]
    for reference, answer in zip(references, answers, strict=True):
        remedies.answer_check_in(ctx, reference, sent_link(ctx, reference), answer, None, follow_up_days=20)
    assert remedies.confirmed_in_place(ctx.session) == 2
    assert remedies.confirmed_in_place(ctx.session, rule) == 2
    assert remedies.confirmed_in_place(ctx.session, other_rule) == 0

    on(clock, date(2027, 5, 2))
    schedule.queue_scheduled(ctx)
    # Six months on, the first says it is no longer in place, the third that it now is.
    for reference, answer in [(first, "remedy_not_in_place"), (references[2], "running_remedy_in_place")]:
        remedies.answer_check_in(ctx, reference, sent_link(ctx, reference, 6), answer, None, follow_up_days=20)
    assert remedies.confirmed_in_place(ctx.session) == 2, "each claim's latest answer counts"
    assert remedies.confirmed_in_place(ctx.session, rule) == 1
    assert remedies.confirmed_in_place(ctx.session, other_rule) == 1
    assert remedies.published_in_place(ctx.session, Rules()) == SUPPRESSED
    assert remedies.published_in_place(ctx.session, Rules(threshold=2, base=5)) == 0
    assert remedies.published_in_place(ctx.session, Rules(threshold=1, base=1)) == 2
    assert remedies.published_in_place(ctx.session, Rules(), rule + 1000) == 0


def test_only_admins_see_follow_ups(ctx: ServiceContext) -> None:
    for role in ("triage", "reviewer", "appeal_panel", "team_leader"):
        with pytest.raises(Forbidden):
            remedies.open_follow_ups(ctx, make_officer(ctx, role))


def test_the_follow_up_clock_is_read_from_the_environment_and_refused_when_not_working_days() -> None:
    from guarantee.config import Config, from_environment

    assert Config.GUARANTEE_REMEDY_FOLLOW_UP_DAYS == 20
    assert from_environment({"GUARANTEE_REMEDY_FOLLOW_UP_DAYS": "15"})["GUARANTEE_REMEDY_FOLLOW_UP_DAYS"] == 15
    for wrong in ("0", "twenty", "-3", "251"):
        with pytest.raises(ValueError, match="GUARANTEE_REMEDY_FOLLOW_UP_DAYS"):
            from_environment({"GUARANTEE_REMEDY_FOLLOW_UP_DAYS": wrong})
