"""The audit trail (DESIGN 5): one hash chain per claim, and one for the console's changes outside
any claim (the admin log: officer accounts, the regulation catalogue); append, verify, replay,
and signed checkpoints."""

from __future__ import annotations

import base64
import gc
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Dialect, Engine, create_engine, func, select, text
from sqlalchemy.pool import NullPool

from guarantee.models import AdminEvent, AuditEvent, Claim
from guarantee.models.audit import GENESIS_HASH
from guarantee.models.base import UTCDateTime
from guarantee.services.actors import Actor
from guarantee.services.context import ServiceContext
from workflows import INITIAL_STATE, TRANSITIONS_BY_TRIGGER

SUBMITTED = "submitted"
CHECKPOINT_FORMAT = "guarantee-audit-checkpoint/2"  # 2 adds the admin log's head
CHECKPOINT_FORMATS = ("guarantee-audit-checkpoint/1", CHECKPOINT_FORMAT)


_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _has_float(value: Any) -> bool:
    """Whether a float is anywhere in it (a loop, not recursion: every event's hash asks; only
    containers wait their turn, the text and numbers in them are looked at where they are)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            items = item.values()
        elif kind is list or kind is tuple:
            items = item
        elif isinstance(item, dict):
            items = item.values()
        elif isinstance(item, list | tuple):
            items = item
        else:
            if isinstance(item, float):
                return True
            continue
        for inner in items:
            kind = type(inner)
            if kind is str or kind is int or inner is None or kind is bool:
                continue
            if kind is float:
                return True
            pending.append(inner)
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


# What verification reads: plain rows through SQL text, with no type processing, so that millions
# of events are checked at the speed of hashing them. Each value is turned into what the ORM
# would give (``_occurred``, ``_payload``) only as far as the hashed document needs, byte for byte.
_CLAIMS_SQL = text("SELECT id, reference, state FROM claims WHERE id > :after AND id <= :last ORDER BY id LIMIT :batch")
_EVENTS_SQL = (
    "SELECT claim_id, seq, {occurred_at}, actor_type, actor_id, action, from_state, to_state, {payload}, prev_hash, "
    "hash FROM audit_events WHERE claim_id BETWEEN :first AND :last ORDER BY claim_id, seq"
)
# PostgreSQL writes the instant in UTC as the document has it, cheaper than a datetime made and
# written again here; the JSON as stored, for the engine's deserializer, as the ORM reads it.
_EVENTS = {
    "sqlite": text(_EVENTS_SQL.format(occurred_at="occurred_at", payload="payload")),
    "postgresql": text(
        _EVENTS_SQL.format(
            occurred_at="""to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""",
            payload="payload::text",
        )
    ),
}
_LAST_ID = 2**63 - 1
_SQLITE_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
_UTC_DATETIME = UTCDateTime()

# One event as verification sees it: (seq, occurred_at as UTC ISO text, actor_type, actor_id,
# action, from_state, to_state, payload, whether the payload holds no float, prev_hash, hash).
Link = tuple[int, str, str, "str | None", str, "str | None", "str | None", Any, bool, str, str]


def _occurred(value: Any, dialect: Dialect) -> str:
    """``occurred_at`` as the hashed document has it. SQLite keeps SQLAlchemy's naive UTC text:
    the usual form is rewritten as it stands; PostgreSQL's (see _EVENTS) is the document's
    already; anything else goes through the column's own type."""
    if type(value) is str:
        if _SQLITE_STAMP.fullmatch(value):
            return f"{value[:10]}T{value[11:]}+00:00"
        if dialect.name == "postgresql":
            if _UTC_STAMP.fullmatch(value):
                return value
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = _processed(dialect)(value)
    return str(value.astimezone(UTC).isoformat(timespec="microseconds"))


def _processed(dialect: Dialect) -> Callable[[Any], Any]:
    process = _UTC_DATETIME._cached_result_processor(dialect, None)
    return process if process is not None else lambda value: value


