"""A group's data rights over its claim (UK GDPR): to see everything the service holds about it
(Article 15, subject access) and to have its contact details and evidence erased (Article 17).

A group uses both from its tracking page: it can see or download its data at once, and it asks for
erasure, which an admin carries out. A request that comes to the council by post, e-mail or phone
is recorded by an officer who deals with groups. Each request has a one-month clock (ICO guidance:
the same date next month, or that month's last day when it has no such date). Every request, every
copy of the data produced and every erasure is an event in the claim's audit chain (codes and dates,
never the data). Flask-free: the actor is passed in, and every function only flushes. Its words
are marked English (workflows.words): each page says them in its reader's language.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from guarantee.clock import UK
from guarantee.models import Attachment, Claim, Contact, Officer, OutboxMessage, TrackingToken
from guarantee.models.data_rights import CHANNELS, KINDS, DataRightsRequest
from guarantee.services import notifications
from guarantee.services import validation as v
from guarantee.services.actors import Actor, GroupActor, OfficerActor
from guarantee.services.audit import append_event, text_digest
from guarantee.services.casework import CONTACT_ROLES, erase_contact
from guarantee.services.claims import get_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, long_date
from guarantee.services.evidence import erase_evidence
from guarantee.services.officers import require_role
from guarantee.services.reading import read_claim
from guarantee.services.sender import Recipient, Render
from workflows import TIMELINE_LABELS
from workflows.words import N_, words

# Who sees the requests and answers them: the officers who may see a group's contact details
# (an export holds them). Only an admin erases.
DATA_RIGHTS_ROLES = CONTACT_ROLES
ERASERS = ("admin",)
FORMATS = ("page", "json")
MAX_NOTE = 2_000
# Requests received this long ago or more cannot be recorded as new (a typing mistake in the year).
OLDEST_RECEIPT = timedelta(days=366)

KIND_LABELS = {"access": N_("A copy of their data"), "erasure": N_("Erase their contact details and evidence")}
CHANNEL_LABELS = {"tracking_page": N_("Tracking page"), "post": N_("Post"), "email": N_("E-mail"), "phone": N_("Phone")}
# How it came, after "Received <date>,": "from its tracking page", "by post".
CHANNEL_PHRASES = {
    "tracking_page": N_("from its tracking page"),
    "post": N_("by post"),
    "email": N_("by e-mail"),
    "phone": N_("by phone"),
}
ERASURE_TEMPLATE = "erasure_requested"  # the acknowledgement to the group (templates/mail/)

# What a copy of the e-mails is (the service keeps the facts each e-mail was written from, not its
# text): said on the page and in the file.
MESSAGES_NOTE = N_(
    "The service does not keep the text of each e-mail it sends. Each copy here was written again "
    "from the facts it was made from (the dates and words as they were then). The private link in each "
    "e-mail is not kept, so the copy says where it was."
)


def one_month_after(day: date) -> date:
    """The corresponding calendar date next month, or the last day of next month if it has none
    (31 January -> 28 or 29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- requests and their clock -----------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    id: int
    reference: str
    kind: str
    channel: str
    received_at: datetime
    due_on: date
    completed_at: datetime | None
    completed_by: str | None
    note: str | None
    contact_erased_at: datetime | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS[self.channel]

    @property
    def channel_phrase(self) -> str:
        return CHANNEL_PHRASES[self.channel]

    @property
    def open(self) -> bool:
        return self.completed_at is None

    def days_left(self, today: date) -> int:
        """Calendar days until it is due (negative once overdue)."""
        return (self.due_on - today).days

    def overdue(self, today: date) -> bool:
        return self.open and today > self.due_on


def _views(ctx: ServiceContext, rows: list[tuple[DataRightsRequest, str]]) -> list[RequestView]:
    if not rows:  # most claims have no requests: nothing to read about them
        return []
    officer_ids = {r.completed_by for r, _ in rows if r.completed_by}
    names = (
        dict(ctx.session.execute(select(Officer.id, Officer.name).where(Officer.id.in_(officer_ids))).all())
        if officer_ids
        else {}
    )
    erased = dict(
        ctx.session.execute(
            select(Contact.claim_id, Contact.erased_at).where(Contact.claim_id.in_({r.claim_id for r, _ in rows}))
        ).all()
    )
    return [
        RequestView(
            r.id,
            reference,
            r.kind,
            r.channel,
            r.received_at,
            r.due_on,
            r.completed_at,
            names.get(r.completed_by) if r.completed_by else None,
            r.note,
            erased.get(r.claim_id),
        )
        for r, reference in rows
    ]


def _received(ctx: ServiceContext, received_on: date) -> datetime:
    """When a request received on ``received_on`` came: now if today, else midday that UK day."""
    if received_on == ctx.today():
        return ctx.now()
    return datetime.combine(received_on, time(12), tzinfo=UK)


def _open_request(ctx: ServiceContext, claim: Claim, kind: str) -> DataRightsRequest | None:
    return ctx.session.scalar(
        select(DataRightsRequest)
        .where(
            DataRightsRequest.claim_id == claim.id,
            DataRightsRequest.kind == kind,
            DataRightsRequest.completed_at.is_(None),
        )
        .order_by(DataRightsRequest.id)
        .limit(1)
    )


def _contact(ctx: ServiceContext, claim: Claim) -> Contact | None:
    return ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))


