"""The edge's side of the service layer: build a ServiceContext and own the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app

from guarantee.extensions import db
from guarantee.services.context import ServiceContext
from guarantee.services.storage import EvidenceStore


def service_context() -> ServiceContext:
    return ServiceContext(
        session=db.session(),  # this app context's session
        clock=current_app.extensions["guarantee.clock"],
        working_days=current_app.config["GUARANTEE_WORKING_DAYS"],
        evidence=EvidenceStore(Path(current_app.config["GUARANTEE_EVIDENCE_DIR"])),
    )


@contextmanager
def unit_of_work() -> Iterator[ServiceContext]:
    """One transaction: commit when the block ends, roll back on any error."""
    ctx = service_context()
    try:
        yield ctx
        ctx.commit()
    except BaseException:
        ctx.rollback()
        raise
