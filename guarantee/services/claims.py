"""Filing a claim and moving it through the workflow (DESIGN 4 and 5)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from guarantee.models import (
    Attachment,
    AuditEvent,
    Claim,
    Contact,
    OutboxMessage,
    Regulation,
    TimelineEntry,
    TrackingToken,
)
from guarantee.models.regulation import unique_slug
from guarantee.services import clocks, notifications, publishing
from guarantee.services import validation as v
from guarantee.services.actors import Actor, GroupActor, OfficerActor
from guarantee.services.audit import append_event, text_digest
from guarantee.services.context import ServiceContext
from guarantee.services.errors import (
    Conflict,
    Forbidden,
    NotFound,
    StaleClaim,
    TriggerNotAllowed,
    ValidationFailed,
    long_date,
    or_list,
    shown_as,
)
from guarantee.services.officers import assignable_officer, firer_names
from guarantee.webhooks import events as webhook_events
from workflows import (
    CLOCKS_ON_SUBMISSION,
    FIRER_NAMES,
    INITIAL_STATE,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    Input,
    Transition,
    is_terminal,
    next_state,
    transitions_from,
)
from workflows.sentences import needed_when
from workflows.vocabulary import BARRIER_CATEGORIES, LANGUAGES, REGIONS, REMEDIES_SOUGHT, SECTORS
from workflows.words import N_, words

REFERENCE_PATTERN = re.compile(r"CPG-[0-9]{4}-[0-9]{6}")
DECISION_TRIGGERS = tuple(t.trigger for t in TRANSITIONS if t.is_decision)


# The version a change was made against: one, any of several (an If-Match header may list more
# than one), or None for no check.
ExpectedVersion = int | frozenset[int] | None


def check_version(claim: Claim, expected: ExpectedVersion) -> None:
    """StaleClaim unless the claim is at the version the change was made against."""
    if expected is None:
        return
    allowed = {expected} if isinstance(expected, int) else expected
    if claim.version not in allowed:
        raise StaleClaim(claim.reference, claim.version)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- submission -----------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    claim: Claim
    reference: str
    tracking_token: str  # shown once; only its hash is stored


_SECTIONS = {
    "group": {"name", "contact_name", "email", "phone", "language"},
    "initiative": {"title", "description", "sector", "region", "people_involved"},
    "barrier": {
        "regulation",
        "regulation_reference",
        "imposed_by",
        "category",
        "how_it_blocks",
        "remedy_sought",
        "remedy_details",
    },
    "consent": {"contact", "publish"},
}
# Each section in words, for the messages about it ("Enter the group details").
_SECTIONS_SAID = {
    "group": N_("the group"),
    "initiative": N_("the initiative"),
    "barrier": N_("the barrier"),
    "consent": N_("the consent"),
}


def check_submission(data: Mapping[str, Any]) -> dict[str, Any]:
    """The submission's clean values, or ValidationFailed naming every field to correct."""
    errors = v.Errors()
    if not isinstance(data, Mapping):
        raise ValidationFailed({"": [N_("The claim must be an object with group, initiative, barrier and consent")]})
    for key in sorted(set(data) - set(_SECTIONS)):
        errors.add(key, N_("This field is not recognised"))
    g, i, b, c = (
        v.section(data, name, _SECTIONS[name], errors, said=_SECTIONS_SAID[name])
        for name in ("group", "initiative", "barrier", "consent")
    )
    one_line = {"multiline": False}
    out = {
        "group_name": errors.check(
            "group.name", v.text, g.get("name"), N_("the name of your group"), max_length=200, **one_line
        ),
        "contact_name": errors.check(
            "group.contact_name",
            v.text,
            g.get("contact_name"),
            N_("the name of the person we should contact"),
            max_length=200,
            **one_line,
        ),
        "email": errors.check("group.email", v.email, g.get("email")),
        "phone": errors.check("group.phone", v.phone, g.get("phone")),
        # The language to write to the group in (issue 23); English unless it chose Welsh.
        "language": errors.check(
            "group.language",
            v.choice,
            g.get("language") or "en",
            N_("the language we should write to you in"),
            LANGUAGES,
        ),
        "initiative_title": errors.check(
            "initiative.title",
            v.text,
            i.get("title"),
            N_("a short name for your initiative"),
            max_length=200,
            **one_line,
        ),
        "initiative_description": errors.check(
            "initiative.description",
            v.text,
            i.get("description"),
            N_("a description of your initiative"),
            max_length=10_000,
        ),
        "sector": errors.check("initiative.sector", v.choice, i.get("sector"), N_("the sector"), SECTORS),
        "region": errors.check("initiative.region", v.choice, i.get("region"), N_("the region"), REGIONS),
        "people_involved": errors.check(
            "initiative.people_involved",
            v.whole_number,
            i.get("people_involved"),
            N_("how many people are involved"),
            required=False,
        ),
        "barrier_regulation": errors.check(
            "barrier.regulation",
            v.text,
            b.get("regulation"),
            N_("the regulation that blocks you"),
            max_length=300,
            **one_line,
        ),
        "barrier_regulation_reference": errors.check(
            "barrier.regulation_reference",
            v.text,
            b.get("regulation_reference"),
            N_("the regulation's reference"),
            required=False,
            max_length=300,
            **one_line,
        ),
        "barrier_imposed_by": errors.check(
            "barrier.imposed_by",
            v.text,
            b.get("imposed_by"),
            N_("who imposes the regulation"),
            max_length=200,
            **one_line,
        ),
        "barrier_category": errors.check(
            "barrier.category", v.choice, b.get("category"), N_("the kind of barrier"), BARRIER_CATEGORIES
        ),
        "barrier_how_it_blocks": errors.check(
            "barrier.how_it_blocks",
            v.text,
            b.get("how_it_blocks"),
            N_("how the regulation blocks your initiative"),
            max_length=10_000,
        ),
        "remedy_sought": errors.check(
            "barrier.remedy_sought", v.choice, b.get("remedy_sought"), N_("what you are asking for"), REMEDIES_SOUGHT
        ),
        "remedy_details": errors.check(
            "barrier.remedy_details",
            v.text,
            b.get("remedy_details"),
            N_("details of what you are asking for"),
            required=b.get("remedy_sought") == "other",
            max_length=5_000,
        ),
        "consent_contact": errors.check(
            "consent.contact", v.boolean, c.get("contact"), N_("whether we may contact you by email")
        )
        if isinstance(data.get("consent"), Mapping)
        else None,
        "consent_publish": errors.check(
            "consent.publish",
            v.boolean,
            c.get("publish", False),
            N_("whether we may publish an anonymised statement of our decision"),
        )
        if isinstance(data.get("consent"), Mapping)
        else None,
    }
    errors.raise_if_any()
    return out


