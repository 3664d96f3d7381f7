"""What a group sees on its own claim's timeline: every step of the workflow, its decision
published (or withdrawn) on the public register, and its own answers about the remedy; never the
officers' internal events. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from guarantee.clock import FixedClock
from guarantee.services import publishing, remedies
from guarantee.services.actors import GroupActor
from guarantee.services.casework import add_note
from guarantee.services.context import ServiceContext
from guarantee.services.reading import read_claim
from tests.helpers import Cast, make_officer
from tests.test_publishing import accepted, decide
from tests.test_remedy_checkins import three_month_check_in
from workflows import TIMELINE_LABELS


@pytest.fixture
def cast(ctx: ServiceContext) -> Cast:
    return Cast(ctx)


def seen_by_the_group(ctx: ServiceContext, reference: str) -> list[str]:
    _, view = read_claim(ctx, reference, GroupActor(reference))
    return [item["action"] for item in view["timeline"]]


def test_the_group_sees_its_decision_published_and_withdrawn_but_not_the_officers_notes(
    ctx: ServiceContext, cast: Cast
) -> None:
    reference = accepted(ctx, cast)
    add_note(ctx, reference, cast.reviewer, "Checked with legal; waiver is fine.")
    statement = decide(ctx, cast, reference)
    publishing.approve(ctx, make_officer(ctx, "reviewer"), statement.id)
    publishing.withdraw(ctx, make_officer(ctx, "admin"), statement.id, "The group asked us to.")

    seen = seen_by_the_group(ctx, reference)

    assert seen == ["submitted", "accept", "uphold", "statement_published", "statement_withdrawn"]
    assert all(TIMELINE_LABELS[action] for action in seen)


def test_the_group_sees_its_answer_to_a_check_in_with_its_own_words(
    ctx: ServiceContext, clock: FixedClock, cast: Cast
) -> None:
    reference, token = three_month_check_in(ctx, clock, cast)
    remedies.answer_check_in(ctx, reference, token, "running_remedy_in_place", "Open on Tuesdays.", follow_up_days=20)

    _, view = read_claim(ctx, reference, GroupActor(reference))
    last = view["timeline"][-1]

    assert last["action"] == "remedy_checked_in"
    assert [t["text"] for t in last["texts"]] == ["Open on Tuesdays."]
