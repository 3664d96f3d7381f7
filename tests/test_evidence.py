"""Evidence files (DESIGN 3 and 8, issue 4): PDF, PNG and JPEG up to 10 MiB each, 5 per claim.

Extension and signature must agree; files live outside the web root under random names,
written in step with the transaction (a rollback leaves no file behind), and are served
only to the claim's group and to officers, as attachments with ``nosniff``. A bad file
gets an error naming ``file``: never a 500, never anything half-saved.

Service tests run inside a transaction rolled back afterwards; HTTP tests run on a fresh
committed database. Both run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

import guarantee
import guarantee.services.officers
import guarantee.services.storage
from guarantee.context import service_context, unit_of_work
from guarantee.extensions import db
from guarantee.models import Attachment, AuditEvent
from guarantee.services import audit
from guarantee.services.actors import GroupActor, SystemActor
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guarantee.services.evidence import (
    MAX_FILE_BYTES,
    MAX_FILES_PER_CLAIM,
    add_evidence,
    check_file,
    clean_filename,
    erase_evidence,
    list_evidence,
    open_evidence,
)
from guarantee.services.storage import EvidenceStore, StorageUnavailable
from tests import conftest
from tests.api_support import CLAIMS, Caller, Filed, assert_problem, file_claim, new_officer
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, make_officer, walk
from workflows.vocabulary import ROLES

# Tiny files that start with the right signature (and look like the real thing after it).
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
MULTIPART_OVERHEAD = 64 * 1024  # what the upload endpoint allows around the file


def sized(signature: bytes, size: int) -> bytes:
    """A file of exactly ``size`` bytes starting with ``signature``."""
    return signature + b"0" * (size - len(signature))


def files_in(root: Path) -> list[Path]:
    """Every file under the evidence folder, temporary ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- service level -------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


@pytest.fixture
def ectx(ctx: ServiceContext, store: EvidenceStore) -> ServiceContext:
    """The rolled-back test context, with an evidence store of its own."""
    return dataclasses.replace(ctx, evidence=store)


@pytest.fixture
def reference(ectx: ServiceContext) -> str:
    return submit_claim(ectx, VALID_SUBMISSION).reference


def evidence_rows(ctx: ServiceContext) -> int:
    return ctx.session.scalar(select(func.count()).select_from(Attachment)) or 0


def evidence_events(ctx: ServiceContext) -> list[AuditEvent]:
    return list(ctx.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence_added")))


def assert_nothing_saved(ctx: ServiceContext, store: EvidenceStore) -> None:
    assert files_in(store.root) == []
    assert evidence_rows(ctx) == 0
    assert evidence_events(ctx) == []


def assert_refused(error: pytest.ExceptionInfo[ValidationFailed]) -> None:
    assert set(error.value.errors) == {"file"}
    assert all(message for message in error.value.errors["file"])


# 1. Valid files are stored under random names, with their checks and an audit event.


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [
        ("Little-Acorns-budget.pdf", PDF, "application/pdf"),
        ("Little-Acorns-rota.png", PNG, "image/png"),
        ("Little-Acorns-photo.jpg", JPEG, "image/jpeg"),
        ("Little-Acorns-photo.jpeg", JPEG, "image/jpeg"),
        ("Little-Acorns-BUDGET.PDF", PDF, "application/pdf"),
    ],
)
def test_a_valid_file_is_stored_under_a_random_name_with_its_hash_size_and_type(
    ectx: ServiceContext, reference: str, filename: str, data: bytes, content_type: str
) -> None:
    store = ectx.evidence
    assert store is not None
    attachment = add_evidence(ectx, reference, GroupActor(reference), filename, data)

    assert STORED_NAME.match(attachment.stored_name)
    assert "Little" not in attachment.stored_name and "Acorns" not in attachment.stored_name
    assert attachment.filename == filename
    assert attachment.content_type == content_type
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.uploaded_by == "group"
    assert attachment.uploaded_at == ectx.now()
    # The only file in the store is the random name, in a folder named by its first two characters.
    assert files_in(store.root) == [store.root / attachment.stored_name[:2] / attachment.stored_name]
    assert store.path(attachment.stored_name).read_bytes() == data


def test_the_store_folder_is_outside_the_package_and_any_static_folder() -> None:
    app = guarantee.create_app(conftest._app_config("sqlite://"))
    try:
        evidence = Path(app.config["GUARANTEE_EVIDENCE_DIR"]).resolve()
        assert evidence == Path(app.instance_path).resolve() / "evidence"
        assert not evidence.is_relative_to(Path(app.root_path).resolve())
        if app.static_folder:
            assert not evidence.is_relative_to(Path(app.static_folder).resolve())
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_same_file_twice_gets_two_different_random_names(ectx: ServiceContext, reference: str) -> None:
    first = add_evidence(ectx, reference, GroupActor(reference), "plan.pdf", PDF)
    second = add_evidence(ectx, reference, GroupActor(reference), "plan.pdf", PDF)
    assert first.stored_name != second.stored_name
    assert first.sha256 == second.sha256


def test_adding_evidence_records_an_audit_event_with_the_filename_only_as_a_hash(
    ectx: ServiceContext, reference: str
) -> None:
    filename = "Ada Lovelace-Testperson bank statement.pdf"
    attachment = add_evidence(ectx, reference, GroupActor(reference), filename, PDF)

    [event] = evidence_events(ectx)
    assert event.seq == attachment.seq
    assert event.actor_type == "group"
    assert event.from_state is None and event.to_state is None
    assert event.payload == {
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
        "content_type": "application/pdf",
        "filename_sha256": hashlib.sha256(filename.encode()).hexdigest(),
    }
    document = json.dumps(event.payload)
    for word in ("Ada", "Lovelace", "bank", "statement", ".pdf", attachment.stored_name):
        assert word not in document
    assert audit.verify(ectx).ok