def _next_reference(ctx: ServiceContext) -> str:
    year = ctx.today().year
    number = ctx.session.execute(
        text(
            "INSERT INTO reference_counters (year, last) VALUES (:year, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = reference_counters.last + 1 RETURNING last"
        ),
        {"year": year},
    ).scalar_one()
    if number > 999_999:
        raise RuntimeError(f"claim references for {year} are exhausted")
    return f"CPG-{year}-{number:06d}"


def issue_tracking_token(ctx: ServiceContext, claim: Claim) -> str:
    """A fresh 256-bit capability for the claim; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    ctx.session.add(TrackingToken(claim_id=claim.id, token_hash=token_hash(token), created_at=ctx.now()))
    return token


def submit_claim(ctx: ServiceContext, data: Mapping[str, Any], *, regulation_chosen_id: int | None = None) -> Submitted:
    """File a claim for a group. Raises ValidationFailed naming every field to correct.
    ``regulation_chosen_id``: the catalogue entry the group chose on the claim form (a live one,
    checked by the caller), kept as a suggestion for triage."""
    clean = check_submission(data)
    now = ctx.now()
    contact = {k: clean.pop(k) for k in ("contact_name", "email", "phone")}
    language = clean.pop("language")  # how to write to the group: with its contact details, not audited as text
    claim = Claim(
        language=language,
        reference=_next_reference(ctx),
        state=INITIAL_STATE,
        submitted_at=now,
        updated_at=now,
        regulation_chosen_id=regulation_chosen_id,
        **clean,
    )
    ctx.session.add(claim)
    # The first clock is set before the claim is inserted, so it is written once, at version 1.
    changes = clocks.apply_effects(ctx, claim, CLOCKS_ON_SUBMISSION)
    ctx.session.flush()
    ctx.session.add(Contact(claim_id=claim.id, **contact))
    token = issue_tracking_token(ctx, claim)
    written = {k: text_digest(str(val)) for k, val in clean.items() if isinstance(val, str) and k not in _CODES}
    append_event(
        ctx,
        claim,
        GroupActor(claim.reference),
        "submitted",
        to_state=INITIAL_STATE,
        payload={
            "codes": {k: clean[k] for k in _CODES},
            "text_sha256": written,
            "contact_fields": sorted(k for k, val in contact.items() if val),
            "clocks": changes,
            **({"regulation_chosen": regulation_chosen_id} if regulation_chosen_id is not None else {}),
        },
    )
    notifications.to_group(ctx, claim, "claim_submitted")
    webhook_events.claim_submitted(ctx, claim)
    ctx.session.flush()
    return Submitted(claim=claim, reference=claim.reference, tracking_token=token)


# (The consent to publishing is not among them: benchmarks/dataset.py writes this event's shape as
# the service does. Each published statement's audit event records the consent it was made under.)
_CODES = ("sector", "region", "barrier_category", "remedy_sought", "consent_contact", "people_involved")


# --- finding claims -------------------------------------------------------------


def get_claim(ctx: ServiceContext, reference: str, *, for_update: bool = False) -> Claim:
    if not isinstance(reference, str) or not REFERENCE_PATTERN.fullmatch(reference):
        raise NotFound(
            words("There is no claim %(reference)s. References look like CPG-2026-000123.", reference=repr(reference))
        )
    if not for_update and (known := ctx.found(Claim, reference)) is not None:
        return known
    query = select(Claim).where(Claim.reference == reference)
    if for_update:
        # Row lock on PostgreSQL; SQLite writers are already serialised by BEGIN IMMEDIATE.
        query = query.with_for_update().execution_options(populate_existing=True)
    claim = ctx.session.scalar(query)
    if claim is None:
        raise NotFound(words("There is no claim %(reference)s.", reference=reference))
    return ctx.keep(reference, claim)


def revoke_tracking_tokens(ctx: ServiceContext, claim: Claim) -> int:
    """End every tracking link of the claim (and the sessions they opened). Flushes only."""
    tokens = ctx.session.scalars(
        select(TrackingToken).where(TrackingToken.claim_id == claim.id, TrackingToken.revoked_at.is_(None))
    ).all()
    for row in tokens:
        row.revoked_at = ctx.now()
    ctx.session.flush()
    return len(tokens)


def reference_for_token(ctx: ServiceContext, token: str) -> str | None:
    """The reference of the claim a live tracking token opens, or None."""
    return ctx.session.scalar(
        select(Claim.reference)
        .join(TrackingToken, TrackingToken.claim_id == Claim.id)
        .where(TrackingToken.token_hash == token_hash(token), TrackingToken.live_at(ctx.now()))
    )


def group_for_token(ctx: ServiceContext, reference: str, token: str) -> GroupActor:
    """The group actor for a claim, if the token is the claim's live tracking token."""
    found = reference_for_token(ctx, token)
    if found is None or found != reference:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=reference))
    return GroupActor(reference)


