"""/api/v1/statistics: the published releases, anonymised only, served as stored (DESIGN 6-7)."""

from __future__ import annotations

from typing import cast

import marshmallow as ma
from flask import Response, jsonify, url_for

from guarantee.api.parser import Blueprint
from guarantee.context import service_context
from guarantee.models import StatisticsRelease
from guarantee.statistics import releases
from guarantee.statistics.downloads import Format, download
from guarantee.statistics.schemas import FormatArgs, ReleaseDocumentSchema, ReleaseRegisterSchema

blp = Blueprint(
    "statistics_api", __name__, url_prefix="/api/v1/statistics", description="Anonymised statistics releases"
)

# Both forms of a release: the stored JSON, or ?format=csv. Keyed by an int, as @blp.response
# keys it, so that the two merge (a "200" would replace the generated response instead).
RELEASE_RESPONSE = {
    200: {
        "description": "The release as published: JSON (byte for byte as stored), or CSV with ?format=csv",
        "headers": {"ETag": {"description": "The release's SHA-256, quoted", "schema": {"type": "string"}}},
        "content": {"text/csv": {"schema": {"type": "string"}}},  # and the JSON, from @blp.response
    }
}
RELEASE_PARAMETER = {"in": "path", "name": "number", "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}


def _served(release: StatisticsRelease, as_format: str) -> Response:
    """The stored bytes (or their CSV), cacheable by anyone: a release never changes."""
    return download(
        release.number,
        release.sha256,
        cast(Format, as_format),
        lambda: releases.published_bytes(release),
        json_attachment=False,
    )


@blp.route("", methods=["GET"])
@blp.arguments(FormatArgs, location="query", unknown=ma.RAISE)
@blp.response(200, ReleaseDocumentSchema)  # and RELEASE_RESPONSE: the CSV form, the ETag
@blp.alt_response(304, description="Not modified since the ETag in If-None-Match")
@blp.doc(operationId="getLatestStatistics", security=[], responses=RELEASE_RESPONSE)
@blp.problems(404, 422)
def latest(args: dict[str, str]) -> Response:
    """The latest statistics release

    404 until the first release is published.
    """
    ctx = service_context()
    return _served(releases.release(ctx.session), args["format"])


@blp.route("/releases", methods=["GET"])
@blp.response(200, ReleaseRegisterSchema)
@blp.doc(operationId="listStatisticsReleases", security=[])
@blp.problems(422)
def register() -> Response:
    """The register of releases, newest first"""
    ctx = service_context()
    entries = [
        {
            "number": r.number,
            "published_at": r.published_at,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "method": r.method,
            "sha256": r.sha256,
            "url": url_for("statistics_api.one_release", number=r.number),
            "csv_url": url_for("statistics_api.one_release", number=r.number, format="csv"),
        }
        for r in releases.releases(ctx.session)
    ]
    response = jsonify(ReleaseRegisterSchema().dump({"releases": entries}))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@blp.route("/releases/<int(max=2147483647):number>", methods=["GET"], parameters=[RELEASE_PARAMETER])
@blp.arguments(FormatArgs, location="query", unknown=ma.RAISE)
@blp.response(200, ReleaseDocumentSchema)  # and RELEASE_RESPONSE: the CSV form, the ETag
@blp.alt_response(304, description="Not modified since the ETag in If-None-Match")
@blp.doc(operationId="getStatisticsRelease", security=[], responses=RELEASE_RESPONSE)
@blp.problems(404, 422)
def one_release(args: dict[str, str], number: int) -> Response:
    """One release from the register, as published"""
    ctx = service_context()
    return _served(releases.release(ctx.session, number), args["format"])
