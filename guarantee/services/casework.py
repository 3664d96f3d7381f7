"""Officer work on a claim that is not a workflow transition: assign, classify, note,
and erasing the group's contact details. Each is audited on the claim's chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from guarantee.models import Claim, Contact, OutboxMessage, TimelineEntry
from guarantee.services import notifications
from guarantee.services import validation as v
from guarantee.services.actors import Actor, SystemActor
from guarantee.services.audit import append_event, text_digest
from guarantee.services.claims import (
    ExpectedVersion,
    check_version,
    fire,
    get_claim,
    regulation_entry,
    revoke_tracking_tokens,
    save_claim,
    state_in_words,
)
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ValidationFailed, joined, shown_as
from guarantee.services.officers import assignable_officer, require_role
from workflows import is_terminal
from workflows.vocabulary import BARRIER_CATEGORIES, ROLES
from workflows.words import N_, words

# Who may classify claims, and who may assign them: those, and team leaders, who share out the
# team's work (guarantee.services.workload).
CLASSIFIERS = ("triage", "reviewer", "admin")
ASSIGNERS = (*CLASSIFIERS, "team_leader")


def _locked_claim(ctx: ServiceContext, reference: str, expected_version: ExpectedVersion) -> Claim:
    claim = get_claim(ctx, reference, for_update=True)
    check_version(claim, expected_version)
    return claim


def assign(
    ctx: ServiceContext,
    reference: str,
    assignee_id: int | None,
    actor: Actor,
    *,
    expected_version: ExpectedVersion = None,
) -> Claim:
    """Give the claim to an officer, or take it off them (``assignee_id=None``)."""
    require_role(ctx, actor, ASSIGNERS, N_("assign claims"))
    claim = _locked_claim(ctx, reference, expected_version)
    if is_terminal(claim.state):
        raise Conflict(
            words(
                "Claim %(reference)s is %(state)s; a finished claim cannot be assigned.",
                reference=reference,
                state=shown_as(claim.state, state_in_words(claim.state)),
            )
        )
    assignee = None if assignee_id is None else assignable_officer(ctx, assignee_id, "assignee_id")
    previous = claim.assignee_id
    claim.assignee_id = assignee.id if assignee else None
    save_claim(ctx, claim)
    event = append_event(ctx, claim, actor, "assigned", payload={"from": previous, "to": claim.assignee_id})
    if assignee is not None and assignee.id != previous:
        notifications.to_officer(ctx, claim, assignee.id, "assigned", seq=event.seq)
    ctx.session.flush()
    return claim


def classify(
    ctx: ServiceContext,
    reference: str,
    actor: Actor,
    *,
    category: str | None = None,
    regulation: Any = None,
    expected_version: ExpectedVersion = None,
) -> Claim:
    """Set the claim's barrier category and/or its regulation catalogue entry. Giving the ones it
    already has changes nothing and records nothing."""
    require_role(ctx, actor, CLASSIFIERS, N_("classify claims"))
    claim = _locked_claim(ctx, reference, expected_version)
    errors = v.Errors()
    if category is None and regulation is None:
        errors.add("category", N_("Give a category, a regulation, or both"))
    if category is not None:
        errors.check("category", v.choice, category, N_("the barrier category"), BARRIER_CATEGORIES)
    entry = errors.check("regulation", regulation_entry, ctx, claim, regulation) if regulation is not None else None
    errors.raise_if_any()
    changed: dict[str, Any] = {}
    if category is not None and category != claim.category:
        changed["category"] = [claim.category, category]
        claim.category = category
    if entry is not None and entry.id != claim.regulation_id:
        changed["regulation_id"] = [claim.regulation_id, entry.id]
        claim.regulation_id = entry.id
    if not changed:  # the same classification again: nothing to record
        return claim
    save_claim(ctx, claim)
    append_event(ctx, claim, actor, "classified", payload=changed)
    ctx.session.flush()
    return claim


def add_note(ctx: ServiceContext, reference: str, actor: Actor, note: str) -> TimelineEntry:
    """An internal note on the claim: officers see it, the group never does."""
    require_role(ctx, actor, ROLES, N_("add notes"))
    claim = get_claim(ctx, reference, for_update=True)
    errors = v.Errors()
    body = errors.check("note", v.text, note, N_("the note"), max_length=10_000)
    errors.raise_if_any()
    save_claim(ctx, claim)  # a new version: an officer re-reading the claim must see the note
    event = append_event(ctx, claim, actor, "note_added", payload={"text_sha256": {"note": text_digest(body)}})
    entry = TimelineEntry(claim_id=claim.id, seq=event.seq, field="note", body=body, public=False)
    ctx.session.add(entry)
    ctx.session.flush()
    return entry


def erase_contact(ctx: ServiceContext, reference: str, actor: Actor) -> Claim:
    """Remove the group's personal data; the claim and its audit chain stay valid."""
    if not isinstance(actor, SystemActor):
        require_role(ctx, actor, ("admin",), N_("erase contact details"))
    claim = get_claim(ctx, reference, for_update=True)
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))
    if contact is None or contact.erased_at is not None:
        raise Conflict(words("The contact details of claim %(reference)s were already erased.", reference=reference))
    erased = sorted(k for k in ("contact_name", "email", "phone") if getattr(contact, k))
    contact.contact_name = contact.email = contact.phone = None
    contact.erased_at = ctx.now()
    # An old address waiting in a change-of-address notice goes too.
    ctx.session.execute(update(OutboxMessage).where(OutboxMessage.claim_id == claim.id).values(to_address=None))
    # Nobody is left to hold the links: end them, and the sessions they opened.
    revoke_tracking_tokens(ctx, claim)
    save_claim(ctx, claim)
    append_event(ctx, claim, actor, "contact_erased", payload={"fields": erased})
    ctx.session.flush()
    return claim


