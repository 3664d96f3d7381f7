"""Officers' two-step secrets sealed (AES-256-GCM) under the key kept outside the database
(GUARANTEE_TWO_STEP_KEY, or the file GUARANTEE_TWO_STEP_KEY_FILE; by default
instance/two-step-key), in columns wide enough for them. Downgrading opens them again, to clear
text, and narrows the columns back.

The format (``v1:<key id>:<nonce and ciphertext, base64url>``), the key id and the associated
data (the officer and the column) are written out here, the same as in
guarantee.services.two_step_secrets, so that this migration stands alone.

The columns are widened by adding a new column, copying, dropping the old one and renaming,
on both databases: SQLite can change a column's type only by copying the whole table, and
dropping the old officers table with foreign keys on would delete every officer's roles (ON
DELETE CASCADE).

Revision ID: 675ae8d1e535
Revises: e5c2b8d4a1f7
Create Date: 2026-12-03 08:10:00

"""
import base64
import binascii
import hashlib
import secrets
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


# revision identifiers, used by Alembic.
revision = '675ae8d1e535'
down_revision = 'e5c2b8d4a1f7'
branch_labels = None
depends_on = None

VERSION = "v1"
COLUMNS = ("totp_secret", "totp_pending_secret")
officers = sa.table(
    "officers",
    sa.column("id", sa.Integer),
    sa.column("totp_secret", sa.String),
    sa.column("totp_pending_secret", sa.String),
)


def _key() -> bytes:
    """The key the app was configured with (create_app names the default file in the config)."""
    config = current_app.config
    if config.get("GUARANTEE_TWO_STEP_KEY"):
        text, origin = config["GUARANTEE_TWO_STEP_KEY"], "GUARANTEE_TWO_STEP_KEY"
    else:
        origin = config["GUARANTEE_TWO_STEP_KEY_FILE"]
        text = Path(origin).read_text()
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise RuntimeError(f"The two-step key from {origin} is not 32 bytes written as 64 hex digits or in base64.")
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"guarantee two-step key id\0" + key).hexdigest()[:8]


def _associated_data(officer_id: int, column: str) -> bytes:
    return f"guarantee {VERSION}\0officers.{column}\0{officer_id}".encode()


def _seal(key: bytes, officer_id: int, column: str, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), _associated_data(officer_id, column))
    return f"{VERSION}:{_key_id(key)}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def _unseal(key: bytes, officer_id: int, column: str, stored: str) -> str:
    _, key_id, body = stored.split(":", 2)
    try:
        if key_id != _key_id(key):
            raise InvalidTag
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESGCM(key).decrypt(raw[:12], raw[12:], _associated_data(officer_id, column)).decode()
    except (binascii.Error, ValueError, InvalidTag):
        raise RuntimeError(
            f"Officer {officer_id}'s {column} was encrypted under key {key_id} and the configured key "
            f"(key {_key_id(key)}) cannot decrypt it: set GUARANTEE_TWO_STEP_KEY or "
            "GUARANTEE_TWO_STEP_KEY_FILE to the key that encrypted it, then downgrade again."
        ) from None


def _change_each(change) -> None:  # type: ignore[no-untyped-def]
    """Apply ``change(officer id, column, stored value)`` to every secret; None leaves it as it is."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(officers.c.id, officers.c.totp_secret, officers.c.totp_pending_secret).where(
            sa.or_(officers.c.totp_secret.is_not(None), officers.c.totp_pending_secret.is_not(None))
        )
    ).all()
    for officer_id, *values in rows:
        changed = {}
        for column, stored in zip(COLUMNS, values, strict=True):
            if stored is not None and (new := change(officer_id, column, stored)) is not None:
                changed[column] = new
        if changed:
            bind.execute(officers.update().where(officers.c.id == officer_id).values(**changed))


def _retype(length: int) -> None:
    for column in COLUMNS:
        op.add_column('officers', sa.Column(f'{column}_sized', sa.String(length=length), nullable=True))
        op.execute(f'UPDATE officers SET {column}_sized = {column}')
        op.execute(f'ALTER TABLE officers DROP COLUMN {column}')
        op.execute(f'ALTER TABLE officers RENAME COLUMN {column}_sized TO {column}')


def upgrade() -> None:
    key = _key()  # first: a key that cannot be read changes nothing
    _retype(255)
    _change_each(
        lambda officer_id, column, stored: None
        if stored.startswith(f"{VERSION}:")
        else _seal(key, officer_id, column, stored)
    )


def downgrade() -> None:
    key = _key()
    _change_each(
        lambda officer_id, column, stored: _unseal(key, officer_id, column, stored)
        if stored.startswith(f"{VERSION}:")
        else None
    )
    _retype(64)