def is_reference(value: object) -> bool:
    return isinstance(value, str) and REFERENCE_PATTERN.fullmatch(value) is not None


class LinkEnded(NotFound):
    """A link of this claim that has expired or was revoked: it opens nothing, but whoever holds
    it may ask for a fresh link to be sent to the address on file."""


def _token_of_claim(ctx: ServiceContext, reference: str, token: str) -> TrackingToken | None:
    """The claim's tracking token ``token``, live or not, looked up by its hash."""
    if not is_reference(reference) or not isinstance(token, str) or not token.isascii() or len(token) > 100:
        return None
    return ctx.session.scalar(
        select(TrackingToken)
        .join(Claim, TrackingToken.claim_id == Claim.id)
        .where(Claim.reference == reference, TrackingToken.token_hash == token_hash(token))
    )


def tracking_token_id(ctx: ServiceContext, reference: str, token: str) -> int:
    """The id of the claim's live tracking token ``token`` (for a session that outlives the
    link's visit without keeping the token itself). LinkEnded for a link of this claim that has
    expired or was revoked; NotFound for any other token."""
    found = _token_of_claim(ctx, reference, token)
    if found is None:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=reference))
    if found.revoked_at is not None or (found.expires_at is not None and found.expires_at <= ctx.now()):
        raise LinkEnded(words("This link to claim %(reference)s has ended.", reference=reference))
    return found.id


