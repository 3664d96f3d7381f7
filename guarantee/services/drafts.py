"""Claims being written on the question pages: the answers a browser has given so far.

The browser holds a random 256-bit key (in a cookie); only its SHA-256 is stored, as for
tracking links. A draft lasts KEEP_FOR after its last change, then it is as if it never was,
and the sweep deletes it. Filing the claim deletes its draft in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import delete, select

from guarantee.models import ClaimDraft
from guarantee.services.context import ServiceContext

KEEP_FOR = timedelta(days=7)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find_draft(ctx: ServiceContext, key: str | None, *, for_update: bool = False) -> ClaimDraft | None:
    """The browser's draft, unless it has expired (or the key opens none). ``for_update``: locked
    until the transaction ends, so that pages sent at once from two tabs both keep their answers
    (PostgreSQL; SQLite serialises writers anyway)."""
    if not key:
        return None
    query = select(ClaimDraft).where(ClaimDraft.key_hash == key_hash(key), ClaimDraft.expires_at > ctx.now())
    return ctx.session.scalars(query.with_for_update() if for_update else query).one_or_none()


def save_answers(ctx: ServiceContext, key: str | None, answers: Mapping[str, str]) -> tuple[ClaimDraft, str]:
    """Keep the answers in the browser's draft, or in a new one (with a new key) if it has
    none that is still open. Each save moves the expiry on and counts a revision."""
    draft = find_draft(ctx, key)
    now = ctx.now()
    if draft is None or key is None:
        key = secrets.token_urlsafe(32)
        draft = ClaimDraft(key_hash=key_hash(key), answers={}, revision=0, created_at=now, expires_at=now)
        ctx.session.add(draft)
    draft.answers = dict(answers)
    draft.revision += 1
    draft.expires_at = now + KEEP_FOR
    ctx.session.flush()
    return draft, key


def discard_draft(ctx: ServiceContext, draft: ClaimDraft) -> None:
    """The claim is filed: its answers live in the claim now, and nowhere else."""
    ctx.session.delete(draft)
    ctx.session.flush()


def purge_expired_drafts(ctx: ServiceContext) -> int:
    """Delete the drafts no one has changed for KEEP_FOR (and a few not yet reached by the sweep)."""
    result = ctx.session.execute(delete(ClaimDraft).where(ClaimDraft.expires_at <= ctx.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]
