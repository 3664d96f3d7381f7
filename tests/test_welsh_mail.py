"""E-mails to a group are written in the language it chose on its claim (issue 23).

A group that chose Welsh gets every e-mail in Welsh: the subject, the plain text and the HTML part,
with dates in Welsh, whatever the language of the page or the worker that queued or sent it. A group
that chose English gets English, as before. Officers' e-mails stay in English: officers have no
language of their own. A rule's followers are written to in the language of the page where they
asked to follow.

Claims are walked through the workflow by the services and their messages sent by
``flask guarantee notify`` to an SMTP server in the test, on SQLite and PostgreSQL, in the Welsh of the
service's catalogue.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import markupsafe
from flask import Flask
from sqlalchemy import select

from guarantee import i18n, mail
from guarantee.clock import FixedClock
from guarantee.context import service_context, unit_of_work
from guarantee.extensions import db
from guarantee.models import Claim, OutboxMessage
from guarantee.services import data_rights, following, notifications
from guarantee.services.actors import GroupActor
from guarantee.services.casework import assign
from guarantee.services.claims import change_contact_email, fire, request_tracking_link, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.sender import Email, Recipient
from guarantee.services.sweep import sweep_batch
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, submission, walk
from tests.support.register import regulation
from tests.test_notifications import Inbox, html_of, notify, text_of
from workflows.vocabulary import label

ROOT = Path(__file__).resolve().parent.parent

ALL_TEMPLATES = {
    p.stem for p in (ROOT / "guarantee" / "templates" / "mail").glob("*.txt") if not p.stem.startswith("_")
}
FOLLOWER_TEMPLATES = {following.CONFIRM_TEMPLATE, following.UPDATE_TEMPLATE}
OFFICER_TEMPLATES = set(notifications.KIND_OF_TEMPLATE)
GROUP_TEMPLATES = ALL_TEMPLATES - FOLLOWER_TEMPLATES - OFFICER_TEMPLATES

# Each group's addresses: the one on its claim, and the one it changes to.
ADDRESSES = {
    "cy": ("grwp@example.org", "ysgrifennydd@example.org"),
    "en": ("group@example.org", "secretary@example.org"),
}
CONTACT = VALID_SUBMISSION["group"]["contact_name"]

# What people typed, and names, stay as they were written: never counted as English left behind.
TYPED = [
    *(str(value) for step in INPUTS.values() for value in step.values() if isinstance(value, str)),
    *(str(value) for section in VALID_SUBMISSION.values() for value in section.values() if isinstance(value, str)),
]
# The remedy and outcome chosen, shown in the catalogue's words for them (said in the reader's language).
CHOSEN = [label(INPUTS["uphold"]["remedy"]), label(INPUTS["allow_appeal"]["remedy"])]
CHOSEN.append(label(INPUTS["record_resolution"]["outcome"]))

ENGLISH_WORDS = {"the", "your", "you", "we", "our", "claim", "will", "please", "hello", "link", "this", "and"}
ENGLISH_WORDS |= {"has", "have", "been", "was", "by", "until", "thank", "see", "here", "answer", "appeal", "team"}
MONTHS_EN = "January|February|March|April|May|June|July|August|September|October|November|December"
MONTHS_CY = "Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr"
ENGLISH_DATE = re.compile(rf"\b\d{{1,2}} ({MONTHS_EN}) \d{{4}}\b")
WELSH_DATE = re.compile(rf"\b\d{{1,2}} ({MONTHS_CY}) \d{{4}}\b")
ADDRESS = re.compile(r"https?://\S+")
REFERENCE = re.compile(r"\b[A-Z]{3}-\d{4}-\d+\b")
PLACEHOLDER = re.compile(r"\[[^\]]*\]")  # a preview's "[the group's private link ...]"


# --- walking a group in each language through every step that writes to it ----------------------


def _file(ctx: ServiceContext, language: str) -> str:
    email = ADDRESSES[language][0]
    return submit_claim(ctx, submission(group={"language": language, "email": email})).reference


def _walk_every_group_message(app: Flask, clock: FixedClock) -> dict[str, dict[str, str]]:
    """For each language, claims taken through every step that writes to the group (and to officers),
    all sent by notify; each language's references by name."""
    walked: dict[str, dict[str, str]] = {language: {} for language in ADDRESSES}
    started = clock.now()
    clock.set(started - timedelta(days=93))  # a claim resolved 3 months ago: its check-in is due
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        for language, refs in walked.items():
            refs["checked_in"] = _file(ctx, language)
            walk(ctx, cast, refs["checked_in"], "accept", "uphold", "record_resolution")
    clock.set(started)
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        for language, refs in walked.items():
            refs["appealed"] = appealed = _file(ctx, language)
            assign(ctx, appealed, cast.reviewer.officer_id, cast.triage)
            walk(ctx, cast, appealed, "accept", "request_information")
            fire(ctx, appealed, "provide_information", GroupActor(appealed), INPUTS["provide_information"])
            walk(ctx, cast, appealed, "not_uphold", "appeal", "dismiss_appeal")
            refs["upheld"] = upheld = _file(ctx, language)
            walk(ctx, cast, upheld, "accept", "uphold", "record_resolution")
            data_rights.request_erasure(ctx, upheld, GroupActor(upheld))
            refs["allowed"] = allowed = _file(ctx, language)
            walk(ctx, cast, allowed, "accept", "not_uphold", "appeal", "allow_appeal")
            refs["withdrawn"] = withdrawn = _file(ctx, language)
            assign(ctx, withdrawn, cast.reviewer.officer_id, cast.triage)
            walk(ctx, cast, withdrawn, "withdraw")
            refs["declined"] = declined = _file(ctx, language)
            walk(ctx, cast, declined, "decline")
            request_tracking_link(ctx, declined, ADDRESSES[language][0])
            change_contact_email(ctx, declined, GroupActor(declined), ADDRESSES[language][1])
            refs["lapsing"] = lapsing = _file(ctx, language)
            walk(ctx, cast, lapsing, "accept", "request_information")
            refs["waiting"] = waiting = _file(ctx, language)
            walk(ctx, cast, waiting, "accept", "not_uphold")
    clock.advance(days=22)  # reminders of the question and of the appeal; the remedy check-in
    notify(app)
    clock.advance(days=8)  # the question's deadline has passed: the claim lapses, and is reopened
    with app.app_context(), unit_of_work() as ctx:
        sweep_batch(ctx, 100, set())
        for refs in walked.values():
            walk(ctx, Cast(ctx), refs["lapsing"], "reopen")
    notify(app)
    return walked


