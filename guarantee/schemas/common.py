"""Schemas shared by every part of the API: the problem document, strict base schema."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from workflows.words import N_

# No text field accepts NUL bytes or other control characters (PostgreSQL refuses NUL).
NO_CONTROL_CHARACTERS = validate.Regexp(
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]*$", error=N_("Contains characters that are not allowed")
)
ONE_LINE = validate.Regexp(r"^[^\x00-\x1f\x7f\ud800-\udfff]*$", error=N_("Must be a single line of text"))


def text(max_length: int, *, required: bool = True, one_line: bool = False, **kwargs: object) -> fields.String:
    """A text field with the limits the services enforce, so the document tells the truth."""
    return fields.String(
        required=required,
        allow_none=not required,
        validate=[validate.Length(min=1, max=max_length), ONE_LINE if one_line else NO_CONTROL_CHARACTERS],
        **kwargs,  # type: ignore[arg-type]
    )


class StrictBoolean(fields.Boolean):
    """true or false only: not "yes", not 1."""

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        if not isinstance(value, bool):
            raise ma.ValidationError(N_("Must be true or false."))
        return value


class StrictSchema(ma.Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = ma.RAISE


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = fields.String(
        metadata={"description": "A URI that identifies the kind of problem", "example": "about:blank"}
    )
    title = fields.String(metadata={"description": "A short summary of the kind of problem"})
    status = fields.Integer(metadata={"description": "The HTTP status code"})
    detail = fields.String(metadata={"description": "What happened and what to do next"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "For 422: each field, as a dotted path in the request's own terms, and its problems"},
    )
    allowed_triggers = fields.List(
        fields.String(), metadata={"description": "For 409: the triggers you may fire on this claim now"}
    )
