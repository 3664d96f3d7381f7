"""The register of releases: publishing the next one (counted, protected and checked against every
earlier one, so that no difference between two releases gives away a small number), reading the
register and a release, and checking every stored release against its SHA-256.

A release is stored byte for byte with its SHA-256 and never changes. Pages and the API serve the
stored bytes; nothing is counted on a request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, defer

from guarantee.models import StatisticsRelease
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ServiceError, long_date
from guarantee.statistics.counting import count
from guarantee.statistics.disclosure import SUPPRESSED, Published
from guarantee.statistics.document import DISCLOSURE_CONTROL, Settings, build, canonical, sha256
from guarantee.webhooks import events as webhook_events
from workflows.words import N_, Words, words


class StatisticsRefused(ServiceError):
    """A release that would give something away, with the reasons in plain words (each a
    sentence the console says again in the reader's language)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


# How a time's claims are named inside a sentence ("the claims timed “from submission to a decision”").
TIMED = {
    "decision": N_("from submission to a decision"),
    "resolution": N_("from submission to resolution"),
}


def possible(value: Published, rules: Mapping[str, Any]) -> tuple[int, int]:
    """What a published number tells about the true count: the least and the greatest it could be.
    A number rounded to ``p`` was from ``p - base/2`` (inclusive) to ``p + base/2``; a shown
    number was never from 1 to ``threshold - 1``."""
    threshold, base = rules["threshold"], rules["rounding_base"]
    if value == SUPPRESSED:
        return 1, threshold - 1
    assert isinstance(value, int)
    low, high = max(0, math.ceil(value - base / 2)), math.ceil(value + base / 2) - 1
    if value == 0:
        return 0, 0 if high < threshold else high
    return max(low, threshold), high


def _numbers(table: Mapping[str, Any]) -> dict[str, tuple[str, Published]]:
    """Every count a table publishes, keyed so the same count can be found in another release,
    with the words that name it."""
    found: dict[str, tuple[str, Published]] = {}
    total = N_("the total")
    if table["kind"] == "counts":
        for row in table["rows"]:
            found[row["key"]] = (words("“%(row)s”", row=row["label"]), row["count"])
        found["total"] = (total, table["total"])
    elif table["kind"] == "cross":
        columns = table["columns"]
        for row in table["rows"]:
            for column, value in zip(columns, row["counts"], strict=True):
                cell = words("“%(row)s, %(column)s”", row=row["label"], column=column["label"])
                found[f"{row['key']}|{column['key']}"] = (cell, value)
            found[f"{row['key']}|"] = (words("the total for “%(line)s”", line=row["label"]), row["total"])
        for column, value in zip(columns, table["column_totals"], strict=True):
            found[f"|{column['key']}"] = (words("the total for “%(line)s”", line=column["label"]), value)
        found["|"] = (total, table["total"])
    elif table["kind"] == "share":
        for row in table["rows"]:
            found[row["key"]] = (words("the claims decided for “%(row)s”", row=row["label"]), row["decided"])
    elif table["kind"] == "times":
        for row in table["rows"]:
            timed = TIMED.get(row["key"]) or row["label"].lower()
            found[row["key"]] = (words("the claims timed “%(time)s”", time=timed), row["claims"])
    return found


def differencing(new: Mapping[str, Any], earlier: Iterable[Mapping[str, Any]]) -> list[str]:
    """The reasons ``new`` cannot be published next to the earlier releases made under disclosure
    control: a count whose change since an earlier release could be narrowed down to a few values
    from 1 to ``threshold - 1`` (more than a ``[c]`` says). Empty when it can be published."""
    if new["method"] != DISCLOSURE_CONTROL:
        return []
    threshold = new["rules"]["threshold"]
    reasons: list[str] = []
    for old in earlier:
        if old["method"] != DISCLOSURE_CONTROL:
            continue
        old_tables = {t["id"]: t for t in old["tables"]}
        for table in new["tables"]:
            if table["id"] not in old_tables:
                continue
            before = _numbers(old_tables[table["id"]])
            for key, (named, value) in _numbers(table).items():
                if key not in before:
                    continue
                low_new, high_new = possible(value, new["rules"])
                low_old, high_old = possible(before[key][1], old["rules"])
                low, high = low_new - high_old, high_new - low_old
                small = (low >= 1 and high <= threshold - 1) or (low >= -(threshold - 1) and high <= -1)
                if small and high - low + 1 < threshold - 1:
                    reasons.append(
                        _given_away(
                            table["title"], named, value, was=before[key][1], release=old["release"], low=low, high=high
                        )
                    )
    return reasons


def _given_away(
    title: str, named: str, value: Published, *, was: Published, release: int, low: int, high: int
) -> Words:
    """Why a count cannot be published: what its change since ``release`` tells anyone."""
    if low > 0:
        return words(
            "In “%(table)s”, %(count)s would show %(value)s against %(was)s in release %(release)s, which tells "
            "anyone that between %(low)s and %(high)s more claims are counted there now.",
            table=title,
            count=named,
            value=value,
            was=was,
            release=release,
            low=low,
            high=high,
        )
    return words(
        "In “%(table)s”, %(count)s would show %(value)s against %(was)s in release %(release)s, which tells "
        "anyone that between %(low)s and %(high)s fewer claims are counted there now.",
        table=title,
        count=named,
        value=value,
        was=was,
        release=release,
        low=-high,
        high=-low,
    )


def publish(
    ctx: ServiceContext,
    actor_id: int | None,
    settings: Settings,
    period_end: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> StatisticsRelease:
    """Count, protect, check against every earlier release, and add the release to the register.
    ``actor_id`` is the admin who published it (None: an operator at the command line); it goes
    in the admin log, never in the release. Raises StatisticsRefused with the reasons.
    ``progress`` is called after each of the counting's ``counting.scans()`` scans."""
    today = ctx.today()
    end = period_end or today - timedelta(days=1)
    if end >= today:
        raise StatisticsRefused(
            [words("The period must end before today (%(today)s), so that it is complete.", today=long_date(today))]
        )
    if end < settings.series_start:
        raise StatisticsRefused(
            [
                words(
                    "The period must end on or after the series start, %(start)s.",
                    start=long_date(settings.series_start),
                )
            ]
        )
    if ctx.on_postgresql:
        ctx.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REGISTER_LOCK})
    earlier = ctx.session.scalars(select(StatisticsRelease).order_by(StatisticsRelease.number)).all()
    if earlier and end < max(r.period_end for r in earlier):
        latest = max(r.period_end for r in earlier)
        raise StatisticsRefused(
            [
                words(
                    "The series is cumulative: a new release must end on or after %(latest)s, where the last one ends.",
                    latest=long_date(latest),
                )
            ]
        )
    number = (earlier[-1].number + 1) if earlier else 1
    document = build(count(ctx.session, settings.series_start, end, ctx.now(), progress), settings, number, ctx.now())
    reasons = differencing(document, [json.loads(r.document) for r in earlier])
    if reasons:
        raise StatisticsRefused(
            [
                *reasons,
                N_("Publish later, when more claims have come in, or with a later period end."),
            ]
        )
    data = canonical(document)
    release = StatisticsRelease(
        number=number,
        published_at=ctx.now().replace(microsecond=0),
        period_start=settings.series_start,
        period_end=end,
        method=settings.method,
        document=data,
        sha256=sha256(data),
    )
    ctx.session.add(release)
    ctx.session.flush()
    append_admin_event(
        ctx,
        actor_id,
        "statistics_published",
        payload={"release": number, "sha256": release.sha256, "method": settings.method, "period_end": end.isoformat()},
    )
    webhook_events.release_published(ctx, release)
    return release