def group_for_token_id(ctx: ServiceContext, reference: str, token_id: int) -> GroupActor:
    """The group actor, if ``token_id`` is still a live tracking token of this claim."""
    if not is_reference(reference):
        raise NotFound(N_("There is no claim for this tracking link."))
    found = ctx.session.scalar(
        select(TrackingToken.id)
        .join(Claim, TrackingToken.claim_id == Claim.id)
        .where(Claim.reference == reference, TrackingToken.id == token_id, TrackingToken.live_at(ctx.now()))
    )
    if found is None:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=reference))
    return GroupActor(reference)


def _require_group(actor: GroupActor, claim: Claim) -> None:
    if not isinstance(actor, GroupActor) or actor.claim_reference != claim.reference:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=claim.reference))


def contact_email_hint(ctx: ServiceContext, reference: str, actor: GroupActor) -> str | None:
    """The group's contact address as its tracking page shows it, partly hidden (a***@example.org)."""
    claim = get_claim(ctx, reference)
    _require_group(actor, claim)
    email = ctx.session.scalar(select(Contact.email).where(Contact.claim_id == claim.id))
    return mask_email(email) if email else None


def mask_email(email: str) -> str:
    """An address partly hidden, as pages show it (a***@example.org)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 3)}@{domain}"


def change_contact_email(ctx: ServiceContext, reference: str, actor: GroupActor, email: Any) -> Claim:
    """The group gives a new contact address. The change is audited (that it happened, never the
    addresses), the old address is told (whatever the consent: it is a security notice) and the
    new one is sent a confirmation (with consent). Flushes only."""
    claim = get_claim(ctx, reference, for_update=True)
    _require_group(actor, claim)
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))
    if contact is None or contact.erased_at is not None:
        raise Conflict(N_("Your contact details were erased at your request, so there is no address to change."))
    errors = v.Errors()
    new = errors.check("email", v.email, email)
    if new and contact.email and new.lower() == contact.email.lower():
        errors.add("email", N_("This is the address we already have: enter a different one"))
    errors.raise_if_any()
    old, contact.email = contact.email, new
    save_claim(ctx, claim)
    event = append_event(ctx, claim, actor, "contact_changed", payload={"fields": ["email"]})
    if old:
        notice = notifications.to_group(ctx, claim, "contact_email_changed_old", requested=True, seq=event.seq)
        assert notice is not None
        notice.to_address = old
    notifications.to_group(ctx, claim, "contact_email_changed", seq=event.seq)
    ctx.session.flush()
    return claim


def change_language(ctx: ServiceContext, reference: str, actor: GroupActor, language: Any) -> Claim:
    """The group asks to be written to in another language (English or Welsh): every e-mail
    from now on is in it. Audited (which field changed). Flushes only."""
    claim = get_claim(ctx, reference, for_update=True)
    _require_group(actor, claim)
    errors = v.Errors()
    chosen = errors.check("language", v.choice, language, N_("the language we should write to you in"), LANGUAGES)
    errors.raise_if_any()
    if chosen == claim.language:
        return claim
    claim.language = chosen
    save_claim(ctx, claim)
    append_event(ctx, claim, actor, "contact_changed", payload={"fields": ["language"]})
    ctx.session.flush()
    return claim


def request_tracking_link(ctx: ServiceContext, reference: str, email: str) -> bool:
    """Queue a fresh tracking link to the claim's contact email, if ``email`` is that address.

    The caller must answer the same way whatever this returns, so that nobody learns whether
    a claim or an address exists. At most one link per claim is queued every 10 minutes.
    """
    if not isinstance(reference, str) or not REFERENCE_PATTERN.fullmatch(reference.strip().upper()):
        return False
    row = ctx.session.execute(
        select(Claim, Contact.email)
        .join(Contact, Contact.claim_id == Claim.id)
        .where(Claim.reference == reference.strip().upper())
    ).first()
    if row is None or row.email is None or row.email.strip().lower() != email.strip().lower():
        return False
    return _queue_fresh_link(ctx, row.Claim)


def send_fresh_link(ctx: ServiceContext, reference: str, token: str) -> bool:
    """Queue a fresh tracking link to the claim's contact email, for whoever holds one of the
    claim's links (one that has expired or was revoked, most likely): the press of one button.

    Like request_tracking_link, the caller answers the same way whatever this returns (an
    address on file or not), and at most one link per claim is queued every 10 minutes. The new
    link goes only to the address on file, so an old link can never be turned into a new one
    anywhere else.
    """
    found = _token_of_claim(ctx, reference, token)
    if found is None:
        return False
    claim = ctx.session.get(Claim, found.claim_id)
    email = ctx.session.scalar(select(Contact.email).where(Contact.claim_id == found.claim_id))
    if claim is None or not email:
        return False
    return _queue_fresh_link(ctx, claim)


def _queue_fresh_link(ctx: ServiceContext, claim: Claim) -> bool:
    recent = ctx.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.claim_id == claim.id,
            OutboxMessage.template == "tracking_link_requested",
            OutboxMessage.created_at > ctx.now() - LINK_REQUEST_INTERVAL,
        )
    )
    if recent is not None:
        return False
    # Asked for by whoever holds the address on file, or one of the claim's links: sent whatever
    # the contact consent says (the sender mints the link).
    notifications.to_group(ctx, claim, "tracking_link_requested", requested=True)
    ctx.session.flush()
    return True


LINK_REQUEST_INTERVAL = timedelta(minutes=10)


def _check_actor_sees_claim(actor: Actor, claim: Claim) -> None:
    if isinstance(actor, GroupActor) and actor.claim_reference != claim.reference:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=claim.reference))


def save_claim(ctx: ServiceContext, claim: Claim) -> None:
    """Write a change to the claim: one conditional UPDATE, so always a new version (ETag)."""
    reference = claim.reference  # unreadable once a failed flush has rolled the session back
    claim.updated_at = ctx.now()
    flag_modified(claim, "updated_at")
    try:
        ctx.session.flush()
    except StaleDataError as exc:
        raise StaleClaim(reference, None) from exc


# --- firing triggers ------------------------------------------------------------

# A state in the middle of a sentence ("A claim that is under review cannot be sent ..."), and an
# input's label there ("Enter reasons for the decision"): each is marked here so that it is said
# in the reader's language (tests/test_welsh_api.py checks that every state and input is here).
STATES_IN_WORDS = (
    N_("submitted"),
    N_("under review"),
    N_("awaiting information"),
    N_("upheld"),
    N_("not upheld"),
    N_("appealed"),
    N_("resolved"),
    N_("closed"),
    N_("withdrawn"),
    N_("lapsed"),
)
INPUT_LABELS_IN_SENTENCES = (
    N_("barrier category"),
    N_("earlier decision statements on this rule"),
    N_("evidence you uploaded for this answer"),
    N_("explanation"),
    N_("grounds for the appeal"),
    N_("main reason"),
    N_("outcome"),
    N_("question for the group"),
    N_("reason"),
    N_("reasons for the decision"),
    N_("reference of the claim this duplicates"),
    N_("regulation"),
    N_("remedy"),
    N_("reviewer to assign"),
    N_("summary"),
    N_("summary for the public register"),
    N_("why the claim is reopened"),
    N_("why you are withdrawing"),
    N_("your answer"),
)


def state_in_words(state: str) -> str:
    """A state as a sentence says it: "under review"."""
    return state.replace("_", " ")


def input_label_in_sentence(spec: Input) -> str:
    """An input's label as a sentence says it: "reasons for the decision"."""
    return spec.label[0].lower() + spec.label[1:]


