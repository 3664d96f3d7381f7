"""Controlled vocabularies of the service (DESIGN section 6), as slugs.

Plain tuples so that forms, API schemas, database CHECK constraints and the
statistics tables all read the same fixed, public lists.
"""

from __future__ import annotations

from workflows.words import N_

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


# How each slug reads on a page: every slug of every vocabulary, each marked so that it is translated
# (a page says it through guarantee.i18n.say). A slug missing here would read as itself, capitalised
# with its underscores made spaces, and never be translated: tests/test_welsh_workflows.py checks
# that none is. LANGUAGES are left out: each language is named in its own words
# (guarantee.i18n.LANGUAGE_NAMES), never by its slug.
_LABELS: dict[str, str] = {
    # Sectors.
    "health": N_("Health"),
    "social_care": N_("Social care"),
    "education": N_("Education"),
    "children_and_families": N_("Children and families"),
    "housing": N_("Housing"),
    "criminal_justice": N_("Criminal justice"),
    "employment_and_welfare": N_("Employment and welfare"),
    "environment": N_("Environment"),
    "community_safety": N_("Community safety"),
    "culture_and_leisure": N_("Culture and leisure"),
    "other": N_("Other"),
    # Regions.
    "north_east": N_("North East (England)"),
    "north_west": N_("North West (England)"),
    "yorkshire_and_the_humber": N_("Yorkshire and the Humber"),
    "east_midlands": N_("East Midlands"),
    "west_midlands": N_("West Midlands"),
    "east_of_england": N_("East of England"),
    "london": N_("London"),
    "south_east": N_("South East (England)"),
    "south_west": N_("South West (England)"),
    "wales": N_("Wales"),
    "scotland": N_("Scotland"),
    "northern_ireland": N_("Northern Ireland"),
    # Barrier categories.
    "health_and_safety": N_("Health and safety"),
    "safeguarding_and_vetting": N_("Safeguarding and vetting"),
    "insurance_and_liability": N_("Insurance and liability"),
    "licensing_and_permits": N_("Licensing and permits"),
    "data_protection_and_information_sharing": N_("Data protection and information sharing"),
    "procurement_and_commissioning": N_("Procurement and commissioning"),
    "planning_and_premises": N_("Planning and premises"),
    "financial_rules_and_benefits": N_("Financial rules and benefits"),
    "professional_standards_and_qualifications": N_("Professional standards and qualifications"),
    "food_hygiene": N_("Food hygiene"),
    # The remedies a group asks for (a waiver is said the same where it is granted).
    "waiver": N_("A waiver: permission not to follow the rule in your case"),
    "clarification": N_("Clarification: guidance saying what the rule really requires"),
    "amendment": N_("An amendment: changing the rule itself"),
    # The remedies an officer grants.
    "guidance_clarified": N_("Guidance clarified"),
    "regulation_amendment": N_("Regulation amendment"),
    "referral_to_national_body": N_("Referral to national body"),
    # Why a claim is declined.
    "out_of_scope": N_("Out of scope"),
    "duplicate": N_("Duplicate"),
    "not_a_regulatory_barrier": N_("Not a regulatory barrier"),
    # Why a claim is not upheld.
    "no_regulatory_barrier_found": N_("No regulatory barrier found"),
    "regulation_necessary_and_proportionate": N_("Regulation necessary and proportionate"),
    "outside_council_powers": N_("Outside council powers"),
    "insufficient_information": N_("Insufficient information"),
    # What the council did.
    "waiver_granted": N_("Waiver granted"),
    "regulation_amended": N_("Regulation amended"),
    "referred_to_national_body": N_("Referred to national body"),
    "remedy_not_implemented": N_("Remedy not implemented"),
    # How a claim ended otherwise.
    "not_upheld": N_("Not upheld"),
    "appeal_dismissed": N_("Appeal dismissed"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "lapsed": N_("Lapsed"),
    # Officers' roles.
    "triage": N_("Triage"),
    "reviewer": N_("Reviewer"),
    "appeal_panel": N_("Appeal panel"),
    "admin": N_("Admin"),
    "team_leader": N_("Team leader"),
    # The kinds of e-mail an officer gets.
    "assignments": N_("Assignments"),
    "group_replies": N_("Group replies"),
    "appeals": N_("Appeals"),
    "withdrawals": N_("Withdrawals"),
    "daily_digest": N_("Daily digest"),
    "new_claims_digest": N_("New claims digest"),
    # Nations.
    "england": N_("England"),
    # Slugs shown outside the vocabularies: the names of what was written with a step (a claim's
    # timeline), a decision statement's decision and status, a clock's status, an e-mail's kind.
    "answer": N_("Answer"),
    "assignee": N_("Assignee"),
    "category": N_("Category"),
    "cites": N_("Cites"),
    "duplicate_of": N_("Duplicate of"),
    "evidence": N_("Evidence"),
    "explanation": N_("Explanation"),
    "grounds": N_("Grounds"),
    "justification": N_("Justification"),
    "outcome": N_("Outcome"),
    "public_summary": N_("Public summary"),
    "question": N_("Question"),
    "reason": N_("Reason"),
    "reason_code": N_("Reason code"),
    "reasons": N_("Reasons"),
    "regulation": N_("Regulation"),
    "remedy": N_("Remedy"),
    "summary": N_("Summary"),
    "note": N_("Note"),
    "anything_else": N_("Anything else"),
    "follow_up_note": N_("Follow up note"),
    "upheld": N_("Upheld"),
    "appeal_allowed": N_("Appeal allowed"),
    "awaiting_approval": N_("Awaiting approval"),
    "published": N_("Published"),
    "superseded": N_("Superseded"),
    "running": N_("Running"),
    "paused": N_("Paused"),
    "stopped": N_("Stopped"),
    "answer_received": N_("Answer received"),
    "appeal_lodged": N_("Appeal lodged"),
    "appeal_received": N_("Appeal received"),
    "appeal_reminder": N_("Appeal reminder"),
    "appeal_waiting": N_("Appeal waiting"),
    "assigned": N_("Assigned"),
    "claim_accepted": N_("Claim accepted"),
    "claim_declined": N_("Claim declined"),
    "claim_lapsed": N_("Claim lapsed"),
    "claim_reopened": N_("Claim reopened"),
    "claim_resolved": N_("Claim resolved"),
    "claim_submitted": N_("Claim submitted"),
    "claim_withdrawn": N_("Claim withdrawn"),
    "contact_email_changed": N_("Contact email changed"),
    "contact_email_changed_old": N_("Contact email changed old"),
    "decision_not_upheld": N_("Decision not upheld"),
    "decision_upheld": N_("Decision upheld"),
    "erasure_requested": N_("Erasure requested"),
    "group_replied": N_("Group replied"),
    "information_reminder": N_("Information reminder"),
    "information_requested": N_("Information requested"),
    "new_claims": N_("New claims"),
    "remedy_check_in": N_("Remedy check in"),
    "rule_follow_confirm": N_("Rule follow confirm"),
    "rule_update": N_("Rule update"),
    "tracking_link_requested": N_("Tracking link requested"),
    "withdrawal_confirmed": N_("Withdrawal confirmed"),
}


def label(slug: str | None) -> str:
    """The words a person reads for a slug: ``social_care`` is "Social care"."""
    if not slug:
        return ""
    return _LABELS.get(slug) or slug.replace("_", " ").capitalize()
