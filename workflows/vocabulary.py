"""Controlled vocabularies of the service (DESIGN section 6), as slugs.

Plain tuples so that forms, API schemas, database CHECK constraints and the
statistics tables all read the same fixed, public lists.
"""

from __future__ import annotations

SECTORS: tuple[str, ...] = (
    "health",
    "social_care",
    "education",
    "children_and_families",
    "housing",
    "criminal_justice",
    "employment_and_welfare",
    "environment",
    "community_safety",
    "culture_and_leisure",
    "other",
)

# ITL1 regions of the United Kingdom.
REGIONS: tuple[str, ...] = (
    "north_east",
    "north_west",
    "yorkshire_and_the_humber",
    "east_midlands",
    "west_midlands",
    "east_of_england",
    "london",
    "south_east",
    "south_west",
    "wales",
    "scotland",
    "northern_ireland",
)

BARRIER_CATEGORIES: tuple[str, ...] = (
    "health_and_safety",
    "safeguarding_and_vetting",
    "insurance_and_liability",
    "licensing_and_permits",
    "data_protection_and_information_sharing",
    "procurement_and_commissioning",
    "planning_and_premises",
    "financial_rules_and_benefits",
    "professional_standards_and_qualifications",
    "food_hygiene",
    "other",
)

REMEDIES_SOUGHT: tuple[str, ...] = ("waiver", "clarification", "amendment", "other")

# What an officer grants when a claim is upheld.
REMEDIES: tuple[str, ...] = (
    "waiver",
    "guidance_clarified",
    "regulation_amendment",
    "referral_to_national_body",
    "other",
)

DECLINE_REASONS: tuple[str, ...] = ("out_of_scope", "duplicate", "not_a_regulatory_barrier")

NOT_UPHELD_REASONS: tuple[str, ...] = (
    "no_regulatory_barrier_found",
    "regulation_necessary_and_proportionate",
    "outside_council_powers",
    "insufficient_information",
    "other",
)

RESOLUTION_OUTCOMES: tuple[str, ...] = (
    "waiver_granted",
    "guidance_clarified",
    "regulation_amended",
    "referred_to_national_body",
    "remedy_not_implemented",
)

# Every value Claim.outcome can take: a recorded resolution, or how a claim ended otherwise.
OUTCOMES: tuple[str, ...] = (
    *RESOLUTION_OUTCOMES,
    "not_upheld",
    "appeal_dismissed",
    "declined",
    "withdrawn",
    "lapsed",
)

# A team leader oversees the team's work: reads every claim, sees the team's workload and
# reassigns claims. The workflow's own steps stay with the other roles.
ROLES: tuple[str, ...] = ("triage", "reviewer", "appeal_panel", "admin", "team_leader")

# The kinds of e-mail an officer gets, each of which they may turn off (guarantee.services.
# notifications.OFFICER_MESSAGE_KINDS says what each is and which messages it covers).
OFFICER_MESSAGE_KINDS: tuple[str, ...] = (
    "assignments",
    "group_replies",
    "appeals",
    "withdrawals",
    "daily_digest",
    "new_claims_digest",
)

# The languages a group may be written to in, and the service shown in (issue 23).
LANGUAGES: tuple[str, ...] = ("en", "cy")

NATIONS: tuple[str, ...] = ("england", "wales", "scotland", "northern_ireland")


def nation_of(region: str) -> str:
    """The nation whose bank holidays count for a claim in this region."""
    if region in ("wales", "scotland", "northern_ireland"):
        return region
    return "england"


# How each slug reads on a page, where "capitalise and replace underscores" is not enough.
_LABELS: dict[str, str] = {
    "north_east": "North East (England)",
    "north_west": "North West (England)",
    "yorkshire_and_the_humber": "Yorkshire and the Humber",
    "east_midlands": "East Midlands",
    "west_midlands": "West Midlands",
    "east_of_england": "East of England",
    "london": "London",
    "south_east": "South East (England)",
    "south_west": "South West (England)",
    "wales": "Wales",
    "scotland": "Scotland",
    "northern_ireland": "Northern Ireland",
    "waiver": "A waiver: permission not to follow the rule in your case",
    "clarification": "Clarification: guidance saying what the rule really requires",
    "amendment": "An amendment: changing the rule itself",
    "data_protection_and_information_sharing": "Data protection and information sharing",
    "professional_standards_and_qualifications": "Professional standards and qualifications",
}


def label(slug: str | None) -> str:
    """The words a person reads for a slug: ``social_care`` is "Social care"."""
    if not slug:
        return ""
    return _LABELS.get(slug) or slug.replace("_", " ").capitalize()
