"""Everything the service writes to people, gathered by using it: the public pages (found by
following the start page's links and filling each form page until the claim is filed), the
tracking page of a claim in every state, every e-mail (rendered by the real sender), and the
workflow's action forms. Read by tests/test_wording.py and tests/readability.py.

What the walk types (a group's answers, an officer's reasons) is masked with "…" before anything
reads the words: they are the people's words, not the service's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee import mail
from guarantee.action_forms import action_form
from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.models import Claim, DecisionStatement, OutboxMessage, Regulation
from guarantee.services import data_rights, following, schedule, sender
from guarantee.services.actors import GroupActor
from guarantee.services.casework import assign
from guarantee.services.claims import (
    change_contact_email,
    fire,
    issue_tracking_token,
    request_tracking_link,
    submit_claim,
)
from guarantee.services.sweep import sweep_batch
from guarantee.statistics import releases
from guarantee.statistics.document import settings_from
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, submission, walk
from tests.support.text import Form, blocks_of_mail, blocks_of_page, forms_of, without_addresses
from workflows import STATES, TRANSITIONS

MAIL_TEMPLATES = sorted(
    p.stem for p in (Path(__file__).parents[2] / "guarantee/templates/mail").glob("*.txt") if not p.stem.startswith("_")
)

# What the walk types into the claim form's pages.
TYPED_ON_FORMS = {
    "email": "group@example.org",
    "phone": "01632 960 001",
    "number": "12",
    "textarea": "Neighbours cook and share a meal in the church hall every week.",
    "text": "Thursday Table",
}
NEW_ADDRESS = "secretary@example.org"


def _typed() -> set[str]:
    typed = {v for section in VALID_SUBMISSION.values() for v in section.values() if isinstance(v, str) and " " in v}
    typed |= {v for given in INPUTS.values() for v in given.values() if isinstance(v, str) and " " in v}
    typed |= set(TYPED_ON_FORMS.values()) | {"Test Officer", "Food premises registration", NEW_ADDRESS}
    return {t for t in typed if len(t) > 3}


TYPED = sorted(_typed(), key=len, reverse=True)
EMAIL_ADDRESS = re.compile(r"[\w.*+-]+@[\w-]+(\.[\w-]+)+")


def masked(block: str) -> str:
    """A block with what people typed replaced by "…", and without web or e-mail addresses."""
    for typed in TYPED:
        block = block.replace(typed, "…")
    return without_addresses(EMAIL_ADDRESS.sub("…", block))


@dataclass
class Text:
    """One page or e-mail: where it was found and its words, block by block."""

    name: str
    blocks: list[str]
    public: bool = True  # a page anyone may open, or an e-mail to a group
    source: str = ""  # the address or template
    # Another e-mail from a template already gathered (sent after another step): read for its
    # wording, not scored again.
    again: bool = False
    # A page written whole in its template, not put together from pieces (the legal pages, whose
    # citations and proper nouns are the law's): scored for reading ease, not read for the faults
    # of a sentence made of pieces.
    written_whole: bool = False


@dataclass
class Corpus:
    texts: list[Text] = field(default_factory=list)

    def add(
        self,
        name: str,
        blocks: list[str],
        *,
        public: bool = True,
        source: str = "",
        again: bool = False,
        written_whole: bool = False,
    ) -> None:
        self.texts.append(
            Text(name, [b for b in (masked(b) for b in blocks) if b], public, source, again, written_whole)
        )

    def __iter__(self) -> Iterator[Text]:
        return iter(self.texts)

    def named(self, name: str) -> Text:
        return next(t for t in self.texts if t.name == name)


# --- the public pages, found by walking them --------------------------------------------------


def _heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else "(no heading)"


def _fill(form: Form) -> dict[str, str]:
    """Answers for every field a form page asks: what a group might type, the first choice of each
    radio group and list, and every box ticked."""
    data = dict(form.fields)
    for name, kind in form.text_inputs:
        if data.get(name):
            continue
        key = "email" if "email" in name or kind == "email" else kind
        key = "phone" if "phone" in name or kind == "tel" else key
        key = "number" if "people" in name or kind == "number" else key
        data[name] = TYPED_ON_FORMS.get(key, TYPED_ON_FORMS["text"])
    for name, values in form.choices.items():
        offered = [v for v in values if v]
        if not data.get(name) and offered:
            data[name] = offered[0]
    return data


def _submit_button(form: Form) -> tuple[str, str] | None:
    for name, value, words in form.buttons:
        if not words.lower().startswith("change"):
            return name, value
    return None


def _post_form(client: FlaskClient, page_url: str, html: str) -> Any | None:
    """Send the page's main form, filled in, as a person would; None if it has none."""
    for form in forms_of(html):
        button = _submit_button(form)
        if form.method != "post" or button is None:
            continue
        data = _fill(form)
        if button[0]:
            data[button[0]] = button[1]
        return client.post(urljoin(page_url, form.action or page_url), data=data, follow_redirects=True)
    return None