def _add_request(
    ctx: ServiceContext,
    claim: Claim,
    actor: Actor,
    kind: str,
    *,
    channel: str,
    received_on: date,
    note: str | None,
) -> DataRightsRequest:
    request = DataRightsRequest(
        claim_id=claim.id,
        kind=kind,
        channel=channel,
        received_at=_received(ctx, received_on),
        due_on=one_month_after(received_on),
        recorded_by=actor.officer_id if isinstance(actor, OfficerActor) else None,
        note=note,
    )
    ctx.session.add(request)
    ctx.session.flush()
    payload: dict[str, Any] = {"request": request.id, "channel": channel, "due_on": request.due_on.isoformat()}
    if note:
        payload["text_sha256"] = {"note": text_digest(note)}
    append_event(ctx, claim, actor, f"{kind}_requested", payload=payload)
    return request


def request_erasure(ctx: ServiceContext, reference: str, actor: GroupActor) -> DataRightsRequest:
    """The group asks, on its tracking page, for its contact details and evidence to be erased:
    a request with its one-month clock, audited (``erasure_requested``), acknowledged by e-mail
    (if the group agreed to e-mails), for an admin to carry out. Asking again while a request is
    open is refused, as is asking once the details are erased. Flushes only."""
    claim = get_claim(ctx, reference, for_update=True)
    if not isinstance(actor, GroupActor) or actor.claim_reference != claim.reference:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=reference))
    contact = _contact(ctx, claim)
    if contact is not None and contact.erased_at is not None:
        raise Conflict(N_("Your contact details were erased already."))
    if (waiting := _open_request(ctx, claim, "erasure")) is not None:
        raise Conflict(words("You asked already, and we will erase them by %(day)s.", day=long_date(waiting.due_on)))
    request = _add_request(ctx, claim, actor, "erasure", channel="tracking_page", received_on=ctx.today(), note=None)
    notifications.to_group(ctx, claim, ERASURE_TEMPLATE, due_on=request.due_on.isoformat())
    ctx.session.flush()
    return request


def erasure_request_of(ctx: ServiceContext, reference: str, actor: GroupActor) -> DataRightsRequest | None:
    """The group's open erasure request, if it made one (for its page). Reads only."""
    claim = get_claim(ctx, reference)
    if not isinstance(actor, GroupActor) or actor.claim_reference != claim.reference:
        raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=reference))
    return _open_request(ctx, claim, "erasure")