def test_evidence_by_an_officer_is_marked_as_uploaded_by_an_officer(ectx: ServiceContext, reference: str) -> None:
    officer = make_officer(ectx, "reviewer")
    attachment = add_evidence(ectx, reference, officer, "letter.pdf", PDF)
    assert attachment.uploaded_by == "officer"
    [event] = evidence_events(ectx)
    assert (event.actor_type, event.actor_id) == ("officer", str(officer.officer_id))
    assert audit.verify(ectx).ok


def test_a_file_of_exactly_10_mib_is_accepted(ectx: ServiceContext, reference: str) -> None:
    attachment = add_evidence(ectx, reference, GroupActor(reference), "scan.pdf", sized(b"%PDF-", MAX_FILE_BYTES))
    assert MAX_FILE_BYTES == 10 * 1024 * 1024
    assert attachment.size == MAX_FILE_BYTES


# 2. Bad files are refused with an error naming `file`, and nothing is written.


REFUSED = {
    "oversize (10 MiB + 1 byte)": ("scan.pdf", sized(b"%PDF-", MAX_FILE_BYTES + 1)),
    "empty": ("plan.pdf", b""),
    "an .exe": ("setup.exe", EXE),
    "an .html page": ("page.html", HTML),
    "an .svg": ("drawing.svg", SVG),
    "no extension": ("plan", PDF),
    "a trailing dot": ("plan.", PDF),
    "a .pdf that is really HTML": ("plan.pdf", HTML),
    "a .pdf that is really an .exe": ("plan.exe.pdf", EXE),
    "a .pdf.exe": ("plan.pdf.exe", PDF),
    "a .png that is really a JPEG": ("photo.png", JPEG),
    "a .jpg that is really a PNG": ("photo.jpg", PNG),
    "a .jpeg that is really a PDF": ("photo.jpeg", PDF),
    "a signature that is not at the start": ("plan.pdf", b" " + PDF),
    "no name at all": ("", PDF),
}


@pytest.mark.parametrize(("filename", "data"), list(REFUSED.values()), ids=list(REFUSED))
def test_a_bad_file_is_refused_naming_file_and_nothing_is_written(
    ectx: ServiceContext, store: EvidenceStore, reference: str, filename: str, data: bytes
) -> None:
    with pytest.raises(ValidationFailed) as error:
        add_evidence(ectx, reference, GroupActor(reference), filename, data)
    assert_refused(error)
    assert_nothing_saved(ectx, store)
    assert audit.verify(ectx).ok


def test_the_error_for_a_disguised_file_says_its_contents_do_not_match_its_name() -> None:
    with pytest.raises(ValidationFailed) as error:
        check_file("plan.pdf", HTML)
    assert "PDF" in error.value.errors["file"][0]
    assert "<script>" not in error.value.errors["file"][0]


def test_a_sixth_file_on_a_claim_is_refused_and_the_five_stay(
    ectx: ServiceContext, store: EvidenceStore, reference: str
) -> None:
    assert MAX_FILES_PER_CLAIM == 5
    for number in range(MAX_FILES_PER_CLAIM):
        add_evidence(ectx, reference, GroupActor(reference), f"page-{number}.pdf", PDF)

    with pytest.raises(ValidationFailed) as error:
        add_evidence(ectx, reference, GroupActor(reference), "page-6.pdf", PDF)

    assert_refused(error)
    assert "5" in error.value.errors["file"][0]
    assert len(files_in(store.root)) == MAX_FILES_PER_CLAIM
    assert evidence_rows(ectx) == MAX_FILES_PER_CLAIM
    assert len(evidence_events(ectx)) == MAX_FILES_PER_CLAIM


def test_the_five_file_limit_counts_each_claim_on_its_own(ectx: ServiceContext, reference: str) -> None:
    other = submit_claim(ectx, VALID_SUBMISSION).reference
    for number in range(MAX_FILES_PER_CLAIM):
        add_evidence(ectx, other, GroupActor(other), f"other-{number}.pdf", PDF)
    assert add_evidence(ectx, reference, GroupActor(reference), "mine.pdf", PDF).filename == "mine.pdf"


# 3. Filenames: reduced to their last part and cleaned; the stored name never derives from them.


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\evil\\x.pdf", "x.pdf"),
        ("/var/www/html/plan.pdf", "plan.pdf"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("pl\x00an\n.pdf", "pl_an_.pdf"),
        ("a\tb\rc\x1bd.pdf", "a_b_c_d.pdf"),
        ('quote"semi;colon.pdf', "quote_semi_colon.pdf"),
        ("\u202egpj.pdf", "_gpj.pdf"),  # right-to-left override
        ("...hidden.pdf", "hidden.pdf"),
        ("plan.pdf  ", "plan.pdf"),
        ("Café plan (v2) - final.pdf", "Café plan (v2) - final.pdf"),
        ("Cafe\u0301.pdf", "Café.pdf"),  # NFC
    ],
)
def test_a_filename_is_reduced_to_its_last_part_with_odd_characters_replaced(sent: str, kept: str) -> None:
    assert clean_filename(sent) == kept