def _claim_form_pages(client: FlaskClient, corpus: Corpus) -> str:
    """From the start page's "Start now" to the confirmation, page by page; each form page once
    empty (its errors) and once filled in. The confirmation page's address."""
    start = client.get("/")
    corpus.add("Start page", blocks_of_page(start.text), source="/")
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*Start now', start.text)
    assert link, "the start page has a Start now button"
    url = link.group(1)
    page = client.get(url, follow_redirects=True)
    seen: set[str] = set()
    for _ in range(30):
        heading = _heading(page.text)
        url = page.request.path
        form = next((f for f in forms_of(page.text) if f.method == "post" and _submit_button(f)), None)
        if form is None:  # filed: nothing more to fill in
            corpus.add("Confirmation", blocks_of_page(page.text), source=url)
            return str(url)
        if heading in seen:
            raise AssertionError(f"the claim form came back to {heading!r}: {blocks_of_page(page.text)[:12]}")
        seen.add(heading)
        checking = "check your answers" in heading.lower()
        corpus.add(
            "Check your answers" if checking else f"Claim form: {heading}", blocks_of_page(page.text), source=url
        )
        if not checking:  # the page sent with nothing filled in: its error messages
            typed = {name for name, _ in form.text_inputs} | set(form.choices)
            empty = client.post(
                urljoin(url, form.action or url),
                data={k: v for k, v in form.fields.items() if k not in typed},
                follow_redirects=True,
            )
            if "govuk-error-summary" in empty.text:
                corpus.add(f"Claim form: {heading}, with errors", blocks_of_page(empty.text), source=url)
        sent = _post_form(client, url, page.text)
        assert sent is not None, heading
        assert sent.status_code == 200, f"{heading}: {blocks_of_page(sent.text)[:12]}"
        page = sent
    raise AssertionError("the claim form never ended")


def _other_public_pages(client: FlaskClient, corpus: Corpus, reference: str) -> None:
    corpus.add("How a claim is handled", blocks_of_page(client.get("/process").text), source="/process")
    lost = client.get("/track")
    corpus.add("Lost link", blocks_of_page(lost.text), source="/track")
    sent = _post_form(client, "/track", lost.text)
    if sent is not None:
        corpus.add("Lost link: asked", blocks_of_page(sent.text), source="/track")
    fresh = client.application.test_client()  # no tracking cookie: what someone with no link meets
    corpus.add("Tracking page without a link", blocks_of_page(fresh.get(f"/track/{reference}").text))
    broken = fresh.get(f"/track/{reference}?token=a-link-that-does-not-work", follow_redirects=True)
    corpus.add("Tracking link that does not work", blocks_of_page(broken.text))
    corpus.add("Page not found", blocks_of_page(client.get("/no-such-page").text))
    corpus.add("Statistics, before the first release", blocks_of_page(client.get("/statistics").text))
    with client.application.app_context(), unit_of_work() as ctx:
        releases.publish(ctx, None, settings_from(client.application.config, private=False, epsilon=None))
    corpus.add("Statistics", blocks_of_page(client.get("/statistics").text), source="/statistics")
    corpus.add("Decisions on claims", blocks_of_page(client.get("/decisions").text), source="/decisions")
    # (The data dictionary is not here: the names it explains are the names of the code, on purpose.)
    for name, path in LEGAL_PAGES.items():
        blocks = [b for b in blocks_of_page(client.get(path).text) if not b.startswith(SETTING_TO_SET)]
        corpus.add(name, blocks, source=path, written_whole=True)


