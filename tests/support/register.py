"""Builders for the decision register's tests: decided claims and their published statements,
written as rows directly (drafting and approving statements is the console's, tested there).

Every claim carries ``marker`` in each field the public must never read (its group's name, its
contact values, its initiative and barrier text, and reasons on its timeline), so that a test can
look for the marker in everything the register publishes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy.orm import Session

from guarantee.clock import UK
from guarantee.models import Claim, Contact, Regulation
from guarantee.models.claim import TimelineEntry
from guarantee.models.register import STATEMENT_DECISION_OF_TRIGGER, DecisionStatement

MARKER = "ZQXMARKER"
_serial = itertools.count(1)

# The claim's state and outcome for each decision the register names.
CLAIM_AFTER: dict[str, tuple[str, str | None]] = {
    "upheld": ("upheld", None),
    "not_upheld": ("not_upheld", "not_upheld"),
    "appeal_allowed": ("upheld", None),
    "appeal_dismissed": ("closed", "appeal_dismissed"),
}
assert set(CLAIM_AFTER) == set(STATEMENT_DECISION_OF_TRIGGER.values())


def regulation(session: Session, title: str, slug: str, *, category: str = "food_hygiene") -> Regulation:
    entry = Regulation(
        title=title,
        slug=slug,
        legal_reference=f"{title} Regulations 2013, reg. 4",
        issuing_body="Food Standards Agency",
        category=category,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    session.add(entry)
    session.flush()
    return entry


# The quasi-identifiers claims share in the register's tests, unless a test says otherwise.
ALIKE: dict[str, Any] = {
    "region": "london",
    "sector": "health",
    "category": "food_hygiene",
    "decided_on": date(2026, 5, 5),
}


def alike(session: Session, regulation_id: int | None, n: int, **changes: Any) -> list[Claim]:
    """``n`` claims decided under one rule that share everything a statement shows (ALIKE)."""
    return [decided_claim(session, regulation_id=regulation_id, **(ALIKE | changes)) for _ in range(n)]


def decided_claim(
    session: Session,
    *,
    regulation_id: int | None,
    region: str,
    sector: str,
    category: str,
    decided_on: date,
    decision: str = "upheld",
    consent: bool = True,
    marker: str = MARKER,
) -> Claim:
    """A claim decided on its merits at noon (UK time) on ``decided_on``."""
    n = next(_serial)
    decided_at = datetime.combine(decided_on, time(12), tzinfo=UK).astimezone(UTC)
    state, outcome = CLAIM_AFTER[decision]
    claim = Claim(
        reference=f"CPG-2026-{700000 + n:06d}",
        state=state,
        outcome=outcome,
        submitted_at=decided_at - timedelta(days=20),
        updated_at=decided_at,
        decided_at=decided_at,
        group_name=f"{marker} group {n}",
        initiative_title=f"{marker} initiative",
        initiative_description=f"Run by {marker} at 1 {marker} Street",
        sector=sector,
        region=region,
        barrier_regulation=f"{marker} rule",
        barrier_imposed_by="Council",
        barrier_category=category,
        barrier_how_it_blocks=f"{marker} is blocked",
        remedy_sought="waiver",
        consent_contact=True,
        consent_publish=consent,
        category=category,
        regulation_id=regulation_id,
    )
    session.add(claim)
    session.flush()
    session.add(Contact(claim_id=claim.id, contact_name=f"{marker} Person", email=f"{marker.lower()}@example.org"))
    session.add(TimelineEntry(claim_id=claim.id, seq=1, field="reasons", body=f"Reasons for {marker}", public=True))
    session.flush()
    return claim


@dataclass(frozen=True)
class Stamp:
    published_at: datetime
    number: str


def statement(
    session: Session,
    claim: Claim,
    *,
    decision: str = "upheld",
    status: str = "published",
    published_at: datetime | None = None,
    summary: str | None = "The council granted a waiver of the rule for this initiative.",
    withdrawn_reason: str | None = None,
    cites: list[DecisionStatement] | tuple[DecisionStatement, ...] = (),
    number: str | None = None,
) -> DecisionStatement:
    """The published statement of a decided claim, saying what its claim says."""
    n = next(_serial)
    assert claim.decided_at is not None
    published = published_at or claim.decided_at + timedelta(days=3)
    row = DecisionStatement(
        number=number or f"DS-2026-{n:04d}",
        claim_id=claim.id,
        decision=decision,
        status=status,
        summary=summary if claim.consent_publish else None,
        drafted_at=claim.decided_at,
        published_at=published,
        withdrawn_at=published + timedelta(days=1) if status == "withdrawn" else None,
        withdrawn_reason=withdrawn_reason if status == "withdrawn" else None,
        consent=claim.consent_publish,
        regulation_id=claim.regulation_id,
        category=claim.category,
        sector=claim.sector,
        region=claim.region,
        decided_on=claim.decided_at.astimezone(UK).date(),
        working_days=14,
        remedy="waiver" if decision in ("upheld", "appeal_allowed") else None,
        reason_code="regulation_necessary_and_proportionate" if decision == "not_upheld" else None,
    )
    row.cites = list(cites)
    session.add(row)
    session.flush()
    return row


# --- random registers, for the property tests -----------------------------------------------

RULES = ("food-hygiene", "street-parties", None)
PLACES = ("london", "south_east", "north_west", "wales")
SECTORS_DRAWN = ("health", "housing", "education")
CATEGORIES_DRAWN = ("food_hygiene", "licensing_and_permits")
DAYS = (date(2025, 11, 20), date(2026, 2, 10), date(2026, 3, 31), date(2026, 4, 1), date(2026, 8, 3))


@dataclass(frozen=True)
class Drawn:
    """One decided claim: its quasi-identifiers, whether its group agreed to publishing, and the
    statement it has (None: none)."""

    rule: str | None
    region: str
    sector: str
    category: str
    decided_on: date
    consent: bool
    statement: str | None  # published, withdrawn or superseded
    decision: str


drawn_claims = st.lists(
    st.builds(
        Drawn,
        rule=st.sampled_from(RULES),
        region=st.sampled_from(PLACES),
        sector=st.sampled_from(SECTORS_DRAWN),
        category=st.sampled_from(CATEGORIES_DRAWN),
        decided_on=st.sampled_from(DAYS),
        consent=st.booleans(),
        statement=st.sampled_from(("published", "published", "withdrawn", "superseded", None)),
        decision=st.sampled_from(tuple(CLAIM_AFTER)),
    ),
    min_size=1,
    max_size=40,
)


@dataclass
class Built:
    claims: list[tuple[Drawn, Claim]]
    statements: list[tuple[Drawn, DecisionStatement]]
    rule_ids: dict[str, int]  # by the drawn rule
    drawn_rule: dict[str, str]  # the drawn rule of each catalogue slug


def build(session: Session, drawn: list[Drawn], *, cite: bool = True) -> Built:
    """The drawn claims and their statements, as rows; each statement cites the one before it."""
    entries = {
        slug: regulation(session, slug.replace("-", " ").capitalize(), f"{slug}-{next(_serial)}")
        for slug in RULES
        if slug
    }
    built = Built([], [], {slug: e.id for slug, e in entries.items()}, {e.slug: slug for slug, e in entries.items()})
    rule_ids = built.rule_ids
    earlier: DecisionStatement | None = None
    for d in drawn:
        claim = decided_claim(
            session,
            regulation_id=rule_ids[d.rule] if d.rule else None,
            region=d.region,
            sector=d.sector,
            category=d.category,
            decided_on=d.decided_on,
            decision=d.decision,
            consent=d.consent,
        )
        built.claims.append((d, claim))
        if d.statement:
            made = statement(
                session,
                claim,
                decision=d.decision,
                status=d.statement,
                withdrawn_reason="It named a street, which could identify the group.",
                cites=[earlier] if cite and earlier is not None else [],
            )
            built.statements.append((d, made))
            earlier = made
    return built


def clear(session: Session) -> None:
    """Every row the builders made, for a property test that commits each example."""
    from sqlalchemy import delete

    from guarantee.models.register import statement_citations

    for table in (statement_citations, DecisionStatement.__table__, TimelineEntry.__table__, Contact.__table__):
        session.execute(delete(table))
    session.execute(delete(Claim))
    session.execute(delete(Regulation))


# --- a register that reads like a real one (the browser test, the README's screenshot) -----------

SHOWCASE_RULES = (
    (
        "Food premises registration",
        "food-premises-registration",
        "Regulation (EC) No 852/2004, Article 6",
        "District council environmental health",
        "food_hygiene",
    ),
    (
        "Temporary event notices",
        "temporary-event-notices",
        "Licensing Act 2003, section 100",
        "Licensing authority",
        "licensing_and_permits",
    ),
    (
        "Enhanced DBS checks for volunteers",
        "enhanced-dbs-checks-for-volunteers",
        "Safeguarding Vulnerable Groups Act 2006",
        "Disclosure and Barring Service",
        "safeguarding_and_vetting",
    ),
)
SHOWCASE_SUMMARIES = {
    (0, "upheld"): "The rule was written for commercial kitchens. For tea and cake served by volunteers once a week, "
    "the council agreed a waiver with the environmental health team, on condition of a short food safety briefing.",
    (0, "not_upheld"): "Hot meals cooked for 60 people each week are a food business whoever runs them. Registration "
    "is free and quick, and the council's food team offered to help with the form.",
    (1, "upheld"): "A street party on a closed residential road needs no temporary event notice when no alcohol is "
    "sold. The licensing team confirmed this in writing and updated its guidance.",
    (1, "not_upheld"): "Alcohol was to be sold at the event, which is exactly what the notice is for. We explained "
    "how to give one in time, and that it costs 21 pounds.",
    (2, "upheld"): "On appeal, the panel found that volunteers who drive people to appointments, with a family member "
    "present, do not do regulated activity. A basic check is enough.",
    (2, "not_upheld"): "Volunteers visit people in their homes alone, which the law treats as regulated activity. The "
    "check protects people at real risk and is free for volunteers.",
}


# The showcase's numbers, drawn at random once (as approving draws them), in the order decided.
SHOWCASE_NUMBERS = (
    99948,
    29818,
    44056,
    98343,
    93325,
    23305,
    52916,
    85096,
    32200,
    13536,
    63939,
    63312,
    19831,
    23532,
    26394,
)


def showcase(session: Session) -> list[DecisionStatement]:
    """A dozen statements on three rules, shown at k = 5: upheld and not, one withdrawn, one
    whose group did not agree to a summary, and a later one citing an earlier."""
    made: list[DecisionStatement] = []
    plan = (
        (0, "london", "health", date(2026, 4, 14), "upheld", True),
        (0, "london", "health", date(2026, 5, 6), "upheld", True),
        (0, "london", "health", date(2026, 5, 20), "upheld", True),
        (0, "london", "health", date(2026, 6, 2), "not_upheld", True),
        (0, "london", "health", date(2026, 6, 15), "upheld", False),
        (1, "north_west", "culture_and_leisure", date(2026, 7, 8), "upheld", True),
        (1, "north_west", "culture_and_leisure", date(2026, 7, 21), "upheld", True),
        (1, "north_west", "culture_and_leisure", date(2026, 8, 4), "not_upheld", True),
        (1, "yorkshire_and_the_humber", "culture_and_leisure", date(2026, 8, 11), "upheld", True),
        (1, "north_west", "culture_and_leisure", date(2026, 9, 1), "upheld", True),
        (2, "wales", "social_care", date(2026, 7, 14), "not_upheld", True),
        (2, "wales", "social_care", date(2026, 8, 18), "not_upheld", True),
        (2, "wales", "social_care", date(2026, 9, 8), "appeal_allowed", True),
        (2, "wales", "social_care", date(2026, 9, 15), "not_upheld", True),
        (2, "wales", "social_care", date(2026, 9, 22), "not_upheld", True),
    )
    plan = tuple(sorted(plan, key=lambda planned: planned[3]))  # in the order they were decided
    rules = []
    for title, slug, legal, body, category in SHOWCASE_RULES:
        entry = Regulation(
            title=title,
            slug=slug,
            legal_reference=legal,
            issuing_body=body,
            category=category,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        session.add(entry)
        rules.append(entry)
    session.flush()
    for n, (rule, region, sector, day, decision, consent) in enumerate(plan, start=1):  # n: from 1, as decided
        claim = decided_claim(
            session,
            regulation_id=rules[rule].id,
            region=region,
            sector=sector,
            category=rules[rule].category,
            decided_on=day,
            decision=decision,
            consent=consent,
        )
        kind = "upheld" if decision in ("upheld", "appeal_allowed") else "not_upheld"
        made.append(
            statement(
                session,
                claim,
                decision=decision,
                number=f"DS-2026-{SHOWCASE_NUMBERS[n - 1]}",
                summary=SHOWCASE_SUMMARIES[(rule, kind)],
                status="withdrawn" if n == 3 else "published",
                withdrawn_reason="The summary named the hall, which could identify the group.",
                cites=[made[0]] if n == 2 else [],
            )
        )
    return made
