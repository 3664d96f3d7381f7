"""The decision register (issue 20): its filters, and a statement as published."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from guarantee.models.register import STATEMENT_DECISIONS
from guarantee.services.register import AREAS
from guarantee.services.register_open_data import STATEMENT_FIELDS
from workflows.vocabulary import BARRIER_CATEGORIES

_MEANING = {name: meaning for name, _, meaning in STATEMENT_FIELDS}


class DecisionArgs(ma.Schema):
    """Filters on what the register shows (coarsened values, never the raw ones)."""

    rule = fields.String(
        load_default="", validate=ma.validate.Length(max=80), metadata={"description": "A rule's slug"}
    )
    category = fields.String(load_default="", validate=ma.validate.OneOf(["", *BARRIER_CATEGORIES]))
    region = fields.String(
        load_default="",
        validate=ma.validate.OneOf(["", *AREAS]),
        metadata={"description": "A region, or a nation: matches statements shown with that region or nation"},
    )
    outcome = fields.String(load_default="", validate=ma.validate.OneOf(["", *STATEMENT_DECISIONS]))
    year = fields.String(
        load_default="", validate=ma.validate.Regexp(r"^(\d{4})?$"), metadata={"description": "The year decided"}
    )
    cursor = fields.String(
        load_default="",
        validate=ma.validate.Length(max=200),
        metadata={"description": "The `next` link's cursor: the page after it"},
    )


def _field(name: str, field: fields.Field[Any]) -> fields.Field[Any]:
    field.metadata = {**field.metadata, "description": _MEANING[name]}
    return field


class StatementSchema(ma.Schema):
    number = _field("number", fields.String())
    status = _field("status", fields.String(metadata={"enum": ["published", "withdrawn", "superseded"]}))
    decision = _field("decision", fields.String(metadata={"enum": list(STATEMENT_DECISIONS)}))
    rule_title = _field("rule_title", fields.String())
    rule_legal_reference = _field("rule_legal_reference", fields.String(allow_none=True))
    rule_issuing_body = _field("rule_issuing_body", fields.String(allow_none=True))
    rule_slug = _field("rule_slug", fields.String(allow_none=True))
    category = _field("category", fields.String())
    sector = _field("sector", fields.String())
    region = _field("region", fields.String())
    decided = _field("decided", fields.String())
    working_days = _field("working_days", fields.Integer(allow_none=True))
    remedy = _field("remedy", fields.String(allow_none=True))
    reason_code = _field("reason_code", fields.String(allow_none=True))
    resolution = _field("resolution", fields.String(allow_none=True))
    summary = _field("summary", fields.String(allow_none=True))
    cites = _field("cites", fields.List(fields.String()))
    published = _field("published", fields.String(metadata={"pattern": r"^\d{4}( Q[1-4])?$"}))
    withdrawn = _field("withdrawn", fields.String(allow_none=True, metadata={"pattern": r"^\d{4}( Q[1-4])?$"}))
    withdrawn_reason = _field("withdrawn_reason", fields.String(allow_none=True))


class DecisionPageSchema(ma.Schema):
    statements = fields.List(
        fields.Nested(StatementSchema),
        metadata={
            "description": "Newest first: by the period published in (a year after its own quarters), then number"
        },
    )
    matching = fields.Integer(metadata={"description": "Shown statements matching the filters, on every page"})
    held_back = fields.Integer(
        metadata={"description": "Statements not shown at all, whatever the filters: too few decided claims share them"}
    )
    min_claims = fields.Integer(metadata={"description": "k: the decided claims a shown statement's fields must share"})
    next = fields.String(allow_none=True, metadata={"description": "The next (older) page, or null on the last"})