def test_a_very_long_filename_is_cut_from_the_front_keeping_its_extension() -> None:
    name = clean_filename("a" * 300 + ".pdf")
    assert len(name) == 200
    assert name.endswith("a.pdf")


@pytest.mark.parametrize("filename", ["../../etc/passwd.pdf", "C:\\evil\\x.pdf", "..\\..\\x.pdf"])
def test_a_path_in_the_filename_never_reaches_the_disk(
    ectx: ServiceContext, store: EvidenceStore, tmp_path: Path, reference: str, filename: str
) -> None:
    attachment = add_evidence(ectx, reference, GroupActor(reference), filename, PDF)

    assert "/" not in attachment.filename and "\\" not in attachment.filename
    assert attachment.filename in ("passwd.pdf", "x.pdf")
    assert STORED_NAME.match(attachment.stored_name)
    [written] = files_in(store.root)
    assert written.resolve().is_relative_to(store.root.resolve())
    assert written.name == attachment.stored_name
    # Nothing landed beside the store, where the path would have pointed.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence"]


def test_the_store_refuses_names_it_did_not_make(store: EvidenceStore) -> None:
    for name in ("../../etc/passwd", "plan.pdf", "A" * 32, "0" * 31, "0" * 33, ""):
        with pytest.raises(NotFound):
            store.path(name)


# 4. Transactions and storage failures: nothing half-saved.


def test_the_store_removes_what_it_wrote_when_the_transaction_rolls_back(store: EvidenceStore) -> None:
    name = store.put(PDF)
    assert store.path(name).read_bytes() == PDF
    store.rolled_back()
    assert files_in(store.root) == []


def test_the_store_keeps_what_it_wrote_once_the_transaction_commits(store: EvidenceStore) -> None:
    name = store.put(PDF)
    store.committed()
    store.rolled_back()  # a later transaction's rollback must not touch committed files
    assert store.path(name).read_bytes() == PDF


def test_a_store_whose_folder_cannot_be_made_raises_storage_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder")
    store = EvidenceStore(blocker / "evidence")
    with pytest.raises(StorageUnavailable) as error:
        store.put(PDF)
    assert "Nothing was saved" in error.value.message
    assert blocker.read_text() == "not a folder"