@dataclass(frozen=True)
class Fired:
    claim: Claim
    event: AuditEvent
    from_state: str


def _made_decision(ctx: ServiceContext, claim: Claim, actor: Actor) -> AuditEvent | None:
    if not isinstance(actor, OfficerActor):
        return None
    return ctx.session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.claim_id == claim.id,
            AuditEvent.actor_type == "officer",
            AuditEvent.actor_id == actor.audit_id,
            AuditEvent.action.in_(DECISION_TRIGGERS),
        )
        .order_by(AuditEvent.seq)
        .limit(1)
    )


def allowed_triggers(ctx: ServiceContext, claim: Claim, actor: Actor) -> list[str]:
    """The triggers this actor may fire on this claim now, in workflow order."""
    if isinstance(actor, GroupActor) and actor.claim_reference != claim.reference:
        return []
    try:
        names = firer_names(ctx, actor)
    except Forbidden:
        return []
    allowed = []
    for t in transitions_from(claim.state):
        if not names & set(t.fired_by):
            continue
        if t.clock_condition and clocks.condition_problem(ctx, claim, t.clock_condition):
            continue
        if t.separation_of_duties and _made_decision(ctx, claim, actor):
            continue
        allowed.append(t.trigger)
    return allowed


def fire(
    ctx: ServiceContext,
    reference: str,
    trigger: str,
    actor: Actor,
    data: Mapping[str, Any] | None = None,
    *,
    expected_version: ExpectedVersion = None,
) -> Fired:
    """Fire a trigger on a claim for an actor: check, apply, audit, notify. Flushes only."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    if transition is None:
        raise ValidationFailed(
            {
                "trigger": [
                    words(
                        "%(trigger)s is not a trigger; choose one of %(triggers)s",
                        trigger=repr(trigger),
                        triggers=", ".join(TRANSITIONS_BY_TRIGGER),
                    )
                ]
            }
        )
    claim = get_claim(ctx, reference, for_update=True)
    _check_actor_sees_claim(actor, claim)
    check_version(claim, expected_version)
    _check_may_fire(ctx, claim, transition, actor)
    values, texts = _clean_inputs(ctx, claim, transition, data or {})

    from_state = claim.state
    try:
        with ctx.session.no_autoflush:  # one conditional UPDATE of the claim, in the flush below
            claim.state = next_state(from_state, trigger)
            _apply_values(ctx, claim, transition, values)
            changes = clocks.apply_effects(ctx, claim, transition.clocks)
        ctx.session.flush()  # UPDATE claims ... WHERE id = :id AND version = :v
    except StaleDataError as exc:
        raise StaleClaim(reference, None) from exc
    event = append_event(
        ctx,
        claim,
        actor,
        trigger,
        from_state=from_state,
        to_state=claim.state,
        payload={
            "input": {k: _audit_value(val) for k, val in values.items()},
            "text_sha256": {k: text_digest(val) for k, val in texts.items()},
            "clocks": changes,
        },
    )
    for name, body in texts.items():
        public = next(i.public for i in transition.inputs if i.name == name)
        ctx.session.add(TimelineEntry(claim_id=claim.id, seq=event.seq, field=name, body=body, public=public))
    notifications.after_trigger(ctx, claim, trigger, event.seq)
    webhook_events.claim_moved(ctx, claim, trigger, from_state, event.seq)
    publishing.after_trigger(ctx, claim, transition, actor, values=values, texts=texts)
    ctx.session.flush()
    return Fired(claim=claim, event=event, from_state=from_state)


def may_fire(ctx: ServiceContext, reference: str, trigger: str, actor: Actor) -> Claim:
    """The claim, if the actor may fire this trigger on it now; otherwise what ``fire`` would
    raise (TriggerNotAllowed, Forbidden, NotFound), before any input is asked for."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    if transition is None:
        raise NotFound(words("There is no step %(trigger)s.", trigger=repr(trigger)))
    claim = get_claim(ctx, reference)
    _check_actor_sees_claim(actor, claim)
    _check_may_fire(ctx, claim, transition, actor)
    return claim


