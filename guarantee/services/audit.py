"""The audit trail (DESIGN 5): one hash chain per claim, and one for the console's changes outside
any claim (the admin log: officer accounts, the regulation catalogue); append, verify, replay,
and signed checkpoints."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, text

from guarantee.models import AdminEvent, AuditEvent, Claim
from guarantee.models.audit import GENESIS_HASH
from guarantee.services.actors import Actor
from guarantee.services.context import ServiceContext
from workflows import INITIAL_STATE, TRANSITIONS_BY_TRIGGER

SUBMITTED = "submitted"
CHECKPOINT_FORMAT = "guarantee-audit-checkpoint/2"  # 2 adds the admin log's head
CHECKPOINT_FORMATS = ("guarantee-audit-checkpoint/1", CHECKPOINT_FORMAT)


_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _has_float(value: Any) -> bool:
    """Whether a float is anywhere in it (a loop, not recursion: every event's hash asks)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is int or item is None:
            continue
        if kind is dict:
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif isinstance(item, float):
            return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def canonical_json(document: Any) -> bytes:
    """The bytes a hash or signature covers: keys sorted, no spaces, UTF-8 as it is, exactly as
    ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes them. orjson
    gives the same bytes many times faster (tests/test_audit.py checks it) except for floats,
    which it writes differently, and what it refuses (an integer beyond 64 bits, a key that is not
    a string): those go to the standard library, as every document did before."""
    if not _has_float(document):
        try:
            return orjson.dumps(document, option=_ORJSON_OPTIONS)
        except TypeError:
            pass
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def text_digest(text: str) -> str:
    """What the chain keeps of free text: its SHA-256, never the words."""
    return hashlib.sha256(text.encode()).hexdigest()


def event_document(reference: str, event: Any) -> dict[str, Any]:
    """What an event's hash covers (``event``: an AuditEvent, or a row of its columns)."""
    return {
        "claim": reference,
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": event.payload,
    }


def event_hash(prev_hash: str, reference: str, event: Any) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical_json(event_document(reference, event))).hexdigest()