def record_request(
    ctx: ServiceContext,
    reference: str,
    actor: Actor,
    *,
    kind: object,
    channel: object,
    received_on: date | None,
    note: object,
) -> DataRightsRequest:
    """An officer records a request that came by post, e-mail or phone, received on
    ``received_on`` (None: the date given was not a date). Audited (``access_requested`` or
    ``erasure_requested``). Flushes only."""
    require_role(ctx, actor, DATA_RIGHTS_ROLES, N_("record data rights requests"))
    claim = get_claim(ctx, reference, for_update=True)
    errors = v.Errors()
    chosen_kind = errors.check("kind", v.choice, kind, N_("what the group asked for"), KINDS)
    chosen_channel = errors.check("channel", v.choice, channel, N_("how the request came"), CHANNELS[1:])
    today = ctx.today()
    if received_on is None:
        errors.add("received_on", N_("Enter the date the request was received, like 27 11 2026"))
    elif received_on > today:
        errors.add("received_on", N_("The date the request was received must be today or in the past"))
    elif received_on < today - OLDEST_RECEIPT:
        errors.add("received_on", N_("The date the request was received must be within the last year"))
    text = errors.check("note", v.text, note, N_("the note"), required=False, max_length=MAX_NOTE)
    errors.raise_if_any()
    assert received_on is not None
    if chosen_kind == "erasure" and (contact := _contact(ctx, claim)) is not None and contact.erased_at is not None:
        raise Conflict(words("The contact details of claim %(reference)s were already erased.", reference=reference))
    request = _add_request(
        ctx, claim, actor, str(chosen_kind), channel=str(chosen_channel), received_on=received_on, note=text
    )
    ctx.session.flush()
    return request


def requests(ctx: ServiceContext, actor: Actor, *, done: int = 50) -> list[RequestView]:
    """Open requests, soonest due first, then the ``done`` most recently completed. Reads only."""
    require_role(ctx, actor, DATA_RIGHTS_ROLES, N_("see data rights requests"))
    query = select(DataRightsRequest, Claim.reference).join(Claim, Claim.id == DataRightsRequest.claim_id)
    waiting = ctx.session.execute(
        query.where(DataRightsRequest.completed_at.is_(None)).order_by(DataRightsRequest.due_on, DataRightsRequest.id)
    )
    completed = ctx.session.execute(
        query.where(DataRightsRequest.completed_at.is_not(None))
        .order_by(DataRightsRequest.completed_at.desc(), DataRightsRequest.id.desc())
        .limit(done)
    )
    return _views(ctx, [(r, ref) for r, ref in waiting] + [(r, ref) for r, ref in completed])


def requests_of_claim(ctx: ServiceContext, reference: str, actor: Actor) -> list[RequestView]:
    """A claim's requests, newest first (for its console page). Reads only."""
    require_role(ctx, actor, DATA_RIGHTS_ROLES, N_("see data rights requests"))
    claim = get_claim(ctx, reference)
    rows = ctx.session.scalars(
        select(DataRightsRequest).where(DataRightsRequest.claim_id == claim.id).order_by(DataRightsRequest.id.desc())
    )
    return _views(ctx, [(r, claim.reference) for r in rows])


def request(ctx: ServiceContext, actor: Actor, request_id: int) -> RequestView:
    """One request, open or completed. Reads only."""
    require_role(ctx, actor, DATA_RIGHTS_ROLES, N_("see data rights requests"))
    found = ctx.session.execute(
        select(DataRightsRequest, Claim.reference)
        .join(Claim, Claim.id == DataRightsRequest.claim_id)
        .where(DataRightsRequest.id == request_id)
    ).first()
    if found is None:
        raise NotFound(N_("There is no such data rights request."))
    return _views(ctx, [(found[0], found[1])])[0]


