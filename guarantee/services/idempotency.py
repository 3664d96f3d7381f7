"""Idempotency-Key support: a retried request gets the first response, and nothing is done twice.

The caller claims the key *before* doing the work, in the same transaction. A concurrent
request with the same key blocks on the unique constraint until the first commits, then
fails, rolls back and replays the stored response.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select

from guarantee.models import IdempotencyRecord
from guarantee.services.audit import canonical_json
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, ValidationFailed
from workflows.words import N_, words

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 200
# Anything that carries a tracking token: encrypted at rest, like the token itself.
SECRET_FIELDS = ("tracking_token", "tracking_url")


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str]


def _sha256(value: bytes | str) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def request_fingerprint(body: Any) -> str:
    return _sha256(canonical_json(body))


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationFailed(
            {
                "Idempotency-Key": [
                    words("Use a key of 1 to %(most)s printable ASCII characters, such as a UUID", most=MAX_KEY_LENGTH)
                ]
            }
        )
    return key


def _cipher(secret: str, key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"guarantee idempotency").derive(
        secret.encode() + b"\x00" + key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def find(ctx: ServiceContext, scope: str, key: str, fingerprint: str, secret: str) -> StoredResponse | None:
    """The stored response for this key, if the same request was made before."""
    record = ctx.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key_hash == _sha256(key),
            IdempotencyRecord.expires_at > ctx.now(),
        )
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise ValidationFailed(
            {
                "Idempotency-Key": [
                    N_("This key was already used for a different request. Use a new key for a new request.")
                ]
            }
        )
    if record.status_code is None or record.body is None:
        raise Conflict(N_("The first request with this Idempotency-Key is still being processed. Try again shortly."))
    body = dict(record.body)
    cipher = _cipher(secret, key)
    for name in SECRET_FIELDS:
        if isinstance(body.get(name), dict) and "encrypted" in body[name]:
            try:
                body[name] = cipher.decrypt(body[name]["encrypted"].encode()).decode()
            except InvalidToken:
                body[name] = None
    return StoredResponse(record.status_code, body, dict(record.headers or {}))


def claim_key(ctx: ServiceContext, scope: str, key: str, fingerprint: str) -> IdempotencyRecord:
    """Reserve the key for this transaction. Raises IntegrityError (at flush) if another has it."""
    ctx.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key_hash == _sha256(key),
            IdempotencyRecord.expires_at <= ctx.now(),
        )
    )
    now = ctx.now()
    record = IdempotencyRecord(
        scope=scope, key_hash=_sha256(key), request_hash=fingerprint, created_at=now, expires_at=now + KEEP_FOR
    )
    ctx.session.add(record)
    ctx.session.flush()
    return record


def remember(record: IdempotencyRecord, response: StoredResponse, key: str, secret: str) -> None:
    body = dict(response.body)
    cipher = _cipher(secret, key)
    for name in SECRET_FIELDS:
        if isinstance(body.get(name), str):
            body[name] = {"encrypted": cipher.encrypt(body[name].encode()).decode()}
    record.status_code = response.status_code
    record.body = body
    record.headers = response.headers


def purge_expired(ctx: ServiceContext) -> int:
    result = ctx.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= ctx.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]
