"""The published statistics: a release document, and the register of releases."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from guarantee.statistics.downloads import FORMATS

COUNT = (
    'A count: a whole number, or the string "[c]" where it is hidden (from 1 to the threshold - 1, '
    "or hidden so that another hidden count cannot be worked out)."
)


class PeriodSchema(ma.Schema):
    start = fields.Date(metadata={"description": "The first day of the cumulative series"})
    end = fields.Date(metadata={"description": "The last day whose claims are counted"})


class ReleaseDocumentSchema(ma.Schema):
    """A release exactly as stored: its SHA-256 (in the register and the ETag) is of these bytes."""

    format = fields.Integer(metadata={"description": "Version of this document's layout"})
    release = fields.Integer(metadata={"description": "The release's number in the register"})
    published_at = fields.String(metadata={"description": "When it was published (UTC, ISO 8601)"})
    period = fields.Nested(PeriodSchema)
    method = fields.String(metadata={"enum": ["disclosure_control", "differential_privacy"]})
    suppressed = fields.String(metadata={"description": "The symbol of a hidden count"})
    rules = fields.Dict(
        metadata={
            "description": "Disclosure control: threshold, rounding_base, dominance_below. Differential "
            "privacy: noise, epsilon_per_table, epsilon_total, scale, confidence."
        }
    )
    notes = fields.List(fields.String(), metadata={"description": "How the release was made, in plain English"})
    tables = fields.List(
        fields.Dict(),
        metadata={
            "description": "Each table: id, kind (counts, cross, share, times), title and its numbers. "
            + COUNT
            + " With differential privacy every count has a margin: the half-width of its 95% interval."
        },
    )


class ReleaseEntrySchema(ma.Schema):
    number = fields.Integer()
    published_at = fields.DateTime()
    period_start = fields.Date()
    period_end = fields.Date()
    method = fields.String(metadata={"enum": ["disclosure_control", "differential_privacy"]})
    sha256 = fields.String(metadata={"description": "SHA-256 of the release document's bytes, in hex"})
    url = fields.String(metadata={"description": "The release document (JSON)"})
    csv_url = fields.String(metadata={"description": "The release as CSV"})


class ReleaseRegisterSchema(ma.Schema):
    releases = fields.List(fields.Nested(ReleaseEntrySchema), metadata={"description": "Newest first"})


class FormatArgs(ma.Schema):
    format = fields.String(
        load_default="json",
        validate=ma.validate.OneOf(FORMATS),
        metadata={"description": "json (the stored document, byte for byte) or csv (every number, one per row)"},
    )
