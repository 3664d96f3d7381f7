"""The rule pages' views: thin, each reading or changing through guarantee.services."""

from __future__ import annotations

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from guarantee.extensions import limiter
from guarantee.i18n import current_language, say, say_all
from guarantee.models import Regulation
from guarantee.public.forms import show_errors
from guarantee.register import showing
from guarantee.rules import bp, forms
from guarantee.services import following, register, remedies, rule_pages
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.statistics.document import settings_from
from guarantee.transactions import read_only, transactional, undo

ONE_CLICK = "List-Unsubscribe=One-Click"  # what a mail program POSTs (RFC 8058)
# The statements a rule's page shows, newest first; the register lists every one, filtered by the rule.
NEWEST_STATEMENTS = 5


@bp.context_processor
def _showing() -> dict[str, object]:
    """How the rule pages say a statement's shown period, as the register's pages do."""
    return {"period": showing.period}


def _follow_limit() -> str:
    """Each request to follow may send an e-mail: the lost tracking link's limit."""
    return str(current_app.config["GUARANTEE_TOKEN_RATE_LIMIT"])


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/rules")
@read_only
def index(ctx: ServiceContext) -> str:
    text = request.args.get("q", "")[:200]
    return render_template("rules/index.html", rules=rule_pages.listed_rules(ctx, text), q=text)


def _rule(ctx: ServiceContext, slug: str) -> Regulation | Response:
    if len(slug) > 80:
        abort(404)
    try:
        return rule_pages.rule_by_slug(ctx, slug)
    except rule_pages.Moved as moved:
        return redirect(url_for("rules.rule", slug=moved.slug), code=301)
    except NotFound:
        abort(404)


def _statements(ctx: ServiceContext, regulation: Regulation) -> register.Register:
    """The rule's newest decision statements as the register shows them (coarsened, or held
    back), and how many it shows, from the register's judgement kept per worker while no
    statement changes, as the register's pages read it."""
    return register.for_rule(
        ctx.session,
        regulation.id,
        k=current_app.config["GUARANTEE_REGISTER_MIN_CLAIMS"],
        today=ctx.today(),
        cache_seconds=float(current_app.config["GUARANTEE_REGISTER_CACHE_SECONDS"]),
        limit=NEWEST_STATEMENTS,
    )


def _rule_page(ctx: ServiceContext, regulation: Regulation, form: forms.FollowForm | None = None) -> str:
    rules = settings_from(current_app.config).rules
    return render_template(
        "rules/rule.html",
        regulation=regulation,
        challenge_route=regulation.challenge_route or say(rule_pages.default_challenge_route(regulation.issuing_body)),
        outcomes=rule_pages.outcomes(ctx, regulation.id, rules),
        threshold=rules.threshold,
        base=rules.base,
        statements=_statements(ctx, regulation),
        newest=NEWEST_STATEMENTS,
        remedies_confirmed=remedies.published_in_place(ctx.session, rules, regulation.id),
        form=form or forms.FollowForm(formdata=None),
    )


@bp.get("/rules/<slug>")
@read_only
def rule(ctx: ServiceContext, slug: str) -> ResponseReturnValue:
    found = _rule(ctx, slug)
    if isinstance(found, Response):
        return found
    return _rule_page(ctx, found)


@bp.post("/rules/<slug>/follow")
@limiter.limit(_follow_limit)
@transactional
def follow(ctx: ServiceContext, slug: str) -> ResponseReturnValue:
    """Ask to follow the rule by e-mail: the same page whether or not the address follows it already."""
    found = _rule(ctx, slug)
    if isinstance(found, Response):
        return found
    form = forms.FollowForm()
    if not form.validate():  # CSRF: the page was too old
        return _rule_page(ctx, found, form), 400
    try:
        following.follow(ctx, found.id, form.email.data, current_language())
    except ValidationFailed as failed:
        undo()
        show_errors(form, say_all(failed.errors))
        return _rule_page(ctx, found, form), 400
    page = render_template("rules/check_email.html", regulation=found, days=following.CONFIRM_WITHIN.days)
    return _no_store(make_response(page))


def _link_does_not_work(what: str) -> Response:
    return _no_store(make_response(render_template("rules/link_ended.html", what=what), 404))


@bp.route("/follow/<token>", methods=["GET", "POST"])
@transactional
def confirm(ctx: ServiceContext, token: str) -> ResponseReturnValue:
    """The confirmation e-mail's link: a page with a button (so a mail scanner that opens links
    confirms nothing), then the confirmation."""
    form = forms.ConfirmForm()
    if request.method == "GET" or not form.validate():
        followed = following.to_confirm(ctx, token)
        if followed is None:
            return _link_does_not_work("confirm")
        page = render_template("rules/confirm.html", followed=followed, form=form)
        return _no_store(make_response(page, 200 if request.method == "GET" else 400))
    confirmed = following.confirm(ctx, token)
    if confirmed is None:
        return _link_does_not_work("confirm")
    return _no_store(make_response(render_template("rules/following.html", followed=confirmed)))


@bp.get("/unsubscribe/<token>")
@read_only
def unsubscribe_page(ctx: ServiceContext, token: str) -> ResponseReturnValue:
    followed = following.to_unsubscribe(ctx, token)
    if followed is None:
        return _no_store(make_response(render_template("rules/unsubscribed.html", followed=None)))
    return _no_store(make_response(render_template("rules/unsubscribe.html", followed=followed, one_click=ONE_CLICK)))


@bp.post("/unsubscribe/<token>")
@transactional
def unsubscribe(ctx: ServiceContext, token: str) -> ResponseReturnValue:
    """One-click unsubscribe (RFC 8058): a mail program, or the page's button, POSTs
    ``List-Unsubscribe=One-Click``; the token in the address is the proof, so no CSRF token and no
    sign-in are asked for. The subscription is deleted; done already, the answer is the same."""
    if request.form.get("List-Unsubscribe") != "One-Click":
        return _no_store(make_response(render_template("rules/unsubscribed.html", followed=None, refused=True), 400))
    followed = following.to_unsubscribe(ctx, token)
    following.unsubscribe(ctx, token)
    return _no_store(make_response(render_template("rules/unsubscribed.html", followed=followed)))