# The legal pages (issue 21). A note that a setting is still an example ("Set GUARANTEE_COUNCIL_EMAIL
# before going live") is for the council's admins, never shown to the public in production: not read.
LEGAL_PAGES = {
    "Accessibility statement": "/accessibility",
    "Privacy notice": "/privacy",
    "Cookies": "/cookies",
    "Contact us": "/contact",
}
SETTING_TO_SET = "! Set GUARANTEE_"


# --- claims in every state, and the tracking page of each -------------------------------------

# The steps that take a claim to each state the group can see (and two ways to some of them).
PATHS: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "under_review": ("accept",),
    "awaiting_information": ("accept", "request_information"),
    "upheld": ("accept", "uphold"),
    "upheld on appeal": ("accept", "not_uphold", "appeal", "allow_appeal"),
    "not_upheld": ("accept", "not_uphold"),
    "appealed": ("accept", "not_uphold", "appeal"),
    "resolved": ("accept", "uphold", "record_resolution"),
    "resolved, appeal dismissed": ("accept", "not_uphold", "appeal", "dismiss_appeal"),
    "closed": ("decline",),
    "withdrawn": ("withdraw",),
    "lapsed": ("accept", "request_information", "information_lapsed"),
}
assert {p.split(",")[0].split(" on ")[0] for p in PATHS} == set(STATES)


def _state_name(path: str) -> str:
    return path.replace("_", " ")


def _tracking_pages(app: Flask, references: dict[str, str], corpus: Corpus) -> None:
    for path, reference in references.items():
        with app.app_context(), unit_of_work() as ctx:
            claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
            assert claim is not None
            token = issue_tracking_token(ctx, claim)
        client = app.test_client()
        page = client.get(f"/track/{reference}?token={token}", follow_redirects=True)
        assert page.status_code == 200, page.status_code
        corpus.add(f"Tracking page: {_state_name(path)}", blocks_of_page(page.text), source=f"/track/{reference}")
        if path == "under_review":
            withdraw = _withdraw_page(client, reference, page.text)
            if withdraw is not None:
                corpus.add("Withdraw a claim", blocks_of_page(withdraw.text), source=withdraw.request.path)
            _data_rights_pages(client, reference, corpus)


def _data_rights_pages(client: FlaskClient, reference: str, corpus: Corpus) -> None:
    """The group's data rights: what it can get, its copy, and asking for erasure (then the answer)."""
    yours = client.get(f"/track/{reference}/your-data")
    corpus.add("Your data", blocks_of_page(yours.text), source=yours.request.path)
    (form,) = [f for f in forms_of(yours.text) if f.action.endswith("/your-data")]
    copy = client.post(form.action, data={**form.fields, "format": "page"})
    corpus.add("Your data: the copy", blocks_of_page(copy.text), source=yours.request.path)
    erase = client.get(f"/track/{reference}/erase")
    corpus.add("Ask for erasure", blocks_of_page(erase.text), source=erase.request.path)
    (form,) = [f for f in forms_of(erase.text) if f.action.endswith("/erase")]
    asked = client.post(form.action, data=form.fields, follow_redirects=True)
    corpus.add("Erasure asked for", blocks_of_page(asked.text), source=erase.request.path)


