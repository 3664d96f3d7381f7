"""The workflow description, generated from workflows/."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class StateSchema(ma.Schema):
    name = fields.String()
    label = fields.String()
    terminal = fields.Boolean()


class ClockInfoSchema(ma.Schema):
    name = fields.String()
    label = fields.String()
    working_days = fields.Integer()


class RequiredWhenSchema(ma.Schema):
    field = fields.String()
    value = fields.String()


class InputSchema(ma.Schema):
    name = fields.String()
    kind = fields.String(
        metadata={"description": "text, choice, regulation, officer, claim_reference, evidence or citations"}
    )
    label = fields.String()
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
    label = fields.String()
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
