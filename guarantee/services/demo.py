"""A realistic set of demonstration claims in every state, for newcomers and development.

Each claim is filed on a day in the past and walked along a path of the workflow with a
clock that moves forward, so due dates, lapses and appeal windows look as they would.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import select

from guarantee.clock import FixedClock
from guarantee.models import Officer, Regulation
from guarantee.models.regulation import unique_slug
from guarantee.services.actors import GroupActor, OfficerActor, SystemActor
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.officers import create_officer
from workflows.vocabulary import REGIONS

INITIATIVES = [
    (
        "Little Acorns parent-run nursery",
        "children_and_families",
        "A nursery run by parents on a rota, with one qualified lead.",
        "Early years staffing ratios",
        "Ofsted",
        "professional_standards_and_qualifications",
    ),
    (
        "Thursday Table residents' kitchen",
        "community_safety",
        "Residents cook and eat together weekly in the estate hall.",
        "Food premises registration",
        "District council environmental health",
        "food_hygiene",
    ),
    (
        "Walk and Talk peer support",
        "health",
        "People recovering from depression walk together with a peer leader.",
        "Clinical governance requirements for commissioned services",
        "Integrated care board",
        "procurement_and_commissioning",
    ),
    (
        "Hillside time bank",
        "employment_and_welfare",
        "Neighbours trade hours of help; an hour given earns an hour back.",
        "Permitted work rules for benefit claimants",
        "Department for Work and Pensions",
        "financial_rules_and_benefits",
    ),
    (
        "Oak House residents' committee",
        "social_care",
        "Residents of a care home share in running it, from menus to recruitment.",
        "Care home staff recruitment rules",
        "Care Quality Commission",
        "safeguarding_and_vetting",
    ),
    (
        "Riverside school council garden",
        "education",
        "Pupils plan and run a food garden with parents at weekends.",
        "School site access policy",
        "Local authority education department",
        "health_and_safety",
    ),
    (
        "Local Area Co-ordination network",
        "social_care",
        "Co-ordinators help people find support in their own neighbourhood.",
        "Information sharing between agencies",
        "County council",
        "data_protection_and_information_sharing",
    ),
    (
        "Tenant-run repair cafe",
        "housing",
        "Tenants repair each other's appliances in a community room.",
        "Public liability insurance for volunteer repairs",
        "Housing association",
        "insurance_and_liability",
    ),
    (
        "Open-air community cinema",
        "culture_and_leisure",
        "Volunteers screen films in the park on summer evenings.",
        "Temporary event notice limits",
        "Licensing authority",
        "licensing_and_permits",
    ),
    (
        "Youth-led skate space",
        "community_safety",
        "Young people design and build a skate space on unused land.",
        "Change of use planning permission",
        "Planning authority",
        "planning_and_premises",
    ),
    (
        "Ex-offender mentoring circle",
        "criminal_justice",
        "People who have left prison mentor those about to leave.",
        "Prison visitor vetting rules",
        "HM Prison and Probation Service",
        "safeguarding_and_vetting",
    ),
    (
        "Community orchard",
        "environment",
        "Volunteers plant and tend fruit trees on council land.",
        "Tree planting on highway verges",
        "Highways authority",
        "other",
    ),
]

# Paths through the workflow: (trigger, who fires it, days after the step before).
PATHS: dict[str, list[tuple[str, str, int]]] = {
    "submitted": [],
    "under_review": [("accept", "triage", 3)],
    "awaiting_information": [("accept", "triage", 3), ("request_information", "reviewer", 6)],
    "upheld": [("accept", "triage", 2), ("uphold", "reviewer", 15)],
    "not_upheld": [("accept", "triage", 4), ("not_uphold", "reviewer", 12)],
    "appealed": [("accept", "triage", 2), ("not_uphold", "reviewer", 10), ("appeal", "group", 5)],
    "resolved": [("accept", "triage", 2), ("uphold", "reviewer", 14), ("record_resolution", "reviewer", 30)],
    "resolved_after_appeal": [
        ("accept", "triage", 3),
        ("not_uphold", "reviewer", 12),
        ("appeal", "group", 6),
        ("dismiss_appeal", "appeal_panel", 15),
    ],
    "resolved_window_closed": [
        ("accept", "triage", 3),
        ("not_uphold", "reviewer", 12),
        ("appeal_window_closed", "system", 35),
    ],
    "closed": [("decline", "triage", 2)],
    "withdrawn": [("accept", "triage", 2), ("withdraw", "group", 8)],
    "lapsed": [("accept", "triage", 2), ("request_information", "reviewer", 5), ("information_lapsed", "system", 35)],
}

SWEEPER_WATCHES = ("awaiting_information", "not_upheld")
# Who is given each accepted claim, in turn: the reviewer most, the admin some, and some nobody,
# so that the queue's views and the team's workload have something to show.
ASSIGNEES = ("reviewer", "reviewer", "admin", None)

DEMO_ROLES = {"triage": ["triage"], "reviewer": ["reviewer"], "appeal_panel": ["appeal_panel"], "admin": ["admin"]}


@dataclass
class DemoResult:
    claims: int
    officers: dict[str, tuple[str, str | None]]  # role -> (email, new password or None)


def _officers(ctx: ServiceContext) -> dict[str, tuple[int, str, str | None]]:
    found: dict[str, tuple[int, str, str | None]] = {}
    for role, roles in DEMO_ROLES.items():
        email = f"{role.replace('_', '-')}@demo.invalid"
        officer = ctx.session.scalar(select(Officer).where(Officer.email == email))
        if officer is None:
            password = secrets.token_urlsafe(12)
            officer = create_officer(
                ctx, email=email, name=f"Demo {role.replace('_', ' ')} officer", roles=roles, password=password
            )
            found[role] = (officer.id, email, password)
        else:
            found[role] = (officer.id, email, None)
    return found


def _catalogue(ctx: ServiceContext) -> dict[str, int]:
    """The regulations the demonstration claims are mapped to, by title."""
    ids: dict[str, int] = {}
    for _, _, _, title, imposed_by, category in INITIATIVES:
        entry = ctx.session.scalar(select(Regulation).where(Regulation.title == title))
        if entry is None:
            entry = Regulation(
                title=title,
                slug=unique_slug(ctx.session, title),
                issuing_body=imposed_by,
                category=category,
                created_at=ctx.now(),
            )
            ctx.session.add(entry)
            ctx.session.flush()
        ids[title] = entry.id
    return ids


def _inputs(trigger: str, rng: random.Random, category: str, regulation_id: int) -> dict[str, object]:
    table: dict[str, Callable[[], dict[str, object]]] = {
        "accept": lambda: {"category": category, "regulation": regulation_id},
        "decline": lambda: {
            "reason_code": "out_of_scope",
            "explanation": "This is a national rule that the council cannot waive; we have told the national body.",
        },
        "request_information": lambda: {
            "question": "Can you tell us how many volunteers take part each week and what training they have?"
        },
        "uphold": lambda: {
            "reasons": "The rule was applied more strictly than it needs to be for an initiative of this kind.",
            "remedy": rng.choice(["waiver", "guidance_clarified"]),
        },
        "not_uphold": lambda: {
            "reasons": "The rule protects children and applies to every nursery in the same way.",
            "reason_code": "regulation_necessary_and_proportionate",
        },
        "appeal": lambda: {"grounds": "The decision did not consider that a qualified lead is always present."},
        "dismiss_appeal": lambda: {"reasons": "The panel agrees with the original decision."},
        "record_resolution": lambda: {
            "outcome": rng.choice(["waiver_granted", "guidance_clarified"]),
            "summary": "The council issued a waiver for twelve months.",
        },
        "withdraw": lambda: {"reason": "We found another venue."},
    }
    return table.get(trigger, dict)()


def seed_demo(ctx: ServiceContext, claims: int = 60, seed: int = 2010) -> DemoResult:
    """Add ``claims`` demonstration claims spread over every state. Flushes only."""
    rng = random.Random(seed)  # noqa: S311 (repeatable demonstration data, not secrets)
    officers = _officers(ctx)
    catalogue = _catalogue(ctx)
    now = ctx.now()
    paths = list(PATHS.items())
    for n in range(claims):
        end_state, path = paths[n % len(paths)]
        span = sum(days for _, _, days in path)
        # Claims waiting on a deadline the sweeper watches are recent, so they stay waiting.
        age = rng.randint(1, 8) if end_state in SWEEPER_WATCHES else rng.randint(1, 60)
        clock = FixedClock(now - timedelta(days=span + age, hours=rng.randint(0, 8)))
        moving = replace(ctx, clock=clock)
        title, sector, description, regulation, imposed_by, category = rng.choice(INITIATIVES)
        submitted = submit_claim(
            moving,
            {
                "group": {
                    "name": f"{title} group",
                    "contact_name": f"Demo contact {n + 1}",
                    "email": f"group{n + 1}@example.org",
                },
                "initiative": {
                    "title": title,
                    "description": description,
                    "sector": sector,
                    "region": rng.choice(REGIONS),
                    "people_involved": rng.randint(3, 120),
                },
                "barrier": {
                    "regulation": regulation,
                    "imposed_by": imposed_by,
                    "category": category,
                    "how_it_blocks": f"{regulation} means we cannot start or must stop; we have asked for advice twice.",
                    "remedy_sought": rng.choice(["waiver", "clarification", "amendment"]),
                },
                "consent": {"contact": rng.random() < 0.8},
            },
        )
        for trigger, who, days in path:
            clock.advance(days=days, hours=rng.randint(0, 5))
            clock.set(min(clock.now(), now))
            actor = _actor(who, officers, submitted.reference)
            inputs = _inputs(trigger, rng, category, catalogue[regulation])
            given = ASSIGNEES[(n + n // len(paths)) % len(ASSIGNEES)]  # each state, each in turn
            if trigger == "accept" and given:
                inputs["assignee"] = officers[given][0]
            fire(moving, submitted.reference, trigger, actor, inputs)
    return DemoResult(claims=claims, officers={role: (email, pw) for role, (_, email, pw) in officers.items()})


def _actor(
    who: str, officers: dict[str, tuple[int, str, str | None]], reference: str
) -> OfficerActor | GroupActor | SystemActor:
    if who == "group":
        return GroupActor(reference)
    if who == "system":
        return SystemActor("sweeper")
    return OfficerActor(officers[who][0])