def _templates(app: Flask) -> dict[str, str]:
    """The template of each message, by Message-ID."""
    with app.app_context():
        return dict(db.session.execute(select(OutboxMessage.message_id, OutboxMessage.template)).all())


def body(message: EmailMessage) -> str:
    """The plain-text part, with its lines ended as the templates end them (SMTP ends them CRLF)."""
    return text_of(message).replace("\r\n", "\n")


def subject_of(message: EmailMessage) -> str:
    """The subject, unfolded (a long one is folded over lines on the wire)."""
    return " ".join(str(message["Subject"]).split())


def _to_group(inbox: Inbox, language: str) -> list[EmailMessage]:
    return [m for address in ADDRESSES[language] for m in inbox.to(address)]


def _in_english(app: Flask, message_id: str) -> Email:
    """The same message as it would read had the group chosen English (nothing is saved)."""
    with app.app_context():
        ctx = service_context()
        try:
            message = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).one()
            claim = ctx.session.get(Claim, message.claim_id)
            assert claim is not None
            claim.language = "en"
            # A check-in's own link, as its e-mail had one (its date is a date like the others).
            to = Recipient(ADDRESSES["en"][0], CONTACT, check_in_token="x", check_in_works_until=date(2027, 1, 4))
            return mail.render(message, to, ctx)
        finally:
            ctx.rollback()


def _said_in_welsh(app: Flask, texts: list[str]) -> list[str]:
    with app.app_context(), i18n.language("cy"):
        return [i18n.say(text) for text in texts]


def _without_what_is_not_words(text: str, kept: list[str]) -> str:
    """The text without addresses, references, a preview's placeholders, and what people typed or
    chose (which stays as it was written)."""
    for words in sorted(kept, key=len, reverse=True):
        text = text.replace(words, " ")
    return PLACEHOLDER.sub(" ", REFERENCE.sub(" ", ADDRESS.sub(" ", text)))


