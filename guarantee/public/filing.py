"""Filing a claim: six short question pages, then check your answers, then the confirmation.

The answers are kept on the server as the group goes (a draft, under a random key in a cookie:
guarantee.services.drafts), so that a refresh, the back button or a lost connection loses
nothing. Each page is checked by the same rules as the API's ``POST /api/v1/claims``: the whole
claim goes through ``check_submission`` and the page shows the problems of its own questions.
The claim form takes no files: evidence is added on the tracking page once the claim is filed,
where each file is checked and stored against its claim (a draft would have to keep files of
claims that may never be filed).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from guarantee.context import run_once
from guarantee.extensions import limiter
from guarantee.pages import render_error
from guarantee.public import ALREADY_SENT, bp, forms, precedent, tracking
from guarantee.services import rule_pages
from guarantee.services.claims import check_submission, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.drafts import KEEP_FOR, discard_draft, find_draft, key_hash, save_answers
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.services.idempotency import StoredResponse
from guarantee.transactions import context, keep, read_only, transactional

CHANGED_SINCE = _l(
    "Your answers were changed after this page was shown, perhaps in another tab or window. "
    "Check the answers below, then file your claim."
)
OTHER_SITE = _l("This form was sent from another website. Open the claim form on this site to file a claim.")
CHECK = "check"  # ?change=check: the page was opened from check your answers, and returns there


def _submission_limit() -> str:
    return str(current_app.config["GUARANTEE_SUBMISSION_RATE_LIMIT"])


def _page_limit() -> str:
    """Each page sent saves the answers (a row): generous for a person, a limit for a script."""
    return str(current_app.config["GUARANTEE_FORM_PAGE_RATE_LIMIT"])


def _same_site() -> bool:
    """Whether a POST came from our own pages (browsers say so in Sec-Fetch-Site): another
    site must not be able to show our form filled in with its answers."""
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


# --- the draft's cookie ----------------------------------------------------------------


def draft_cookie_name() -> str:
    return "__Host-claim-draft" if tracking.served_securely() else "claim-draft"


def _draft_key() -> str | None:
    return request.cookies.get(draft_cookie_name()) or None


def _keep_key(response: Response, key: str) -> Response:
    """The draft's key lasts as long as the draft: seven days after the last change."""
    response.set_cookie(
        draft_cookie_name(),
        key,
        max_age=int(KEEP_FOR.total_seconds()),
        secure=tracking.served_securely(),
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return tracking.no_store(response)


# --- the question pages ----------------------------------------------------------------


@bp.get("/claims/new")
def new_claim() -> Response:
    """The claim form starts at its first question page (with any answers already given)."""
    return redirect(url_for("public.question", page=forms.PAGES[0].slug), code=303)


def _page_errors(answers: Mapping[str, str], page: forms.Page) -> dict[str, list[str]]:
    """The problems with this page's answers, by the rules every claim is filed under."""
    try:
        check_submission(forms.submission(forms.answers_form(answers)))
    except ValidationFailed as failed:
        own = {f"{name.replace('_', '.', 1)}" for name in page.fields}
        return {dotted: messages for dotted, messages in failed.errors.items() if dotted in own}
    return {}


def _next(page: forms.Page, changing: bool) -> str:
    at = forms.PAGES.index(page)
    if changing or at == len(forms.PAGES) - 1:
        return url_for("public.check_answers")
    return url_for("public.question", page=forms.PAGES[at + 1].slug)


def _back(page: forms.Page, changing: bool) -> str:
    at = forms.PAGES.index(page)
    if changing:
        return url_for("public.check_answers")
    return url_for("public.start") if at == 0 else url_for("public.question", page=forms.PAGES[at - 1].slug)


def _question_page(page: forms.Page, form: forms.ClaimForm, changing: bool, status: int = 200) -> Response:
    body = render_template(
        "public/filing/question.html",
        page=page,
        step=forms.PAGES.index(page) + 1,
        steps=len(forms.PAGES),
        form=form,
        back=_back(page, changing),
        keep_days=KEEP_FOR.days,
        action=url_for("public.question", page=page.slug, change=CHECK if changing else None),
    )
    return tracking.no_store(make_response(body, status))


@bp.route("/claims/new/<page>", methods=["GET", "POST"])
@limiter.limit(_page_limit, methods=["POST"])
@transactional
def question(ctx: ServiceContext, page: str) -> ResponseReturnValue:
    """One page of questions. Continuing saves its answers, even with mistakes (so nothing typed
    is lost), and goes on to the next page only when they are right."""
    shown = forms.PAGE_BY_SLUG.get(page)
    if shown is None:
        abort(404)
    changing = request.args.get("change") == CHECK
    key = _draft_key()
    draft = find_draft(ctx, key, for_update=request.method == "POST")
    answers: dict[str, str] = dict(draft.answers) if draft else {}
    if request.method == "GET":
        form = forms.answers_form(answers)
        if changing and request.args.get("unanswered"):  # sent here by the check page
            forms.show_errors(form, _page_errors(answers, shown), choice_messages=forms.CHOICE_MESSAGES)
        return _question_page(shown, form, changing)
    if not _same_site():
        return _question_page(shown, forms.answers_form(answers), changing, 400)
    posted = forms.ClaimForm()
    if not posted.validate():  # the fields have no validators of their own: this is CSRF
        return _question_page(shown, posted, changing, 400)
    before = dict(answers)
    answers.update({name: request.form.get(name, "") for name in shown.fields})
    if shown.slug == precedent.AFTER:
        precedent.forget_if_renamed(answers, before)
    key = save_answers(ctx, key, answers)[1]
    problems = _page_errors(answers, shown)
    if problems:
        keep()  # the answers are saved, mistakes and all; the page asks for them to be put right
        forms.show_errors(posted, problems, choice_messages=forms.CHOICE_MESSAGES)
        return _keep_key(_question_page(shown, posted, changing, 400), key)
    if shown.slug == precedent.AFTER:
        similar = precedent.after_rule_page(ctx, answers, changing)
        if similar is not None:  # the catalogue has rules like the one named: offer them first
            return _keep_key(redirect(similar, code=303), key)
    return _keep_key(redirect(_next(shown, changing), code=303), key)


@bp.route("/claims/new/similar-rules", methods=["GET", "POST"])
@limiter.limit(_page_limit, methods=["POST"])
@transactional
def similar_rules(ctx: ServiceContext) -> ResponseReturnValue:
    """After the rule's page: the closest catalogue entries, with what was decided about each; the
    group may choose one (guarantee.public.precedent)."""
    changing = request.args.get("change") == CHECK
    key = _draft_key()
    draft = find_draft(ctx, key, for_update=request.method == "POST")
    if draft is None:
        return tracking.no_store(redirect(url_for("public.new_claim"), code=303))
    answers: dict[str, Any] = dict(draft.answers)
    offered = precedent.offered(ctx, answers)
    if not offered:  # the catalogue changed, or no rule was named: nothing to choose from
        return tracking.no_store(redirect(precedent.onwards(changing), code=303))
    if request.method == "GET":
        return precedent.page(offered, precedent.form_for(offered, value=answers.get(precedent.CHOICE)), changing)
    form = precedent.form_for(offered, formdata=request.form)
    if not _same_site() or not form.validate():  # CSRF, or another site's page
        return precedent.page(offered, form, changing, 400)
    given = form.precedent_regulation.data or ""
    ids = [p.regulation_id for p in offered]
    if given not in (precedent.NONE, "") and rule_pages.chosen_entry(ctx, given, ids) is None:
        form.precedent_regulation.errors = [_("Select one of the rules listed, or say it is not one of these")]
        return precedent.page(offered, form, changing, 400)
    if given:
        answers[precedent.CHOICE] = given
    else:
        answers.pop(precedent.CHOICE, None)
    key = save_answers(ctx, key, answers)[1]
    return _keep_key(redirect(precedent.onwards(changing), code=303), key)


# --- check your answers and filing ------------------------------------------------------


def _first_page_with(errors: Mapping[str, list[str]]) -> forms.Page:
    names = {dotted.replace(".", "_") for dotted in errors}
    return next((page for page in forms.PAGES if names & set(page.fields)), forms.PAGES[0])


def _check_page(
    answers: Mapping[str, str], revision: int, *, problem: str | None = None, status: int = 200, form: object = None
) -> Response:
    checking = forms.CheckAnswersForm(formdata=None) if form is None else form
    assert isinstance(checking, forms.CheckAnswersForm)
    checking.submission_key.data = secrets.token_urlsafe(24)
    checking.revision.data = str(revision)
    body = render_template(
        "public/check_answers.html",
        form=checking,
        answers=forms.answers_form(answers),
        pages=forms.PAGES,
        keys=forms.SUMMARY_KEYS,
        answer=forms.answer_text,
        back=url_for("public.question", page=forms.PAGES[-1].slug),
        problem=problem,
        change=CHECK,
        chosen_rule=precedent.chosen_title(context(), answers),
        similar_rules=url_for("public.similar_rules", change=CHECK),
    )
    return tracking.no_store(make_response(body, status))


def _start_again() -> Response:
    """No answers in this browser: they were filed, they expired, or they were typed elsewhere."""
    return tracking.no_store(make_response(render_template("public/filing/start_again.html", days=KEEP_FOR.days), 404))


@bp.get("/claims/new/check")
@read_only
def check_answers(ctx: ServiceContext) -> Response:
    """Every answer, each with a link to change it. Answers with a problem (a page skipped)
    send the group to the first page that needs them, which shows the problems and returns here."""
    draft = find_draft(ctx, _draft_key())
    if draft is None:
        return tracking.no_store(redirect(url_for("public.question", page=forms.PAGES[0].slug), code=303))
    try:
        check_submission(forms.submission(forms.answers_form(draft.answers)))
    except ValidationFailed as failed:
        # A page skipped, or left with a mistake: its problems shown, and back here after it.
        page = _first_page_with(failed.errors)
        to = url_for("public.question", page=page.slug, change=CHECK, unanswered=1)
        return tracking.no_store(redirect(to, code=303))
    return _check_page(draft.answers, draft.revision)


class _ChangedSince(Exception):
    """The answers changed after the check page was shown."""


@bp.post("/claims/new/submit")
@limiter.limit(_submission_limit)
def submit() -> ResponseReturnValue:
    """File the checked claim, once however often the button is pressed. run_once owns the
    transaction: the claim, its key and the draft's deletion are committed together."""
    key = _draft_key()
    if key is None or not _same_site():
        return _start_again() if key is None else render_error(400, str(OTHER_SITE))
    form = forms.CheckAnswersForm()
    revision = form.revision.data or ""
    base = current_app.config["GUARANTEE_BASE_URL"].rstrip("/")
    answers: dict[str, str] = {}

    def produce(once: ServiceContext) -> StoredResponse:
        draft = find_draft(once, key, for_update=True)
        if draft is None:
            raise NotFound("draft")
        answers.update(draft.answers)
        if str(draft.revision) != revision:
            raise _ChangedSince
        chosen = precedent.chosen_id(once, draft.answers)
        filed = submit_claim(once, forms.submission(forms.answers_form(draft.answers)), regulation_chosen_id=chosen)
        discard_draft(once, draft)
        link = f"{base}{url_for('public.track', reference=filed.reference)}?token={filed.tracking_token}"
        return StoredResponse(
            201,
            {
                "reference": filed.reference,
                "tracking_url": link,
                "due_on": filed.claim.due_on.isoformat() if filed.claim.due_on else None,
                "consent_contact": filed.claim.consent_contact,
            },
            {},
        )

    if not form.validate():  # CSRF
        return _resubmittable(key, form)
    try:
        scope = f"web POST /claims/new/submit {key_hash(key)}"
        stored = run_once(scope, form.submission_key.data or None, {"revision": revision}, produce)[0]
    except NotFound:
        return _start_again()
    except _ChangedSince:
        return _resubmittable(key, None, problem=str(CHANGED_SINCE))
    except ValidationFailed as failed:
        if "Idempotency-Key" in failed.errors:
            # The check page was sent once, then changed and sent again from the browser's history.
            return _resubmittable(key, None, problem=str(ALREADY_SENT))
        page = _first_page_with(failed.errors)
        shown = forms.answers_form(answers)
        forms.show_errors(shown, failed.errors, choice_messages=forms.CHOICE_MESSAGES)
        return _question_page(page, shown, changing=False, status=400)
    response = make_response(render_template("public/confirmation.html", filed=stored.body))
    return tracking.no_store(response)


def _resubmittable(key: str, form: forms.CheckAnswersForm | None, problem: str | None = None) -> Response:
    """The check page again, with the answers as they are now and a problem to read."""
    draft = find_draft(context(), key)
    if draft is None:
        return _start_again()
    return _check_page(draft.answers, draft.revision, problem=problem, status=400 if form else 409, form=form)