def append_event(
    ctx: ServiceContext,
    claim: Claim,
    actor: Actor,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add the next link to the claim's chain. The caller holds the claim's row lock."""
    head = ctx.session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.claim_id == claim.id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    event = AuditEvent(
        claim_id=claim.id,
        seq=seq,
        occurred_at=ctx.now(),
        actor_type=actor.type,
        actor_id=actor.audit_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        payload=payload or {},
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, claim.reference, event)
    ctx.session.add(event)
    return event


# --- the admin log ---------------------------------------------------------------

ADMIN_LOG = "admin log"
# Taken for the rest of the transaction on PostgreSQL so that two appends queue for the head
# (SQLite's BEGIN IMMEDIATE already lets one writer in at a time).
_ADMIN_LOG_LOCK = 0x61646D6E  # "admn"


def admin_event_document(event: AdminEvent) -> dict[str, Any]:
    return {
        "log": "admin",
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "officer_id": event.officer_id,
        "regulation_id": event.regulation_id,
        "action": event.action,
        "payload": event.payload,
    }


def admin_event_hash(prev_hash: str, event: AdminEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical_json(admin_event_document(event))).hexdigest()


def append_admin_event(
    ctx: ServiceContext,
    actor_id: int | None,
    action: str,
    *,
    officer_id: int | None = None,
    regulation_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> AdminEvent:
    """Add the next link to the admin log. ``actor_id`` None is an operator at the command line."""
    if ctx.on_postgresql:
        ctx.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADMIN_LOG_LOCK})
    head = ctx.session.execute(select(AdminEvent.seq, AdminEvent.hash).order_by(AdminEvent.seq.desc()).limit(1)).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    event = AdminEvent(
        seq=seq,
        occurred_at=ctx.now(),
        actor_id=actor_id,
        officer_id=officer_id,
        regulation_id=regulation_id,
        action=action,
        payload=payload or {},
        prev_hash=prev_hash,
    )
    event.hash = admin_event_hash(prev_hash, event)
    ctx.session.add(event)
    ctx.session.flush()
    return event


def _admin_log(ctx: ServiceContext, batch: int = 1000) -> Iterator[AdminEvent]:
    last_seq = 0
    while True:
        events = list(
            ctx.session.scalars(
                select(AdminEvent).where(AdminEvent.seq > last_seq).order_by(AdminEvent.seq).limit(batch)
            )
        )
        yield from events
        if len(events) < batch:
            return
        last_seq = events[-1].seq
        ctx.session.expunge_all()


def check_admin_log(events: Iterable[AdminEvent]) -> tuple[int, Problem | None]:
    """(events read, the first broken link or None)."""
    prev_hash, count = GENESIS_HASH, 0
    for expected_seq, event in enumerate(events, start=1):
        count += 1
        if event.seq != expected_seq:
            return count, Problem(ADMIN_LOG, event.seq, f"sequence broken: expected event {expected_seq}")
        if event.prev_hash != prev_hash:
            return count, Problem(ADMIN_LOG, event.seq, "prev_hash does not match the hash of the event before it")
        computed = admin_event_hash(prev_hash, event)
        if computed != event.hash:
            message = f"content does not match its hash (stored {event.hash[:12]}…, computed {computed[:12]}…)"
            return count, Problem(ADMIN_LOG, event.seq, message)
        prev_hash = event.hash
    return count, None


# --- verification ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    reference: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"event {self.seq}" if self.seq is not None else "chain"
        return f"{self.reference} {where}: {self.message}"


@dataclass
class VerifyReport:
    claims: int = 0
    events: int = 0
    admin_events: int = 0
    problems: list[Problem] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# What verification reads of each claim and event: plain rows, not ORM objects, so that millions
# of events are checked at the speed of hashing them.
_CLAIM_COLUMNS = (Claim.id, Claim.reference, Claim.state)
_EVENT_COLUMNS = (
    AuditEvent.claim_id,
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.actor_type,
    AuditEvent.actor_id,
    AuditEvent.action,
    AuditEvent.from_state,
    AuditEvent.to_state,
    AuditEvent.payload,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _chains(ctx: ServiceContext, batch: int = 2000) -> Iterator[tuple[Any, list[Any]]]:
    """Every claim (id, reference, state) with its events in seq order, a batch of claims at a time."""
    last_id = 0
    while True:
        claims = ctx.session.execute(
            select(*_CLAIM_COLUMNS).where(Claim.id > last_id).order_by(Claim.id).limit(batch)
        ).all()
        if not claims:
            return
        events: dict[int, list[Any]] = {c.id: [] for c in claims}
        rows = ctx.session.execute(
            select(*_EVENT_COLUMNS)
            .where(AuditEvent.claim_id.between(claims[0].id, claims[-1].id))
            .order_by(AuditEvent.claim_id, AuditEvent.seq)
        )
        for event in rows:
            events[event.claim_id].append(event)
        for claim in claims:
            yield claim, events[claim.id]
        last_id = claims[-1].id


def check_chain(claim: Any, events: list[Any]) -> Problem | None:
    """The first broken link of one claim's chain, or None when it holds and replays."""
    ref = claim.reference
    if not events:
        return Problem(ref, None, "the claim has no audit events at all")
    prev_hash, state = GENESIS_HASH, None
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return Problem(ref, event.seq, f"sequence broken: expected event {expected_seq}, found {event.seq}")
        if event.prev_hash != prev_hash:
            return Problem(ref, event.seq, "prev_hash does not match the hash of the event before it")
        computed = event_hash(prev_hash, ref, event)
        if computed != event.hash:
            return Problem(
                ref,
                event.seq,
                f"content does not match its hash (stored {event.hash[:12]}…, computed {computed[:12]}…)",
            )
        problem = _replay_step(state, event)
        if problem:
            return Problem(ref, event.seq, problem)
        if event.to_state is not None:
            state = event.to_state
        prev_hash = event.hash
    if state != claim.state:
        return Problem(ref, None, f"replaying the events gives state {state!r} but the claim is {claim.state!r}")
    return None


def _replay_step(state: str | None, event: Any) -> str | None:
    if state is None:
        if event.action != SUBMITTED or event.to_state != INITIAL_STATE:
            return "the chain does not start with the submission"
        return None
    if event.to_state is None:
        return None if event.from_state is None else "a non-transition event names a from_state"
    transition = TRANSITIONS_BY_TRIGGER.get(event.action)
    if transition is None:
        return f"unknown trigger {event.action!r} changes the state"
    if event.from_state != state or state not in transition.sources or transition.dest != event.to_state:
        return f"{event.action} cannot move a claim from {state!r} to {event.to_state!r} (it was {event.from_state!r})"
    return None


def verify(ctx: ServiceContext, checkpoint: Checkpoint | None = None) -> VerifyReport:
    """Recompute every chain (each claim's, and the admin log) and replay each claim's;
    optionally compare with a checkpoint."""
    report = VerifyReport(problems=[])
    found: dict[str, tuple[int, str | None]] = {}
    assert report.problems is not None
    for claim, events in _chains(ctx):
        report.claims += 1
        report.events += len(events)
        problem = check_chain(claim, events)
        if problem:
            report.problems.append(problem)
        if checkpoint is not None:
            found[claim.reference] = checkpoint.observe(claim.reference, events)
    report.admin_events, problem = check_admin_log(_admin_log(ctx))
    if problem:
        report.problems.append(problem)
    if checkpoint is not None:
        report.problems.extend(checkpoint.compare(found, _admin_at(ctx, checkpoint.admin_head)))
    return report


def _admin_at(ctx: ServiceContext, head: tuple[int, str] | None) -> tuple[int, str | None]:
    """The admin log's last seq, and the hash now at the seq a checkpoint recorded as its head."""
    last = ctx.session.scalar(select(AdminEvent.seq).order_by(AdminEvent.seq.desc()).limit(1)) or 0
    at = None if head is None else ctx.session.scalar(select(AdminEvent.hash).where(AdminEvent.seq == head[0]))
    return last, at


# --- checkpoints ----------------------------------------------------------------


def load_or_create_signing_key(path: str | Path) -> Ed25519PrivateKey:
    path = Path(path)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass
class Checkpoint:
    created_at: str
    heads: dict[str, tuple[int, str]]  # reference -> (seq, hash) of the chain head
    admin_head: tuple[int, str] | None = None  # (seq, hash) of the admin log's head; None in format 1

    def observe(self, reference: str, events: list[AuditEvent]) -> tuple[int, str | None]:
        """What the checkpoint needs of a chain now: its last seq, and the hash at the
        seq the checkpoint recorded as head."""
        head_seq = self.heads.get(reference, (0, ""))[0]
        at_head = next((e.hash for e in events if e.seq == head_seq), None)
        return (events[-1].seq if events else 0), at_head

    def body(self) -> dict[str, Any]:
        ordered = sorted(self.heads.items())
        return {
            "format": CHECKPOINT_FORMAT,
            "created_at": self.created_at,
            "claims": len(ordered),
            "heads": [[ref, seq, h] for ref, (seq, h) in ordered],
            "admin_head": list(self.admin_head or (0, GENESIS_HASH)),
        }

    def compare(self, found: dict[str, tuple[int, str | None]], admin: tuple[int, str | None]) -> list[Problem]:
        problems = []
        if self.admin_head is not None and self.admin_head[0] > 0:
            seq, head_hash = self.admin_head
            if admin[0] < seq:
                message = f"history truncated: the checkpoint recorded {seq} events, the log now ends at {admin[0]}"
                problems.append(Problem(ADMIN_LOG, seq, message))
            elif admin[1] != head_hash:
                problems.append(
                    Problem(ADMIN_LOG, seq, "history rewritten: this event's hash differs from the checkpoint's")
                )
        for ref, (seq, head_hash) in sorted(self.heads.items()):
            if ref not in found:
                problems.append(Problem(ref, None, "the claim is missing, but the checkpoint recorded it"))
                continue
            last_seq, hash_now = found[ref]
            if last_seq < seq:
                problems.append(
                    Problem(
                        ref,
                        seq,
                        f"history truncated: the checkpoint recorded {seq} events, the chain now ends at {last_seq}",
                    )
                )
            elif hash_now != head_hash:
                problems.append(Problem(ref, seq, "history rewritten: this event's hash differs from the checkpoint's"))
        return problems


def make_checkpoint(ctx: ServiceContext) -> Checkpoint:
    heads: dict[str, tuple[int, str]] = {}
    rows = ctx.session.execute(
        select(Claim.reference, AuditEvent.seq, AuditEvent.hash)
        .join(AuditEvent, AuditEvent.claim_id == Claim.id)
        .order_by(Claim.id, AuditEvent.seq)
    )
    for reference, seq, event_hash_ in rows:
        heads[reference] = (seq, event_hash_)
    admin_head = ctx.session.execute(
        select(AdminEvent.seq, AdminEvent.hash).order_by(AdminEvent.seq.desc()).limit(1)
    ).first()
    return Checkpoint(
        created_at=ctx.now().isoformat(timespec="seconds"),
        heads=heads,
        admin_head=(admin_head.seq, admin_head.hash) if admin_head else (0, GENESIS_HASH),
    )


def write_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey, path: str | Path) -> None:
    body = checkpoint.body()
    signed = {
        **body,
        "public_key": base64.b64encode(_public_bytes(key.public_key())).decode(),
        "signature": base64.b64encode(key.sign(canonical_json(body))).decode(),
    }
    Path(path).write_text(json.dumps(signed, indent=1) + "\n")