def test_a_write_that_fails_midway_leaves_no_partial_file(
    store: EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(guarantee.services.storage.os, "fsync", disk_full)
    with pytest.raises(StorageUnavailable):
        store.put(PDF)
    monkeypatch.undo()
    assert files_in(store.root) == []  # not even a .part file


def test_add_evidence_with_an_unwritable_store_raises_storage_unavailable_and_saves_nothing(
    ectx: ServiceContext, tmp_path: Path, reference: str
) -> None:
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder")
    broken = dataclasses.replace(ectx, evidence=EvidenceStore(blocker / "evidence"))
    with pytest.raises(StorageUnavailable):
        add_evidence(broken, reference, GroupActor(reference), "plan.pdf", PDF)
    assert evidence_rows(ectx) == 0
    assert evidence_events(ectx) == []
    assert audit.verify(ectx).ok


def test_add_evidence_without_a_configured_store_raises_storage_unavailable(
    ctx: ServiceContext, reference: str
) -> None:
    assert ctx.evidence is None
    with pytest.raises(StorageUnavailable):
        add_evidence(ctx, reference, GroupActor(reference), "plan.pdf", PDF)
    assert evidence_rows(ctx) == 0
    assert evidence_events(ctx) == []


# 5. Who may add, list and open evidence (service level).


@pytest.mark.parametrize("role", ROLES)
def test_an_officer_of_any_role_may_add_list_and_open_evidence(ectx: ServiceContext, reference: str, role: str) -> None:
    officer = make_officer(ectx, role)
    attachment = add_evidence(ectx, reference, officer, "letter.pdf", PDF)
    assert [a.id for a in list_evidence(ectx, reference, officer)] == [attachment.id]
    opened, path = open_evidence(ectx, reference, attachment.id, officer)
    assert opened.id == attachment.id
    assert path.read_bytes() == PDF


def test_the_claims_group_may_list_and_open_its_evidence(ectx: ServiceContext, reference: str) -> None:
    group = GroupActor(reference)
    attachment = add_evidence(ectx, reference, group, "plan.pdf", PDF)
    assert [a.filename for a in list_evidence(ectx, reference, group)] == ["plan.pdf"]
    assert open_evidence(ectx, reference, attachment.id, group)[1].read_bytes() == PDF


def test_another_claims_group_gets_not_found_and_saves_nothing(
    ectx: ServiceContext, store: EvidenceStore, reference: str
) -> None:
    attachment = add_evidence(ectx, reference, GroupActor(reference), "plan.pdf", PDF)
    stranger = GroupActor(submit_claim(ectx, VALID_SUBMISSION).reference)

    with pytest.raises(NotFound):
        add_evidence(ectx, reference, stranger, "mine.pdf", PDF)
    with pytest.raises(NotFound):
        list_evidence(ectx, reference, stranger)
    with pytest.raises(NotFound):
        open_evidence(ectx, reference, attachment.id, stranger)
    assert len(files_in(store.root)) == 1
    assert evidence_rows(ectx) == 1


def test_evidence_of_another_claim_cannot_be_opened_through_this_claim(ectx: ServiceContext, reference: str) -> None:
    other = submit_claim(ectx, VALID_SUBMISSION).reference
    theirs = add_evidence(ectx, other, GroupActor(other), "theirs.pdf", PDF)
    with pytest.raises(NotFound):
        open_evidence(ectx, reference, theirs.id, GroupActor(reference))
    with pytest.raises(NotFound):
        open_evidence(ectx, reference, theirs.id, make_officer(ectx, "admin"))


def test_an_inactive_officer_may_not_add_evidence(ectx: ServiceContext, store: EvidenceStore, reference: str) -> None:
    officer = make_officer(ectx, "admin", active=False)
    with pytest.raises(Forbidden):
        add_evidence(ectx, reference, officer, "letter.pdf", PDF)
    assert_nothing_saved(ectx, store)


def test_evidence_cannot_be_added_to_a_finished_claim(
    ectx: ServiceContext, store: EvidenceStore, reference: str
) -> None:
    walk(ectx, Cast(ectx), reference, "withdraw")
    with pytest.raises(Conflict):
        add_evidence(ectx, reference, GroupActor(reference), "plan.pdf", PDF)
    assert_nothing_saved(ectx, store)


def test_evidence_added_before_a_claim_finished_can_still_be_listed_and_opened(
    ectx: ServiceContext, reference: str
) -> None:
    attachment = add_evidence(ectx, reference, GroupActor(reference), "plan.pdf", PDF)
    walk(ectx, Cast(ectx), reference, "withdraw")
    assert [a.id for a in list_evidence(ectx, reference, GroupActor(reference))] == [attachment.id]
    assert open_evidence(ectx, reference, attachment.id, GroupActor(reference))[1].read_bytes() == PDF


# 7. provide_information takes evidence of the same claim (service level).


def test_provide_information_with_evidence_of_the_same_claim_lists_its_ids_in_the_audit_event(
    ectx: ServiceContext, reference: str
) -> None:
    walk(ectx, Cast(ectx), reference, "accept", "request_information")
    group = GroupActor(reference)
    first = add_evidence(ectx, reference, group, "first.pdf", PDF)
    second = add_evidence(ectx, reference, group, "second.png", PNG)

    fired = fire(
        ectx,
        reference,
        "provide_information",
        group,
        {**INPUTS["provide_information"], "evidence": [second.id, first.id]},
    )

    assert fired.claim.state == "under_review"
    assert fired.event.payload["input"]["evidence"] == sorted([first.id, second.id])
    assert audit.verify(ectx).ok


@pytest.mark.parametrize(
    "evidence",
    ["other claim", [0], [2**31 - 1], "1", [True], [1.5], {"id": 1}],
    ids=["another claims id", "id 0", "an unknown id", "not a list", "a boolean", "a fraction", "an object"],
)
def test_provide_information_refuses_evidence_that_is_not_this_claims(
    ectx: ServiceContext, reference: str, evidence: Any
) -> None:
    walk(ectx, Cast(ectx), reference, "accept", "request_information")
    other = submit_claim(ectx, VALID_SUBMISSION).reference
    theirs = add_evidence(ectx, other, GroupActor(other), "theirs.pdf", PDF)
    if evidence == "other claim":
        evidence = [theirs.id]

    with pytest.raises(ValidationFailed) as error:
        fire(
            ectx,
            reference,
            "provide_information",
            GroupActor(reference),
            {**INPUTS["provide_information"], "evidence": evidence},
        )

    assert set(error.value.errors) == {"evidence"}


# --- over HTTP -----------------------------------------------------------------------


NOBODY = Caller("")
BAD_TOKEN = Caller("not-a-real-tracking-token")


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    """Where conftest's app keeps this test's evidence."""
    return tmp_path / "evidence"


@pytest.fixture
def filed(client: FlaskClient) -> Filed:
    return file_claim(client)


@pytest.fixture
def reviewer(app: Flask) -> Caller:
    return new_officer(app, "reviewer")


Part = tuple[str, "str | tuple[bytes, str]"]


def post_multipart(
    client: FlaskClient, reference: str, caller: Caller, parts: list[Part], headers: dict[str, str] | None = None
) -> TestResponse:
    """POST a multipart body of (field, text) and (field, (bytes, filename)) parts.

    The body is encoded here, in memory: the test client's own encoder spools large bodies
    to a temporary file it never closes.
    """
    fields = MultiDict(
        [
            (name, value if isinstance(value, str) else FileStorage(io.BytesIO(value[0]), filename=value[1]))
            for name, value in parts
        ]
    )
    boundary, body = encode_multipart(fields)
    return client.post(
        f"{CLAIMS}/{reference}/evidence",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=(caller.auth if caller.token else {}) | (headers or {}),
    )


def upload(
    client: FlaskClient,
    reference: str,
    caller: Caller,
    data: bytes = PDF,
    filename: str = "plan.pdf",
    *,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    return post_multipart(client, reference, caller, [("file", (data, filename))], headers)


def listing(client: FlaskClient, reference: str, caller: Caller) -> TestResponse:
    return client.get(f"{CLAIMS}/{reference}/evidence", headers=caller.auth if caller.token else {})


def download_url(reference: str, attachment_id: int) -> str:
    return f"{CLAIMS}/{reference}/evidence/{attachment_id}"


def transition(client: FlaskClient, reference: str, caller: Caller, trigger: str, **inputs: Any) -> TestResponse:
    body = {"trigger": trigger, **INPUTS[trigger], **inputs}
    return client.post(f"{CLAIMS}/{reference}/transitions", json=body, headers=caller.auth)


def saved(app: Flask) -> tuple[int, int]:
    """(attachment rows, evidence_added audit events) in the database."""
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Attachment))
        events = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "evidence_added")
        )
    return rows, events