def _payload(stored: Any, loads: Callable[[str], Any]) -> tuple[Any, bool]:
    """The payload as the ORM reads it (JSON text through the engine's deserializer: orjson, as
    the service configures it), and whether it holds no float."""
    if type(stored) is str:
        stored = loads(stored)
    return stored, not _has_float(stored)


def _link(event: Any) -> Link:
    """An AuditEvent, or a row of its columns, as verification sees it."""
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    return (
        event.seq,
        occurred,
        event.actor_type,
        event.actor_id,
        event.action,
        event.from_state,
        event.to_state,
        event.payload,
        not _has_float(event.payload),
        event.prev_hash,
        event.hash,
    )


def check_chain(claim: Any, events: list[Any]) -> Problem | None:
    """The first broken link of one claim's chain, or None when it holds and replays."""
    return _check_links(claim.reference, claim.state, [_link(event) for event in events])


def _check_links(ref: str, claim_state: str, links: list[Link]) -> Problem | None:
    if not links:
        return Problem(ref, None, "the claim has no audit events at all")
    prev_hash, state = GENESIS_HASH, None
    sha256, dumps, options = hashlib.sha256, orjson.dumps, _ORJSON_OPTIONS
    for expected_seq, link in enumerate(links, start=1):
        seq, occurred, actor_type, actor_id, action, from_state, to_state, payload, plain, stored_prev, stored = link
        if seq != expected_seq:
            return Problem(ref, seq, f"sequence broken: expected event {expected_seq}, found {seq}")
        if stored_prev != prev_hash:
            return Problem(ref, seq, "prev_hash does not match the hash of the event before it")
        document = {
            "claim": ref,
            "seq": seq,
            "occurred_at": occurred,
            "actor_type": actor_type,
            "actor_id": actor_id,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "payload": payload,
        }
        try:
            # canonical_json, inlined: its float check needs only the payload (the rest is text and numbers).
            if not plain or type(seq) is not int:
                raise TypeError
            body = dumps(document, option=options)
        except TypeError:
            body = canonical_json(document)
        computed = sha256(prev_hash.encode() + body).hexdigest()
        if computed != stored:
            message = f"content does not match its hash (stored {stored[:12]}…, computed {computed[:12]}…)"
            return Problem(ref, seq, message)
        problem = _replay(state, action, from_state, to_state)
        if problem:
            return Problem(ref, seq, problem)
        if to_state is not None:
            state = to_state
        prev_hash = stored
    if state != claim_state:
        return Problem(ref, None, f"replaying the events gives state {state!r} but the claim is {claim_state!r}")
    return None


def _replay_step(state: str | None, event: Any) -> str | None:
    return _replay(state, event.action, event.from_state, event.to_state)


def _replay(state: str | None, action: str, from_state: str | None, to_state: str | None) -> str | None:
    if state is None:
        if action != SUBMITTED or to_state != INITIAL_STATE:
            return "the chain does not start with the submission"
        return None
    if to_state is None:
        return None if from_state is None else "a non-transition event names a from_state"
    transition = TRANSITIONS_BY_TRIGGER.get(action)
    if transition is None:
        return f"unknown trigger {action!r} changes the state"
    if from_state != state or state not in transition.sources or transition.dest != to_state:
        return f"{action} cannot move a claim from {state!r} to {to_state!r} (it was {from_state!r})"
    return None


@dataclass
class _Range:
    """What checking one range of claims found, merged in claim order by ``verify``."""

    claims: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Against a checkpoint: how many of its claims were found, and the problems with them by reference.
    recorded: int = 0
    against: list[tuple[str, Problem]] = field(default_factory=list)


Execute = Callable[[Any, dict[str, Any]], Any]