def _withdraw_page(client: FlaskClient, reference: str, html: str) -> Any | None:
    """The page that asks the group to confirm it wants to withdraw: a link to it, or the first
    step of the withdraw form."""
    link = re.search(r'href="([^"]*withdraw[^"]*)"', html)
    if link:
        return client.get(link.group(1), follow_redirects=True)
    for form in forms_of(html):
        if form.action.endswith("/withdraw"):
            return client.post(form.action, data=form.fields, follow_redirects=True)
    return None


# --- every e-mail -------------------------------------------------------------------------------


@dataclass
class Captured:
    emails: list[tuple[str, str, sender.Email]] = field(default_factory=list)  # (template, recipient type, e-mail)

    def send(self, email: sender.Email) -> None:
        self.emails.append(("", "", email))


def _send_everything(app: Flask, captured: Captured) -> None:
    """What ``flask guarantee notify`` does: queue the reminders and digests, then send the outbox,
    here to a list."""
    with app.app_context():
        with unit_of_work() as ctx:
            schedule.queue_scheduled(ctx)
        while sender.send_batch(unit_of_work, captured, mail.render, limit=200).handled:
            pass


def _label_emails(app: Flask, captured: Captured) -> None:
    with app.app_context(), unit_of_work() as ctx:
        rows = ctx.session.execute(
            select(OutboxMessage.message_id, OutboxMessage.template, OutboxMessage.recipient_type)
        )
        kinds = {m: (t, r) for m, t, r in rows}
    captured.emails = [(*kinds[e.message_id], e) for _, _, e in captured.emails]


def _claims(app: Flask, clock: FixedClock, captured: Captured) -> dict[str, str]:
    """Claims taken through every step that sends an e-mail, and one in each state; the references
    of the latter. The clock moves on 31 days, for reminders, digests and the lapse."""
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        lapsing = submit_claim(ctx, submission()).reference
        assign(ctx, lapsing, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, lapsing, "accept", "request_information")
        answered = submit_claim(ctx, submission()).reference
        assign(ctx, answered, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, answered, "accept", "request_information")
        fire(ctx, answered, "provide_information", GroupActor(answered), INPUTS["provide_information"])
        walk(ctx, cast, answered, "not_uphold", "appeal", "dismiss_appeal")
        withdrawn = submit_claim(ctx, submission()).reference
        assign(ctx, withdrawn, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, withdrawn, "withdraw")
        declined = submit_claim(ctx, submission()).reference
        walk(ctx, cast, declined, "decline")
        request_tracking_link(ctx, declined, VALID_SUBMISSION["group"]["email"])
        change_contact_email(ctx, declined, GroupActor(declined), NEW_ADDRESS)
        waiting = submit_claim(ctx, submission()).reference
        walk(ctx, cast, waiting, "accept", "not_uphold")
        data_rights.request_erasure(ctx, waiting, GroupActor(waiting))
        overdue = submit_claim(ctx, submission()).reference
        assign(ctx, overdue, cast.reviewer.officer_id, cast.triage)
    _send_everything(app, captured)
    clock.advance(days=21)  # reminders of the question and the appeal, the reviewer's digest
    with app.app_context(), unit_of_work() as ctx:
        submit_claim(ctx, submission())  # for the triage officers' list of new claims
    clock.advance(days=1)
    _send_everything(app, captured)
    clock.advance(days=9)  # the question's time has run out
    with app.app_context(), unit_of_work() as ctx:
        sweep_batch(ctx, 100, set())
        walk(ctx, Cast(ctx), declined, "reopen")
    references = {"lapsed": lapsing}
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        for path, triggers in PATHS.items():
            if path == "lapsed":
                continue
            reference = submit_claim(ctx, submission()).reference  # no one holds it: an appeal goes to the panel
            walk(ctx, cast, reference, *triggers)
            references[path] = reference
    _send_everything(app, captured)
    return references