_REGISTER_LOCK = 7_304_221_907


def releases(session: Session) -> list[StatisticsRelease]:
    """The register, newest first, without the documents (loaded only if read)."""
    query = select(StatisticsRelease).options(defer(StatisticsRelease.document))
    return list(session.scalars(query.order_by(StatisticsRelease.number.desc())))


def release(session: Session, number: int | None = None) -> StatisticsRelease:
    """One release by its number, or the latest, its document loaded only if read. Raises NotFound."""
    query = select(StatisticsRelease).options(defer(StatisticsRelease.document))
    query = (
        query.where(StatisticsRelease.number == number)
        if number is not None
        else query.order_by(StatisticsRelease.number.desc())
    )
    found = session.scalars(query.limit(1)).first()
    if found is None:
        raise NotFound(
            N_("No statistics have been published yet.")
            if number is None
            else words("There is no release %(number)s.", number=number)
        )
    return found


# A release never changes once published: its bytes, once read, are kept by number and SHA-256
# (a few of them), so serving a release reads one short row, not the document, from the database.
_PUBLISHED: dict[tuple[int, str], bytes] = {}
_PUBLISHED_KEPT = 16


def published_bytes(release: StatisticsRelease) -> bytes:
    """The release's document as stored (``verify`` reads the database itself, never this copy)."""
    key = (release.number, release.sha256)
    document = _PUBLISHED.get(key)
    if document is None:
        document = release.document
        if len(_PUBLISHED) >= _PUBLISHED_KEPT:
            _PUBLISHED.pop(next(iter(_PUBLISHED)), None)
        _PUBLISHED[key] = document
    return document


def verify(session: Session) -> list[str]:
    """Every release whose stored bytes no longer match their hash, or whose number or period in
    the document differs from the register's: empty when the register is intact."""
    problems = []
    for stored in session.scalars(select(StatisticsRelease).order_by(StatisticsRelease.number)):
        if sha256(stored.document) != stored.sha256:
            problems.append(f"Release {stored.number}: its document does not match its SHA-256.")
            continue
        document = json.loads(stored.document)
        if document["release"] != stored.number or document["period"]["end"] != stored.period_end.isoformat():
            problems.append(f"Release {stored.number}: the document's number or period differs from the register.")
    return problems