# Officers who may see a group's contact details: those who deal with the group. The appeal
# panel decides on the merits and the written record, so it does not need them.
CONTACT_ROLES = ("triage", "reviewer", "admin")


def view_contact(ctx: ServiceContext, reference: str, actor: Actor) -> dict[str, str | None]:
    """The group's contact details, for an officer whose role allows; every view is audited
    (who and when, never the details themselves). Flushes only."""
    require_role(ctx, actor, CONTACT_ROLES, N_("see a group's contact details"))
    claim = get_claim(ctx, reference, for_update=True)  # the chain is appended in order
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))
    details = {
        "contact_name": contact.contact_name if contact else None,
        "email": contact.email if contact else None,
        "phone": contact.phone if contact else None,
    }
    append_event(ctx, claim, actor, "contact_viewed", payload={"fields": sorted(k for k, v in details.items() if v)})
    ctx.session.flush()
    return details


# --- several claims at once -------------------------------------------------------------------

MAX_BULK = 100


def _bulk(references: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(r for r in references if r))
    if not chosen:
        raise ValidationFailed({"references": [N_("Select at least one claim")]})
    if len(chosen) > MAX_BULK:
        raise ValidationFailed({"references": [words("Select at most %(most)s claims at a time", most=MAX_BULK)]})
    return chosen


def assign_many(
    ctx: ServiceContext,
    references: list[str],
    assignee_id: int | None,
    actor: Actor,
    *,
    versions: Mapping[str, int | None] | None = None,
) -> int:
    """Assign several claims: all of them, or (if any cannot be) none. ``versions`` are those the
    officer saw: a claim changed since is refused like a stale page. Flushes only."""
    problems: list[str] = []
    chosen = _bulk(references)
    for reference in chosen:
        try:
            assign(ctx, reference, assignee_id, actor, expected_version=(versions or {}).get(reference))
        except (Conflict, NotFound) as refused:
            problems.append(refused.message)
    if problems:
        raise ValidationFailed({"references": problems})
    return len(chosen)


def decline_as_duplicates(
    ctx: ServiceContext,
    references: list[str],
    duplicate_of: str,
    explanation: str,
    actor: Actor,
    *,
    versions: Mapping[str, int | None] | None = None,
) -> int:
    """Decline several claims as duplicates of one: all of them, or none. ``versions`` as for
    assign_many. Flushes only."""
    chosen = _bulk(references)
    if duplicate_of in chosen:
        raise ValidationFailed({"duplicate_of": [N_("A claim cannot be a duplicate of itself: leave it unselected")]})
    problems: list[str] = []
    for reference in chosen:
        try:
            fire(
                ctx,
                reference,
                "decline",
                actor,
                {"reason_code": "duplicate", "explanation": explanation, "duplicate_of": duplicate_of},
                expected_version=(versions or {}).get(reference),
            )
        except (Conflict, NotFound) as refused:
            problems.append(joined([reference, refused.message], ": "))
    if problems:
        raise ValidationFailed({"references": problems})
    return len(chosen)
