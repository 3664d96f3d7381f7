"""The register as an Atom feed (RFC 4287), written with feedgen: every link absolute, from the
service's configured address, as e-mails make theirs. Its titles and texts are in the reader's
language (the request's, as the pages are), and ``xml:lang`` says which."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _

from guarantee.i18n import WELSH, say
from guarantee.register.showing import period, rule_title
from guarantee.services.register import ShownStatement, period_start

# The feed's language, as xml:lang gives it: each language the service speaks.
FEED_LANGUAGES = {WELSH: "cy"}
ENGLISH_FEED = "en-GB"
# Before any statement: a fixed moment, so that an empty feed's bytes do not change.
EMPTY_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


def published(shown: ShownStatement) -> datetime:
    """The start of the period the statement was published in: the feed gives no finer time than
    the register shows (a quarter, or a year)."""
    return period_start(shown.published)


# A statement superseded or withdrawn within the period it was published in would keep its
# "updated", and a feed reader would never fetch it again: each step after publishing adds a
# second, which says nothing finer than the period does.
STEP_SECONDS = {"published": 0, "superseded": 1, "withdrawn": 2}


def updated(shown: ShownStatement) -> datetime:
    start = period_start(shown.withdrawn) if shown.withdrawn else published(shown)
    return start + timedelta(seconds=STEP_SECONDS[shown.status])


def entry_title(shown: ShownStatement) -> str:
    parts = {"number": shown.number, "decision": say(shown.decision_label).lower(), "rule": rule_title(shown.rule)}
    if shown.status == "withdrawn":
        return str(_("Withdrawn: %(number)s: %(decision)s, %(rule)s", **parts))
    return str(_("%(number)s: %(decision)s, %(rule)s", **parts))


def entry_text(shown: ShownStatement) -> str:
    rule, reference = rule_title(shown.rule), shown.rule.legal_reference
    lines = [
        _("Decision: %(decision)s.", decision=say(shown.decision_label)),
        _("Rule: %(rule)s (%(reference)s).", rule=rule, reference=reference)
        if reference
        else _("Rule: %(rule)s.", rule=rule),
        _(
            "Category: %(category)s. Sector: %(sector)s. Where: %(where)s.",
            category=say(shown.category_label),
            sector=say(shown.sector_label),
            where=say(shown.area_label),
        ),
        _(
            "Decided in %(period)s, %(days)s working days after the claim was filed.",
            period=period(shown.period),
            days=shown.working_days,
        )
        if shown.working_days is not None
        else _("Decided in %(period)s.", period=period(shown.period)),
    ]
    if shown.remedy_label:
        lines.append(_("Remedy: %(remedy)s.", remedy=say(shown.remedy_label)))
    if shown.reason_label:
        lines.append(_("Reason: %(reason)s.", reason=say(shown.reason_label)))
    if shown.summary:
        lines.append(shown.summary)
    if shown.status == "withdrawn":
        lines.insert(
            0,
            _(
                "This statement was withdrawn in %(period)s: %(reason)s",
                period=period(shown.withdrawn),
                reason=shown.withdrawn_reason,
            ),
        )
    elif shown.status == "superseded":
        lines.insert(0, _("A later decision on the same claim replaced this statement."))
    return "\n".join(lines)


def atom(statements: Sequence[ShownStatement], *, base: str, self_path: str, title: str, language: str) -> bytes:
    """The feed of ``statements``, titled ``title``, its words in ``language`` (the request's)."""
    # Imported when a feed is first asked for: feedgen and the lxml it loads are 14 MB of every
    # worker's memory, and most workers never serve a feed.
    from feedgen.feed import FeedGenerator  # noqa: PLC0415

    feed = FeedGenerator()
    feed.id(f"{base}{self_path}")
    feed.title(title)
    feed.author({"name": _("Co-production Guarantee")})
    feed.link(href=f"{base}/decisions", rel="alternate", type="text/html")
    feed.link(href=f"{base}{self_path}", rel="self", type="application/atom+xml")
    feed.language(FEED_LANGUAGES.get(language, ENGLISH_FEED))
    feed.updated(max((updated(s) for s in statements), default=EMPTY_UPDATED))
    for shown in reversed(statements):  # feedgen puts the last added first: newest first
        entry = feed.add_entry()
        url = f"{base}/decisions/{shown.number}"
        entry.id(url)
        entry.title(entry_title(shown))
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(published(shown))
        entry.updated(updated(shown))
        entry.content(entry_text(shown), type="text")
        entry.category(term=shown.category, label=say(shown.category_label))
    body: bytes = feed.atom_str(pretty=True)
    return body
