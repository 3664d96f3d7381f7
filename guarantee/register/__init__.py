"""The public decision register (issue 20): the list of decision statements with its filters,
one statement, the data dictionary of everything published, and the Atom feed.

Thin views: guarantee.services.register decides what may be shown; guarantee.register.feed writes
the feed. Every view only reads. The pages and the feed are in the reader's language (the feed's
``xml:lang`` says which); the JSON and the CSV of the API keep English field names and codes.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guarantee.i18n import current_language, say_all
from guarantee.pages import render_error
from guarantee.register import dictionary, feed, forms, showing
from guarantee.services import register
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.transactions import read_only

bp = Blueprint("register", __name__, template_folder="templates")

# The register changes when a statement is published or withdrawn: caches may keep it a minute.
MAX_AGE = 60


@bp.context_processor
def _showing() -> dict[str, object]:
    """How the register's templates say a shown period and a rule's title."""
    return {"period": showing.period, "rule_title": showing.rule_title}


def min_claims() -> int:
    return int(current_app.config["GUARANTEE_REGISTER_MIN_CLAIMS"])


def cache_seconds() -> float:
    return float(current_app.config["GUARANTEE_REGISTER_CACHE_SECONDS"])


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def _list_page(found: register.Register, filters: register.Filters, errors: dict[str, list[str]]) -> str:
    return render_template(
        "register/list.html",
        found=found,
        filters=filters,
        errors=errors,
        options=forms.options(found),
        items=forms.select_items,
        card_title=showing.card_title,
    )


@bp.get("/decisions")
@read_only
def decisions(ctx: ServiceContext) -> ResponseReturnValue:
    filters = forms.filters_from(request.args)
    cursor = request.args.get("cursor") or None
    try:
        found = register.read_register(
            ctx.session, filters, k=min_claims(), cursor=cursor, today=ctx.today(), cache_seconds=cache_seconds()
        )
    except ValidationFailed as refused:  # the first page, unfiltered, under what to correct
        found = register.read_register(ctx.session, k=min_claims(), today=ctx.today(), cache_seconds=cache_seconds())
        return _list_page(found, filters, say_all(refused.errors)), 400
    return _cached(Response(_list_page(found, filters, {})))


@bp.get("/decisions/data-dictionary")
def data_dictionary() -> ResponseReturnValue:
    return render_template(
        "register/data_dictionary.html",
        k=min_claims(),
        statement_fields=dictionary.statement_fields(),
        page_fields=dictionary.PAGE_FIELDS,
        release_fields=dictionary.RELEASE_FIELDS,
        release_entry_fields=dictionary.RELEASE_ENTRY_FIELDS,
        release_csv_fields=dictionary.RELEASE_CSV_FIELDS,
        tables=dictionary.statistics_tables(),
        code_lists=dictionary.code_lists(),
    )


@bp.get("/decisions/<number>")
@read_only
def statement(ctx: ServiceContext, number: str) -> ResponseReturnValue:
    try:
        shown = register.statement(
            ctx.session, number[:16], k=min_claims(), today=ctx.today(), cache_seconds=cache_seconds()
        )
    except NotFound:
        return render_error(404)
    return _cached(
        Response(render_template("register/statement.html", statement=shown, k=min_claims(), rows=showing.rows))
    )


@bp.get("/decisions.atom")
@read_only
def atom(ctx: ServiceContext) -> ResponseReturnValue:
    """Every shown statement, newest first; ?rule=<slug>: one rule's."""
    slug = request.args.get("rule", "")
    title = _("Decisions of the Co-production Guarantee")
    if slug:
        rule = register.rule_title(ctx.session, slug)
        if rule is None:
            return render_error(404)
        title = _("Decisions of the Co-production Guarantee: %(rule)s", rule=rule)
    found = register.read_register(
        ctx.session,
        register.Filters(rule=slug),
        k=min_claims(),
        page_size=None,
        today=ctx.today(),
        cache_seconds=cache_seconds(),
    )
    base = str(current_app.config["GUARANTEE_BASE_URL"]).rstrip("/")
    self_path = url_for("register.atom", rule=slug or None)
    body = feed.atom(found.statements, base=base, self_path=self_path, title=title, language=current_language())
    return _cached(Response(body, mimetype="application/atom+xml"))