def english_left(welsh: str, english: str, kept: list[str]) -> list[str]:
    """The sentences of the English message (each part ending in . : ? ! or a line's end) that are
    still in the Welsh one, and the English words left in it."""
    left = []
    for part in re.split(r"(?<=[.:?!,;])\s+|\n", _without_what_is_not_words(english, kept)):
        sentence = part.strip(" ,;")
        if len(re.findall(r"[A-Za-z]{2,}", sentence)) >= 2 and sentence in welsh:
            left.append(sentence)
    words = set(re.findall(r"[A-Za-z]+", _without_what_is_not_words(welsh, kept).lower()))
    return left + sorted(words & ENGLISH_WORDS)


def _plain(html_part: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", html_part))


def test_a_group_that_chose_welsh_gets_every_e_mail_in_welsh_and_one_that_chose_english_gets_english(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    app = mailing_app
    walked = _walk_every_group_message(app, clock)
    templates = _templates(app)
    welsh, english = _to_group(inbox, "cy"), _to_group(inbox, "en")
    assert {templates[m["Message-ID"]] for m in welsh} == GROUP_TEMPLATES, "every kind of e-mail to a group"
    assert {templates[m["Message-ID"]] for m in english} == GROUP_TEMPLATES

    kept = TYPED + CHOSEN + _said_in_welsh(app, CHOSEN)
    for message in welsh:
        template, subject, text = templates[message["Message-ID"]], subject_of(message), body(message)
        in_english = _in_english(app, message["Message-ID"])
        assert subject != in_english.subject and english_left(subject, in_english.subject, kept) == [], template
        assert english_left(text, in_english.text, kept) == [], template
        assert text.startswith(f"Helo {CONTACT},\n") or text.startswith("Helo,\n"), template
        assert text.endswith("Tîm Gwarant Cydgynhyrchu\n\nE-bost awtomatig yw hwn: peidiwch ag ymateb iddo.\n")
        # Dates in Welsh, as many as the English has.
        assert not re.search(MONTHS_EN, text), template
        assert len(WELSH_DATE.findall(text)) == len(ENGLISH_DATE.findall(in_english.text)), template
        # The HTML part: the same Welsh words, marked as Welsh.
        part = html_of(message)
        assert '<html lang="cy">' in part and "Gwarant Cydgynhyrchu</p>" in part, template
        assert f"<title>{markupsafe.escape(subject)}</title>" in part, template
        assert english_left(_plain(part), in_english.text, kept) == [], template

    def welsh_one(template: str, claim: str) -> str:
        (found,) = [m for m in welsh if templates[m["Message-ID"]] == template and walked["cy"][claim] in subject_of(m)]
        return body(found)

    remedy, granted = _said_in_welsh(app, [CHOSEN[0], CHOSEN[2]])
    assert f"Y rhwymedi: {remedy}\n" in welsh_one("decision_upheld", "upheld"), "the remedy in the catalogue's Welsh"
    assert f"Canlyniad: {granted}\n" in welsh_one("claim_resolved", "upheld")
    question = INPUTS["request_information"]["question"]
    assert f"\n{question}\n" in welsh_one("information_requested", "appealed"), "what was typed, as typed"
    assert "Apeliwch yma: http://guarantee.test/track/" in welsh_one("decision_not_upheld", "waiting"), "its link"

    # A group that chose English reads what the service always wrote.
    for message in english:
        template, text = templates[message["Message-ID"]], body(message)
        assert text.startswith(f"Hello {CONTACT},\n") or text.startswith("Hello,\n"), template
        assert text.endswith(
            "The Co-production Guarantee team\n\nThis is an automatic e-mail: please do not reply to it.\n"
        )
        assert not WELSH_DATE.search(text) and '<html lang="en">' in html_of(message), template
    submitted = [m for m in english if templates[m["Message-ID"]] == "claim_submitted"]
    assert f"We have your claim {walked['en']['appealed']}" in {subject_of(m) for m in submitted}


def test_officers_are_written_to_in_english_about_a_claim_in_welsh(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = _file(ctx, "cy")
        assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, reference, "accept", "request_information")
        fire(ctx, reference, "provide_information", GroupActor(reference), INPUTS["provide_information"])
        walk(ctx, cast, reference, "not_uphold", "appeal")
        withdrawn = _file(ctx, "cy")
        assign(ctx, withdrawn, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, withdrawn, "withdraw")
    notify(app)
    templates = _templates(app)
    to_officers = [m for m in inbox.messages if m["To"] not in ADDRESSES["cy"]]
    assert {templates[m["Message-ID"]] for m in to_officers} == {
        "assigned",
        "group_replied",
        "appeal_lodged",
        "claim_withdrawn",
    }
    assert {subject_of(m) for m in to_officers} >= {
        f"Claim {reference} is assigned to you",
        f"The group answered on claim {reference}",
        f"An appeal was lodged on claim {reference}",
        f"Claim {withdrawn} was withdrawn",
    }
    for message in to_officers:
        assert body(message).startswith("Hello Test Officer,\n")
        assert '<html lang="en">' in html_of(message) and ">Co-production Guarantee</p>" in html_of(message)
    assert {subject_of(m) for m in inbox.to(ADDRESSES["cy"][0])} >= {f"Mae eich hawliad {reference} wedi dod i law"}


def test_the_language_of_the_page_that_shows_or_queues_an_e_mail_does_not_change_it(app: Flask) -> None:
    """An officer's preview of the group's e-mail ("Check your decision") and a group's copy of its
    data show each e-mail in the group's language, whichever language the page is in."""
    with app.app_context(), unit_of_work() as ctx:
        in_welsh, in_english = _file(ctx, "cy"), _file(ctx, "en")
    subjects: dict[tuple[str, str], str] = {}
    for page in ("en", "cy"):
        with app.test_request_context("/", headers={"Accept-Language": page}), unit_of_work() as ctx:
            assert i18n.current_language() == page
            for reference in (in_welsh, in_english):
                claim = ctx.session.scalars(select(Claim).where(Claim.reference == reference)).one()
                message = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.claim_id == claim.id)).one()
                rendered = mail.render(message, Recipient(ADDRESSES["en"][0], CONTACT), ctx)
                copy = mail.render_copy(message, Recipient(ADDRESSES["en"][0], CONTACT), ctx)
                subjects[page, reference] = rendered.subject
                expected = "dolen breifat y grŵp i'r hawliad" if claim.language == "cy" else "the group's private link"
                assert expected in rendered.text, "a preview's placeholder, in the group's language"
                copied = "roedd dolen breifat i'ch hawliad yma" if claim.language == "cy" else "a private link to your"
                assert copied in copy.text, "a copy's placeholder, in the group's language"
            assert i18n.current_language() == page, "the page goes on in its own language"
    for page in ("en", "cy"):
        assert subjects[page, in_welsh] == f"Mae eich hawliad {in_welsh} wedi dod i law"
        assert subjects[page, in_english] == f"We have your claim {in_english}"


