"""Remedy check-ins made directly, for tests of who may do what with them (the ASVS and console
matrix tests): a check-in waiting for its answer, and one answered "not in place" with its
follow-up open. How they come about (3, 6 and 12 months on) is tests/test_remedy_checkins.py's."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from guarantee.models import Claim, RemedyCheckIn
from guarantee.services import remedies
from guarantee.services.claims import token_hash
from guarantee.services.context import ServiceContext


def _check_in(ctx: ServiceContext, reference: str, months: int) -> RemedyCheckIn:
    claim_id = ctx.session.scalar(select(Claim.id).where(Claim.reference == reference))
    assert claim_id is not None
    row = RemedyCheckIn(
        claim_id=claim_id,
        months=months,
        due_on=ctx.today(),
        queued_at=ctx.now(),
        message_id=remedies.message_id(claim_id, months),
        sent_at=ctx.now(),
    )
    ctx.session.add(row)
    return row


def waiting_check_in(ctx: ServiceContext, reference: str) -> str:
    """A 3-month check-in of the claim, e-mailed and not answered: the token of its link."""
    token = secrets.token_urlsafe(32)
    row = _check_in(ctx, reference, 3)
    row.token_hash, row.link_expires_at = token_hash(token), ctx.now() + timedelta(days=30)
    ctx.session.flush()
    return token


def open_follow_up(ctx: ServiceContext, reference: str) -> int:
    """A 6-month check-in of the claim answered "not in place", its follow-up open: its id."""
    row = _check_in(ctx, reference, 6)
    row.answer, row.answered_at = "remedy_not_in_place", ctx.now()
    row.follow_up_due_on = ctx.today() + timedelta(days=28)
    ctx.session.flush()
    return row.id