def _check_may_fire(ctx: ServiceContext, claim: Claim, transition: Transition, actor: Actor) -> None:
    trigger = transition.trigger
    if claim.state not in transition.sources:
        allowed = allowed_triggers(ctx, claim, actor)
        state = state_in_words(claim.state)
        raise TriggerNotAllowed(
            words(
                "A claim that is %(state)s cannot be sent '%(trigger)s'. What you can do now: %(allowed)s.",
                state=state,
                trigger=trigger,
                allowed=", ".join(allowed),
            )
            if allowed
            else words(
                "A claim that is %(state)s cannot be sent '%(trigger)s'. There is nothing you can do to it now.",
                state=state,
                trigger=trigger,
            ),
            trigger=trigger,
            state=claim.state,
            allowed=allowed,
        )
    names = firer_names(ctx, actor)
    if not names & set(transition.fired_by):
        raise Forbidden(
            words(
                "Only %(who)s can %(step)s ('%(trigger)s').",
                # the roles' codes in English, as before; who they are, in other languages
                who=or_list([shown_as(firer, FIRER_NAMES[firer]) for firer in transition.fired_by]),
                step=shown_as(transition.label.lower(), transition.label),
                trigger=trigger,
            )
        )
    if transition.clock_condition:
        problem = clocks.condition_problem(ctx, claim, transition.clock_condition)
        if problem:
            raise TriggerNotAllowed(
                words("'%(trigger)s' is not possible now. %(problem)s", trigger=trigger, problem=problem),
                trigger=trigger,
                state=claim.state,
                allowed=allowed_triggers(ctx, claim, actor),
                reason=problem,
            )
    if transition.separation_of_duties:
        earlier = _made_decision(ctx, claim, actor)
        if earlier is not None:
            raise Forbidden(
                words(
                    "You made an earlier decision on this claim ('%(action)s' on %(day)s), so another member of "
                    "the appeal panel must decide the appeal.",
                    action=earlier.action,
                    day=long_date(earlier.occurred_at),
                )
            )


