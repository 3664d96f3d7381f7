"""The audit chain (DESIGN 5): how it is built, how `audit verify` catches tampering,
signed checkpoints, the append-only rule on PostgreSQL, erasure, and racing officers."""

from __future__ import annotations

import _thread
import base64
import hashlib
import io
import itertools
import json
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Engine, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from guarantee import cli
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AdminEvent, AuditEvent, Base, Claim, Contact, Regulation
from guarantee.models.audit import GENESIS_HASH
from guarantee.services import admin, audit, regulations
from guarantee.services.actors import SystemActor
from guarantee.services.casework import add_note, erase_contact
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.demo import seed_demo
from guarantee.services.errors import Conflict, Forbidden, StaleClaim, TriggerNotAllowed
from tests.conftest import START
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, make_officer, walk
from workflows import INITIAL_STATE

# --- helpers --------------------------------------------------------------------


def _run_as_superuser(
    session: Session, statements: list[tuple[str, dict[str, Any]]], table: str = "audit_events"
) -> None:
    """Run raw SQL the way an attacker with full rights on the database would.

    On PostgreSQL the append-only trigger refuses UPDATE/DELETE on audit_events, so a
    superuser first disables it (and puts it back). Cached ORM state is dropped afterwards.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    for sql, params in statements:
        statement = text(sql)
        if "payload" in params:
            statement = statement.bindparams(bindparam("payload", type_=JSON))
        session.execute(statement, params)
    if postgresql:
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    session.expire_all()


def _events(session: Session, reference: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .join(Claim, Claim.id == AuditEvent.claim_id)
            .where(Claim.reference == reference)
            .order_by(AuditEvent.seq)
            .execution_options(populate_existing=True)
        )
    )


def _claim_id(session: Session, reference: str) -> int:
    return session.scalar(select(Claim.id).where(Claim.reference == reference))


def _first_claim_in(session: Session, state: str) -> str:
    reference = session.scalar(select(Claim.reference).where(Claim.state == state).order_by(Claim.id).limit(1))
    assert reference is not None, f"the demo data has no claim that is {state}"
    return reference


def _link(prev_hash: str, reference: str, event: Any, payload: dict[str, Any] | None = None) -> str:
    """SHA-256(prev_hash || canonical JSON of the event), written out independently of the service."""
    document = {
        "claim": reference,
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": event.payload if payload is None else payload,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


def _problems(report: audit.VerifyReport) -> list[audit.Problem]:
    assert report.problems is not None
    return report.problems


def _only_problem(report: audit.VerifyReport) -> audit.Problem:
    problems = _problems(report)
    assert not report.ok
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def _edit_payload(session: Session, reference: str, seq: int, payload: dict[str, Any]) -> None:
    _run_as_superuser(
        session,
        [
            (
                "UPDATE audit_events SET payload = :payload WHERE claim_id = :claim AND seq = :seq",
                {"payload": payload, "claim": _claim_id(session, reference), "seq": seq},
            )
        ],
    )


def _delete_event(session: Session, reference: str, seq: int) -> None:
    _run_as_superuser(
        session,
        [
            (
                "DELETE FROM audit_events WHERE claim_id = :claim AND seq = :seq",
                {"claim": _claim_id(session, reference), "seq": seq},
            )
        ],
    )


def _new_claim(ctx: ServiceContext, cast: Cast, *triggers: str) -> str:
    reference = submit_claim(ctx, VALID_SUBMISSION).reference
    walk(ctx, cast, reference, *triggers)
    return reference


@pytest.fixture
def seeded(ctx: ServiceContext) -> ServiceContext:
    seed_demo(ctx, 24)
    ctx.session.flush()
    return ctx


@pytest.fixture
def signing_key(tmp_path: Path) -> Ed25519PrivateKey:
    return audit.load_or_create_signing_key(tmp_path / "signing-key.pem")


# --- the chain itself -----------------------------------------------------------


def test_each_chain_starts_at_the_genesis_hash_and_every_prev_hash_is_the_hash_before_it(ctx):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast, "accept", "request_information", "provide_information", "uphold")
    add_note(ctx, reference, cast.reviewer, "Spoke to the group lead on the phone.")
    ctx.session.flush()

    events = _events(ctx.session, reference)
    assert GENESIS_HASH == "0" * 64
    assert events[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in events}) == len(events)


def test_an_event_hash_is_sha256_of_prev_hash_and_the_canonical_json_of_the_event(ctx):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast, "accept", "uphold")
    add_note(ctx, reference, cast.reviewer, "Café owner says «non» to the waiver – ünïcode kept as is.")
    ctx.session.flush()

    events = _events(ctx.session, reference)
    assert [e.action for e in events] == ["submitted", "accept", "uphold", "note_added"]
    for event in events:
        assert len(event.hash) == 64
        assert event.hash == _link(event.prev_hash, reference, event)
        assert event.hash == audit.event_hash(event.prev_hash, reference, event)


def test_seq_is_contiguous_from_one_per_claim_and_each_claim_has_its_own_chain(ctx):
    cast = Cast(ctx)
    first = _new_claim(ctx, cast, "accept", "request_information")
    second = _new_claim(ctx, cast, "decline")
    add_note(ctx, first, cast.triage, "A second note on the first claim.")
    ctx.session.flush()

    for reference, count in ((first, 4), (second, 2)):
        events = _events(ctx.session, reference)
        assert [e.seq for e in events] == list(range(1, count + 1))
        assert events[0].action == "submitted"
        assert events[0].prev_hash == GENESIS_HASH
    assert audit.verify(ctx).ok


def test_the_chain_keeps_codes_and_hashes_of_free_text_never_the_words(ctx):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast, "accept", "uphold")
    submitted, _, upheld = _events(ctx.session, reference)

    assert submitted.payload["codes"]["sector"] == VALID_SUBMISSION["initiative"]["sector"]
    description = VALID_SUBMISSION["initiative"]["description"]
    assert (
        submitted.payload["text_sha256"]["initiative_description"] == hashlib.sha256(description.encode()).hexdigest()
    )
    assert submitted.payload["contact_fields"] == ["contact_name", "email", "phone"]
    assert upheld.payload["text_sha256"]["reasons"] == hashlib.sha256(INPUTS["uphold"]["reasons"].encode()).hexdigest()
    chain = json.dumps([e.payload for e in (submitted, upheld)], ensure_ascii=False)
    for words in (description, INPUTS["uphold"]["reasons"], *VALID_SUBMISSION["group"].values()):
        assert words not in chain


# --- audit verify: seeded data and tampering ------------------------------------


def test_verify_passes_on_seeded_demo_data(seeded):
    report = audit.verify(seeded)

    assert report.ok, [str(p) for p in _problems(report)]
    assert report.claims == 24
    assert report.events == seeded.session.scalar(select(func.count()).select_from(AuditEvent))


def test_verify_names_the_claim_and_event_whose_payload_was_edited(seeded):
    reference = _first_claim_in(seeded.session, "upheld")
    accept = _events(seeded.session, reference)[1]
    assert accept.action == "accept"
    _edit_payload(seeded.session, reference, 2, {**accept.payload, "input": {"category": "other"}})

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, 2)
    assert "content does not match its hash" in problem.message
    assert str(problem).startswith(f"{reference} event 2:")


def test_verify_names_the_next_event_when_an_edited_event_is_also_rehashed(seeded):
    reference = _first_claim_in(seeded.session, "upheld")
    accept = _events(seeded.session, reference)[1]
    forged = {**accept.payload, "input": {"category": "other"}}
    _run_as_superuser(
        seeded.session,
        [
            (
                "UPDATE audit_events SET payload = :payload, hash = :hash WHERE claim_id = :claim AND seq = 2",
                {
                    "payload": forged,
                    "hash": _link(accept.prev_hash, reference, accept, forged),
                    "claim": accept.claim_id,
                },
            )
        ],
    )

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, 3)
    assert "prev_hash" in problem.message


def test_verify_names_the_claim_and_the_event_after_a_deleted_one(seeded):
    # On PostgreSQL the trigger refuses this (see below); an attacker who can disable it is simulated.
    reference = _first_claim_in(seeded.session, "appealed")
    # submitted, accept, not_uphold, (statement_published, when the demo approved it), appeal
    assert [e.seq for e in _events(seeded.session, reference)][:4] == [1, 2, 3, 4]
    _delete_event(seeded.session, reference, 2)

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, 3)
    assert "sequence broken: expected event 2, found 3" in problem.message


def test_verify_reports_a_claim_whose_first_event_was_deleted(seeded):
    reference = _first_claim_in(seeded.session, "appealed")
    _delete_event(seeded.session, reference, 1)

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, 2)
    assert "expected event 1" in problem.message


def test_verify_reports_a_claim_whose_whole_chain_was_deleted(seeded):
    reference = _first_claim_in(seeded.session, "closed")
    _run_as_superuser(
        seeded.session,
        [("DELETE FROM audit_events WHERE claim_id = :claim", {"claim": _claim_id(seeded.session, reference)})],
    )

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, None)
    assert "no audit events" in problem.message


def test_verify_names_the_claim_and_event_when_two_events_swap_seq(seeded):
    reference = _first_claim_in(seeded.session, "appealed")
    claim = _claim_id(seeded.session, reference)
    swap = "UPDATE audit_events SET seq = :new WHERE claim_id = :claim AND seq = :old"
    # UNIQUE(claim_id, seq) forces a detour through a free value.
    _run_as_superuser(
        seeded.session,
        [
            (swap, {"claim": claim, "old": 2, "new": -2}),
            (swap, {"claim": claim, "old": 3, "new": 2}),
            (swap, {"claim": claim, "old": -2, "new": 3}),
        ],
    )
    actions = [e.action for e in _events(seeded.session, reference)]
    assert actions[:3] == ["submitted", "not_uphold", "accept"] and actions[-1] == "appeal"

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, 2)
    assert "prev_hash does not match" in problem.message


def test_verify_catches_an_event_moved_to_another_claim(seeded):
    victim = _first_claim_in(seeded.session, "upheld")
    other = _first_claim_in(seeded.session, "under_review")
    other_id = _claim_id(seeded.session, other)
    # Graft the victim's 'uphold' onto the other claim's chain, where it would fit by seq.
    _run_as_superuser(
        seeded.session,
        [
            (
                "UPDATE audit_events SET claim_id = :other WHERE claim_id = :victim AND seq = 3",
                {"other": other_id, "victim": _claim_id(seeded.session, victim)},
            )
        ],
    )

    problems = {(p.reference, p.seq) for p in _problems(audit.verify(seeded))}
    assert (other, 3) in problems  # its hash was made for the victim's reference
    # The victim's chain is broken too: a gap where 'uphold' was (before its statement's
    # publication), or a replay that stops short of 'upheld'.
    assert any(reference == victim for reference, _ in problems)


def test_verify_replay_catches_a_state_changed_directly_in_the_claims_table(seeded):
    reference = _first_claim_in(seeded.session, "under_review")
    seeded.session.execute(text("UPDATE claims SET state = 'upheld' WHERE reference = :ref"), {"ref": reference})
    seeded.session.expire_all()

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, None)
    assert "replaying the events gives state 'under_review' but the claim is 'upheld'" in problem.message


def test_verify_replay_catches_a_forged_transition_the_workflow_does_not_allow(seeded):
    # A correctly hashed event that jumps from submitted to upheld: the chain holds, the replay does not.
    reference = _first_claim_in(seeded.session, "closed")
    decline = _events(seeded.session, reference)[1]
    forged = SimpleNamespace(
        **{c: getattr(decline, c) for c in ("seq", "occurred_at", "actor_type", "actor_id", "from_state", "payload")}
    )
    forged.action, forged.to_state = "uphold", "upheld"
    new_hash = _link(decline.prev_hash, reference, forged)
    _run_as_superuser(
        seeded.session,
        [
            (
                "UPDATE audit_events SET action = 'uphold', to_state = 'upheld', hash = :hash WHERE id = :id",
                {"hash": new_hash, "id": decline.id},
            ),
            ("UPDATE claims SET state = 'upheld' WHERE reference = :ref", {"ref": reference}),
        ],
    )

    problem = _only_problem(audit.verify(seeded))
    assert (problem.reference, problem.seq) == (reference, 2)
    assert "uphold cannot move a claim from 'submitted'" in problem.message


# --- checkpoints ----------------------------------------------------------------


def test_a_checkpoint_reports_a_chain_truncated_after_it_even_when_replay_still_passes(seeded, tmp_path, signing_key):
    reference = _first_claim_in(seeded.session, "under_review")
    add_note(seeded, reference, make_officer(seeded, "reviewer"), "Checked with the planning team.")
    seeded.session.flush()
    note_seq = _events(seeded.session, reference)[-1].seq
    assert note_seq == 3
    audit.write_checkpoint(audit.make_checkpoint(seeded), signing_key, tmp_path / "cp.json")
    checkpoint = audit.read_checkpoint(tmp_path / "cp.json", signing_key.public_key())
    assert audit.verify(seeded, checkpoint).ok

    _delete_event(seeded.session, reference, note_seq)

    assert audit.verify(seeded).ok, "removing a trailing note leaves a chain that replays"
    problem = _only_problem(audit.verify(seeded, checkpoint))
    assert (problem.reference, problem.seq) == (reference, note_seq)
    assert "truncated" in problem.message
    assert f"{reference} event {note_seq}" in str(problem)


def test_a_checkpoint_reports_history_rewritten_and_rehashed_after_it(seeded, signing_key, tmp_path):
    reference = _first_claim_in(seeded.session, "upheld")
    audit.write_checkpoint(audit.make_checkpoint(seeded), signing_key, tmp_path / "cp.json")
    checkpoint = audit.read_checkpoint(tmp_path / "cp.json", signing_key.public_key())

    # Rewrite the 'accept' and recompute every hash after it: the chain is self-consistent again.
    events = _events(seeded.session, reference)
    statements: list[tuple[str, dict[str, Any]]] = []
    prev_hash = events[0].hash
    for event in events[1:]:
        payload = {**event.payload, "input": {"category": "other"}} if event.action == "accept" else event.payload
        new_hash = _link(prev_hash, reference, event, payload)
        statements.append(
            (
                "UPDATE audit_events SET payload = :payload, prev_hash = :prev, hash = :hash WHERE id = :id",
                {"payload": payload, "prev": prev_hash, "hash": new_hash, "id": event.id},
            )
        )
        prev_hash = new_hash
    _run_as_superuser(seeded.session, statements)

    assert audit.verify(seeded).ok
    problem = _only_problem(audit.verify(seeded, checkpoint))
    assert (problem.reference, problem.seq) == (reference, len(events))
    assert "rewritten" in problem.message


def test_a_chain_that_grew_after_the_checkpoint_still_matches_it(seeded, signing_key, tmp_path):
    audit.write_checkpoint(audit.make_checkpoint(seeded), signing_key, tmp_path / "cp.json")
    checkpoint = audit.read_checkpoint(tmp_path / "cp.json", signing_key.public_key())
    reference = _first_claim_in(seeded.session, "submitted")
    fire(seeded, reference, "accept", make_officer(seeded, "triage"), INPUTS["accept"])
    new = submit_claim(seeded, VALID_SUBMISSION).reference
    seeded.session.flush()

    report = audit.verify(seeded, checkpoint)
    assert report.ok, [str(p) for p in _problems(report)]
    assert reference in checkpoint.heads
    assert new not in checkpoint.heads


def test_a_checkpoint_round_trips_through_its_signed_file(seeded, signing_key, tmp_path):
    made = audit.make_checkpoint(seeded)
    audit.write_checkpoint(made, signing_key, tmp_path / "cp.json")

    read = audit.read_checkpoint(tmp_path / "cp.json", signing_key.public_key())
    assert read.heads == made.heads
    assert read.created_at == made.created_at
    assert len(read.heads) == 24
    for reference, (seq, head) in read.heads.items():
        last = _events(seeded.session, reference)[-1]
        assert (seq, head) == (last.seq, last.hash)
    signed = json.loads((tmp_path / "cp.json").read_text())
    assert signed["format"] == audit.CHECKPOINT_FORMAT
    assert signed["claims"] == 24


def _small_checkpoint() -> audit.Checkpoint:
    return audit.Checkpoint(
        created_at="2026-11-02T10:00:00+00:00",
        heads={"CPG-2026-000001": (3, "a" * 64), "CPG-2026-000002": (1, "b" * 64)},
    )


def test_a_checkpoint_signed_with_another_key_is_rejected_even_though_it_carries_that_key(signing_key, tmp_path):
    attacker = Ed25519PrivateKey.generate()
    audit.write_checkpoint(_small_checkpoint(), attacker, tmp_path / "cp.json")

    with pytest.raises(audit.CheckpointInvalid, match="signature does not match"):
        audit.read_checkpoint(tmp_path / "cp.json", signing_key.public_key())
    assert audit.read_checkpoint(tmp_path / "cp.json", attacker.public_key()).heads == _small_checkpoint().heads


def _lower_a_head(signed: dict[str, Any]) -> None:
    signed["heads"][0][1] -= 1


def _rehash_a_head(signed: dict[str, Any]) -> None:
    signed["heads"][0][2] = "0" * 64


def _drop_a_head(signed: dict[str, Any]) -> None:
    signed["heads"].pop()
    signed["claims"] -= 1


def _add_a_head(signed: dict[str, Any]) -> None:
    signed["heads"].append(["CPG-2026-000003", 1, "c" * 64])


def _redate(signed: dict[str, Any]) -> None:
    signed["created_at"] = "2027-01-01T00:00:00+00:00"


def _zero_signature(signed: dict[str, Any]) -> None:
    signed["signature"] = base64.b64encode(bytes(64)).decode()


def _garble_signature(signed: dict[str, Any]) -> None:
    signed["signature"] = "not base64 at all!"


def _drop_signature(signed: dict[str, Any]) -> None:
    del signed["signature"]


def _change_format(signed: dict[str, Any]) -> None:
    signed["format"] = "guarantee-audit-checkpoint/0"


@pytest.mark.parametrize(
    "tamper",
    [
        _lower_a_head,
        _rehash_a_head,
        _drop_a_head,
        _add_a_head,
        _redate,
        _zero_signature,
        _garble_signature,
        _drop_signature,
        _change_format,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_tampered_checkpoint_file_is_rejected(signing_key, tmp_path, tamper: Callable[[dict[str, Any]], None]):
    path = tmp_path / "cp.json"
    audit.write_checkpoint(_small_checkpoint(), signing_key, path)
    assert audit.read_checkpoint(path, signing_key.public_key()).heads == _small_checkpoint().heads
    signed = json.loads(path.read_text())
    tamper(signed)
    path.write_text(json.dumps(signed))

    with pytest.raises(audit.CheckpointInvalid):
        audit.read_checkpoint(path, signing_key.public_key())


@pytest.mark.parametrize("content", ["", "not json", "[1, 2, 3]", '"a string"', "{}"])
def test_a_file_that_is_not_a_checkpoint_is_rejected(signing_key, tmp_path, content):
    path = tmp_path / "cp.json"
    path.write_text(content)

    with pytest.raises(audit.CheckpointInvalid, match="not a readable checkpoint"):
        audit.read_checkpoint(path, signing_key.public_key())


def test_the_signing_key_is_made_once_private_to_its_owner_and_reloaded(tmp_path):
    path = tmp_path / "keys" / "signing-key.pem"
    made = audit.load_or_create_signing_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = audit.load_or_create_signing_key(path)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert again.public_key().public_bytes(*raw) == made.public_key().public_bytes(*raw)


def test_a_signing_key_file_that_is_not_ed25519_is_refused(tmp_path):
    path = tmp_path / "ec.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    with pytest.raises(ValueError, match="Ed25519"):
        audit.load_or_create_signing_key(path)


# --- the command line, on a committed database -----------------------------------


@pytest.fixture
def committed_claim(app) -> str:
    """A committed claim with a note as its last event: submitted, accept, uphold, note_added."""
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = _new_claim(ctx, cast, "accept", "uphold")
        add_note(ctx, reference, cast.reviewer, "Phoned the group to explain the decision.")
        _new_claim(ctx, cast, "decline")  # a bystander that stays intact
    return reference


def _verify(runner, *options: str):
    return runner.invoke(args=["guarantee", "audit", "verify", *options])


def test_cli_verify_passes_then_names_the_claim_and_event_after_a_payload_is_edited(app, runner, committed_claim):
    passed = _verify(runner)
    assert passed.exit_code == 0, passed.output
    assert "Audit verify passed: 2 claims, 6 events, and the admin log's" in passed.output

    with app.app_context():
        payload = _events(db.session, committed_claim)[2].payload
        _edit_payload(db.session, committed_claim, 3, {**payload, "input": {"remedy": "other"}})
        db.session.commit()

    failed = _verify(runner)
    assert failed.exit_code == 1
    assert f"BROKEN {committed_claim} event 3: content does not match its hash" in failed.output
    assert "Audit verify failed: 1 problem(s) in 2 claims and the admin log." in failed.output


def test_cli_verify_against_a_checkpoint_names_the_claim_and_event_of_a_truncated_chain(
    app, runner, committed_claim, tmp_path
):
    checkpoint = tmp_path / "checkpoint.json"
    written = runner.invoke(args=["guarantee", "audit", "checkpoint", "-o", str(checkpoint)])
    assert written.exit_code == 0, written.output
    assert f"Checkpoint of 2 chains and the admin log written to {checkpoint}." in written.output
    matched = _verify(runner, "--checkpoint", str(checkpoint))
    assert matched.exit_code == 0, matched.output
    assert "matching checkpoint of" in matched.output

    with app.app_context():
        _delete_event(db.session, committed_claim, 4)  # the trailing note
        db.session.commit()

    assert _verify(runner).exit_code == 0, "without the checkpoint the shortened chain still replays"
    failed = _verify(runner, "--checkpoint", str(checkpoint))
    assert failed.exit_code == 1
    assert f"BROKEN {committed_claim} event 4: history truncated" in failed.output


def test_cli_verify_refuses_a_checkpoint_not_signed_by_the_service_key(app, runner, committed_claim, tmp_path):
    attacker = Ed25519PrivateKey.generate()
    checkpoint, public = tmp_path / "forged.json", tmp_path / "attacker.pub.pem"
    with app.app_context():
        ctx = ServiceContext(session=db.session)
        audit.write_checkpoint(audit.make_checkpoint(ctx), attacker, checkpoint)
        db.session.rollback()
    public.write_bytes(
        attacker.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    keyless = _verify(runner, "--checkpoint", str(checkpoint))
    assert keyless.exit_code == 1
    assert "There is no signing key" in keyless.output, "verify must never make a key of its own"
    audit.load_or_create_signing_key(app.config["GUARANTEE_AUDIT_SIGNING_KEY"])  # the service's own key
    refused = _verify(runner, "--checkpoint", str(checkpoint))
    assert refused.exit_code == 1
    assert "the signature does not match this service's signing key" in refused.output
    trusted = _verify(runner, "--checkpoint", str(checkpoint), "--public-key", str(public))
    assert trusted.exit_code == 0, trusted.output


# --- PostgreSQL keeps audit_events append-only ----------------------------------


@pytest.fixture
def pg_ctx(ctx: ServiceContext, database) -> ServiceContext:
    if database.backend != "postgresql":
        pytest.skip("the append-only trigger exists only on PostgreSQL; SQLite relies on verify and checkpoints")
    return ctx


@pytest.mark.parametrize(
    ("operation", "statement"),
    [
        ("UPDATE", "UPDATE audit_events SET action = 'withdraw' WHERE claim_id = :claim"),
        ("UPDATE", "UPDATE audit_events SET seq = seq + 100 WHERE claim_id = :claim"),
        ("DELETE", "DELETE FROM audit_events WHERE claim_id = :claim AND seq = 2"),
        ("TRUNCATE", "TRUNCATE audit_events"),
    ],
    ids=["update-action", "update-seq", "delete", "truncate"],
)
def test_postgresql_refuses_to_change_or_remove_audit_events(pg_ctx, operation, statement):
    cast = Cast(pg_ctx)
    reference = _new_claim(pg_ctx, cast, "accept")
    pg_ctx.session.flush()
    before = [(e.seq, e.hash) for e in _events(pg_ctx.session, reference)]

    with pytest.raises(DBAPIError) as refused, pg_ctx.session.begin_nested():
        params = {"claim": _claim_id(pg_ctx.session, reference)} if ":claim" in statement else {}
        pg_ctx.session.execute(text(statement), params)

    assert refused.value.orig.sqlstate == "42501"  # insufficient_privilege
    assert f"audit_events is append-only: {operation} is not allowed" in str(refused.value.orig)
    assert [(e.seq, e.hash) for e in _events(pg_ctx.session, reference)] == before
    assert audit.verify(pg_ctx).ok


def test_postgresql_still_lets_events_be_appended(pg_ctx):
    cast = Cast(pg_ctx)
    reference = _new_claim(pg_ctx, cast)
    walk(pg_ctx, cast, reference, "accept")
    add_note(pg_ctx, reference, cast.reviewer, "Appending is what the chain is for.")
    pg_ctx.session.execute(
        text(
            "INSERT INTO audit_events (claim_id, seq, occurred_at, actor_type, action, payload, prev_hash, hash) "
            "SELECT claim_id, 99, occurred_at, actor_type, 'raw_insert', payload, hash, hash FROM audit_events "
            "WHERE claim_id = :claim AND seq = 3"
        ),
        {"claim": _claim_id(pg_ctx.session, reference)},
    )

    assert [e.seq for e in _events(pg_ctx.session, reference)] == [1, 2, 3, 99]


# --- erasing a contact -------------------------------------------------------------


def _readable(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _tables_holding(session: Session, needles: list[str]) -> dict[str, set[str]]:
    """Each needle (case-insensitive) -> the table.column places it is found in, across every table."""
    found: dict[str, set[str]] = {needle: set() for needle in needles}
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                readable = _readable(value).casefold()
                for needle in needles:
                    if needle.casefold() in readable:
                        found[needle].add(f"{table.name}.{column}")
    return found


def _personal_data() -> list[str]:
    group = VALID_SUBMISSION["group"]
    return [group["contact_name"], group["email"], group["phone"], group["phone"].replace(" ", "")]


def test_erasing_a_contact_keeps_verify_green_and_leaves_no_personal_data_in_any_table(ctx):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast, "accept", "request_information", "provide_information", "not_uphold", "appeal")
    add_note(ctx, reference, cast.reviewer, "The group asked us to use email only.")
    ctx.session.flush()
    held = _tables_holding(ctx.session, _personal_data())
    assert held == {
        "Ada Lovelace-Testperson": {"contacts.contact_name"},
        "ada.testperson@example.org": {"contacts.email"},
        "01632 960 001": {"contacts.phone"},
        "01632960001": set(),
    }, "before erasure, personal data lives only in the contacts table"

    erase_contact(ctx, reference, cast.admin)
    ctx.session.flush()

    assert all(not places for places in _tables_holding(ctx.session, _personal_data()).values())
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == _claim_id(ctx.session, reference)))
    assert (contact.contact_name, contact.email, contact.phone) == (None, None, None)
    assert contact.erased_at is not None
    last = _events(ctx.session, reference)[-1]
    assert (last.action, last.actor_id, last.from_state, last.to_state) == (
        "contact_erased",
        cast.admin.audit_id,
        None,
        None,
    )
    assert last.payload == {"fields": ["contact_name", "email", "phone"]}
    report = audit.verify(ctx)
    assert report.ok, [str(p) for p in _problems(report)]


def test_the_system_may_erase_a_contact_and_verify_stays_green(ctx):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast, "decline")

    erase_contact(ctx, reference, SystemActor("retention"))

    assert _events(ctx.session, reference)[-1].actor_id == "retention"
    assert audit.verify(ctx).ok


@pytest.mark.parametrize("role", ["triage", "reviewer", "appeal_panel"])
def test_only_admins_may_erase_contact_details(ctx, role):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast)
    events_before = len(_events(ctx.session, reference))

    with pytest.raises(Forbidden):
        erase_contact(ctx, reference, getattr(cast, role))

    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == _claim_id(ctx.session, reference)))
    assert contact.email == VALID_SUBMISSION["group"]["email"]
    assert contact.erased_at is None
    assert len(_events(ctx.session, reference)) == events_before


def test_erasing_a_contact_twice_is_a_conflict(ctx):
    cast = Cast(ctx)
    reference = _new_claim(ctx, cast)
    erase_contact(ctx, reference, cast.admin)
    events_after_first = len(_events(ctx.session, reference))

    with pytest.raises(Conflict, match="already erased"):
        erase_contact(ctx, reference, cast.admin)

    assert len(_events(ctx.session, reference)) == events_after_first
    assert audit.verify(ctx).ok


# --- racing officers, on a committed database ------------------------------------


@pytest.fixture
def committed_engine(database) -> Iterator[Engine]:
    engine = database.engine(database.copy())
    yield engine
    engine.dispose()


def _at_once(engine: Engine, clock, attempts: list[Callable[[ServiceContext], Any]]) -> list[Any]:
    """Run each attempt in its own thread and session, released together; commit the ones that succeed.

    Returns, per attempt, "committed" or the exception it raised.
    """
    barrier = threading.Barrier(len(attempts), timeout=30)
    outcomes: list[Any] = [None] * len(attempts)

    def run(index: int, attempt: Callable[[ServiceContext], Any]) -> None:
        try:
            with Session(engine) as session:
                ctx = ServiceContext(session=session, clock=clock)
                barrier.wait()
                try:
                    attempt(ctx)
                    session.commit()
                    outcomes[index] = "committed"
                except Exception:
                    session.rollback()
                    raise
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a racing transaction never finished"
    return outcomes


@pytest.mark.parametrize("expected_version", [True, False], ids=["with-expected-version", "without-expected-version"])
def test_two_officers_accepting_the_same_claim_version_exactly_one_wins(committed_engine, clock, expected_version):
    with Session(committed_engine) as session:
        ctx = ServiceContext(session=session, clock=clock)
        officers = [make_officer(ctx, "triage"), make_officer(ctx, "triage")]
        claims = [submit_claim(ctx, VALID_SUBMISSION).claim for _ in range(5)]
        session.commit()
        # Both officers loaded the same version of each claim (a new claim is not necessarily at 1).
        versions = {claim.reference: claim.version for claim in claims}

    for reference, version in versions.items():
        seen = version if expected_version else None
        outcomes = _at_once(
            committed_engine,
            clock,
            [
                lambda ctx, officer=officer, reference=reference, seen=seen: fire(
                    ctx, reference, "accept", officer, INPUTS["accept"], expected_version=seen
                )
                for officer in officers
            ],
        )
        winners = [o for o in outcomes if o == "committed"]
        losers = [o for o in outcomes if o != "committed"]
        assert len(winners) == 1, outcomes
        assert len(losers) == 1 and isinstance(losers[0], StaleClaim | TriggerNotAllowed), outcomes

    with Session(committed_engine) as session:
        ctx = ServiceContext(session=session, clock=clock)
        after = {}
        for reference, version in versions.items():
            claim = session.scalar(select(Claim).where(Claim.reference == reference))
            assert claim.state == "under_review"
            assert claim.version > version
            after[reference] = claim.version - version
            assert [e.action for e in _events(session, reference)] == ["submitted", "accept"]
        assert len(set(after.values())) == 1, f"the loser left a trace on some claims' versions: {after}"
        report = audit.verify(ctx)
        assert report.ok, [str(p) for p in _problems(report)]


def test_two_officers_adding_notes_at_once_both_land_on_one_contiguous_chain(committed_engine, clock):
    with Session(committed_engine) as session:
        ctx = ServiceContext(session=session, clock=clock)
        officers = [make_officer(ctx, "reviewer"), make_officer(ctx, "triage")]
        reference = submit_claim(ctx, VALID_SUBMISSION).reference
        session.commit()

    outcomes = _at_once(
        committed_engine,
        clock,
        [
            lambda ctx, officer=officer: add_note(ctx, reference, officer, f"Note by {officer.officer_id}")
            for officer in officers
        ],
    )

    assert outcomes == ["committed", "committed"]
    with Session(committed_engine) as session:
        events = _events(session, reference)
        assert [e.seq for e in events] == [1, 2, 3]
        assert {e.actor_id for e in events[1:]} == {o.audit_id for o in officers}
        assert audit.verify(ServiceContext(session=session, clock=clock)).ok


@pytest.mark.parametrize("expected_version", [True, False], ids=["with-expected-version", "without-expected-version"])
def test_an_officer_who_read_the_claim_before_a_colleague_accepted_it_gets_a_conflict(
    committed_engine, clock, database, expected_version
):
    if database.backend == "sqlite":
        pytest.skip(
            "SQLite takes the write lock (BEGIN IMMEDIATE) at the first read, so no one can change the claim under it"
        )
    with Session(committed_engine) as session:
        ctx = ServiceContext(session=session, clock=clock)
        late, early = make_officer(ctx, "triage"), make_officer(ctx, "triage")
        reference = submit_claim(ctx, VALID_SUBMISSION).reference
        session.commit()

    with Session(committed_engine) as slow, Session(committed_engine) as quick:
        slow_ctx = ServiceContext(session=slow, clock=clock)
        seen = slow.scalar(select(Claim).where(Claim.reference == reference))  # e.g. loaded to show the page
        version = seen.version
        fire(ServiceContext(session=quick, clock=clock), reference, "accept", early, INPUTS["accept"])
        quick.commit()

        with pytest.raises(Conflict) as refused:
            fire(
                slow_ctx,
                reference,
                "accept",
                late,
                INPUTS["accept"],
                expected_version=version if expected_version else None,
            )
        assert isinstance(refused.value, StaleClaim | TriggerNotAllowed)
        slow.rollback()

    with Session(committed_engine) as session:
        assert [e.action for e in _events(session, reference)] == ["submitted", "accept"]
        assert audit.verify(ServiceContext(session=session, clock=clock)).ok


# --- the admin log: officer accounts and the catalogue, one chain -------------------


def _admin_log(session: Session) -> list[AdminEvent]:
    return list(session.scalars(select(AdminEvent).order_by(AdminEvent.seq).execution_options(populate_existing=True)))


def _admin_link(prev_hash: str, event: AdminEvent) -> str:
    """SHA-256(prev_hash || canonical JSON of the admin event), written out independently."""
    document = {
        "log": "admin",
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "officer_id": event.officer_id,
        "regulation_id": event.regulation_id,
        "action": event.action,
        "payload": event.payload,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


def _catalogue_work(ctx: ServiceContext) -> tuple[Cast, int, int]:
    """Two officers added by an admin, one claim accepted with a new entry, the entry corrected,
    a duplicate entry merged into it."""
    cast = Cast(ctx)
    first = _new_claim(ctx, cast, "accept")
    second = _new_claim(ctx, cast)
    fire(ctx, second, "accept", cast.triage, {**INPUTS["accept"], "regulation": {"title": "Food registration (copy)"}})
    keep = ctx.session.scalar(select(Claim.regulation_id).where(Claim.reference == first))
    duplicate = ctx.session.scalar(select(Claim.regulation_id).where(Claim.reference == second))
    category = ctx.session.scalar(select(Regulation.category).where(Regulation.id == keep))
    regulations.correct(
        ctx, cast.reviewer, keep, {"title": "Food premises registration (national)", "category": category}
    )
    regulations.merge(ctx, cast.reviewer, duplicate, keep)
    return cast, keep, duplicate


def test_the_admin_log_chains_account_and_catalogue_changes_without_free_text(ctx: ServiceContext) -> None:
    cast, keep, duplicate = _catalogue_work(ctx)
    officer_id, password = admin.add_officer(
        ctx, cast.admin, email="new.officer@council.example", name="New Officer", roles=["triage"]
    )
    admin.set_active(ctx, cast.admin, officer_id, False)

    log = _admin_log(ctx.session)
    prev_hash = GENESIS_HASH
    for seq, event in enumerate(log, start=1):  # recomputed here, independently of the service
        assert (event.seq, event.prev_hash, event.hash) == (seq, prev_hash, _admin_link(prev_hash, event))
        prev_hash = event.hash
    by_action = {(e.action, e.officer_id or e.regulation_id): e for e in log}
    corrected = by_action["regulation_corrected", keep]
    assert corrected.actor_id == cast.reviewer.officer_id
    assert corrected.payload == {"title": {"sha256": audit.text_digest("Food premises registration (national)")}}
    assert by_action["regulation_merged", duplicate].payload == {"into": keep, "claims": 1}
    assert by_action["officer_added", officer_id].payload == {"roles": ["triage"]}
    assert by_action["officer_added", officer_id].actor_id == cast.admin.officer_id
    assert by_action["deactivated", officer_id].actor_id == cast.admin.officer_id
    assert password not in json.dumps([e.payload for e in log])
    count = len(log)
    report = audit.verify(ctx)
    assert report.ok and report.admin_events == count


def test_correcting_an_entry_without_changing_anything_records_nothing(ctx: ServiceContext) -> None:
    cast, keep, _ = _catalogue_work(ctx)
    before = len(_admin_log(ctx.session))
    entry = ctx.session.get(Regulation, keep)
    regulations.correct(ctx, cast.reviewer, keep, {"title": entry.title, "category": entry.category})
    assert len(_admin_log(ctx.session)) == before


def test_verify_names_the_admin_log_event_whose_content_was_edited(ctx: ServiceContext) -> None:
    _catalogue_work(ctx)
    target = _admin_log(ctx.session)[0]
    _run_as_superuser(
        ctx.session,
        [
            (
                "UPDATE admin_events SET payload = :payload WHERE seq = :seq",
                {"payload": {"into": 1, "claims": 0}, "seq": target.seq},
            )
        ],
        table="admin_events",
    )
    problem = _only_problem(audit.verify(ctx))
    assert (problem.reference, problem.seq) == ("admin log", 1)
    assert "content does not match its hash" in problem.message


def test_verify_names_a_gap_in_the_admin_log(ctx: ServiceContext) -> None:
    _catalogue_work(ctx)
    _run_as_superuser(ctx.session, [("DELETE FROM admin_events WHERE seq = 1", {})], table="admin_events")
    problem = _only_problem(audit.verify(ctx))
    assert (problem.reference, problem.seq) == ("admin log", 2)
    assert "sequence broken" in problem.message


def test_a_checkpoint_catches_the_admin_logs_newest_events_being_removed(ctx: ServiceContext, tmp_path: Path) -> None:
    _catalogue_work(ctx)
    key = Ed25519PrivateKey.generate()
    audit.write_checkpoint(audit.make_checkpoint(ctx), key, tmp_path / "checkpoint.json")
    last = _admin_log(ctx.session)[-1].seq
    _run_as_superuser(ctx.session, [("DELETE FROM admin_events WHERE seq = :seq", {"seq": last})], table="admin_events")

    checkpoint = audit.read_checkpoint(tmp_path / "checkpoint.json", key.public_key())
    assert audit.verify(ctx).ok  # the chain alone cannot tell its tail is gone...
    problem = _only_problem(audit.verify(ctx, checkpoint))  # ...the signed checkpoint can
    assert (problem.reference, problem.seq) == ("admin log", last)
    assert "history truncated" in problem.message


def test_a_checkpoint_of_the_first_format_still_verifies(ctx: ServiceContext, tmp_path: Path) -> None:
    _catalogue_work(ctx)
    key = Ed25519PrivateKey.generate()
    body = {**audit.make_checkpoint(ctx).body(), "format": "guarantee-audit-checkpoint/1"}
    del body["admin_head"]
    signed = {**body, "signature": base64.b64encode(key.sign(audit.canonical_json(body))).decode()}
    (tmp_path / "old.json").write_text(json.dumps(signed))
    assert audit.verify(ctx, audit.read_checkpoint(tmp_path / "old.json", key.public_key())).ok


@pytest.mark.parametrize(
    ("operation", "statement"),
    [
        ("UPDATE", "UPDATE admin_events SET action = 'officer_added'"),
        ("DELETE", "DELETE FROM admin_events"),
        ("TRUNCATE", "TRUNCATE admin_events"),
    ],
    ids=["update", "delete", "truncate"],
)
def test_postgresql_refuses_to_change_or_remove_admin_events(pg_ctx, operation, statement):
    _catalogue_work(pg_ctx)
    pg_ctx.session.flush()
    before = [(e.seq, e.hash) for e in _admin_log(pg_ctx.session)]
    with pytest.raises(DBAPIError) as refused, pg_ctx.session.begin_nested():
        pg_ctx.session.execute(text(statement))
    assert refused.value.orig.sqlstate == "42501"
    assert f"admin_events is append-only: {operation} is not allowed" in str(refused.value.orig)
    assert [(e.seq, e.hash) for e in _admin_log(pg_ctx.session)] == before


def test_the_migration_chains_officer_events_recorded_before_the_admin_log(app) -> None:
    """Upgrading a database that has officer_events (revision 5d1e0b7c2f4a) chains them in order."""
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="5d1e0b7c2f4a")
        db.session.execute(
            text(
                "INSERT INTO officers (email, name, password_hash, active, session_nonce, must_change_password, created_at) "
                "VALUES ('old@council.example', 'Old Officer', 'x', true, 'n', false, :at)"
            ),
            {"at": START},
        )
        officer_id = db.session.scalar(text("SELECT id FROM officers WHERE email = 'old@council.example'"))
        for action in ("officer_added", "roles_changed", "deactivated"):
            db.session.execute(
                text(
                    "INSERT INTO officer_events (occurred_at, actor_id, officer_id, action, payload) "
                    "VALUES (:at, NULL, :officer, :action, :payload)"
                ).bindparams(bindparam("payload", type_=JSON)),
                {"at": START, "officer": officer_id, "action": action, "payload": {"roles": ["triage"]}},
            )
        db.session.commit()
        upgrade()
        log = _admin_log(db.session)
        assert [(e.seq, e.action, e.officer_id) for e in log] == [
            (1, "officer_added", officer_id),
            (2, "roles_changed", officer_id),
            (3, "deactivated", officer_id),
        ]
        with unit_of_work() as ctx:
            appended = audit.append_admin_event(ctx, None, "password_reset", officer_id=officer_id)
            assert appended.seq == 4
            report = audit.verify(ctx)
        assert report.ok, [str(p) for p in report.problems or []]
        assert report.admin_events == 4


# Whatever an event or checkpoint may hold: JSON without NaN (no database column takes it).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(document=json_values)
def test_canonical_json_is_the_standard_librarys_canonical_form_byte_for_byte(document: Any) -> None:
    """Every hash ever written used json.dumps; the faster encoder must give the same bytes, or
    old chains would stop verifying."""
    try:
        expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: no hash was ever made of one
        return
    assert audit.canonical_json(document) == expected


# --- verify at speed: rows as stored, ranges in worker processes, progress --------


@settings(max_examples=200, deadline=None)
@given(
    payload=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    microsecond=st.integers(0, 999_999),
    hours=st.integers(-12, 12),
)
def test_verify_hashes_a_row_as_stored_exactly_as_the_orm_reads_it(payload: Any, microsecond: int, hours: int) -> None:
    """verify reads the columns as the database keeps them (SQLite: naive UTC text and JSON text;
    PostgreSQL: the instant written in UTC, or a timestamp in the session's zone, and JSON text);
    the document it hashes must be the one event_hash makes of what the ORM reads."""
    occurred = datetime(2026, 3, 1, 9, 30, 5, microsecond, tzinfo=UTC)
    read = json.loads(json.dumps(payload))  # as a JSON column writes it and the ORM reads it back
    event = SimpleNamespace(
        seq=1, occurred_at=occurred, actor_type="group", actor_id=None, action="submitted", from_state=None,
        to_state=INITIAL_STATE, payload=read,
    )  # fmt: skip
    try:
        stored_hash = audit.event_hash(GENESIS_HASH, "CPG-2026-000001", event)
    except UnicodeEncodeError:  # a lone surrogate: no hash was ever made of one
        return
    as_sqlite = occurred.replace(tzinfo=None).isoformat(" ", timespec="microseconds")
    as_postgresql = occurred.astimezone(timezone(timedelta(hours=hours)))
    as_postgresql_writes_it = occurred.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")  # to_char(... 'US"+00:00"')
    for stamp, dialect in (
        (as_sqlite, sqlite.dialect()),
        (as_postgresql, postgresql.dialect()),
        (as_postgresql_writes_it, postgresql.dialect()),
    ):
        at = audit._occurred(stamp, dialect)
        link = (
            1,
            at,
            "group",
            None,
            "submitted",
            None,
            INITIAL_STATE,
            *audit._payload(json.dumps(payload), json.loads),
        )
        chain = [(*link, GENESIS_HASH, stored_hash)]
        assert audit._check_links("CPG-2026-000001", INITIAL_STATE, chain) is None, (stamp, payload)


def test_verify_reads_sqlites_other_timestamp_forms_through_the_column_type() -> None:
    dialect = sqlite.dialect()
    assert audit._occurred("2026-03-01 09:30:05", dialect) == "2026-03-01T09:30:05.000000+00:00"
    assert audit._occurred("2026-03-01 09:30:05.5", dialect) == "2026-03-01T09:30:05.500000+00:00"
    assert audit._occurred("2026-03-01 09:30:05.123456", dialect) == "2026-03-01T09:30:05.123456+00:00"


@pytest.fixture
def committed_claims(app) -> list[str]:
    """Seven committed claims, each with a chain of its own."""
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        references = [_new_claim(ctx, cast, *triggers) for triggers in (("accept", "uphold"), ("decline",), ())]
        references += [_new_claim(ctx, cast, "accept") for _ in range(4)]
    return references


def _in_ranges_of_two(monkeypatch) -> None:
    """Workers from the first claim on, and ranges of a claim or two."""
    monkeypatch.setattr(audit, "PARALLEL_FROM", 1)
    monkeypatch.setattr(audit, "RANGE_CLAIMS", 2)


def _report(app, checkpoint: audit.Checkpoint | None = None, **options: Any) -> tuple[audit.VerifyReport, list[int]]:
    steps: list[int] = []
    with app.app_context():
        report = audit.verify(ServiceContext(session=db.session), checkpoint, progress=steps.append, **options)
        db.session.rollback()
    return report, steps


def test_verify_in_worker_processes_reports_what_one_process_does_in_claim_order(app, committed_claims, monkeypatch):
    _in_ranges_of_two(monkeypatch)
    with app.app_context():
        checkpoint = audit.make_checkpoint(ServiceContext(session=db.session))
        db.session.rollback()
        payload = _events(db.session, committed_claims[5])[0].payload
        _edit_payload(db.session, committed_claims[5], 1, {**payload, "codes": {}})
        _delete_event(db.session, committed_claims[0], 2)
        _delete_event(db.session, committed_claims[3], 2)  # its acceptance, the last event
        db.session.commit()

    serial, _ = _report(app, checkpoint)
    parallel, steps = _report(app, checkpoint, workers=2)

    assert parallel == serial
    assert [(p.reference, p.seq) for p in _problems(parallel)] == [
        (committed_claims[0], 3),  # the event after the deleted one, in claim order
        (committed_claims[3], None),  # it replays to submitted, but the claim is accepted
        (committed_claims[5], 1),
        (committed_claims[3], 2),  # then against the checkpoint: its chain is shorter
    ]
    assert "history truncated" in str(_problems(parallel)[-1])
    with app.app_context():
        ranges = audit._ranges(ServiceContext(session=db.session), 2)
        db.session.rollback()
    assert len(ranges) == 8, "four for each worker"
    assert len(steps) == len(ranges), "one step for each range"
    assert sum(steps) == parallel.claims == 7


def test_verify_in_worker_processes_passes_a_sound_trail_and_counts_every_event(app, committed_claims, monkeypatch):
    _in_ranges_of_two(monkeypatch)
    serial, _ = _report(app)
    parallel, steps = _report(app, workers=2)
    assert parallel.ok and serial.ok
    assert (parallel.claims, parallel.events, parallel.admin_events) == (
        serial.claims,
        serial.events,
        serial.admin_events,
    )
    assert sum(steps) == 7


def test_verify_stays_in_the_callers_transaction_below_the_size_for_workers(ctx):
    """The callers that verify rows they have not committed (the tests, mostly) see them checked:
    a small database is verified in this process, whatever the number of workers asked for."""
    cast = Cast(ctx)
    references = [_new_claim(ctx, cast, "accept") for _ in range(3)]
    steps: list[int] = []
    report = audit.verify(ctx, workers=4, progress=steps.append)
    assert report.ok
    assert report.claims == sum(steps) == audit.count_claims(ctx) == len(references)


def test_cli_verify_off_a_terminal_prints_only_its_summary(app, runner, committed_claim):
    result = _verify(runner, "--workers", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Audit verify passed: 2 claims, 6 events, and the admin log's")


def test_a_long_command_off_a_terminal_writes_a_line_now_and_then(monkeypatch, capsys):
    monkeypatch.setattr(cli, "PROGRESS_EVERY", 0.0)
    with cli.progress_shown("Verifying the audit chains", 10, "claims") as progress:
        progress(4)
        progress(6)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Verifying the audit chains: 4 of 10 claims (40%), ")
    assert lines[0].endswith(" left")
    assert "claims/s" in lines[0]


def test_a_long_command_off_a_terminal_is_quiet_when_it_is_quick(capsys):
    with cli.progress_shown("Verifying the audit chains", 10, "claims") as progress:
        progress(10)
    assert capsys.readouterr() == ("", "")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_command_on_a_terminal_draws_a_bar_with_the_rate_and_the_time_left(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with cli.progress_shown("Verifying the audit chains", 1000, "claims") as progress:
        progress(400)
        progress(600)
    drawn = terminal.getvalue()
    assert "Verifying the audit chains" in drawn
    assert "1000/1000" in drawn
    assert "claims/s" in drawn


def test_verify_forks_its_workers_only_where_this_process_runs_one_thread():
    """A thread started outside ``threading`` (as pytest-xdist's own) counts too: forking beside it
    may copy a lock it holds."""
    assert audit.only_thread() is (len(os.listdir("/proc/self/task")) == 1)
    release = threading.Event()
    _thread.start_new_thread(release.wait, ())
    try:
        assert audit.only_thread() is False
    finally:
        release.set()
