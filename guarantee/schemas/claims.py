"""Request and response schemas for claims. Limits mirror the services' own checks."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from guarantee.schemas.common import StrictBoolean, StrictSchema, text
from guarantee.schemas.workflow import Label
from workflows import STATES, TRANSITIONS, TRIGGERS
from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    LANGUAGES,
    OUTCOMES,
    REGIONS,
    REMEDIES,
    REMEDIES_SOUGHT,
    SECTORS,
)
from workflows.words import N_

MAX_ID = 2**31 - 1  # the database's integer
REFERENCE = validate.Regexp(r"^CPG-\d{4}-\d{6}$", error=N_("A reference looks like CPG-2026-000123"))


def one_of(choices: tuple[str, ...], **kwargs: object) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)  # type: ignore[arg-type]


# --- submission -----------------------------------------------------------------


class GroupInput(StrictSchema):
    name = text(200, one_line=True, metadata={"description": "The name of your group"})
    contact_name = text(200, one_line=True, metadata={"description": "Who we should contact"})
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(
        required=False,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9 ()\-]{7,25}$", error=N_("Enter a phone number, like 01632 960 001")),
    )
    language = one_of(
        LANGUAGES,
        required=False,
        load_default="en",
        metadata={"description": "The language to write to the group in: en (English, the default) or cy (Welsh)"},
    )


class InitiativeInput(StrictSchema):
    title = text(200, one_line=True, metadata={"description": "A short name for your initiative"})
    description = text(10_000)
    sector = one_of(SECTORS, required=True)
    region = one_of(REGIONS, required=True)
    people_involved = fields.Integer(
        required=False, allow_none=True, strict=True, validate=validate.Range(min=0, max=1_000_000)
    )


class BarrierInput(StrictSchema):
    regulation = text(300, one_line=True, metadata={"description": "The regulation that blocks you, in your words"})
    regulation_reference = text(300, required=False, one_line=True)
    imposed_by = text(200, one_line=True, metadata={"description": "Who imposes it"})
    category = one_of(BARRIER_CATEGORIES, required=True)
    how_it_blocks = text(10_000)
    remedy_sought = one_of(REMEDIES_SOUGHT, required=True)
    remedy_details = text(5_000, required=False, metadata={"description": "Required when remedy_sought is other"})


class ConsentInput(StrictSchema):
    contact = StrictBoolean(required=True, metadata={"description": "May we email you about your claim?"})
    publish = StrictBoolean(
        required=False,
        load_default=False,
        metadata={
            "description": "May the council publish an anonymised statement of its decision, with a summary "
            "written for publication? If not (the default), only the decision and coarsened facts are published."
        },
    )


class SubmissionSchema(StrictSchema):
    group = fields.Nested(GroupInput, required=True)
    initiative = fields.Nested(InitiativeInput, required=True)
    barrier = fields.Nested(BarrierInput, required=True)
    consent = fields.Nested(ConsentInput, required=True)


class SubmittedSchema(ma.Schema):
    reference = fields.String(metadata={"example": "CPG-2026-000123"})
    state = fields.String(metadata={"example": "submitted"})
    tracking_token = fields.String(
        metadata={"description": "Shown once. Keep it: it is the only way to follow your claim."}
    )
    tracking_url = fields.String()
    submitted_at = fields.DateTime()


# --- transitions ----------------------------------------------------------------

_INPUTS = {i.name: i for t in TRANSITIONS for i in t.inputs}


class NewRegulationInput(StrictSchema):
    title = text(300, one_line=True)
    legal_reference = text(300, required=False, one_line=True)
    issuing_body = text(200, required=False, one_line=True)
    category = one_of(BARRIER_CATEGORIES, required=False, allow_none=True)


class RegulationField(fields.Field):  # type: ignore[type-arg]
    """A catalogue entry's id, or a new entry as an object (documented by ``regulation_field_properties``)."""

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= MAX_ID:
                raise ma.ValidationError(N_("There is no regulation with this id in the catalogue"))
            return value
        if isinstance(value, dict):
            return NewRegulationInput().load(value)
        raise ma.ValidationError(
            N_("Give a catalogue entry's id, or a new regulation as {title, legal_reference, issuing_body}")
        )


