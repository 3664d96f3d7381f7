"""A release to download, as JSON or CSV: one helper for the public pages and the API.

The JSON is the release's stored bytes, so its ETag is the register's SHA-256; the CSV is made
from them, and its ETag names the CSV writer's format too. A release never changes, but a newer
one may come, so anyone may cache a download for a few minutes; a client that already holds it
(``If-None-Match``) gets 304 without the release being read again or its CSV made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Literal

from flask import Response, request

from guarantee import csv_export
from guarantee.statistics.document import as_csv

Format = Literal["json", "csv"]
FORMATS: tuple[Format, ...] = ("json", "csv")

# Releases never change, but a newer one may come: caches may keep a download a few minutes.
DOWNLOAD_MAX_AGE = 300


def csv_etag(release_sha256: str) -> str:
    """The ETag of a release's CSV: the release's hash and the CSV writer's format, so that a
    cache never keeps the CSV of an older writer as current."""
    return f"{release_sha256}-csv{csv_export.FORMAT}"


def etag(release_sha256: str, as_format: Format) -> str:
    return release_sha256 if as_format == "json" else csv_etag(release_sha256)


def filename(number: int, as_format: Format) -> str:
    return f"guarantee-statistics-release-{number}.{as_format}"


def download(
    number: int, release_sha256: str, as_format: Format, stored: Callable[[], bytes], *, json_attachment: bool
) -> Response:
    """Release ``number`` as JSON (``stored()``: its bytes as published) or CSV, with its ETag and
    caching headers. The CSV is always a file to save; the JSON is one where ``json_attachment``
    (the pages' download link), and a body to read otherwise (the API)."""
    tag = etag(release_sha256, as_format)
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    elif as_format == "csv":
        response = Response(as_csv(json.loads(stored())), mimetype="text/csv")
    else:
        response = Response(stored(), mimetype="application/json")
    if response.status_code == 200 and (as_format == "csv" or json_attachment):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename(number, as_format)}"'
    response.set_etag(tag)
    response.cache_control.public = True
    response.cache_control.max_age = DOWNLOAD_MAX_AGE
    return response