class CheckpointInvalid(Exception):
    pass


def read_checkpoint(path: str | Path, trusted_key: Ed25519PublicKey) -> Checkpoint:
    """Read a checkpoint and check its signature against the key we trust (never the file's own)."""
    try:
        signed = json.loads(Path(path).read_text())
        keys = ("format", "created_at", "claims", "heads") + (
            ("admin_head",) if signed["format"] != CHECKPOINT_FORMATS[0] else ()
        )
        body = {k: signed[k] for k in keys}
        signature = base64.b64decode(signed["signature"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"{path} is not a readable checkpoint: {exc}") from exc
    if body["format"] not in CHECKPOINT_FORMATS:
        raise CheckpointInvalid(f"{path} has unknown format {body['format']!r}")
    try:
        trusted_key.verify(signature, canonical_json(body))
    except InvalidSignature as exc:
        raise CheckpointInvalid(f"{path}: the signature does not match this service's signing key") from exc
    try:
        heads = {ref: (int(seq), str(h)) for ref, seq, h in body["heads"]}
        admin_head = (int(body["admin_head"][0]), str(body["admin_head"][1])) if "admin_head" in body else None
    except (ValueError, TypeError, IndexError) as exc:
        raise CheckpointInvalid(f"{path} is not a readable checkpoint: {exc}") from exc
    return Checkpoint(created_at=body["created_at"], heads=heads, admin_head=admin_head)
