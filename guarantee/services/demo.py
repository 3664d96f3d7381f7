"""A realistic set of demonstration claims in every state, for newcomers and development.

Each claim is filed on a day in the past and walked along a path of the workflow with a
clock that moves forward, so due dates, lapses and appeal windows look as they would.

Each decision on a claim's merits drafts a decision statement (the group agreed to publishing
for most claims, and the deciding officer wrote a summary); a second demo officer approves it a
day or two later, through the same service the console uses, so the public register and the rule
pages have statements to show. The latest few are left for approval, and one is withdrawn. Most
decided claims are about a few featured rules in England, so that the register's disclosure
control (at least five decided claims alike) lets their statements show.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from guarantee.clock import FixedClock
from guarantee.models import Officer, Regulation
from guarantee.models.regulation import unique_slug
from guarantee.services import publishing
from guarantee.services.actors import GroupActor, OfficerActor, SystemActor
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.officers import create_officer
from workflows import CITES, PUBLIC_SUMMARY
from workflows.vocabulary import REGIONS, label, nation_of

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
# The paths whose claims are decided on their merits: most of them are about the featured rules
# (the first few initiatives), in England.
DECIDED_PATHS = ("upheld", "not_upheld", "appealed", "resolved", "resolved_after_appeal", "resolved_window_closed")
FEATURED = 3
ENGLAND = tuple(r for r in REGIONS if nation_of(r) == "england")
# Who approves the statement each deciding officer drafts (never the drafter: four eyes).
APPROVER_OF = {"reviewer": "admin", "appeal_panel": "reviewer", "admin": "reviewer"}
# Statements decided this recently are left waiting for a second officer.
LEFT_TO_APPROVE = timedelta(days=9)
WITHDRAWN_REASON = (
    "The council found that the summary described the initiative too closely for the group to stay "
    "anonymous, so the statement was withdrawn."
)
CONTACT_NAMES = (
    "Samira Qureshi",
    "Tomasz Wojcik",
    "Ifeoma Nwosu",
    "Callum Rennie",
    "Bethan Prytherch",
    "Dev Raghunathan",
    "Oksana Hrytsenko",
    "Eilidh MacAulay",
)

# What each decision's summary says, for the register: what was asked, what was decided and why,
# without naming the group, its initiative or anyone in it.
SUMMARIES = {
    "uphold": (
        "A volunteer-led initiative in {sector} asked for relief from {rule}. The council found that the rule "
        "was applied more strictly than it needs to be for an initiative of this size and kind, and that the "
        "risk it guards against is managed in other ways. The claim was upheld: {remedy}."
    ),
    "not_uphold": (
        "A community initiative in {sector} asked for relief from {rule}. The council found that the rule is "
        "necessary and proportionate: it protects the people the initiative serves, and it applies in the same "
        "way to every service of this kind. The claim was not upheld."
    ),
    "dismiss_appeal": (
        "The appeal panel looked again at a claim about {rule} from an initiative in {sector}. It found no "
        "new facts, and agreed that the rule is applied fairly and for good reason. The appeal was dismissed."
    ),
    "allow_appeal": (
        "The appeal panel looked again at a claim about {rule} from an initiative in {sector}. It found that "
        "the first decision gave too little weight to the safeguards the initiative already has. The appeal "
        "was allowed: {remedy}."
    ),
}
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


REMEDY_WORDS = {
    "waiver": "the rule was waived for the initiative",
    "guidance_clarified": "the council clarified its guidance, so that the rule no longer stands in the way",
}


def _summary(trigger: str, regulation: str, sector: str, inputs: dict[str, object]) -> str:
    remedy = REMEDY_WORDS.get(str(inputs.get("remedy", "")), "")
    return SUMMARIES[trigger].format(rule=regulation.lower(), sector=label(sector).lower(), remedy=remedy)


def _publish(
    ctx: ServiceContext,
    officers: dict[str, tuple[int, str, str | None]],
    drafted_by: str,
    statement_id: int,
    now: datetime,
) -> None:
    """A second demo officer approves the draft a day or two later, unless it is too recent."""
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    if now - clock.now() < LEFT_TO_APPROVE:
        return  # left in "Statements to approve"
    decided = clock.now()
    clock.advance(days=1, hours=3)
    publishing.approve(ctx, OfficerActor(officers[APPROVER_OF[drafted_by]][0]), statement_id)
    clock.set(decided)


def seed_demo(ctx: ServiceContext, claims: int = 60, seed: int = 2010) -> DemoResult:
    """Add ``claims`` demonstration claims spread over every state. Flushes only."""
    rng = random.Random(seed)  # noqa: S311 (repeatable demonstration data, not secrets)
    officers = _officers(ctx)
    catalogue = _catalogue(ctx)
    now = ctx.now()
    paths = list(PATHS.items())
    withdrawn = False
    for n in range(claims):
        end_state, path = paths[n % len(paths)]
        span = sum(days for _, _, days in path)
        # Claims waiting on a deadline the sweeper watches are recent, so they stay waiting.
        age = rng.randint(1, 8) if end_state in SWEEPER_WATCHES else rng.randint(1, 60)
        clock = FixedClock(now - timedelta(days=span + age, hours=rng.randint(0, 8)))
        moving = replace(ctx, clock=clock)
        featured = end_state in DECIDED_PATHS and rng.random() < 0.85
        initiative = INITIATIVES[n % FEATURED] if featured else rng.choice(INITIATIVES)
        title, sector, description, regulation, imposed_by, category = initiative
        region = rng.choice(ENGLAND) if featured else rng.choice(REGIONS)
        publish = rng.random() < 0.8
        submitted = submit_claim(
            moving,
            {
                "group": {
                    "name": f"{title} group",
                    "contact_name": CONTACT_NAMES[n % len(CONTACT_NAMES)],
                    "email": f"group{n + 1}@example.org",
                },
                "initiative": {
                    "title": title,
                    "description": description,
                    "sector": sector,
                    "region": region,
                    "people_involved": rng.randint(3, 120),
                },
                "barrier": {
                    "regulation": regulation,
                    "imposed_by": imposed_by,
                    "category": category,
                    "how_it_blocks": f"{regulation} means we cannot start or must stop; we have asked for advice twice.",
                    "remedy_sought": rng.choice(["waiver", "clarification", "amendment"]),
                },
                "consent": {"contact": rng.random() < 0.8, "publish": publish},
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
            drafts = trigger in SUMMARIES
            if drafts and publish:
                inputs[PUBLIC_SUMMARY] = _summary(trigger, regulation, sector, inputs)
            if drafts:
                earlier = [p.id for p in publishing.precedents(moving, catalogue[regulation], before=clock.now())][:1]
                if earlier and rng.random() < 0.5:
                    inputs[CITES] = earlier
            fire(moving, submitted.reference, trigger, actor, inputs)
            if drafts:
                draft = publishing.latest_draft(moving, submitted.reference)
                _publish(moving, officers, who, draft.id, now)
                if draft.status == "published" and not withdrawn and end_state == "resolved":
                    decided = clock.now()
                    clock.set(min(decided + timedelta(days=5), now))
                    publishing.withdraw(moving, OfficerActor(officers["admin"][0]), draft.id, WITHDRAWN_REASON)
                    clock.set(decided)
                    withdrawn = True
    return DemoResult(claims=claims, officers={role: (email, pw) for role, (_, email, pw) in officers.items()})


def _actor(
    who: str, officers: dict[str, tuple[int, str, str | None]], reference: str
) -> OfficerActor | GroupActor | SystemActor:
    if who == "group":
        return GroupActor(reference)
    if who == "system":
        return SystemActor("sweeper")
    return OfficerActor(officers[who][0])