def _emails(app: Flask, captured: Captured, corpus: Corpus) -> None:
    _label_emails(app, captured)
    done: dict[str, int] = {}
    for template, recipient, email in captured.emails:
        done[template] = done.get(template, 0) + 1
        again = done[template] > 1
        corpus.add(
            f"E-mail: {template.replace('_', ' ')}" + (f" ({done[template]})" if again else ""),
            blocks_of_mail(email.subject, email.text),
            public=recipient in ("group", "follower"),
            source=f"mail/{template}.txt",
            again=again,
        )
    missing = sorted(set(MAIL_TEMPLATES) - set(done))
    assert not missing, f"no step of the walk sent {missing}: add one to tests/support/corpus.py"


def _ended_link_pages(app: Flask, clock: FixedClock, captured: Captured, corpus: Corpus) -> None:
    """An e-mail's link opened long after it ended, and the page its one button leads to."""
    link = next(
        word
        for _, recipient, email in captured.emails
        if recipient == "group"
        for word in email.text.split()
        if "?token=" in word
    )
    clock.advance(days=2 * int(app.config["GUARANTEE_TRACKING_LINK_DAYS"]))
    path = urlsplit(link)._replace(scheme="", netloc="").geturl()
    client = app.test_client()
    ended = client.get(path)
    assert ended.status_code == 410, ended.status_code
    corpus.add("Tracking link that has ended", blocks_of_page(ended.text), source="public/link_needed.html")
    sent = _post_form(client, path, ended.text)
    assert sent is not None and sent.status_code == 200, "the ended link's page has a button that works"
    corpus.add("Tracking link that has ended: new link asked", blocks_of_page(sent.text))


def _check_in_pages(app: Flask, clock: FixedClock, captured: Captured, corpus: Corpus, reference: str) -> None:
    """Three months on, the resolved claim's check-in e-mail (sent with the rest), and the pages its
    link opens: the question, with an error, the thanks, a second visit; a broken and an ended link."""
    clock.advance(days=93)
    before = len(captured.emails)
    _send_everything(app, captured)
    link = next(word for _, _, email in captured.emails[before:] for word in email.text.split() if "/check-in/" in word)
    path = urlsplit(link)._replace(scheme="", netloc="").geturl()
    client = app.test_client()
    question = client.get(path)
    assert question.status_code == 200, question.status_code
    corpus.add("Check-in: the question", blocks_of_page(question.text), source="public/check_in.html")
    fields = {f.action: f.fields for f in forms_of(question.text)}
    action = next(iter(fields))
    empty = client.post(action, data=fields[action])
    corpus.add("Check-in: the question, with errors", blocks_of_page(empty.text), source="public/check_in.html")
    answered = client.post(action, data={**fields[action], "answer": "remedy_not_in_place"})
    assert answered.status_code == 200, answered.status_code
    corpus.add("Check-in: answered", blocks_of_page(answered.text), source="public/check_in_answered.html")
    corpus.add("Check-in: answered already", blocks_of_page(client.get(path).text), source="public/check_in_link.html")
    broken = client.get(f"/check-in/{reference}?token=a-link-that-does-not-work")
    corpus.add("Check-in link that does not work", blocks_of_page(broken.text), source="public/check_in_link.html")
    clock.advance(days=100)
    ended = client.get(path)
    assert ended.status_code == 410, ended.status_code
    corpus.add("Check-in link that has ended", blocks_of_page(ended.text), source="public/check_in_link.html")


# --- the rule pages, and following a rule by e-mail -------------------------------------------


def _link_to(captured: Captured, path: str) -> str:
    """The path of the last e-mailed link to ``path``/..."""
    words = [w for _, _, email in captured.emails for w in email.text.split() if f"{path}/" in w]
    assert words, f"an e-mail with a link to {path}/..."
    return urlsplit(words[-1])._replace(scheme="", netloc="").geturl()