def _locked_request(ctx: ServiceContext, request_id: int, kind: str) -> tuple[Claim, DataRightsRequest]:
    reference = ctx.session.scalar(
        select(Claim.reference)
        .join(DataRightsRequest, DataRightsRequest.claim_id == Claim.id)
        .where(DataRightsRequest.id == request_id, DataRightsRequest.kind == kind)
    )
    if reference is None:
        raise NotFound(N_("There is no such data rights request."))
    claim = get_claim(ctx, reference, for_update=True)
    row = ctx.session.get(DataRightsRequest, request_id, populate_existing=True, with_for_update=True)
    assert row is not None
    if row.completed_at is not None:
        raise Conflict(N_("This request was completed already, by another officer or on another page."))
    return claim, row


def _complete(ctx: ServiceContext, row: DataRightsRequest, actor: OfficerActor) -> None:
    row.completed_at, row.completed_by = ctx.now(), actor.officer_id


# --- erasure ----------------------------------------------------------------------------------


def _erase(ctx: ServiceContext, claim: Claim, actor: Actor) -> None:
    contact = _contact(ctx, claim)
    if contact is not None and contact.erased_at is None:
        erase_contact(ctx, claim.reference, actor)
    erase_evidence(ctx, claim.reference, actor)


def complete_erasure(ctx: ServiceContext, request_id: int, actor: Actor) -> DataRightsRequest:
    """An admin carries out an erasure request: the group's contact details and evidence are
    erased (casework.erase_contact, evidence.erase_evidence: the tracking links end and no e-mail
    goes to the old address), and the request is done. What was decided stays. Flushes only."""
    require_role(ctx, actor, ERASERS, N_("erase a group's contact details and evidence"))
    assert isinstance(actor, OfficerActor)
    claim, row = _locked_request(ctx, request_id, "erasure")
    _erase(ctx, claim, actor)
    _complete(ctx, row, actor)
    append_event(ctx, claim, actor, "erasure_completed", payload={"request": row.id})
    ctx.session.flush()
    return row


def erase_now(
    ctx: ServiceContext, reference: str, actor: Actor, *, channel: object, reason: object
) -> DataRightsRequest:
    """An admin erases a group's contact details and evidence from the claim's page, for a request
    that came by post, e-mail or phone and was not recorded before: recorded as received today,
    with the reason, and completed at once. Flushes only."""
    require_role(ctx, actor, ERASERS, N_("erase a group's contact details and evidence"))
    assert isinstance(actor, OfficerActor)
    claim = get_claim(ctx, reference, for_update=True)
    errors = v.Errors()
    chosen = errors.check("channel", v.choice, channel, N_("how the request came"), CHANNELS[1:])
    why = errors.check("reason", v.text, reason, N_("the reason"), max_length=MAX_NOTE)
    errors.raise_if_any()
    contact = _contact(ctx, claim)
    if contact is not None and contact.erased_at is not None:
        raise Conflict(words("The contact details of claim %(reference)s were already erased.", reference=reference))
    row = _add_request(ctx, claim, actor, "erasure", channel=str(chosen), received_on=ctx.today(), note=why)
    _erase(ctx, claim, actor)
    _complete(ctx, row, actor)
    append_event(ctx, claim, actor, "erasure_completed", payload={"request": row.id})
    ctx.session.flush()
    return row


def contact_erased_at(ctx: ServiceContext, reference: str) -> datetime | None:
    """When the claim's contact details were erased, if they were (for the console's claim page)."""
    claim = get_claim(ctx, reference)
    return ctx.session.scalar(select(Contact.erased_at).where(Contact.claim_id == claim.id))


# --- subject access -----------------------------------------------------------------------------


def _link_lasted_until(ctx: ServiceContext, message: OutboxMessage) -> date | None:
    """The last UK day the link in a sent e-mail opened the claim (from its token's expiry)."""
    if message.tracking_token_id is None:
        return None
    expires = ctx.session.scalar(select(TrackingToken.expires_at).where(TrackingToken.id == message.tracking_token_id))
    return (expires.astimezone(UK) - timedelta(days=1)).date() if expires else None