def _clean_inputs(
    ctx: ServiceContext, claim: Claim, transition: Transition, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the trigger's inputs: (resolved values, free texts)."""
    if not isinstance(data, Mapping):
        raise ValidationFailed({"": [N_("The input must be an object")]})
    errors = v.Errors()
    for key in sorted(set(data) - set(transition.input_names)):
        expected = ", ".join(transition.input_names) or N_("no input")
        errors.add(
            key,
            words(
                "'%(trigger)s' does not take this field; it takes %(expected)s",
                trigger=transition.trigger,
                expected=expected,
            ),
        )
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}
    for spec in transition.inputs:
        required = spec.required or (
            spec.required_when is not None and data.get(spec.required_when[0]) == spec.required_when[1]
        )
        raw = data.get(spec.name)
        label = input_label_in_sentence(spec)
        if not asked(spec, claim):  # not asked of this claim: whatever is given is not kept
            continue
        if spec.required_when and raw not in (None, "") and data.get(spec.required_when[0]) != spec.required_when[1]:
            errors.add(
                spec.name, words("Give %(label)s only when %(when)s", label=label, when=needed_when(spec, transition))
            )
            continue
        if spec.kind == "text":
            cleaned = errors.check(spec.name, v.text, raw, label, required=required, max_length=spec.max_length)
            if cleaned is not None:
                texts[spec.name] = cleaned
        elif spec.kind == "choice":
            values[spec.name] = errors.check(spec.name, v.choice, raw, label, spec.choices, required=required)
        elif raw is None or raw == "":
            if required:
                errors.add(spec.name, words("Enter %(label)s", label=label))
        else:
            values[spec.name] = errors.check(spec.name, _resolve, ctx, claim, spec, raw)
    errors.raise_if_any()
    return {k: val for k, val in values.items() if val is not None}, texts


def asked(spec: Input, claim: Claim) -> bool:
    """Whether the input is asked of this claim: an input ``asked_if`` a flag only when it is true."""
    return spec.asked_if is None or bool(getattr(claim, spec.asked_if[0]))


