"""E-mail: the messages (plain text and HTML from the templates in templates/mail/), and the two
transports: SMTP, and the default that writes each message to a file under instance/mail/ (and a
line to the log), so that a newcomer sees every message with no mail server.

Each message is written in its reader's language (issue 23), whatever the language of the page
that queued it or shows it: to a group, the language it chose on its claim (``Claim.language``);
to a follower of a rule, the language it asked in if the message records one, else English; to
officers and the appeals team, English (officers have no language of their own)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import secrets
import smtplib
import ssl
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from markupsafe import Markup, escape
from sqlalchemy import select

from guarantee import i18n
from guarantee.models import AuditEvent, Claim, ClaimClock, OutboxMessage, TimelineEntry
from guarantee.services import following
from guarantee.services.context import ServiceContext
from guarantee.services.decisions import CONTACT_NAME
from guarantee.services.sender import Email, Recipient, Transport, TransportError, link_lasts_until
from workflows import CLOCKS, STATE_LABELS, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import LANGUAGES, label
from workflows.words import N_

log = logging.getLogger(__name__)

SUBJECT_LINE = re.compile(r"\ASubject: (?P<subject>[^\n]+)\n+")


# --- what each message says ------------------------------------------------------------------


def _due_dates(ctx: ServiceContext, claim: Claim, when_queued: Any) -> dict[str, date]:
    """The deadlines as they were when the message was queued (or, for an older message, now)."""
    if isinstance(when_queued, dict):
        return {name: date.fromisoformat(day) for name, day in when_queued.items()}
    clocks = ctx.session.scalars(select(ClaimClock).where(ClaimClock.claim_id == claim.id))
    return {c.name: c.due_on for c in clocks if c.status == "running" and c.due_on is not None}


def _texts(ctx: ServiceContext, claim: Claim, seq: Any) -> dict[str, str]:
    """What was written with the event this message is about: its public texts only (never an
    internal note or reason)."""
    if not isinstance(seq, int):
        return {}
    entries = ctx.session.scalars(
        select(TimelineEntry).where(TimelineEntry.claim_id == claim.id, TimelineEntry.seq == seq, TimelineEntry.public)
    )
    return {e.field: e.body for e in entries}


def _chosen(ctx: ServiceContext, claim: Claim, seq: Any) -> dict[str, str]:
    """What was chosen with the event this message is about, in words: the remedy of a claim
    upheld, the outcome of a resolution (the public choices the workflow names for that step)."""
    if not isinstance(seq, int):
        return {}
    event = ctx.session.scalar(select(AuditEvent).where(AuditEvent.claim_id == claim.id, AuditEvent.seq == seq))
    transition = TRANSITIONS_BY_TRIGGER.get(event.action) if event is not None else None
    if event is None or transition is None:
        return {}
    given = (event.payload or {}).get("input", {})
    return {
        spec.name: label(given[spec.name])
        for spec in transition.inputs
        if spec.kind == "choice" and spec.public and isinstance(given.get(spec.name), str)
    }


class Links:
    """The service's own addresses in one message, the only links it has.

    A template writes each of them through ``link(path)`` (or the ``console_page`` and
    ``tracking_link`` it is given, made the same way), which puts a marker in
    the rendered text. A marker carries a random key drawn for this message, so no one can type
    one. Once the template is rendered, each marker becomes its address: as it is in the
    plain-text part, and a link in the HTML part. Everything else in a message, the words that
    groups and officers typed included, is text: escaped, and never made a link, whatever it
    looks like (even an address under the service's own).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._addresses: list[str] = []
        self._key = secrets.token_hex(8)
        self._marker = re.compile(rf"\[\[link-{self._key}-(\d+)\]\]")

    def __call__(self, path: str) -> str:
        """A marker for the service's address ``path`` (which starts with "/")."""
        if not path.startswith("/"):
            raise ValueError(f"a link is to a path of the service, starting with /, not {path!r}")
        self._addresses.append(self.base_url + path)
        return f"[[link-{self._key}-{len(self._addresses) - 1}]]"

    def as_text(self, rendered: str) -> str:
        """The rendered text with each marker replaced by its address."""
        return self._marker.sub(lambda m: self._addresses[int(m[1])], rendered)

    def as_html(self, escaped: str) -> str:
        """HTML-escaped text with each marker replaced by a link to its address (the markers
        pass through escaping unchanged: they are letters, digits, "-" and brackets)."""
        return self._marker.sub(lambda m: _anchor(self._addresses[int(m[1])]), escaped)


def _anchor(address: str) -> str:
    shown = escape(address)
    return f'<a href="{shown}">{shown}</a>'


def message_context(message: OutboxMessage, recipient: Recipient, ctx: ServiceContext, links: Links) -> dict[str, Any]:
    claim = ctx.session.get(Claim, message.claim_id) if message.claim_id else None
    context: dict[str, Any] = {
        # A preview names the group's contact with a placeholder, in the e-mail's language.
        "name": i18n.say(recipient.name) if recipient.name == CONTACT_NAME else recipient.name,
        "payload": message.payload,
        "service_name": "Co-production Guarantee",
        "link": links,
        "label": label,
        "clocks": CLOCKS,
    }
    if claim is not None:
        context |= {
            "claim": claim,
            "reference": claim.reference,
            "state_label": STATE_LABELS[claim.state],
            "due": _due_dates(ctx, claim, message.payload.get("due")),
            "texts": _texts(ctx, claim, message.payload.get("seq")),
            "chosen": _chosen(ctx, claim, message.payload.get("seq")),
            "console_page": links(f"/officer/claims/{claim.reference}"),
        }
    if message.recipient_type == "follower":
        context |= _follower_context(message, recipient, ctx, links)
    if claim is not None and message.recipient_type == "group" and not message.to_address:
        # Every message to the group links to its claim with a link of its own (a page without
        # the link's token would only ask for it again). A preview, before sending, has none yet.
        if recipient.tracking_token:
            context["tracking_link"] = links(f"/track/{claim.reference}?token={recipient.tracking_token}")
        else:
            context["tracking_link"] = i18n.say(PREVIEW_LINK)
        context["link_works_until"] = recipient.link_works_until or link_lasts_until(ctx, message)
        # What the link is and until when, for the line under it (a variable, not an include, so
        # that the blank line after it stays).
        context["link_note"] = _template("mail/_link_note.txt", link_works_until=context["link_works_until"]).strip()
        if recipient.check_in_token:  # a remedy check-in's one-question page (services.remedies)
            token = recipient.check_in_token
            context["check_in_link"] = links(f"/check-in/{claim.reference}?token={token}")
            context["check_in_works_until"] = recipient.check_in_works_until
        else:
            context["check_in_link"] = i18n.say(PREVIEW_CHECK_IN_LINK)
    return context


def _follower_context(
    message: OutboxMessage, recipient: Recipient, ctx: ServiceContext, links: Links
) -> dict[str, Any]:
    """A follower's e-mail: the rule, its page, the statements it tells of, and its own links to
    confirm and to stop following."""
    facts = following.mail_facts(ctx, message)
    context: dict[str, Any] = {
        # The rule's title as written; a rule since removed, in the reader's words.
        "rule_title": facts["rule_title"] if facts["rule_slug"] else i18n.say(facts["rule_title"]),
        "rule_page": links(f"/rules/{facts['rule_slug']}") if facts["rule_slug"] else None,
        "statements": [(number, links(f"/decisions/{number}")) for number in facts["numbers"]],
        "confirm_within_days": following.CONFIRM_WITHIN.days,
    }
    if recipient.confirm_token:
        context["confirm_link"] = links(f"/follow/{recipient.confirm_token}")
    if recipient.unsubscribe_token:
        context["unsubscribe_link"] = links(unsubscribe_path(recipient.unsubscribe_token))
    return context


def unsubscribe_path(token: str) -> str:
    """The one-click unsubscribe address of an e-mail to a follower (RFC 8058)."""
    return f"/unsubscribe/{token}"


# In a preview of a message to the group (an officer's "Check your decision" page): the link is
# made only when the message is sent.
PREVIEW_LINK = N_("[the group's private link to the claim, made when the e-mail is sent]")
PREVIEW_CHECK_IN_LINK = N_("[the group's private link to answer the check-in, made when the e-mail is sent]")


# In a copy of an e-mail already sent (a group's copy of its data: services.data_rights): the private
# links it carried are not kept, so the copy says where they were.
COPY_LINK = N_("[a private link to your claim was here: links are not kept]")
COPY_CHECK_IN_LINK = N_("[a private link to answer the check-in was here: links are not kept]")


def render_copy(message: OutboxMessage, recipient: Recipient, ctx: ServiceContext) -> Email:
    """A message already sent, written again from the facts it was made from (as ``render``), for a
    copy of the group's data: the same words, and where each private link was."""
    email = render(message, recipient, ctx)
    with i18n.language(language_of(message, ctx)):  # the words of the message's own language
        swaps = [(i18n.say(PREVIEW_LINK), i18n.say(COPY_LINK))]
        swaps.append((i18n.say(PREVIEW_CHECK_IN_LINK), i18n.say(COPY_CHECK_IN_LINK)))
    text, html = email.text, email.html
    for preview, copy in swaps:
        text = text.replace(preview, copy)
        html = html.replace(str(escape(preview)), str(escape(copy)))
    return dataclasses.replace(email, text=text, html=html)


def _html(rendered: str, subject: str, links: Links) -> str:
    """The HTML part: the same words, paragraph by paragraph, escaped; the service's own
    addresses (and nothing else) made links."""
    paragraphs = []
    for block in rendered.strip().split("\n\n"):
        linked = links.as_html(str(escape(block)))
        paragraphs.append(Markup(linked.replace("\n", "<br>\n")))  # noqa: S704 (escaped above; our own tags)
    return _template("mail/layout.html", subject=subject, paragraphs=paragraphs)


def _template(template_name: str, /, **context: Any) -> str:
    """A mail template, rendered without the pages' request-bound context (the sender has none)."""
    return current_app.jinja_env.get_template(template_name).render(**context)


def language_of(message: OutboxMessage, ctx: ServiceContext) -> str:
    """The language ``message`` is written in: to a group, the one it chose on its claim; to a
    follower, the one its payload records (the language of the page where it asked to follow, when
    the message keeps it), else English; to an officer or the appeals team, English."""
    if message.recipient_type == "group" and message.claim_id is not None:
        claim = ctx.session.get(Claim, message.claim_id)
        return claim.language if claim is not None and claim.language in LANGUAGES else i18n.ENGLISH
    if message.recipient_type == "follower":
        chosen = (message.payload or {}).get("language")
        return chosen if chosen in LANGUAGES else i18n.ENGLISH
    return i18n.ENGLISH


def render(message: OutboxMessage, recipient: Recipient, ctx: ServiceContext) -> Email:
    """The e-mail for an outbox message, from templates/mail/<template>.txt, whose first line is
    "Subject: ...", in its reader's language (``language_of``), whatever the language of the
    request, if any, that renders it (a preview on an officer's page, a group's copy of its data)."""
    with i18n.language(language_of(message, ctx)):
        return _render(message, recipient, ctx)


def _render(message: OutboxMessage, recipient: Recipient, ctx: ServiceContext) -> Email:
    links = Links(current_app.config["GUARANTEE_BASE_URL"])
    rendered = _template(f"mail/{message.template}.txt", **message_context(message, recipient, ctx, links))
    found = SUBJECT_LINE.match(rendered)
    if found is None:
        raise ValueError(f"mail/{message.template}.txt must start with a Subject: line")
    subject, body = links.as_text(found.group("subject").strip()), rendered[found.end() :].strip() + "\n"
    headers: tuple[tuple[str, str], ...] = ()
    if recipient.unsubscribe_token:
        # One-click unsubscribe (RFC 8058): a mail program POSTs "List-Unsubscribe=One-Click" there.
        address = links.base_url + unsubscribe_path(recipient.unsubscribe_token)
        headers = (("List-Unsubscribe", f"<{address}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return Email(
        message.message_id, recipient.address, subject, links.as_text(body), _html(body, subject, links), headers
    )


# --- transports --------------------------------------------------------------------------


def _mime(email: Email, sender: str) -> EmailMessage:
    mime = EmailMessage()
    mime["Message-ID"] = email.message_id
    mime["From"] = sender
    mime["To"] = email.to
    mime["Subject"] = email.subject
    mime["Date"] = format_datetime(current_app.extensions["guarantee.clock"].now())
    mime["Auto-Submitted"] = "auto-generated"
    for name, value in email.headers:
        mime[name] = value
    mime.set_content(email.text)
    mime.add_alternative(email.html, subtype="html")
    return mime


class FileTransport:
    """Writes each message to <folder>/<time sent>-<Message-ID>.eml (so a listing is in order), and
    says so in the log."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, email: Email) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            sent_at = current_app.extensions["guarantee.clock"].now()
            name = f"{sent_at:%Y%m%dT%H%M%S%f}-" + re.sub(r"[^A-Za-z0-9@._-]", "", email.message_id) + ".eml"
            (self.folder / name).write_bytes(bytes(_mime(email, self.sender)))
        except OSError as error:
            raise TransportError(f"could not write to {self.folder}: {error.strerror}") from error
        log.info("Mail %s written to %s: %s", email.message_id, self.folder / name, email.subject)


class SmtpTransport:
    """Sends through an SMTP server: plain, STARTTLS or TLS, with credentials when given."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        username: str | None,
        password: str | None,
        sender: str,
        timeout: float = 20,
        ca_file: str | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError("GUARANTEE_SMTP_SECURITY must be none, starttls or tls")
        if username and security == "none":
            raise ValueError(
                "GUARANTEE_SMTP_USERNAME needs GUARANTEE_SMTP_SECURITY starttls or tls: never send a password in clear"
            )
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.sender, self.timeout = username, password, sender, timeout
        self.ca_file = ca_file  # a private relay's certificate authority, if not a public one

    def _tls(self) -> ssl.SSLContext:
        """Certificates and host names are always checked."""
        return ssl.create_default_context(cafile=self.ca_file)

    def send(self, email: Email) -> None:
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise TransportError(f"{self.host}:{self.port}: {error}") from error
        try:
            if self.security == "starttls":
                client.starttls(context=self._tls())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(_mime(email, self.sender))
        except smtplib.SMTPRecipientsRefused as refused:
            codes = sorted({code for code, _ in refused.recipients.values()})
            raise TransportError(
                f"{self.host}:{self.port} refused the recipient ({', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),  # no such mailbox: trying again will not help
            ) from refused
        except smtplib.SMTPDataError as refused:
            raise TransportError(
                f"{self.host}:{self.port} refused the message ({refused.smtp_code})", permanent=refused.smtp_code >= 500
            ) from refused
        except smtplib.SMTPResponseException as refused:
            # Signing in or the sender refused: our settings, not the message; tried again once fixed.
            raise TransportError(f"{self.host}:{self.port} answered {refused.smtp_code}") from refused
        except (OSError, smtplib.SMTPException) as error:
            raise TransportError(f"{self.host}:{self.port}: {error}") from error
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()  # the message was accepted or not already: a failed goodbye changes nothing


def transport_for(app: Flask) -> Transport:
    """SMTP when GUARANTEE_SMTP_HOST is set; otherwise files under GUARANTEE_MAIL_DIR."""
    sender = formataddr((app.config["GUARANTEE_MAIL_FROM_NAME"], app.config["GUARANTEE_MAIL_FROM"]))
    if app.config.get("GUARANTEE_SMTP_HOST"):
        return SmtpTransport(
            host=app.config["GUARANTEE_SMTP_HOST"],
            port=int(app.config["GUARANTEE_SMTP_PORT"]),
            security=app.config["GUARANTEE_SMTP_SECURITY"],
            username=app.config.get("GUARANTEE_SMTP_USERNAME"),
            password=app.config.get("GUARANTEE_SMTP_PASSWORD"),
            sender=sender,
            ca_file=app.config.get("GUARANTEE_SMTP_CA_FILE"),
        )
    return FileTransport(Path(app.config["GUARANTEE_MAIL_DIR"]), sender)