def sent_messages(ctx: ServiceContext, claim: Claim, render: Render) -> list[dict[str, Any]]:
    """Every e-mail actually sent to the group about the claim, oldest first, as written again by
    ``render`` (guarantee.mail.render) from the facts it was made from."""
    contact = _contact(ctx, claim)
    rows = ctx.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.claim_id == claim.id,
            OutboxMessage.recipient_type == "group",
            OutboxMessage.status == "sent",
        )
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    )
    copies = []
    for message in rows:
        to = Recipient(
            (contact.email if contact else None) or "",
            contact.contact_name if contact else None,
            link_works_until=_link_lasted_until(ctx, message),
        )
        email = render(message, to, ctx)
        copies.append({"sent_at": message.sent_at, "subject": email.subject, "body": email.text})
    return copies


def _require_access(ctx: ServiceContext, claim: Claim, actor: Actor) -> None:
    if isinstance(actor, GroupActor):
        if actor.claim_reference != claim.reference:
            raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=claim.reference))
        return
    require_role(ctx, actor, DATA_RIGHTS_ROLES, N_("produce a group's data"))


def _export(ctx: ServiceContext, claim: Claim, render: Render) -> dict[str, Any]:
    group_view = read_claim(ctx, claim.reference, GroupActor(claim.reference))[1]
    contact = _contact(ctx, claim)
    files = ctx.session.scalars(select(Attachment).where(Attachment.claim_id == claim.id).order_by(Attachment.id))
    return {
        "reference": claim.reference,
        "produced_at": ctx.now(),
        "claim": {
            "state": group_view["state"],
            "state_label": group_view["state_label"],
            "submitted_at": claim.submitted_at,
            "group": group_view["group"],
            "initiative": group_view["initiative"],
            "barrier": group_view["barrier"],
            "consent_contact": claim.consent_contact,
            "consent_publish": claim.consent_publish,
            "remedy": claim.remedy,
            "outcome": claim.outcome,
        },
        "contact": {
            "contact_name": contact.contact_name if contact else None,
            "email": contact.email if contact else None,
            "phone": contact.phone if contact else None,
            "erased_at": contact.erased_at if contact else None,
        },
        "evidence": [
            {
                "id": f.id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_at": f.uploaded_at,
                "uploaded_by": f.uploaded_by,
            }
            for f in files
        ],
        "timeline": [
            {
                "occurred_at": item["occurred_at"],
                "what": TIMELINE_LABELS.get(item["action"], item["action"]),
                "action": item["action"],
                "texts": [{"field": t["field"], "text": t["text"]} for t in item["texts"]],
            }
            for item in group_view["timeline"]
        ],
        "messages_note": MESSAGES_NOTE,
        "messages": sent_messages(ctx, claim, render),
    }


def produce(
    ctx: ServiceContext,
    reference: str,
    actor: Actor,
    *,
    format: str,
    render: Render,
    request_id: int | None = None,
) -> dict[str, Any]:
    """Everything the service holds about the claim for its group: what it wrote, its contact
    details, its evidence (listed), its timeline and every e-mail sent to it. For the group, or an
    officer who deals with groups answering a request (``request_id``: an open access request of
    this claim, then done). Each copy is audited (``data_provided``, with its format). Flushes only."""
    if format not in FORMATS:
        raise NotFound(words("There is no %(format)s copy: ask for a page or a JSON file.", format=repr(format)))
    claim = get_claim(ctx, reference, for_update=True)  # the chain is appended in order
    _require_access(ctx, claim, actor)
    payload: dict[str, Any] = {"format": format}
    if request_id is not None:
        assert isinstance(actor, OfficerActor)
        locked, row = _locked_request(ctx, request_id, "access")
        if locked.id != claim.id:
            raise NotFound(N_("There is no such data rights request."))
        _complete(ctx, row, actor)
        payload["request"] = row.id
    append_event(ctx, claim, actor, "data_provided", payload=payload)
    ctx.session.flush()
    return _export(ctx, claim, render)
