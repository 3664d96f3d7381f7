"""The public statistics pages (DESIGN 7): the latest release as charts and tables, any earlier
release, the register of releases, and each release to download as CSV or JSON.

Every page and download serves a release from the register as it was stored: nothing is
counted on a request. The JSON download is the stored bytes themselves, so anyone can check
it against the SHA-256 the page shows.

A release is stored in English. A page says its titles, labels and notes in the reader's
language when it is rendered (``said``), and a rendered page is kept for each language apart.
The downloads are the release as published, in English, alike for every reader (one ETag).
"""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from guarantee.context import service_context
from guarantee.i18n import current_language, say
from guarantee.models import StatisticsRelease
from guarantee.pages import render_error
from guarantee.security import csp_nonce
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound
from guarantee.statistics import charts, releases
from guarantee.statistics.counting import UNMATCHED
from guarantee.statistics.document import said_notes
from guarantee.statistics.downloads import Format, download
from workflows.words import words

bp = Blueprint("statistics", __name__, template_folder="templates")


@dataclass(frozen=True)
class Listed:
    """A release as the register lists it, read before the transaction ends."""

    number: int
    published_at: datetime
    period_start: date
    period_end: date
    method: str
    sha256: str

    @classmethod
    def of(cls, release: StatisticsRelease) -> Listed:
        return cls(
            release.number,
            release.published_at,
            release.period_start,
            release.period_end,
            release.method,
            release.sha256,
        )


@dataclass(frozen=True)
class Stored:
    """A release as listed, and its document: the bytes stored in the register."""

    listed: Listed
    document: bytes


def _register() -> list[Listed]:
    """The register, newest first, without the documents, in a short read."""
    ctx = service_context()
    try:
        return [Listed.of(r) for r in releases.releases(ctx.session)]
    finally:
        ctx.rollback()


def _stored_in(ctx: ServiceContext, number: int | None) -> Stored:
    release = releases.release(ctx.session, number)
    return Stored(Listed.of(release), releases.published_bytes(release))


def _stored(number: int | None) -> Stored:
    """One release (the latest if ``number`` is None), in a short read. Raises NotFound."""
    ctx = service_context()
    try:
        return _stored_in(ctx, number)
    finally:
        ctx.rollback()


@bp.get("/statistics")
def latest() -> ResponseReturnValue:
    """The latest release, or a page saying none has been published yet."""
    history = _register()
    if not history:
        return render_template("statistics/none.html")
    return _release_page(history, history[0].number)


@bp.get("/statistics/releases/<int(max=2147483647):number>")
def release(number: int) -> ResponseReturnValue:
    history = _register()
    if not any(r.number == number for r in history):
        raise NotFound(words("There is no release %(number)s.", number=number))
    return _release_page(history, number)


# A release never changes and the register only grows, so a page is rendered once for each
# release, register, address and language, and kept; only the response's CSP nonce is filled in
# each time.
_PAGES: OrderedDict[tuple[str, str, int, tuple[Listed, ...]], str] = OrderedDict()
_PAGES_KEPT = 32
_NONCE_MARK = "csp-nonce-of-this-response"


def _release_page(history: list[Listed], number: int) -> str:
    key = (current_language(), request.path, number, tuple(history))
    page = _PAGES.get(key)
    if page is None:
        page = _render_release(history, _stored(number))
        _PAGES[key] = page
        while len(_PAGES) > _PAGES_KEPT:
            _PAGES.popitem(last=False)
    return page.replace(_NONCE_MARK, csp_nonce())


def _render_release(history: list[Listed], shown: Stored) -> str:
    document = said(json.loads(shown.document))
    own_nonce = g.pop("csp_nonce", None)
    g.csp_nonce = _NONCE_MARK
    try:
        return render_template(
            "statistics/release.html",
            release=shown.listed,
            size=len(shown.document),
            document=document,
            latest=history[0],
            history=history,
            headline=charts.headline(document),
            charts={t["id"]: charts.chart(t) for t in document["tables"]},
            hidden={t["id"] for t in document["tables"] if charts.has_suppressed(t)},
            dimensions=charts.DIMENSIONS,
        )
    finally:
        g.pop("csp_nonce", None)
        if own_nonce is not None:
            g.csp_nonce = own_nonce


@bp.get("/statistics/releases/<int(max=2147483647):number>.json")
def release_json(number: int) -> BaseResponse:
    """The release exactly as stored in the register: its SHA-256 is the register's."""
    return _download(number, "json")


@bp.get("/statistics/releases/<int(max=2147483647):number>.csv")
def release_csv(number: int) -> BaseResponse:
    """Every table of the release as one CSV, made from the stored document."""
    return _download(number, "csv")


def _download(number: int, as_format: Format) -> BaseResponse:
    stored = _stored(number)
    return download(number, stored.listed.sha256, as_format, lambda: stored.document, json_attachment=True)


@bp.get("/statistics.json")
def latest_json() -> BaseResponse:
    return redirect(url_for("statistics.release_json", number=_stored(None).listed.number))


@bp.get("/statistics.csv")
def latest_csv() -> BaseResponse:
    return redirect(url_for("statistics.release_csv", number=_stored(None).listed.number))


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    return render_error(404, say(error.message))


# --- a release in the reader's language ---------------------------------------------------

QUARTER = re.compile(r"(\d{4}) Q([1-4])")


def said(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a release document with its words said in this request's language: the tables'
    titles, the labels of their rows and columns, and the notes (as published, if they are not
    ones this code writes). Numbers, keys and regulations' titles are as published."""
    shown = copy.deepcopy(document)
    notes = said_notes(document)
    if notes is not None:
        shown["notes"] = [say(note) for note in notes]
    if isinstance(shown.get("rules", {}).get("noise"), str):
        shown["rules"]["noise"] = say(shown["rules"]["noise"])
    for table in shown["tables"]:
        table["title"] = say(table["title"])
        kind = table["kind"]
        if kind == "counts":
            _say_labels(table["rows"], table.get("dimension"))
        elif kind == "cross":
            _say_labels(table["rows"], table.get("row_dimension"))
            _say_labels(table["columns"], table.get("column_dimension"))
        elif kind == "share":
            _say_labels(table["rows"], "category")
        else:
            _say_labels(table["rows"], None)
    return shown


def _say_labels(lines: list[dict[str, Any]], dimension: str | None) -> None:
    for line in lines:
        line["label"] = _said_label(dimension, line["key"], line["label"])


def _said_label(dimension: str | None, key: str, text: str) -> str:
    """A row's or column's label in this request's language. A regulation is named by its title,
    as the catalogue has it; a quarter is a year and a number."""
    if dimension == "regulation":
        return say(text) if key == UNMATCHED else text
    if dimension == "quarter":
        quarter = QUARTER.fullmatch(text)
        return _("%(year)s Q%(quarter)s", year=quarter[1], quarter=quarter[2]) if quarter else text
    return say(text)