def regulation_field_properties(converter: Any, field: fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: a RegulationField is one of its two forms, each described
    (the new entry's schema is registered as a component by the converter itself)."""
    if not isinstance(field, RegulationField):
        return {}
    return {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": "A catalogue entry's id"},
            converter.resolve_nested_schema(NewRegulationInput),
        ]
    }


def _transition_fields() -> dict[str, fields.Field[Any]]:
    made: dict[str, fields.Field[Any]] = {}
    for name, spec in _INPUTS.items():
        used_by = ", ".join(t.trigger for t in TRANSITIONS if name in t.input_names)
        shown = "Shown on the group's timeline. " if spec.public and spec.kind == "text" else ""
        shown = "Seen only by officers. " if not spec.public else shown
        shown = f"{spec.hint} " if spec.hint else shown  # what happens to it, where that is more than who sees it
        asked = f" Required when {spec.asked_if[1]} (consent_publish); otherwise not kept." if spec.asked_if else ""
        meta = {"description": f"{spec.label}. {shown}Input of: {used_by}.{asked}"}
        if spec.kind == "text":
            made[name] = text(spec.max_length, required=False, metadata=meta)
        elif spec.kind == "choice":
            choices = tuple(sorted({c for t in TRANSITIONS for i in t.inputs if i.name == name for c in i.choices}))
            made[name] = one_of(choices, required=False, allow_none=True, metadata=meta)
        elif spec.kind == "officer":
            made[name] = fields.Integer(
                required=False,
                allow_none=True,
                strict=True,
                validate=validate.Range(min=1, max=MAX_ID),
                metadata=meta,
            )
        elif spec.kind == "claim_reference":
            made[name] = fields.String(required=False, allow_none=True, validate=REFERENCE, metadata=meta)
        elif spec.kind == "evidence":
            made[name] = fields.List(
                fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
                required=False,
                validate=validate.Length(max=5),
                metadata=meta | {"description": meta["description"] + " Ids from POST .../evidence."},
            )
        elif spec.kind == "regulation":
            made[name] = RegulationField(required=False, metadata=meta)
        elif spec.kind == "citations":
            made[name] = fields.List(
                fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
                required=False,
                validate=validate.Length(max=20),
                metadata=meta | {"description": meta["description"] + " Ids of published decision statements."},
            )
    return made


TransitionSchema = StrictSchema.from_dict(
    {
        "trigger": fields.String(
            required=True,
            validate=validate.OneOf(TRIGGERS),
            metadata={"description": "What to do; GET /api/v1/workflow lists each trigger's inputs"},
        ),
        **_transition_fields(),
    },
    name="TransitionInput",
)


# --- claim views ----------------------------------------------------------------


class DueSchema(ma.Schema):
    clock = fields.String()
    label = Label()
    due_on = fields.Date()
    overdue = fields.Boolean()
    working = fields.List(
        fields.Dict(), metadata={"description": "Each stretch: start, days counted, holidays skipped"}
    )


class ClockSchema(ma.Schema):
    clock = fields.String()
    status = fields.String()
    working_days = fields.Integer()
    started_on = fields.Date()
    due_on = fields.Date(allow_none=True)
    paused_on = fields.Date(allow_none=True)
    days_left = fields.Integer(allow_none=True)
    stopped_on = fields.Date(allow_none=True)
    working = fields.List(fields.Dict())


class TimelineTextSchema(ma.Schema):
    field = fields.String()
    text = fields.String()
    public = fields.Boolean()


class TimelineEventSchema(ma.Schema):
    seq = fields.Integer()
    occurred_at = fields.DateTime()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    by = fields.String(metadata={"description": "officer, group or system"})
    actor_id = fields.String(allow_none=True, metadata={"description": "Officers' view only"})
    texts = fields.List(fields.Nested(TimelineTextSchema))


class GroupView(ma.Schema):
    name = fields.String()
    language = fields.String(metadata={"description": "The language the group is written to in: en or cy"})


class InitiativeView(ma.Schema):
    title = fields.String()
    description = fields.String()
    sector = fields.String()
    region = fields.String()
    people_involved = fields.Integer(allow_none=True)


class BarrierView(ma.Schema):
    regulation = fields.String()
    regulation_reference = fields.String(allow_none=True)
    imposed_by = fields.String()
    category = fields.String()
    how_it_blocks = fields.String()
    remedy_sought = fields.String()
    remedy_details = fields.String(allow_none=True)


class RegulationRef(ma.Schema):
    id = fields.Integer()
    title = fields.String()


class ClaimSchema(ma.Schema):
    """A claim. The group sees its own claim without internal notes or officers' identities;
    officers also see classification, assignment, clocks and the internal timeline."""

    reference = fields.String(metadata={"example": "CPG-2026-000123"})
    state = fields.String(validate=validate.OneOf(STATES))
    state_label = Label()
    version = fields.Integer()
    submitted_at = fields.DateTime()
    updated_at = fields.DateTime()
    group = fields.Nested(GroupView)
    initiative = fields.Nested(InitiativeView)
    barrier = fields.Nested(BarrierView)
    remedy = fields.String(allow_none=True, validate=validate.OneOf(REMEDIES))
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OUTCOMES))
    due = fields.Nested(DueSchema, allow_none=True)
    timeline = fields.List(fields.Nested(TimelineEventSchema))
    allowed_triggers = fields.List(fields.String(), metadata={"description": "What the caller may fire now"})
    clocks = fields.List(fields.Nested(ClockSchema), metadata={"description": "Officers' view only"})
    category = fields.String(allow_none=True)
    regulation = fields.Nested(RegulationRef, allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    reason_code = fields.String(allow_none=True)
    duplicate_of = fields.String(allow_none=True)
    consent_contact = fields.Boolean()
    consent_publish = fields.Boolean(
        metadata={"description": "Whether the group agreed to a decision statement with a summary being published"}
    )
    decided_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class ClaimSummarySchema(ma.Schema):
    reference = fields.String()
    state = fields.String()
    version = fields.Integer()
    submitted_at = fields.DateTime()
    group_name = fields.String()
    initiative_title = fields.String()
    sector = fields.String()
    region = fields.String()
    category = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    due_clock = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()


class ClaimPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ClaimSummarySchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next page"})


class ClaimListArgs(StrictSchema):
    state = fields.List(fields.String(validate=validate.OneOf(STATES)), metadata={"description": "Repeat for several"})
    sector = one_of(SECTORS)
    region = one_of(REGIONS)
    category = one_of(BARRIER_CATEGORIES)
    assignee = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    overdue = fields.Boolean()
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=64))


class AuditEventSchema(ma.Schema):
    seq = fields.Integer()
    occurred_at = fields.DateTime()
    actor_type = fields.String()
    actor_id = fields.String(allow_none=True)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    payload = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class AuditTrailSchema(ma.Schema):
    reference = fields.String()
    events = fields.List(fields.Nested(AuditEventSchema))


class AssignmentInput(StrictSchema):
    assignee_id = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The officer to assign, or null to unassign"},
    )


class ClassificationInput(StrictSchema):
    category = one_of(BARRIER_CATEGORIES, required=False, allow_none=True)
    regulation = RegulationField(
        required=False, metadata={"description": "The regulation catalogue entry: an existing one, or a new one"}
    )


class NoteInput(StrictSchema):
    note = text(10_000)


class NoteSchema(ma.Schema):
    seq = fields.Integer()
    note = fields.String()


class AttachmentSchema(ma.Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String(validate=validate.OneOf(("application/pdf", "image/png", "image/jpeg")))
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String(metadata={"description": "group or officer"})
    uploaded_at = fields.DateTime()


class AttachmentListSchema(ma.Schema):
    items = fields.List(fields.Nested(AttachmentSchema))
