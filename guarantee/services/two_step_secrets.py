"""Officers' two-step (TOTP) secrets at rest: sealed with AES-256-GCM under a key kept outside the
database, so that a copy of the database alone cannot make anyone's codes. Every read and write
of a secret goes through here; the clear secret exists only in memory.

A sealed secret reads ``v1:<key id>:<nonce and ciphertext, base64url>``. The key id (8 hex digits
of a hash of the key, never the key) says which key sealed a row, so that a wrong key or a half
rotated database is named, not guessed at. The officer's id and the column are the associated
data: a sealed secret copied to another officer's row, or from "being set up" to "in use", does
not open.

The key is 32 random bytes, written as 64 hex digits or in base64: GUARANTEE_TWO_STEP_KEY, or a
file named by GUARANTEE_TWO_STEP_KEY_FILE; with neither, a file in the instance folder, made
(0600) the first time. Flask-free: the edge finds the key and hands it to the services.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from guarantee.models import Officer

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
IN_USE = "totp_secret"
BEING_SET_UP = "totp_pending_secret"
COLUMNS = (IN_USE, BEING_SET_UP)
KEY_SETTING = "GUARANTEE_TWO_STEP_KEY"
KEY_FILE_SETTING = "GUARANTEE_TWO_STEP_KEY_FILE"
MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class KeyInvalid(ValueError):
    """The two-step key setting is missing, unreadable or not 32 bytes; says which setting."""


class SecretUnreadable(Exception):
    """A stored secret that the key cannot open: another key sealed it, it belongs to another
    officer or column, it was altered, or it was never sealed."""

    def __init__(self, officer_id: int, column: str, reason: str, key_id: str | None) -> None:
        self.officer_id = officer_id
        self.column = column
        self.reason = reason
        self.key_id = key_id  # the key id the row names, if it names one
        what = "two-step secret" if column == IN_USE else "two-step secret being set up"
        super().__init__(f"Officer {officer_id}'s {what} cannot be decrypted: {reason}.")


@dataclass(frozen=True)
class TwoStepKey:
    material: bytes = field(repr=False)
    origin: str  # where it came from, for messages: the setting, or the file's path

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise KeyInvalid(f"The two-step key from {self.origin} must be {KEY_BYTES} bytes.")

    @property
    def id(self) -> str:
        return hashlib.sha256(b"guarantee two-step key id\0" + self.material).hexdigest()[:8]

    @property
    def from_file(self) -> bool:
        return self.origin != KEY_SETTING


def parse_key(text: str, origin: str) -> TwoStepKey:
    """32 bytes written as 64 hex digits, or in base64 (standard or URL-safe, padded or not)."""
    text = text.strip()
    material: bytes | None = None
    if len(text) == 2 * KEY_BYTES:
        try:
            material = bytes.fromhex(text)
        except ValueError:
            material = None
    if material is None:
        try:
            material = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            material = b""
    if len(material) != KEY_BYTES:
        raise KeyInvalid(
            f"The two-step key from {origin} is not {KEY_BYTES} bytes written as 64 hex digits or in base64. "
            f"Make one with: {MAKE_A_KEY}"
        )
    return TwoStepKey(material, origin)


def read_key_file(path: str | Path) -> TwoStepKey:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeyInvalid(
            f"The two-step key file {path} cannot be read ({exc.strerror or exc}). "
            f"Check {KEY_FILE_SETTING}, or make the file with: {MAKE_A_KEY} > {path}"
        ) from None
    return parse_key(text, str(path))


def create_key_file(path: str | Path) -> TwoStepKey:
    """A new random key written to ``path`` (0600), which must not exist yet. Written whole
    before it appears, so a process starting at the same moment never reads half a key."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        os.link(draft, path)  # fails if the file exists: never overwrite a key
    finally:
        draft.unlink()
    return read_key_file(path)


def key_from_settings(key: str | None, key_file: str | None, default_file: Path) -> TwoStepKey:
    """The configured key: GUARANTEE_TWO_STEP_KEY, or GUARANTEE_TWO_STEP_KEY_FILE (which must
    exist), or else ``default_file``, made the first time so a fresh clone needs no setup."""
    if key and key_file:
        raise KeyInvalid(f"Set {KEY_SETTING} or {KEY_FILE_SETTING}, not both.")
    if key:
        return parse_key(key, KEY_SETTING)
    if key_file:
        return read_key_file(key_file)
    if default_file.exists():
        return read_key_file(default_file)
    try:
        return create_key_file(default_file)
    except FileExistsError:  # another process made it a moment ago
        return read_key_file(default_file)
    except OSError as exc:
        raise KeyInvalid(
            f"The two-step key file {default_file} cannot be made ({exc.strerror or exc}). "
            f"Set {KEY_SETTING} to a key ({MAKE_A_KEY}), or {KEY_FILE_SETTING} to a file holding one."
        ) from None


# --- sealing ------------------------------------------------------------------------------


def _associated_data(officer_id: int, column: str, table: str = "officers") -> bytes:
    return f"guarantee {VERSION}\0{table}.{column}\0{officer_id}".encode()