def _check_range(
    execute: Execute,
    dialect: Dialect,
    bounds: tuple[int, int],
    checkpoint: Checkpoint | None,
    progress: Callable[[int], None] | None = None,
    *,
    batch: int = 2000,
) -> _Range:
    """Check the chains of the claims with ``after < id <= last``, a batch of claims at a time."""
    with _no_cycle_collection():
        return _check_claims(execute, dialect, bounds, checkpoint, progress=progress, batch=batch)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Without the cycle collector, which would otherwise walk every payload read so far again
    and again (a third of the time); what verification makes holds no cycles, so nothing is kept."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_claims(
    execute: Execute,
    dialect: Dialect,
    bounds: tuple[int, int],
    checkpoint: Checkpoint | None,
    *,
    progress: Callable[[int], None] | None,
    batch: int,
) -> _Range:
    after, last = bounds
    found = _Range()
    events_sql = _EVENTS["postgresql" if dialect.name == "postgresql" else "sqlite"]
    occurred, payload = _occurred, _payload
    loads = getattr(dialect, "_json_deserializer", None) or json.loads
    while True:
        claims = execute(_CLAIMS_SQL, {"after": after, "last": last, "batch": batch}).all()
        if not claims:
            return found
        links: dict[int, list[Link]] = {claim[0]: [] for claim in claims}
        rows = execute(events_sql, {"first": claims[0][0], "last": claims[-1][0]}).all()
        for claim_id, seq, at, actor_type, actor_id, action, from_, to, stored, prev, hash_ in rows:
            links[claim_id].append(
                (
                    seq,
                    occurred(at, dialect),
                    actor_type,
                    actor_id,
                    action,
                    from_,
                    to,
                    *payload(stored, loads),
                    prev,
                    hash_,
                )
            )
        for claim_id, reference, state in claims:
            chain = links[claim_id]
            found.claims += 1
            found.events += len(chain)
            problem = _check_links(reference, state, chain)
            if problem:
                found.problems.append(problem)
            if checkpoint is not None and reference in checkpoint.heads:
                found.recorded += 1
                head_seq = checkpoint.heads[reference][0]
                at_head = next((link[10] for link in chain if link[0] == head_seq), None)
                problem = checkpoint.problem(reference, chain[-1][0] if chain else 0, at_head)
                if problem:
                    found.against.append((reference, problem))
        if progress is not None:
            progress(len(claims))
        after = claims[-1][0]


# Below this many claims (or with one worker) verification runs in the caller's transaction.
PARALLEL_FROM = 5000
# Claims per range handed to a worker: small enough to share the work evenly and show progress.
RANGE_CLAIMS = 20_000


