"""Evidence files: checked (type, size, signature, name), stored outside the web root under
random names (``ctx.evidence``), served only to the claim's group and to officers."""

from __future__ import annotations

import hashlib
import itertools
import re
import time
import unicodedata
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event as orm_event
from sqlalchemy import func, select

from guarantee.models import Attachment, Claim
from guarantee.services.actors import Actor, GroupActor, OfficerActor, SystemActor
from guarantee.services.audit import append_event, text_digest
from guarantee.services.claims import get_claim, save_claim, state_in_words
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ValidationFailed
from guarantee.services.officers import require_role
from guarantee.services.storage import EvidenceStore, StorageUnavailable
from workflows import is_terminal
from workflows.vocabulary import ROLES
from workflows.words import N_, words

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_CLAIM = 5
MAX_ID = 2**31 - 1  # the database's integer
# A file no attachment refers to is removed once it is this old: no upload takes this long.
UNREFERENCED_AFTER = timedelta(hours=1)
# Extension -> (content type, the bytes every such file starts with).
ACCEPTED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
_UNSAFE = re.compile(r"[^\w .()\-]+")


def clean_filename(filename: str) -> str:
    """The name to show and to offer on download: no folders, no control characters."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[-200:] if name else ""


def check_file(filename: str, data: bytes) -> tuple[str, str]:
    """(clean name, content type), or ValidationFailed saying what is wrong."""
    name = clean_filename(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ACCEPTED:
        raise ValidationFailed({"file": [N_("The file must be a PDF, PNG or JPEG (.pdf, .png, .jpg or .jpeg)")]})
    if not data:
        raise ValidationFailed({"file": [N_("The file is empty")]})
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(
            {
                "file": [
                    words("The file must be smaller than %(megabytes)s MB", megabytes=MAX_FILE_BYTES // (1024 * 1024))
                ]
            }
        )
    content_type, signatures = ACCEPTED[extension]
    if not data.startswith(signatures):
        raise ValidationFailed(
            {
                "file": [
                    words(
                        "The file is not really a %(kind)s: its contents do not match its name", kind=extension.upper()
                    )
                ]
            }
        )
    return name, content_type


def _may_see(ctx: ServiceContext, claim: Claim, actor: Actor) -> None:
    if isinstance(actor, GroupActor):
        if actor.claim_reference != claim.reference:
            raise NotFound(words("There is no claim %(reference)s for this tracking link.", reference=claim.reference))
        return
    require_role(ctx, actor, ROLES, N_("see evidence"))


def _store(ctx: ServiceContext) -> EvidenceStore:
    if ctx.evidence is None:
        raise StorageUnavailable(N_("No evidence store is configured."))
    return ctx.evidence


def add_evidence(ctx: ServiceContext, reference: str, actor: Actor, filename: str, data: bytes) -> Attachment:
    """Attach a file to a claim for its group or an officer. Flushes only."""
    claim = get_claim(ctx, reference, for_update=True)
    _may_see(ctx, claim, actor)
    if is_terminal(claim.state):
        raise Conflict(
            words(
                "Claim %(reference)s is %(state)s: evidence can no longer be added.",
                reference=reference,
                state=state_in_words(claim.state),
            )
        )
    name, content_type = check_file(filename, data)
    count = ctx.session.scalar(select(func.count()).where(Attachment.claim_id == claim.id)) or 0
    if count >= MAX_FILES_PER_CLAIM:
        raise ValidationFailed(
            {"file": [words("A claim can have at most %(most)s files of evidence", most=MAX_FILES_PER_CLAIM)]}
        )
    digest = hashlib.sha256(data).hexdigest()
    save_claim(ctx, claim)  # the officers' view gains an event: a new version
    store = _store(ctx)
    stored = store.put(data)
    # If the commit fails once under way, the rows may be saved all the same: keep the file then.
    orm_event.listen(ctx.session, "before_commit", lambda _session: store.committing(), once=True)
    event = append_event(
        ctx,
        claim,
        actor,
        "evidence_added",
        payload={
            "sha256": digest,
            "size": len(data),
            "content_type": content_type,
            "filename_sha256": text_digest(name),
        },
    )
    attachment = Attachment(
        claim_id=claim.id,
        seq=event.seq,
        stored_name=stored,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        uploaded_by="officer" if isinstance(actor, OfficerActor) else "group",
        uploaded_at=ctx.now(),
    )
    ctx.session.add(attachment)
    ctx.session.flush()
    return attachment


def remove_unreferenced_files(ctx: ServiceContext, older_than: timedelta = UNREFERENCED_AFTER) -> int:
    """Remove the store's files that no attachment refers to, once they are ``older_than`` (by
    the file's own time, so an upload still in its transaction is never touched). A worker
    killed between writing a file and committing leaves one: evidence no page can reach and no
    erasure would find. Returns how many were removed. Reads only."""
    store = _store(ctx)
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    candidates = store.files_older_than(cutoff)
    try:
        while batch := list(itertools.islice(candidates, 500)):
            names = {name for name, _ in batch}
            kept = set(ctx.session.scalars(select(Attachment.stored_name).where(Attachment.stored_name.in_(names))))
            for name, path in batch:
                if name not in kept or path.name != name:  # unreferenced, or a half-written copy
                    path.unlink(missing_ok=True)
                    removed += 1
    except OSError as exc:
        raise StorageUnavailable(
            words("The evidence store could not be tidied (%(reason)s); try again later.", reason=exc.strerror)
        ) from exc
    return removed


def erase_evidence(ctx: ServiceContext, reference: str, actor: Actor) -> int:
    """Erase a claim's evidence files (UK GDPR Articles 5(1)(e) and 17): the attachments go, and
    their files are deleted once the transaction commits (``ServiceContext.commit``;
    ``remove_unreferenced_files`` takes any a failed delete leaves). The audit chain records
    how many, and keeps the digests it already holds, so it still verifies. Returns how many were erased; with none, records
    nothing. For an admin, or the retention job (a system actor). Flushes only."""
    if not isinstance(actor, SystemActor):
        require_role(ctx, actor, ("admin",), N_("erase evidence"))
    claim = get_claim(ctx, reference, for_update=True)
    attachments = list(ctx.session.scalars(select(Attachment).where(Attachment.claim_id == claim.id)))
    if not attachments:
        return 0
    store = _store(ctx)
    for attachment in attachments:
        ctx.session.delete(attachment)
    save_claim(ctx, claim)
    append_event(ctx, claim, actor, "evidence_erased", payload={"files": len(attachments)})
    ctx.session.flush()
    # Only once the whole transaction commits (ServiceContext.commit): a savepoint released
    # before it, or a rollback after, must leave the files of the attachments still there.
    for attachment in attachments:
        store.delete_after_commit(attachment.stored_name)
    return len(attachments)


def list_evidence(ctx: ServiceContext, reference: str, actor: Actor) -> list[Attachment]:
    claim = get_claim(ctx, reference)
    _may_see(ctx, claim, actor)
    return list(ctx.session.scalars(select(Attachment).where(Attachment.claim_id == claim.id).order_by(Attachment.id)))


def open_evidence(ctx: ServiceContext, reference: str, attachment_id: int, actor: Actor) -> tuple[Attachment, Path]:
    claim = get_claim(ctx, reference)
    _may_see(ctx, claim, actor)
    if not 1 <= attachment_id <= MAX_ID:
        raise NotFound(
            words("Claim %(reference)s has no evidence %(number)s.", reference=reference, number=attachment_id)
        )
    attachment = ctx.session.scalar(
        select(Attachment).where(Attachment.claim_id == claim.id, Attachment.id == attachment_id)
    )
    if attachment is None:
        raise NotFound(
            words("Claim %(reference)s has no evidence %(number)s.", reference=reference, number=attachment_id)
        )
    path = _store(ctx).path(attachment.stored_name)
    if not path.exists():
        raise StorageUnavailable(N_("This evidence cannot be read just now. Please try again later."))
    return attachment, path