def _rule_pages(app: Flask, clock: FixedClock, captured: Captured, corpus: Corpus) -> None:
    """The list of rules, a rule's page, and following it: asked, confirmed, told of a decision
    statement, and stopped with the e-mail's link."""
    client = app.test_client()
    corpus.add("Rules", blocks_of_page(client.get("/rules").text), source="/rules")
    with app.app_context(), unit_of_work() as ctx:
        entry = ctx.session.scalars(select(Regulation).where(Regulation.title == "Food premises registration")).first()
        assert entry is not None, "accepting a claim added the entry"
        slug, entry_id = entry.slug, entry.id
        claim_id = ctx.session.scalar(select(Claim.id).where(Claim.regulation_id == entry_id))
    page = client.get(f"/rules/{slug}")
    corpus.add("Rule page", blocks_of_page(page.text), source="rules/rule.html")
    asked = _post_form(client, f"/rules/{slug}", page.text)
    assert asked is not None and asked.status_code == 200
    corpus.add("Rule page: following asked", blocks_of_page(asked.text), source="rules/check_email.html")
    _send_everything(app, captured)
    confirm = _link_to(captured, "/follow")
    opened = client.get(confirm)
    corpus.add("Follow a rule: confirm", blocks_of_page(opened.text), source="rules/confirm.html")
    confirmed = _post_form(client, confirm, opened.text)
    assert confirmed is not None and confirmed.status_code == 200
    corpus.add("Follow a rule: confirmed", blocks_of_page(confirmed.text), source="rules/following.html")
    corpus.add("Follow link that does not work", blocks_of_page(client.get("/follow/no-such-link").text))
    clock.advance(minutes=5)
    with app.app_context(), unit_of_work() as ctx:
        ctx.session.add(
            DecisionStatement(
                number="DS-2026-0001",
                claim_id=claim_id,
                decision="upheld",
                status="published",
                drafted_at=ctx.now(),
                published_at=ctx.now(),
                consent=False,
                regulation_id=entry_id,
            )
        )
        ctx.session.flush()
        following.queue_rule_updates(ctx, lambda session, statement: True)
    _send_everything(app, captured)
    stop = _link_to(captured, "/unsubscribe")
    opened = client.get(stop)
    corpus.add("Stop e-mails about a rule", blocks_of_page(opened.text), source="rules/unsubscribe.html")
    stopped = _post_form(client, stop, opened.text)
    assert stopped is not None and stopped.status_code == 200
    corpus.add("Stop e-mails about a rule: stopped", blocks_of_page(stopped.text), source="rules/unsubscribed.html")


# --- the workflow's forms -----------------------------------------------------------------------


def _action_forms(app: Flask, corpus: Corpus) -> None:
    """Each step's form as the group's tracking page and the officers' console build it: labels,
    hints, choices and the button."""
    with app.test_request_context():
        for transition in TRANSITIONS:
            form = action_form(
                transition, hidden=("version",), regulations=[(1, "…")], officers=[(1, "…")], ranked=[(1, "…")]
            )
            blocks = []
            for item in form:
                if item.type in ("HiddenField", "CSRFTokenField"):
                    continue
                blocks.append(str(item.label.text))
                if item.description:
                    blocks.append(str(item.description))
                blocks.extend(str(c.label) for c in getattr(item, "choices", None) or [] if hasattr(c, "label"))
            corpus.add(f"Form: {transition.label}", blocks, public=False, source=f"action {transition.trigger}")


def gather(app: Flask, clock: FixedClock) -> Corpus:
    """Use the service as groups and officers do, and keep every text it showed or sent."""
    corpus = Corpus()
    captured = Captured()
    client = app.test_client()
    with app.app_context(), unit_of_work() as ctx:  # a rule like the one the walk names: the similar rules step
        ctx.session.add(
            Regulation(title=TYPED_ON_FORMS["text"], category="other", slug="thursday-table", created_at=ctx.now())
        )
    _claim_form_pages(client, corpus)
    references = _claims(app, clock, captured)
    _rule_pages(app, clock, captured, corpus)
    _other_public_pages(client, corpus, references["submitted"])
    _tracking_pages(app, references, corpus)
    _check_in_pages(app, clock, captured, corpus, references["resolved"])  # it moves the clock on 6 months
    _emails(app, captured, corpus)
    _action_forms(app, corpus)
    _ended_link_pages(app, clock, captured, corpus)  # last: it moves the clock on
    return corpus
