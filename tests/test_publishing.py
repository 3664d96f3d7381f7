"""Publishing a decision statement is a deliberate, checked act (issue 20, items 2 and 6): the
deciding officer drafts the summary, a second officer approves it past a personal-data check,
approving numbers it and writes the audit chain, a later decision supersedes it, and an
administrator may withdraw it. Services only, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from guarantee.clock import UK, FixedClock
from guarantee.models import AuditEvent, Claim, Contact, OutboxMessage, TimelineEntry
from guarantee.models.register import STATEMENT_DECISION_OF_TRIGGER, DecisionStatement
from guarantee.services import publishing
from guarantee.services.actors import GroupActor, OfficerActor
from guarantee.services.audit import text_digest, verify
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, Forbidden, ValidationFailed
from guarantee.services.personal_data import findings
from tests.helpers import INPUTS, Cast, make_officer, submission
from workflows import PUBLIC_SUMMARY, TRANSITIONS_BY_TRIGGER

CLEAN = "The council agreed to waive the staffing ratio for a parent-run nursery while parents train."


def file(ctx: ServiceContext, *, publish: bool = True, **sections: dict[str, Any]) -> str:
    consent = {"contact": True, "publish": publish}
    return submit_claim(ctx, submission(consent=consent, **sections)).reference


def decide(
    ctx: ServiceContext, cast: Cast, reference: str, trigger: str = "uphold", summary: str | None = CLEAN, **more: Any
) -> DecisionStatement:
    """Fire a deciding trigger with a summary (None: without one), and return its draft."""
    data = {k: v for k, v in INPUTS[trigger].items() if k != PUBLIC_SUMMARY} | more
    if summary is not None:
        data[PUBLIC_SUMMARY] = summary
    role = TRANSITIONS_BY_TRIGGER[trigger].fired_by[0]
    fire(ctx, reference, trigger, cast.for_role(role, reference), data)
    return draft_of(ctx, reference)


def draft_of(ctx: ServiceContext, reference: str) -> DecisionStatement:
    claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None
    found = ctx.session.scalars(
        select(DecisionStatement).where(DecisionStatement.claim_id == claim.id).order_by(DecisionStatement.id.desc())
    ).first()
    assert found is not None
    return found


def accepted(ctx: ServiceContext, cast: Cast, *, regulation: int | None = None, **kwargs: Any) -> str:
    """A claim under review: under a new catalogue entry, or the entry ``regulation``."""
    reference = file(ctx, **kwargs)
    fire(ctx, reference, "accept", cast.triage, INPUTS["accept"] | ({"regulation": regulation} if regulation else {}))
    return reference


@pytest.fixture
def cast(ctx: ServiceContext) -> Cast:
    return Cast(ctx)


@pytest.fixture
def second(ctx: ServiceContext) -> OfficerActor:
    """A second reviewer: the one who approves what the cast's reviewer drafts."""
    return make_officer(ctx, "reviewer")


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Script the random part of the numbers approvals draw, in order."""

    def script(*parts: int) -> None:
        left = iter(parts)
        monkeypatch.setattr(publishing, "draw_number_part", lambda: next(left))

    return script


# --- the personal-data check, as a table ------------------------------------------------------


def _claim() -> tuple[Claim, Contact]:
    claim = Claim(
        group_name="Friends of Millbrook Park",
        initiative_title="Park kitchen",
        initiative_description="We cook lunches in the park pavilion. Our treasurer Priya Okafor runs the rota.",
        barrier_regulation="Food premises registration",
        barrier_imposed_by="Environmental Health",
        barrier_how_it_blocks="Environmental Health says the Pavilion needs a hand basin.",
        remedy_details=None,
    )
    contact = Contact(contact_name="Jonah Whitcombe", email="jonah@millbrook.example", phone="01632 960 123")
    return claim, contact


@pytest.mark.parametrize(
    ("summary", "found"),
    [
        (CLEAN, []),
        ("Write to jonah@millbrook.example for details.", [("the group's e-mail address", "jonah@millbrook.example")]),
        ("Contact anyone@elsewhere.example.", [("an e-mail address", "anyone@elsewhere.example")]),
        ("The claim from Friends of Millbrook Park was upheld.", [("the group's name", "Friends of Millbrook Park")]),
        ("Jonah Whitcombe asked for a waiver.", [("the contact's name", "Jonah Whitcombe")]),
        ("Mr Whitcombe asked for a waiver.", [("part of the contact's name", "Whitcombe")]),
        ("Ring 01632 960123 to ask.", [("the group's phone number", "01632 960123")]),
        ("Ring +44 20 7946 0018 to ask.", [("a phone number", "+44 20 7946 0018")]),
        ("The kitchen is near LS1 4AP.", [("a postcode", "LS1 4AP")]),
        ("The kitchen is at 12 Mill Lane in the town.", [("a street address", "12 Mill Lane")]),
        ("The rota is run by Priya Okafor.", [("a name the group wrote in its claim", "Priya Okafor")]),
        ("The Pavilion kitchen had no hand basin.", [("a name the group wrote in its claim", "Pavilion")]),
        # Words the group wrote only at the start of a sentence, ordinary capitals and the rule's
        # own words are not names.
        ("Our request was about Environmental Health in March.", []),
        ("We found the rule on Food premises registration too strict.", []),
        ("The council waived 20 of the 30 rules in 2026.", []),
    ],
)
def test_the_personal_data_check_finds_what_may_identify_someone(summary: str, found: list[tuple[str, str]]) -> None:
    claim, contact = _claim()

    result = findings(summary, claim, contact)

    assert [(f.what, f.found) for f in result] == found
    assert all(f.line == 1 for f in result)


def test_a_finding_says_what_was_found_and_on_which_line() -> None:
    claim, contact = _claim()

    result = findings("First line is fine.\nSecond names Priya.", claim, contact)

    assert [str(f) for f in result] == ["A name the group wrote in its claim: “Priya”, on line 2"]


def test_the_groups_answers_to_questions_are_read_for_names() -> None:
    claim, contact = _claim()

    assert findings("Thanks to Gwendolyn for the plans.", claim, contact, ["Our chair, Gwendolyn, drew them."])
    assert not findings("Thanks to Gwendolyn for the plans.", claim, contact)


# --- drafting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", sorted(STATEMENT_DECISION_OF_TRIGGER))
def test_each_decision_on_the_merits_asks_for_a_summary_that_the_group_never_reads(trigger: str) -> None:
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    summary = next(i for i in transition.inputs if i.name == PUBLIC_SUMMARY)

    assert summary.required and not summary.public
    assert summary.asked_if is not None and summary.asked_if[0] == "consent_publish"


def test_a_decision_drafts_a_statement_awaiting_approval(ctx: ServiceContext, cast: Cast) -> None:
    reference = accepted(ctx, cast)

    statement = decide(ctx, cast, reference)

    assert statement.status == "awaiting_approval"
    assert statement.decision == "upheld"
    assert statement.summary == CLEAN
    assert statement.drafted_by_id == cast.reviewer.officer_id
    assert statement.number is None
    assert statement.consent is True


def test_the_summary_is_kept_from_the_group(ctx: ServiceContext, cast: Cast) -> None:
    reference = accepted(ctx, cast)
    decide(ctx, cast, reference)
    claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None

    entry = ctx.session.scalar(
        select(TimelineEntry).where(TimelineEntry.claim_id == claim.id, TimelineEntry.field == PUBLIC_SUMMARY)
    )
    mails = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.claim_id == claim.id)).all()

    assert entry is not None and entry.public is False
    assert all(CLEAN not in str(m.payload) for m in mails)


def test_a_summary_is_required_when_the_group_agreed_to_publishing(ctx: ServiceContext, cast: Cast) -> None:
    reference = accepted(ctx, cast)

    with pytest.raises(ValidationFailed) as refused:
        decide(ctx, cast, reference, summary=None)

    assert PUBLIC_SUMMARY in refused.value.errors


def test_without_consent_no_summary_is_asked_or_stored(ctx: ServiceContext, cast: Cast) -> None:
    reference = accepted(ctx, cast, publish=False)

    statement = decide(ctx, cast, reference, summary=None)

    assert statement.summary is None and statement.consent is False
    assert publishing.check(ctx, statement) == []


def test_without_consent_a_summary_given_is_not_kept(ctx: ServiceContext, cast: Cast) -> None:
    reference = accepted(ctx, cast, publish=False)

    statement = decide(ctx, cast, reference)
    claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None

    assert statement.summary is None
    assert not ctx.session.scalars(
        select(TimelineEntry).where(TimelineEntry.claim_id == claim.id, TimelineEntry.field == PUBLIC_SUMMARY)
    ).all()


# --- four eyes ----------------------------------------------------------------------------------


def test_the_drafter_cannot_approve(ctx: ServiceContext, cast: Cast) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast))

    with pytest.raises(Forbidden, match="A second officer must approve"):
        publishing.approve(ctx, cast.reviewer, statement.id)

    assert statement.status == "awaiting_approval"


def test_a_triage_officer_cannot_approve(ctx: ServiceContext, cast: Cast) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast))

    with pytest.raises(Forbidden):
        publishing.approve(ctx, cast.triage, statement.id)


def test_approval_is_blocked_by_findings_then_allowed_once_fixed(
    ctx: ServiceContext, cast: Cast, second: OfficerActor
) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast), summary=CLEAN + " Ask ada.testperson@example.org.")

    with pytest.raises(ValidationFailed) as blocked:
        publishing.approve(ctx, second, statement.id)
    assert "ada.testperson@example.org" in blocked.value.errors["summary"][0]

    publishing.edit_summary(ctx, cast.reviewer, statement.id, CLEAN)  # the drafter corrects it
    published = publishing.approve(ctx, second, statement.id)

    assert published.status == "published" and published.number is not None


def test_an_approver_who_edits_needs_a_third_officer(ctx: ServiceContext, cast: Cast, second: OfficerActor) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast))
    publishing.edit_summary(ctx, second, statement.id, CLEAN + " It was reviewed again.")

    with pytest.raises(Forbidden, match="changed its summary last"):
        publishing.approve(ctx, second, statement.id)
    with pytest.raises(Forbidden, match="drafted it"):
        publishing.approve(ctx, cast.reviewer, statement.id)
    publishing.approve(ctx, cast.admin, statement.id)

    assert statement.edited_by_id == second.officer_id and statement.approved_by_id == cast.admin.officer_id


def test_a_summary_changed_after_the_page_was_read_is_not_approved(
    ctx: ServiceContext, cast: Cast, second: OfficerActor
) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast))
    seen = publishing.summary_seen(statement)
    publishing.edit_summary(ctx, cast.reviewer, statement.id, CLEAN + " Changed.")

    with pytest.raises(Conflict, match="changed after you opened"):
        publishing.approve(ctx, second, statement.id, seen=seen)


# --- what approving does --------------------------------------------------------------------------


def test_approving_numbers_freezes_and_audits(ctx: ServiceContext, cast: Cast, second: OfficerActor) -> None:
    reference = accepted(ctx, cast)
    statement = decide(ctx, cast, reference)

    publishing.approve(ctx, second, statement.id)

    claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None
    assert statement.number is not None and re.fullmatch(r"DS-2026-[1-9][0-9]{4}", statement.number)
    assert statement.regulation_id == claim.regulation_id
    assert statement.category == "food_hygiene"  # the officers' category, not the group's
    assert (statement.sector, statement.region, statement.remedy) == ("children_and_families", "north_west", "waiver")
    assert statement.decided_on == date(2026, 11, 2)
    assert statement.working_days == 0  # filed and decided the same day
    event = ctx.session.scalars(
        select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq.desc())
    ).first()
    assert event is not None and event.action == "statement_published"
    assert event.payload["number"] == statement.number
    assert event.payload["summary_sha256"] == text_digest(CLEAN)
    assert event.to_state is None
    assert verify(ctx).ok


def test_numbers_are_drawn_at_random_under_the_year_of_approval_not_in_approval_order(
    ctx: ServiceContext, cast: Cast, second: OfficerActor, clock: FixedClock, draws: Callable[..., None]
) -> None:
    draws(48213, 10377, 92650, 31008)
    numbers = []
    for _ in range(3):
        numbers.append(publishing.approve(ctx, second, decide(ctx, cast, accepted(ctx, cast)).id).number)
    clock.set(datetime(2027, 1, 6, 10, tzinfo=UK))
    numbers.append(publishing.approve(ctx, second, decide(ctx, cast, accepted(ctx, cast)).id).number)

    assert numbers == ["DS-2026-48213", "DS-2026-10377", "DS-2026-92650", "DS-2027-31008"]
    assert numbers[:3] != sorted(numbers[:3]), "the order approved in is not the order of the numbers"


def test_a_number_already_taken_is_drawn_again(
    ctx: ServiceContext, cast: Cast, second: OfficerActor, draws: Callable[..., None]
) -> None:
    draws(48213, 48213, 48213, 70511)
    first = publishing.approve(ctx, second, decide(ctx, cast, accepted(ctx, cast)).id)

    again = publishing.approve(ctx, second, decide(ctx, cast, accepted(ctx, cast)).id)

    assert (first.number, again.number) == ("DS-2026-48213", "DS-2026-70511")


def test_when_every_draw_is_taken_approving_is_refused_with_a_conflict(
    ctx: ServiceContext, cast: Cast, second: OfficerActor, draws: Callable[..., None]
) -> None:
    draws(*[48213] * 20)
    publishing.approve(ctx, second, decide(ctx, cast, accepted(ctx, cast)).id)
    statement = decide(ctx, cast, accepted(ctx, cast))

    with pytest.raises(Conflict, match="could not be given a free number"):
        publishing.approve(ctx, second, statement.id)


@pytest.mark.parametrize(("drawn", "part"), [(lambda n: 0, 10000), (lambda n: n - 1, 99999)])
def test_the_random_part_is_five_digits_from_the_system_random_source(
    monkeypatch: pytest.MonkeyPatch, drawn: Callable[[int], int], part: int
) -> None:
    monkeypatch.setattr(publishing.secrets, "randbelow", drawn)
    assert publishing.draw_number_part() == part


def test_working_days_count_from_filing_to_the_decision(
    ctx: ServiceContext, cast: Cast, second: OfficerActor, clock: FixedClock
) -> None:
    reference = accepted(ctx, cast)
    clock.set(datetime(2026, 11, 9, 15, tzinfo=UK))  # the Monday after
    statement = decide(ctx, cast, reference)
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UK))  # approved later: the decision's date counts

    publishing.approve(ctx, second, statement.id)

    assert (statement.decided_on, statement.working_days) == (date(2026, 11, 9), 5)


def test_an_appeal_decision_supersedes_the_first_statement_which_stays_listed(
    ctx: ServiceContext, cast: Cast, second: OfficerActor
) -> None:
    reference = accepted(ctx, cast)
    first = decide(ctx, cast, reference, "not_uphold")
    publishing.approve(ctx, second, first.id)
    fire(ctx, reference, "appeal", GroupActor(reference), INPUTS["appeal"])

    later = decide(ctx, cast, reference, "allow_appeal")
    assert first.status == "published", "until the new one is approved"
    publishing.approve(ctx, second, later.id)

    assert (first.status, first.superseded_by_id) == ("superseded", later.id)
    assert (later.status, later.decision) == ("published", "appeal_allowed")
    assert first.number and later.number and first.number != later.number
    assert first.reason_code == "regulation_necessary_and_proportionate" and later.reason_code is None


def test_a_draft_never_published_is_replaced_by_the_appeal_decisions(ctx: ServiceContext, cast: Cast) -> None:
    reference = accepted(ctx, cast)
    decide(ctx, cast, reference, "not_uphold")
    fire(ctx, reference, "appeal", GroupActor(reference), INPUTS["appeal"])

    later = decide(ctx, cast, reference, "dismiss_appeal")

    statements = ctx.session.scalars(select(DecisionStatement).where(DecisionStatement.claim_id == later.claim_id))
    assert [(s.decision, s.status) for s in statements] == [("appeal_dismissed", "awaiting_approval")]


def test_a_recorded_resolution_is_added_to_the_statement(ctx: ServiceContext, cast: Cast, second: OfficerActor) -> None:
    reference = accepted(ctx, cast)
    statement = decide(ctx, cast, reference)
    publishing.approve(ctx, second, statement.id)

    fire(ctx, reference, "record_resolution", cast.reviewer, INPUTS["record_resolution"])

    assert statement.resolution == "waiver_granted"


# --- citing ------------------------------------------------------------------------------------


def test_a_decision_cites_earlier_published_statements(ctx: ServiceContext, cast: Cast, second: OfficerActor) -> None:
    earlier = decide(ctx, cast, accepted(ctx, cast))
    publishing.approve(ctx, second, earlier.id)
    reference = accepted(ctx, cast, regulation=earlier.regulation_id)
    claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None

    offered = publishing.precedents(ctx, claim.regulation_id)
    statement = decide(ctx, cast, reference, cites=[earlier.id])

    assert [p.number for p in offered] == [earlier.number]
    assert offered[0].first_line == CLEAN and offered[0].quarter == "October to December 2026"
    assert [s.number for s in statement.cites] == [earlier.number]


@pytest.mark.parametrize("cite", ["draft", "unknown"])
def test_only_published_statements_can_be_cited(ctx: ServiceContext, cast: Cast, cite: str) -> None:
    draft = decide(ctx, cast, accepted(ctx, cast))
    reference = accepted(ctx, cast)

    with pytest.raises(ValidationFailed) as refused:
        decide(ctx, cast, reference, cites=[draft.id if cite == "draft" else 999_999])

    assert "Only statements on the register can be cited" in refused.value.errors["cites"][0]


# --- withdrawing -------------------------------------------------------------------------------


def test_withdrawn_statement_stays_listed_as_withdrawn(ctx: ServiceContext, cast: Cast, second: OfficerActor) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast))
    number = publishing.approve(ctx, second, statement.id).number

    publishing.withdraw(ctx, cast.admin, statement.id, "The initiative asked us to take it down.")

    assert (statement.status, statement.number) == ("withdrawn", number)
    assert statement.withdrawn_reason == "The initiative asked us to take it down."
    listed = publishing.recently_published(ctx, cast.admin)
    assert [s.number for s, _ in listed] == [number]
    actions = ctx.session.scalars(
        select(AuditEvent.action).where(AuditEvent.claim_id == statement.claim_id).order_by(AuditEvent.seq)
    ).all()
    assert actions[-2:] == ["statement_published", "statement_withdrawn"]
    assert verify(ctx).ok


def test_withdrawing_needs_an_administrator_and_a_reason(ctx: ServiceContext, cast: Cast, second: OfficerActor) -> None:
    statement = decide(ctx, cast, accepted(ctx, cast))
    publishing.approve(ctx, second, statement.id)

    with pytest.raises(Forbidden):
        publishing.withdraw(ctx, second, statement.id, "No longer right.")
    with pytest.raises(ValidationFailed):
        publishing.withdraw(ctx, cast.admin, statement.id, "  ")

    assert statement.status == "published"


# --- the demonstration data ----------------------------------------------------------------------


def test_seed_demo_fills_the_register_through_the_four_eyes_step(ctx: ServiceContext) -> None:
    from collections import Counter

    from guarantee.services.demo import seed_demo

    seed_demo(ctx, 60)

    statements = ctx.session.scalars(select(DecisionStatement)).all()
    by_status = Counter(s.status for s in statements)
    assert by_status["published"] >= 15
    assert by_status["awaiting_approval"] >= 3
    assert by_status["withdrawn"] == 1
    assert all(s.approved_by_id not in (None, s.drafted_by_id) for s in statements if s.number)
    assert all(publishing.check(ctx, s) == [] for s in statements)
    assert any(s.cites for s in statements)
    # Several rules have enough decided claims alike to pass disclosure control (region coarsened
    # to the nation, the quarter to the year).
    alike = Counter((s.regulation_id, s.category, s.decided_on.year if s.decided_on else None) for s in statements)
    assert sum(1 for count in alike.values() if count >= 5) >= 3
    assert verify(ctx).ok
