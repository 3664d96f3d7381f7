"""Officer sign-in for the API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from guarantee.schemas.common import StrictSchema


class TokenRequest(StrictSchema):
    email = fields.String(
        required=True, validate=validate.Length(min=3, max=254), metadata={"example": "officer@council.example"}
    )
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024), load_only=True)
    code = fields.String(
        load_default=None,
        validate=validate.Length(min=6, max=12),
        load_only=True,
        metadata={"description": "The 6-digit code from your authenticator app, if you use two-step verification"},
    )


class TokenSchema(ma.Schema):
    token = fields.String(metadata={"description": "Send as Authorization: Bearer <token>"})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_at = fields.DateTime()
