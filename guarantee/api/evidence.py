"""/api/v1/claims/{reference}/evidence: upload (multipart), list and download evidence files."""

from __future__ import annotations

import hashlib

from flask import Response, jsonify, request

from guarantee.api import auth
from guarantee.api.auth import GROUP_OR_OFFICER
from guarantee.api.claims import IDEMPOTENCY_KEY, REFERENCE_PARAMETER
from guarantee.api.idempotent import run_once_for
from guarantee.api.parser import Blueprint
from guarantee.api.problems import problem
from guarantee.context import service_context
from guarantee.schemas.claims import AttachmentListSchema, AttachmentSchema
from guarantee.security import evidence_download
from guarantee.services.context import ServiceContext
from guarantee.services.evidence import MAX_FILE_BYTES, add_evidence, list_evidence, open_evidence
from guarantee.services.idempotency import StoredResponse
from workflows.words import N_

blp = Blueprint("evidence", __name__, url_prefix="/api/v1/claims", description="Evidence files")

# Room for the multipart envelope around the largest file we accept.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A PDF, PNG or JPEG of at most 10 MB; a claim takes at most 5 files",
                    }
                },
            }
        }
    },
}
ATTACHMENT_PARAMETER = {
    "in": "path",
    "name": "attachment_id",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}


@blp.before_request
def _uploads_are_multipart() -> Response | None:
    if request.method != "POST":
        return None
    request.max_content_length = MAX_FILE_BYTES + MULTIPART_OVERHEAD
    if request.mimetype != "multipart/form-data":
        return problem(415, N_("Send the file as multipart/form-data, in a field named file."))
    return None


@blp.route("/<reference>/evidence", methods=["POST"], parameters=[REFERENCE_PARAMETER])
@blp.response(201, AttachmentSchema)
@blp.doc(operationId="addEvidence", security=GROUP_OR_OFFICER, requestBody=UPLOAD_BODY, parameters=[IDEMPOTENCY_KEY])
@blp.problems(401, 403, 404, 409, 413, 415, 422, 503)
def upload(reference: str) -> Response:
    """Add a file of evidence to a claim (the group or an officer)

    Checked for type (extension and contents must agree), size and count; stored under a
    random name outside the web root. With an Idempotency-Key, a retry of the same file returns
    the first answer and adds no second copy.
    """
    sent = list(request.files.items(multi=True))
    upload = sent[0][1] if len(sent) == 1 and sent[0][0] == "file" else None
    if upload is None or request.form:
        return problem(422, N_("Send exactly one file, in a field named file."), errors={"file": [N_("Choose a file")]})
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    filename = upload.filename or ""
    actor = auth.caller()

    def produce(ctx: ServiceContext) -> StoredResponse:
        attachment = add_evidence(ctx, reference, actor, filename, data)
        return StoredResponse(201, AttachmentSchema().dump(attachment), {})

    # A retry with the same key and the same file returns the first answer and adds nothing.
    sent_file = {"filename": filename, "sha256": hashlib.sha256(data).hexdigest()}
    return run_once_for(actor, sent_file, produce)


@blp.route("/<reference>/evidence", methods=["GET"], parameters=[REFERENCE_PARAMETER])
@blp.response(200, AttachmentListSchema)
@blp.doc(operationId="listEvidence", security=GROUP_OR_OFFICER)
@blp.problems(401, 403, 404)
def index(reference: str) -> Response:
    """List a claim's evidence (the group or an officer)"""
    items = list_evidence(service_context(), reference, auth.caller())
    return jsonify(AttachmentListSchema().dump({"items": items}))


@blp.route(
    "/<reference>/evidence/<int(min=1, max=2147483647):attachment_id>",
    methods=["GET"],
    parameters=[REFERENCE_PARAMETER, ATTACHMENT_PARAMETER],
)
@blp.response(200, description="The file, as an attachment")
@blp.doc(
    operationId="downloadEvidence",
    security=GROUP_OR_OFFICER,
    responses={
        200: {  # an int, as @blp.response keys it, so the two merge
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("application/pdf", "image/png", "image/jpeg")
            }
        }
    },
)
@blp.problems(401, 403, 404, 503)
def download(reference: str, attachment_id: int) -> Response:
    """Download a file of evidence (the group or an officer)"""
    attachment, path = open_evidence(service_context(), reference, attachment_id, auth.caller())
    return evidence_download(path, attachment.content_type, attachment.filename)
