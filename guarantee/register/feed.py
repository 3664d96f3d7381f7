"""The register as an Atom feed (RFC 4287), written with feedgen: every link absolute, from the
service's configured address, as e-mails make theirs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from guarantee.services.register import ShownStatement, period_start

FEED_TITLE = "Decisions of the Co-production Guarantee"
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
    prefix = "Withdrawn: " if shown.status == "withdrawn" else ""
    return f"{prefix}{shown.number}: {shown.decision_label.lower()}, {shown.rule.title}"


def entry_text(shown: ShownStatement) -> str:
    lines = [
        f"Decision: {shown.decision_label}.",
        f"Rule: {shown.rule.title}" + (f" ({shown.rule.legal_reference})" if shown.rule.legal_reference else "") + ".",
        f"Category: {shown.category_label}. Sector: {shown.sector_label}. Where: {shown.area_label}.",
        f"Decided in {shown.period}"
        + (
            f", {shown.working_days} working days after the claim was filed." if shown.working_days is not None else "."
        ),
    ]
    if shown.remedy_label:
        lines.append(f"Remedy: {shown.remedy_label}.")
    if shown.reason_label:
        lines.append(f"Reason: {shown.reason_label}.")
    if shown.summary:
        lines.append(shown.summary)
    if shown.status == "withdrawn":
        lines.insert(0, f"This statement was withdrawn in {shown.withdrawn}: {shown.withdrawn_reason}")
    elif shown.status == "superseded":
        lines.insert(0, "A later decision on the same claim replaced this statement.")
    return "\n".join(lines)


def atom(statements: Sequence[ShownStatement], *, base: str, self_path: str, rule_title: str | None) -> bytes:
    # Imported when a feed is first asked for: feedgen and the lxml it loads are 14 MB of every
    # worker's memory, and most workers never serve a feed.
    from feedgen.feed import FeedGenerator  # noqa: PLC0415

    feed = FeedGenerator()
    feed.id(f"{base}{self_path}")
    feed.title(f"{FEED_TITLE}: {rule_title}" if rule_title else FEED_TITLE)
    feed.author({"name": "Co-production Guarantee"})
    feed.link(href=f"{base}/decisions", rel="alternate", type="text/html")
    feed.link(href=f"{base}{self_path}", rel="self", type="application/atom+xml")
    feed.language("en-GB")
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
        entry.category(term=shown.category, label=shown.category_label)
    body: bytes = feed.atom_str(pretty=True)
    return body