def seal(key: TwoStepKey, officer_id: int, column: str, secret: str, *, table: str = "officers") -> str:
    """``secret`` sealed for one row's column (``table``: another table's secret sealed under the
    same key, such as a webhook endpoint's signing secret)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key.material).encrypt(nonce, secret.encode(), _associated_data(officer_id, column, table))
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}:{key.id}:{body}"


def key_id_of(stored: str) -> str | None:
    """The id of the key that sealed ``stored``; None if it is not sealed in a known format."""
    version, _, rest = stored.partition(":")
    key_id, _, _ = rest.partition(":")
    return key_id if version == VERSION and key_id else None


def unseal(key: TwoStepKey, officer_id: int, column: str, stored: str, *, table: str = "officers") -> str:
    found = key_id_of(stored)
    if found is None:
        raise SecretUnreadable(officer_id, column, "it is not encrypted (run flask db upgrade)", None)
    if found != key.id:
        raise SecretUnreadable(officer_id, column, f"it was encrypted under key {found}, not key {key.id}", found)
    body = stored.split(":", 2)[2]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        clear = AESGCM(key.material).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(officer_id, column, table)
        )
    except (binascii.Error, ValueError, InvalidTag):
        raise SecretUnreadable(
            officer_id, column, f"it does not belong to this officer or was altered (key {found})", found
        ) from None
    return clear.decode()


# --- an officer's secrets -------------------------------------------------------------------


def secret_in_use(key: TwoStepKey, officer: Officer) -> str | None:
    return None if officer.totp_secret is None else unseal(key, officer.id, IN_USE, officer.totp_secret)


def secret_being_set_up(key: TwoStepKey, officer: Officer) -> str | None:
    stored = officer.totp_pending_secret
    return None if stored is None else unseal(key, officer.id, BEING_SET_UP, stored)


def keep_in_use(key: TwoStepKey, officer: Officer, secret: str) -> None:
    officer.totp_secret = seal(key, officer.id, IN_USE, secret)


def keep_being_set_up(key: TwoStepKey, officer: Officer, secret: str | None) -> None:
    officer.totp_pending_secret = None if secret is None else seal(key, officer.id, BEING_SET_UP, secret)


def forget(officer: Officer) -> None:
    """Two-step verification off: no secret in use or being set up."""
    officer.totp_secret = officer.totp_pending_secret = None


# --- the whole table: the start-up check and rotation ---------------------------------------


def _stored(rows: Iterable[tuple[int, str | None, str | None]]) -> list[tuple[int, str, str]]:
    """(officer id, column, stored value) of each secret in rows of (id, in use, being set up)."""
    return [
        (officer_id, column, stored)
        for officer_id, *values in rows
        for column, stored in zip(COLUMNS, values, strict=True)
        if stored is not None
    ]


_WITH_SECRETS = or_(Officer.totp_secret.is_not(None), Officer.totp_pending_secret.is_not(None))


def unreadable(connection: Connection | Session, key: TwoStepKey) -> list[SecretUnreadable]:
    """Every sealed secret that ``key`` cannot open, read with one query. A secret not sealed yet
    (the database is not migrated yet: the migration seals it) is left to the migration."""
    rows = connection.execute(
        select(Officer.id, Officer.totp_secret, Officer.totp_pending_secret).where(_WITH_SECRETS).order_by(Officer.id)
    )
    problems = []
    for officer_id, column, stored in _stored(rows):
        if key_id_of(stored) is None:
            continue
        try:
            unseal(key, officer_id, column, stored)
        except SecretUnreadable as problem:
            problems.append(problem)
    return problems


@dataclass(frozen=True)
class Rotated:
    in_use: int  # officers' secrets in use, sealed again
    being_set_up: int  # secrets waiting to be confirmed, sealed again

    @property
    def total(self) -> int:
        return self.in_use + self.being_set_up


def rotate(session: Session, old: TwoStepKey, new: TwoStepKey) -> Rotated:
    """Seal every secret again under ``new``, all or none: every row is locked and opened with
    ``old`` before any is written, and the first that does not open raises SecretUnreadable
    (the caller rolls back). Flushes only."""
    if new.id == old.id:
        raise KeyInvalid(f"The new two-step key is the key in use now (key {old.id}): make a new one.")
    officers = list(session.scalars(select(Officer).where(_WITH_SECRETS).order_by(Officer.id).with_for_update()))
    stored = _stored((officer.id, officer.totp_secret, officer.totp_pending_secret) for officer in officers)
    clear = [(officer_id, column, unseal(old, officer_id, column, value)) for officer_id, column, value in stored]
    by_id = {officer.id: officer for officer in officers}
    for officer_id, column, secret in clear:
        setattr(by_id[officer_id], column, seal(new, officer_id, column, secret))
    session.flush()
    in_use = sum(1 for _, column, _ in clear if column == IN_USE)
    return Rotated(in_use=in_use, being_set_up=len(clear) - in_use)