def test_a_follower_is_written_to_in_the_language_of_the_page_where_they_asked_to_follow(
    app: Flask, tmp_path: Path
) -> None:
    """A rule's follower is kept with the language they asked in (rule_subscriptions.language),
    and each message to them records it, the updates the sweep queues later as the confirmation."""
    with app.app_context(), unit_of_work() as ctx:
        rule = regulation(ctx.session, "Premises licence", "premises-licence")
        following.follow(ctx, rule.id, "reader@example.net", "en")
        following.follow(ctx, rule.id, "darllenydd@example.net", "cy")
        ctx.session.flush()
        languages = ctx.session.scalars(
            select(OutboxMessage.payload["language"].as_string()).where(OutboxMessage.recipient_type == "follower")
        ).all()
        assert sorted(languages) == ["cy", "en"]
    app.config["GUARANTEE_MAIL_DIR"] = str(tmp_path / "mail")
    notify(app)
    written: dict[str, EmailMessage] = {}
    for path in (tmp_path / "mail").glob("*.eml"):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        written[str(parsed["To"])] = parsed
    assert subject_of(written["reader@example.net"]) == "Confirm you want e-mails about a rule"
    assert subject_of(written["darllenydd@example.net"]) == "Cadarnhewch eich bod eisiau negeseuon e-bost am reol"
    assert "Premises licence" in body(written["darllenydd@example.net"]), "the rule's title, as it is"
