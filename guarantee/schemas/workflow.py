"""The workflow description, generated from workflows/. Its names, slugs and keys are the same in
every language; the labels a person reads follow the request's language (``Accept-Language``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from guarantee.i18n import say


class Label(fields.String):
    """A label from workflows/, said in the request's language (English without a choice)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(say(value), attr, obj, **kwargs)


class StateSchema(ma.Schema):
    name = fields.String()
    label = Label()
    terminal = fields.Boolean()


class ClockInfoSchema(ma.Schema):
    name = fields.String()
    label = Label()
    working_days = fields.Integer()


class RequiredWhenSchema(ma.Schema):
    field = fields.String()
    value = fields.String()


class InputSchema(ma.Schema):
    name = fields.String()
    kind = fields.String(
        metadata={"description": "text, choice, regulation, officer, claim_reference, evidence or citations"}
    )
    label = Label()
    required = fields.Boolean()
    required_when = fields.Nested(RequiredWhenSchema, allow_none=True)
    asked_if = fields.String(
        allow_none=True,
        metadata={"description": "The claim's flag that must be true for this input to be asked: consent_publish"},
    )
    choices = fields.List(fields.String())
    max_length = fields.Integer(allow_none=True)
    public = fields.Boolean(metadata={"description": "Shown to the group on its timeline"})


class ClockEffectSchema(ma.Schema):
    clock = fields.String()
    action = fields.String()


class ClockConditionSchema(ma.Schema):
    clock = fields.String()
    must_be = fields.String()


class TriggerSchema(ma.Schema):
    trigger = fields.String()
    label = Label()
    sources = fields.List(fields.String())
    dest = fields.String()
    fired_by = fields.List(fields.String(), metadata={"description": "Roles, or group, or system"})
    inputs = fields.List(fields.Nested(InputSchema))
    clocks = fields.List(fields.Nested(ClockEffectSchema))
    clock_condition = fields.Nested(ClockConditionSchema, allow_none=True)
    separation_of_duties = fields.Boolean()


class WorkflowSchema(ma.Schema):
    states = fields.List(fields.Nested(StateSchema))
    roles = fields.List(fields.String())
    clocks = fields.List(fields.Nested(ClockInfoSchema))
    triggers = fields.List(fields.Nested(TriggerSchema))