def _resolve(ctx: ServiceContext, claim: Claim, spec: Input, raw: Any) -> Any:
    try:
        if spec.kind == "citations":
            return publishing.cited(ctx, raw)
        if spec.kind == "officer":
            return assignable_officer(ctx, raw, spec.name)
        if spec.kind == "claim_reference":
            other = get_claim(ctx, raw)
            if other.id == claim.id:
                raise v.Invalid(N_("A claim cannot duplicate itself"))
            return other
        if spec.kind == "regulation":
            return regulation_entry(ctx, claim, raw)
        if spec.kind == "evidence":
            return _evidence(ctx, claim, raw)
    except (ValidationFailed, NotFound) as exc:
        message = exc.errors[spec.name][0] if isinstance(exc, ValidationFailed) else exc.message
        raise v.Invalid(message) from exc
    raise AssertionError(f"unhandled input kind {spec.kind}")


def regulation_entry(ctx: ServiceContext, claim: Claim, raw: Any) -> Regulation:
    """A catalogue entry by id (following merges), or a new entry from {title, ...}."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        regulation = ctx.session.get(Regulation, raw)
        while regulation is not None and regulation.merged_into_id is not None:
            regulation = ctx.session.get(Regulation, regulation.merged_into_id)
        if regulation is None:
            raise v.Invalid(N_("There is no regulation with this id in the catalogue"))
        return regulation
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"title", "legal_reference", "issuing_body", "category"}
        if unknown:
            raise v.Invalid(
                words(
                    "A new regulation takes title, legal_reference, issuing_body and category, not %(unknown)s",
                    unknown=", ".join(sorted(unknown)),
                )
            )
        title = v.text(raw.get("title"), N_("the regulation's title"), max_length=300, multiline=False)
        legal = v.text(
            raw.get("legal_reference"), N_("the legal reference"), required=False, max_length=300, multiline=False
        )
        body = v.text(raw.get("issuing_body"), N_("the issuing body"), required=False, max_length=200, multiline=False)
        category = v.choice(raw.get("category") or claim.barrier_category, N_("the category"), BARRIER_CATEGORIES)
        regulation = Regulation(
            title=title,
            slug=unique_slug(ctx.session, title or ""),
            legal_reference=legal,
            issuing_body=body,
            category=category,
            created_at=ctx.now(),
        )
        ctx.session.add(regulation)
        ctx.session.flush()
        return regulation
    raise v.Invalid(N_("Give a catalogue entry's id, or a new regulation as {title, legal_reference, issuing_body}"))


def _evidence(ctx: ServiceContext, claim: Claim, raw: Any) -> list[Attachment]:
    """Files already uploaded to this claim, by id."""
    if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        raise v.Invalid(N_("Give the ids of evidence you uploaded to this claim, as a list"))
    ids = sorted(set(raw))
    found = (
        list(ctx.session.scalars(select(Attachment).where(Attachment.claim_id == claim.id, Attachment.id.in_(ids))))
        if ids
        else []
    )
    if len(found) != len(ids):
        raise v.Invalid(N_("Some of these files are not evidence of this claim"))
    return found


def _apply_values(ctx: ServiceContext, claim: Claim, transition: Transition, values: dict[str, Any]) -> None:
    now = ctx.now()
    claim.updated_at = now
    if "category" in values:
        claim.category = values["category"]
    if "regulation" in values:
        claim.regulation_id = values["regulation"].id
    if "assignee" in values:
        claim.assignee_id = values["assignee"].id
    if "reason_code" in values:
        claim.reason_code = values["reason_code"]
    if "remedy" in values:
        claim.remedy = values["remedy"]
    if "duplicate_of" in values:
        claim.duplicate_of_id = values["duplicate_of"].id
    if transition.decided_at is not None:
        claim.decided_at = now if transition.decided_at == "stamp" else None
    if is_terminal(claim.state):
        claim.outcome = values[transition.outcome_input] if transition.outcome_input else transition.outcome
        claim.resolved_at = now
    else:
        claim.outcome = claim.resolved_at = None


def _audit_value(value: Any) -> Any:
    """Codes stay as they are; linked records are kept by their identifiers."""
    if isinstance(value, Claim):
        return value.reference
    if isinstance(value, list):
        return [item.id for item in value]
    if hasattr(value, "id"):
        return value.id
    return value