def assert_nothing_saved_over_http(app: Flask, evidence_dir: Path) -> None:
    assert files_in(evidence_dir) == []
    assert saved(app) == (0, 0)


# 4. Transactions at the edge.


def test_a_rollback_after_add_evidence_removes_the_file_from_the_store(app: Flask, evidence_dir: Path) -> None:
    with app.app_context():
        with unit_of_work() as ctx:
            reference = submit_claim(ctx, VALID_SUBMISSION).reference
        with pytest.raises(RuntimeError, match="a later step failed"), unit_of_work() as ctx:
            add_evidence(ctx, reference, GroupActor(reference), "plan.pdf", PDF)
            assert len(files_in(evidence_dir)) == 1  # written before the commit
            raise RuntimeError("a later step failed")
    assert_nothing_saved_over_http(app, evidence_dir)


def test_a_committed_add_evidence_keeps_its_file_and_row(app: Flask, evidence_dir: Path) -> None:
    with app.app_context():
        with unit_of_work() as ctx:
            reference = submit_claim(ctx, VALID_SUBMISSION).reference
        with unit_of_work() as ctx:
            stored_name = add_evidence(ctx, reference, GroupActor(reference), "plan.pdf", PDF).stored_name
        with pytest.raises(RuntimeError), unit_of_work():  # a later, unrelated rollback leaves it alone
            raise RuntimeError("another request failed")
        assert audit.verify(service_context()).ok
    assert [p.name for p in files_in(evidence_dir)] == [stored_name]
    assert saved(app) == (1, 1)