def verify(
    ctx: ServiceContext,
    checkpoint: Checkpoint | None = None,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Recompute every chain (each claim's, and the admin log) and replay each claim's;
    optionally compare with a checkpoint. Every broken chain is reported at its first broken link.

    ``workers`` above 1 hashes ranges of claims in that many processes, each with its own
    connection to the same database, once there are PARALLEL_FROM claims: they read only what is
    committed, so a caller with uncommitted rows of its own keeps the default. ``progress`` is
    called with the number of claims checked since its last call."""
    session = ctx.session
    dialect = session.get_bind().dialect
    report = VerifyReport(problems=[])
    ranges = _ranges(ctx, workers) if workers > 1 else None
    if ranges:
        results: Iterable[_Range] = _in_workers(ctx, ranges, checkpoint, workers, progress)
    else:
        results = [_check_range(session.execute, dialect, (0, _LAST_ID), checkpoint, progress)]
    recorded, against = 0, []
    assert report.problems is not None
    for result in results:
        report.claims += result.claims
        report.events += result.events
        report.problems += result.problems
        recorded += result.recorded
        against += result.against
    report.admin_events, problem = check_admin_log(_admin_log(ctx))
    if problem:
        report.problems.append(problem)
    if checkpoint is not None:
        report.problems += checkpoint.compare_admin(_admin_at(ctx, checkpoint.admin_head))
        if recorded < len(checkpoint.heads):
            present = set(session.scalars(select(Claim.reference)))
            against += [(ref, checkpoint.missing(ref)) for ref in checkpoint.heads if ref not in present]
        report.problems += [problem for _, problem in sorted(against, key=lambda item: item[0])]
    return report


def count_claims(ctx: ServiceContext) -> int:
    """How many chains ``verify`` checks (besides the admin log's): one for each claim."""
    return ctx.session.scalar(select(func.count()).select_from(Claim)) or 0


def _ranges(ctx: ServiceContext, workers: int) -> list[tuple[int, int]]:
    """Ranges of claim ids (after, last] of at most about RANGE_CLAIMS claims each, at least four
    for each worker; none when there are too few claims to be worth the processes."""
    low, high, count = ctx.session.execute(select(func.min(Claim.id), func.max(Claim.id), func.count())).one()
    if count < PARALLEL_FROM or low is None:
        return []
    parts = max(workers * 4, -(-count // RANGE_CLAIMS))  # four at least, so no core waits long at the end
    step = -(-(high - low + 1) // parts)
    bounds = [low - 1 + step * n for n in range(parts)] + [_LAST_ID]
    return list(itertools.pairwise(bounds))


_worker: dict[str, Any] = {}


def _start_worker(url: str, checkpoint: Checkpoint | None, loads: Callable[[str], Any] | None) -> None:
    # A forked worker inherits the caller's signal handlers: one that only notes SIGTERM (as a
    # command stopping cleanly does) would keep the pool from ending its workers, and verify would
    # wait for them for ever. The pool's workers end as processes do by default.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    engine = create_engine(url, poolclass=NullPool, json_deserializer=loads)
    _worker.update(engine=engine, checkpoint=checkpoint)


def _worker_range(bounds: tuple[int, int]) -> _Range:
    engine = _worker["engine"]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # One snapshot for the whole range: a claim and its events as of the same moment.
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return _check_range(connection.execute, engine.dialect, bounds, _worker["checkpoint"])


def only_thread() -> bool:
    """Whether this process runs one thread, as the system counts them: ``threading`` does not see
    threads started through ``_thread`` (as pytest-xdist's execnet starts its own), and forking
    beside any of them may copy a lock it holds. Where the system cannot say, False."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _in_workers(
    ctx: ServiceContext,
    ranges: list[tuple[int, int]],
    checkpoint: Checkpoint | None,
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[_Range]:
    """Each range checked in a worker process, the results in claim order. Forking is quicker
    than starting afresh, but safe only while this process has no other thread."""
    bind = ctx.session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    url = engine.url.render_as_string(hide_password=False)
    loads = getattr(engine.dialect, "_json_deserializer", None)
    ctx.session.rollback()  # this process holds no transaction while the workers read
    method = "fork" if only_thread() else "spawn"
    with multiprocessing.get_context(method).Pool(workers, _start_worker, (url, checkpoint, loads)) as pool:
        for result in pool.imap(_worker_range, ranges):
            if progress is not None:
                progress(result.claims)
            yield result


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
        problems = self.compare_admin(admin)
        for ref in sorted(self.heads):
            if ref not in found:
                problems.append(self.missing(ref))
                continue
            problem = self.problem(ref, *found[ref])
            if problem:
                problems.append(problem)
        return problems

    def compare_admin(self, admin: tuple[int, str | None]) -> list[Problem]:
        """The admin log now (its last seq, the hash at the checkpoint's head) against the checkpoint."""
        if self.admin_head is None or self.admin_head[0] <= 0:
            return []
        seq, head_hash = self.admin_head
        if admin[0] < seq:
            message = f"history truncated: the checkpoint recorded {seq} events, the log now ends at {admin[0]}"
            return [Problem(ADMIN_LOG, seq, message)]
        if admin[1] != head_hash:
            return [Problem(ADMIN_LOG, seq, "history rewritten: this event's hash differs from the checkpoint's")]
        return []

    def problem(self, ref: str, last_seq: int, hash_now: str | None) -> Problem | None:
        """One recorded chain now (its last seq, the hash at the recorded head) against the checkpoint."""
        seq, head_hash = self.heads[ref]
        if last_seq < seq:
            message = f"history truncated: the checkpoint recorded {seq} events, the chain now ends at {last_seq}"
            return Problem(ref, seq, message)
        if hash_now != head_hash:
            return Problem(ref, seq, "history rewritten: this event's hash differs from the checkpoint's")
        return None

    @staticmethod
    def missing(ref: str) -> Problem:
        return Problem(ref, None, "the claim is missing, but the checkpoint recorded it")


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
