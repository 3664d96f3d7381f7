"""Claim drafts, the answers a browser has given on the question pages so far: kept under the
hash of a random key, for seven days after the last change, then gone and swept."""

from __future__ import annotations

from sqlalchemy import func, select

from guarantee.clock import FixedClock
from guarantee.models import ClaimDraft
from guarantee.services.context import ServiceContext
from guarantee.services.drafts import (
    KEEP_FOR,
    discard_draft,
    find_draft,
    key_hash,
    purge_expired_drafts,
    save_answers,
)


def drafts(ctx: ServiceContext) -> int:
    return ctx.session.scalar(select(func.count()).select_from(ClaimDraft)) or 0


def test_a_first_answer_makes_a_draft_with_a_new_key_whose_hash_alone_is_stored(ctx: ServiceContext) -> None:
    draft, key = save_answers(ctx, None, {"group_name": "Little Acorns"})

    assert len(key) >= 43, "256 random bits"
    assert draft.key_hash == key_hash(key) != key
    assert find_draft(ctx, key) is draft
    assert draft.revision == 1
    assert draft.expires_at == ctx.now() + KEEP_FOR


def test_more_answers_go_into_the_same_draft_and_move_its_expiry_on(ctx: ServiceContext, clock: FixedClock) -> None:
    first, key = save_answers(ctx, None, {"group_name": "Little Acorns"})
    clock.advance(days=3)

    again, same_key = save_answers(ctx, key, {"group_name": "Little Acorns", "group_email": "a@example.org"})

    assert (again, same_key) == (first, key)
    assert again.answers == {"group_name": "Little Acorns", "group_email": "a@example.org"}
    assert again.revision == 2
    assert again.expires_at == ctx.now() + KEEP_FOR


def test_a_key_that_opens_no_draft_gets_a_new_draft_and_key_never_its_own(ctx: ServiceContext) -> None:
    chosen = "a-key-someone-made-up-" + "x" * 30

    draft, key = save_answers(ctx, chosen, {"group_name": "Oak Tree"})

    assert key != chosen
    assert find_draft(ctx, chosen) is None
    assert find_draft(ctx, key) is draft


def test_a_draft_unchanged_for_seven_days_is_gone_and_the_sweep_deletes_only_those(
    ctx: ServiceContext, clock: FixedClock
) -> None:
    _, old = save_answers(ctx, None, {"group_name": "Old"})
    clock.advance(days=6)
    _, recent = save_answers(ctx, None, {"group_name": "Recent"})
    before = drafts(ctx)
    clock.advance(days=1)

    assert find_draft(ctx, old) is None
    assert find_draft(ctx, recent) is not None
    assert purge_expired_drafts(ctx) == 1
    assert drafts(ctx) == before - 1


def test_a_filed_claims_draft_is_deleted(ctx: ServiceContext) -> None:
    draft, key = save_answers(ctx, None, {"group_name": "Filed"})

    discard_draft(ctx, draft)

    assert find_draft(ctx, key) is None