def test_an_unwritable_store_is_a_503_problem_and_saves_nothing(
    app: Flask, client: FlaskClient, filed: Filed, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder")
    app.config["GUARANTEE_EVIDENCE_DIR"] = str(blocker / "evidence")

    response = upload(client, filed.reference, filed.group)

    assert "try again" in assert_problem(response, 503)["detail"]
    assert response.headers["Retry-After"].isdigit()
    assert saved(app) == (0, 0)
    assert blocker.read_text() == "not a folder"


def test_a_retried_upload_with_the_same_idempotency_key_adds_the_file_once(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path, tmp_path: Path
) -> None:
    """An integrator whose connection dropped sends the same file again with the same key: the
    first answer comes back and nothing is added twice. A key whose first try failed (the store
    was unwritable) is free for the retry; the same key with another file is refused."""
    key = {"Idempotency-Key": "upload-2f1c9a"}
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder")
    app.config["GUARANTEE_EVIDENCE_DIR"] = str(blocker / "evidence")
    assert upload(client, filed.reference, filed.group, headers=key).status_code == 503
    app.config["GUARANTEE_EVIDENCE_DIR"] = str(evidence_dir)

    first = upload(client, filed.reference, filed.group, headers=key)
    again = upload(client, filed.reference, filed.group, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert saved(app) == (1, 1) and len(files_in(evidence_dir)) == 1

    other_file = upload(client, filed.reference, filed.group, PNG, "photo.png", headers=key)
    assert "Idempotency-Key" in assert_problem(other_file, 422)["errors"]
    assert upload(client, filed.reference, filed.group, headers={"Idempotency-Key": "upload-77d0"}).status_code == 201
    assert saved(app) == (2, 2) and len(files_in(evidence_dir)) == 2


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_the_sweep_removes_files_no_claim_refers_to_once_an_hour_old(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    """A worker killed between writing a file and committing leaves a file no attachment refers
    to, or half a file: personal data no page can reach and no erasure would find. The sweep
    (run by cron) removes them once they are an hour old; attached files and anything younger, an
    upload still in its transaction, stay; so does anything in the folder the store did not make."""
    attachment_id = upload(client, filed.reference, filed.group).json["id"]
    kept = files_in(evidence_dir)
    assert len(kept) == 1
    store = EvidenceStore(evidence_dir)
    orphan, recent, half = (evidence_dir / n[:2] / n for n in (store.put(PDF), store.put(PDF), store.put(PDF)))
    half.rename(half.with_suffix(".part"))
    stranger = evidence_dir / "README.txt"
    stranger.write_text("not evidence")
    for path in (kept[0], orphan, half.with_suffix(".part"), stranger):
        _age(path, 2)

    result = app.test_cli_runner().invoke(args=["guarantee", "sweep"])

    assert result.exit_code == 0, result.output
    assert "Removed 2 evidence file(s) that no claim refers to." in result.output
    assert sorted(files_in(evidence_dir)) == sorted([kept[0], recent, stranger])
    with client.get(download_url(filed.reference, attachment_id), headers=filed.group.auth) as response:
        assert response.status_code == 200 and response.data == PDF
    again = app.test_cli_runner().invoke(args=["guarantee", "sweep"])
    assert again.exit_code == 0 and "evidence file" not in again.output


def test_a_sweep_that_cannot_read_the_store_says_so_and_fails_after_its_other_work(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(self: EvidenceStore, cutoff: float) -> Any:
        raise PermissionError(13, "Permission denied")
        yield

    monkeypatch.setattr(EvidenceStore, "files_older_than", unreadable)
    result = app.test_cli_runner().invoke(args=["guarantee", "sweep"])
    assert "Sweep finished" in result.output
    assert result.exit_code == 1
    assert "could not be tidied" in result.output


def test_a_file_missing_from_the_store_is_a_503_problem_on_download(
    client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    attachment_id = upload(client, filed.reference, filed.group).json["id"]
    for path in files_in(evidence_dir):
        path.unlink()
    with client.get(download_url(filed.reference, attachment_id), headers=filed.group.auth) as response:
        assert_problem(response, 503)


# 6. Upload, list and download over HTTP.


def test_uploading_a_file_answers_201_with_its_details(client: FlaskClient, filed: Filed, evidence_dir: Path) -> None:
    response = upload(client, filed.reference, filed.group, PDF, "plan.pdf")

    assert response.status_code == 201, response.json
    body = response.json
    assert body["id"] >= 1
    assert body["filename"] == "plan.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["uploaded_by"] == "group"
    assert "stored_name" not in body
    [written] = files_in(evidence_dir)
    assert STORED_NAME.match(written.name)
    assert written.name not in response.get_data(as_text=True)


def test_the_list_shows_each_file_without_its_stored_name(
    client: FlaskClient, filed: Filed, reviewer: Caller, evidence_dir: Path
) -> None:
    mine = upload(client, filed.reference, filed.group, PNG, "rota.png").json
    theirs = upload(client, filed.reference, reviewer, JPEG, "site-visit.jpg").json

    for caller in (filed.group, reviewer):
        response = listing(client, filed.reference, caller)
        assert response.status_code == 200
        assert response.json["items"] == [mine, theirs]
        assert theirs["uploaded_by"] == "officer"
        text = response.get_data(as_text=True)
        for path in files_in(evidence_dir):
            assert path.name not in text


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [(PDF, "plan.pdf", "application/pdf"), (PNG, "rota.png", "image/png"), (JPEG, "photo.jpeg", "image/jpeg")],
)
def test_a_download_is_an_attachment_with_nosniff_no_store_and_the_exact_bytes(
    client: FlaskClient, filed: Filed, data: bytes, filename: str, content_type: str
) -> None:
    attachment_id = upload(client, filed.reference, filed.group, data, filename).json["id"]

    with client.get(download_url(filed.reference, attachment_id), headers=filed.group.auth) as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == f"attachment; filename={filename}"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.mimetype == content_type
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.data == data


def test_a_download_offers_the_cleaned_name_never_the_path_sent(client: FlaskClient, filed: Filed) -> None:
    response = upload(client, filed.reference, filed.group, PDF, "../../etc/passwd.pdf")
    assert response.status_code == 201, response.json
    assert response.json["filename"] == "passwd.pdf"
    with client.get(download_url(filed.reference, response.json["id"]), headers=filed.group.auth) as download:
        assert download.headers["Content-Disposition"] == "attachment; filename=passwd.pdf"
        assert download.data == PDF


def test_a_non_ascii_name_is_offered_safely_on_download(client: FlaskClient, filed: Filed) -> None:
    attachment_id = upload(client, filed.reference, filed.group, PDF, "Café plan.pdf").json["id"]
    with client.get(download_url(filed.reference, attachment_id), headers=filed.group.auth) as response:
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''Caf%C3%A9%20plan.pdf" in disposition
        assert response.data == PDF


def test_files_between_the_json_limit_and_10_mib_are_accepted(app: Flask, client: FlaskClient, filed: Filed) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] < 2 * 1024 * 1024
    for size in (2 * 1024 * 1024, MAX_FILE_BYTES):
        response = upload(client, filed.reference, filed.group, sized(b"%PDF-", size), "scan.pdf")
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
        assert response.json["size"] == size


def test_a_file_one_byte_over_10_mib_is_a_422_naming_file(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    response = upload(client, filed.reference, filed.group, sized(b"%PDF-", MAX_FILE_BYTES + 1), "scan.pdf")
    assert set(assert_problem(response, 422)["errors"]) == {"file"}
    assert_nothing_saved_over_http(app, evidence_dir)


def test_a_body_over_10_mib_and_the_multipart_overhead_is_a_413_problem(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    data = sized(b"%PDF-", MAX_FILE_BYTES + MULTIPART_OVERHEAD + 1)
    assert_problem(upload(client, filed.reference, filed.group, data, "huge.pdf"), 413)
    assert_nothing_saved_over_http(app, evidence_dir)


@pytest.mark.parametrize(("filename", "data"), list(REFUSED.values()), ids=list(REFUSED))
def test_a_bad_file_over_http_is_a_422_problem_naming_file_and_saves_nothing(
    client: FlaskClient, filed: Filed, evidence_dir: Path, filename: str, data: bytes
) -> None:
    body = assert_problem(upload(client, filed.reference, filed.group, data, filename), 422)
    assert set(body["errors"]) == {"file"}
    assert_nothing_saved_over_http(client.application, evidence_dir)


def test_a_sixth_upload_is_a_422_problem_and_the_five_stay(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    for number in range(MAX_FILES_PER_CLAIM):
        assert upload(client, filed.reference, filed.group, PDF, f"page-{number}.pdf").status_code == 201
    body = assert_problem(upload(client, filed.reference, filed.group, PDF, "page-6.pdf"), 422)
    assert set(body["errors"]) == {"file"}
    assert len(files_in(evidence_dir)) == MAX_FILES_PER_CLAIM
    assert saved(app) == (MAX_FILES_PER_CLAIM, MAX_FILES_PER_CLAIM)


def test_a_json_body_to_the_upload_is_a_415_problem(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    response = client.post(
        f"{CLAIMS}/{filed.reference}/evidence", json={"file": "JVBERi0xLjQK"}, headers=filed.group.auth
    )
    assert "multipart/form-data" in assert_problem(response, 415)["detail"]
    assert_nothing_saved_over_http(app, evidence_dir)


def test_a_raw_pdf_body_to_the_upload_is_a_415_problem(app: Flask, client: FlaskClient, filed: Filed) -> None:
    response = client.post(
        f"{CLAIMS}/{filed.reference}/evidence",
        data=PDF,
        content_type="application/pdf",
        headers=filed.group.auth,
    )
    assert_problem(response, 415)


def test_the_test_clients_plain_multipart_form_works_too(client: FlaskClient, filed: Filed) -> None:
    response = client.post(
        f"{CLAIMS}/{filed.reference}/evidence",
        data={"file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
        headers=filed.group.auth,
    )
    assert response.status_code == 201, response.json
    assert response.json["filename"] == "plan.pdf"


WITHOUT_ONE_FILE: dict[str, list[Part]] = {
    "nothing": [],
    "a text field": [("file", "just text, not a file")],
    "the wrong field": [("document", (PDF, "plan.pdf"))],
    "an extra text field": [("file", (PDF, "plan.pdf")), ("note", "an extra field")],
    "a second file field": [("file", (PDF, "plan.pdf")), ("other", (PNG, "rota.png"))],
    "two files in the file field": [("file", (PDF, "first.pdf")), ("file", (PNG, "second.png"))],
}


@pytest.mark.parametrize("parts", list(WITHOUT_ONE_FILE.values()), ids=list(WITHOUT_ONE_FILE))
def test_an_upload_without_exactly_one_file_is_a_422_naming_file_and_saves_nothing(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path, parts: list[Part]
) -> None:
    response = post_multipart(client, filed.reference, filed.group, parts)
    assert set(assert_problem(response, 422)["errors"]) == {"file"}
    assert_nothing_saved_over_http(app, evidence_dir)


# 5. Who may upload, list and download over HTTP.


@pytest.mark.parametrize("role", ROLES)
def test_an_officer_of_any_role_may_upload_list_and_download(
    app: Flask, client: FlaskClient, filed: Filed, role: str
) -> None:
    officer = new_officer(app, role)
    response = upload(client, filed.reference, officer, PNG, "site-visit.png")
    assert response.status_code == 201, response.json
    assert response.json["uploaded_by"] == "officer"
    assert [i["id"] for i in listing(client, filed.reference, officer).json["items"]] == [response.json["id"]]
    with client.get(download_url(filed.reference, response.json["id"]), headers=officer.auth) as download:
        assert download.status_code == 200
        assert download.data == PNG


def test_the_group_and_officers_see_each_others_uploads(client: FlaskClient, filed: Filed, reviewer: Caller) -> None:
    from_group = upload(client, filed.reference, filed.group, PDF, "plan.pdf").json["id"]
    from_officer = upload(client, filed.reference, reviewer, JPEG, "visit.jpg").json["id"]
    with client.get(download_url(filed.reference, from_officer), headers=filed.group.auth) as response:
        assert response.status_code == 200 and response.data == JPEG
    with client.get(download_url(filed.reference, from_group), headers=reviewer.auth) as response:
        assert response.status_code == 200 and response.data == PDF


def test_another_claims_group_gets_404_for_upload_list_and_download(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    attachment_id = upload(client, filed.reference, filed.group).json["id"]
    stranger = file_claim(client).group

    assert_problem(upload(client, filed.reference, stranger, PDF, "mine.pdf"), 404)
    assert_problem(listing(client, filed.reference, stranger), 404)
    with client.get(download_url(filed.reference, attachment_id), headers=stranger.auth) as response:
        assert_problem(response, 404)
    assert len(files_in(evidence_dir)) == 1
    assert saved(app) == (1, 1)


def test_a_claims_own_reference_does_not_open_another_claims_evidence(
    client: FlaskClient, filed: Filed, reviewer: Caller
) -> None:
    other = file_claim(client)
    theirs = upload(client, other.reference, other.group).json["id"]
    for caller in (filed.group, reviewer):
        with client.get(download_url(filed.reference, theirs), headers=caller.auth) as response:
            assert_problem(response, 404)


def test_an_unknown_evidence_id_is_404(client: FlaskClient, filed: Filed) -> None:
    # 2**31 is past the database's integer: still a plain 404, never a 500.
    for attachment_id in (1, 999999, 2**31, 10**20):
        with client.get(download_url(filed.reference, attachment_id), headers=filed.group.auth) as response:
            assert_problem(response, 404)


@pytest.mark.parametrize(
    "caller", [NOBODY, BAD_TOKEN, Caller("gto_not-a-real-officer-token")], ids=["none", "bad", "bad officer"]
)
def test_no_token_or_a_bad_token_is_401_for_upload_list_and_download(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path, caller: Caller
) -> None:
    attachment_id = upload(client, filed.reference, filed.group).json["id"]

    for response in (
        upload(client, filed.reference, caller, PDF, "sneaky.pdf"),
        listing(client, filed.reference, caller),
    ):
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with client.get(
        download_url(filed.reference, attachment_id), headers=caller.auth if caller.token else {}
    ) as response:
        assert_problem(response, 401)
    assert len(files_in(evidence_dir)) == 1
    assert saved(app) == (1, 1)


def test_an_upload_to_a_withdrawn_claim_is_a_409_problem_and_saves_nothing(
    app: Flask, client: FlaskClient, filed: Filed, evidence_dir: Path
) -> None:
    assert transition(client, filed.reference, filed.group, "withdraw").status_code == 200
    assert_problem(upload(client, filed.reference, filed.group), 409)
    assert_nothing_saved_over_http(app, evidence_dir)


# 7. provide_information with evidence, over HTTP.


def test_provide_information_over_http_with_evidence_lists_its_ids_in_the_audit_trail(
    app: Flask, client: FlaskClient, filed: Filed
) -> None:
    triage, reviewer = new_officer(app, "triage"), new_officer(app, "reviewer")
    assert transition(client, filed.reference, triage, "accept").status_code == 200
    assert transition(client, filed.reference, reviewer, "request_information").status_code == 200
    ids = [
        upload(client, filed.reference, filed.group, data, name).json["id"]
        for data, name in ((PDF, "a.pdf"), (PNG, "b.png"))
    ]

    response = transition(client, filed.reference, filed.group, "provide_information", evidence=ids)

    assert response.status_code == 200, response.json
    assert response.json["state"] == "under_review"
    trail = client.get(f"{CLAIMS}/{filed.reference}/audit", headers=reviewer.auth).json["events"]
    [provided] = [e for e in trail if e["action"] == "provide_information"]
    assert provided["payload"]["input"]["evidence"] == sorted(ids)
    assert [e["action"] for e in trail].count("evidence_added") == 2


def test_provide_information_over_http_with_another_claims_evidence_is_a_422_naming_evidence(
    app: Flask, client: FlaskClient, filed: Filed
) -> None:
    triage, reviewer = new_officer(app, "triage"), new_officer(app, "reviewer")
    assert transition(client, filed.reference, triage, "accept").status_code == 200
    assert transition(client, filed.reference, reviewer, "request_information").status_code == 200
    other = file_claim(client)
    theirs = upload(client, other.reference, other.group).json["id"]

    response = transition(client, filed.reference, filed.group, "provide_information", evidence=[theirs])

    assert "evidence" in assert_problem(response, 422)["errors"]
    assert client.get(f"{CLAIMS}/{filed.reference}", headers=filed.group.auth).json["state"] == "awaiting_information"


def test_a_commit_cut_off_after_the_database_saved_it_keeps_the_file(
    app: Flask, evidence_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is lost after COMMIT reached the database (a restart, a network cut): the
    request fails, but the row is saved, so the file it names must still be there."""
    with app.app_context():
        with unit_of_work() as ctx:
            reference = submit_claim(ctx, VALID_SUBMISSION).reference
        with pytest.raises(OperationalError), unit_of_work() as ctx:
            add_evidence(ctx, reference, GroupActor(reference), "plan.pdf", PDF)
            commit = ctx.session.commit

            def commit_then_lose_the_answer() -> None:
                commit()
                raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))

            monkeypatch.setattr(ctx.session, "commit", commit_then_lose_the_answer)
        stored = db.session.scalars(select(Attachment.stored_name)).all()
    assert saved(app) == (1, 1)
    assert [p.name for p in files_in(evidence_dir)] == stored


# 5. Erasure (retention, or an administrator): the files go only once the erasure is committed.


def test_erased_evidence_files_leave_the_disk_when_the_transaction_commits(
    ectx: ServiceContext, store: EvidenceStore, reference: str
) -> None:
    add_evidence(ectx, reference, GroupActor(reference), "budget.pdf", PDF)
    add_evidence(ectx, reference, GroupActor(reference), "rota.png", PNG)
    store.committed()
    (first, second) = files_in(store.root)

    with ectx.session.begin_nested():  # as the retention job erases: one savepoint a claim
        assert erase_evidence(ectx, reference, SystemActor("retention")) == 2
    assert files_in(store.root) == [first, second], "not before the whole transaction commits"
    ectx.commit()

    assert files_in(store.root) == [] and evidence_rows(ectx) == 0
    assert audit.verify(ectx).problems == []


def test_erased_evidence_files_stay_when_the_transaction_rolls_back(app: Flask, tmp_path: Path) -> None:
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, VALID_SUBMISSION).reference
        add_evidence(ctx, reference, GroupActor(reference), "budget.pdf", PDF)
    root = Path(app.config["GUARANTEE_EVIDENCE_DIR"])
    kept = files_in(root)

    with app.app_context(), pytest.raises(RuntimeError), unit_of_work() as ctx:
        erase_evidence(ctx, reference, SystemActor("retention"))
        raise RuntimeError("something after it failed")

    assert files_in(root) == kept and len(kept) == 1
    with app.app_context():
        assert evidence_rows(service_context()) == 1


def test_a_claim_without_evidence_has_nothing_to_erase_and_records_nothing(
    ectx: ServiceContext, reference: str
) -> None:
    before = ectx.session.scalar(select(func.count()).select_from(AuditEvent))

    assert erase_evidence(ectx, reference, SystemActor("retention")) == 0
    assert ectx.session.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_an_administrator_or_the_retention_job_may_erase_evidence(
    ectx: ServiceContext, store: EvidenceStore, reference: str, role: str
) -> None:
    add_evidence(ectx, reference, GroupActor(reference), "budget.pdf", PDF)

    with pytest.raises(Forbidden):
        erase_evidence(ectx, reference, make_officer(ectx, role))
    assert erase_evidence(ectx, reference, make_officer(ectx, "admin")) == 1
