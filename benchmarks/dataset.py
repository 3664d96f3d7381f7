"""A realistic data set for the benchmarks: officers, a regulation catalogue and any number of
claims in every state of the workflow, each with its whole audit chain, its clocks, the texts on
its timeline, its contact and its tracking link, written fast into a fresh, empty database.

    python -m benchmarks.dataset --claims 1000000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python -m benchmarks.dataset --claims 100000 --database-url sqlite:////tmp/bench.sqlite3 --manifest out.json

How the rows are made. Officers are added through the real service (so the admin log holds), all
with one known password. Each claim is planned first: the route it took through the workflow
(where claims stand follows the STANDING shares of ``benchmarks/statistics_release.py``), its
region, and the day and time of each step on the real clock: filed over the last 22 months,
officers acting in office hours on working days, groups at any hour, the sweeper at night, and
claims still open due in the coming weeks, about one in seven overdue. Claims are then numbered in
the order they were filed and their rows written as the services write them: the same clock
arithmetic over each nation's bank holidays, the same payloads, the same hash chain.

The real services are the template: before writing anything, ``generate`` makes a claim on
every route in a scratch SQLite database, files each again through ``submit_claim`` and ``fire``
at the same moments with the same input, and stops if one column of one row differs
(``check_against_services``). The tests do the same on generated databases of both kinds.

Cloning rows that the services wrote, shifted by whole weeks, was the first idea; but due dates
depend on the bank holidays of the claim's nation and of the weeks it lands in, and the payloads
carry those dates, so every dated value would have had to be worked out again anyway.

PostgreSQL: worker processes make the rows while one connection per table streams them with COPY
FREEZE (rows land frozen and visible to all, so no vacuum has to rewrite them later); keys,
indexes and foreign keys are put back (and checked) once the tables are full; then ANALYZE.
SQLite: large executemany batches in one transaction, with the journal off during the load only.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import gc
import hashlib
import hmac
import json
import multiprocessing
import operator
import queue
import random
import re
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import click
import psycopg
from flask_migrate import upgrade
from sqlalchemy import Text, cast, create_engine, func, insert, make_url, select, text
from sqlalchemy.orm import Session

from benchmarks.statistics_release import STANDING
from guarantee import create_app
from guarantee.clock import UK, FixedClock
from guarantee.config import DEFAULT_WORKING_DAYS, TestConfig
from guarantee.database import configure_engine
from guarantee.extensions import db
from guarantee.models import AuditEvent, Base, Claim, Contact, Officer, OfficerRole, Regulation, TimelineEntry
from guarantee.models.audit import GENESIS_HASH
from guarantee.models.register import DecisionStatement
from guarantee.services.actors import Actor, GroupActor, OfficerActor, SystemActor
from guarantee.services.audit import canonical_json, check_chain, text_digest
from guarantee.services.calendar import bank_holiday
from guarantee.services.claims import fire, submit_claim, token_hash
from guarantee.services.context import ServiceContext
from guarantee.services.officers import create_officer
from guarantee.services.sweep import SYSTEM_TRIGGERS
from guarantee.statistics.counting import DECIDED_GROUPS, outcome_group_column
from workflows import (
    CLOCKS_ON_SUBMISSION,
    INITIAL_STATE,
    TERMINAL_STATES,
    TRANSITIONS_BY_TRIGGER,
    TRIGGERS,
    ClockEffect,
    is_terminal,
)
from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    DECLINE_REASONS,
    NOT_UPHELD_REASONS,
    OUTCOMES,
    REGIONS,
    REMEDIES,
    REMEDIES_SOUGHT,
    RESOLUTION_OUTCOMES,
    SECTORS,
    nation_of,
)

PASSWORD = "benchmark officer password"  # noqa: S105 (every generated officer's; the manifest publishes it)
WINDOW_DAYS = 670  # claims were filed over about 22 months before today
OVERDUE_SHARE = 0.15  # of the claims still open
CHUNK = 10_000  # claims a worker makes at a time
IN_PROCESS_BELOW = 30_000  # fewer claims are made without worker processes
MAX_PER_YEAR = 999_999  # CPG-YYYY-NNNNNN
TABLES = ("claims", "audit_events", "claim_clocks", "timeline_entries", "contacts", "tracking_tokens")
# --- what the claims are about -------------------------------------------------------------------

# fmt: off
COLUMNS: dict[str, tuple[str, ...]] = {  # in the order the rows are made; checked against the models below
    "claims": (
        "id", "reference", "state", "version", "submitted_at", "updated_at", "group_name", "initiative_title",
        "initiative_description", "sector", "region", "people_involved", "barrier_regulation",
        "barrier_regulation_reference", "barrier_imposed_by", "barrier_category", "barrier_how_it_blocks",
        "remedy_sought", "remedy_details", "consent_contact", "consent_publish", "regulation_chosen_id", "category",
        "regulation_id", "assignee_id",
        "due_clock", "due_on", "remedy", "reason_code", "duplicate_of_id", "outcome", "decided_at", "resolved_at",
        "language",
    ),
    "audit_events": (
        "id", "claim_id", "seq", "occurred_at", "actor_type", "actor_id", "action", "from_state", "to_state",
        "payload", "prev_hash", "hash",
    ),
    "claim_clocks": (
        "id", "claim_id", "name", "status", "working_days", "started_on", "due_on", "paused_on", "days_left",
        "stopped_on", "working",
    ),
    "timeline_entries": ("id", "claim_id", "seq", "field", "body", "public"),
    "contacts": ("id", "claim_id", "contact_name", "email", "phone", "erased_at"),
    "tracking_tokens": ("id", "claim_id", "token_hash", "created_at", "revoked_at", "expires_at"),
}
# (group, initiative, sector, description, the regulation in the group's words, its reference,
# who imposes it, barrier category, how it blocks, the remedy usually sought)
INITIATIVES: tuple[tuple[str, ...], ...] = (
    ("Parents' Nursery Co-op", "Parent-run nursery", "children_and_families", "Parents run a nursery on a rota with one qualified early years lead always present.", "Early years staffing ratios", "EYFS statutory framework 3.30", "Ofsted", "professional_standards_and_qualifications", "Every parent on the rota would need a level 3 qualification before they could count towards the ratio.", "waiver"),
    ("Residents' Kitchen", "Thursday Table residents' kitchen", "community_safety", "Residents cook and eat together every week in the estate's community hall.", "Food premises registration", "Regulation (EC) No 852/2004, Article 6", "District council environmental health", "food_hygiene", "The hall would have to be registered as a food business, which the landlord will not agree to.", "clarification"),
    ("Walk and Talk", "Walk and Talk peer support", "health", "People recovering from depression walk together each week with a trained peer leader.", "Clinical governance for commissioned services", "", "Integrated care board", "procurement_and_commissioning", "The care board can only refer people to groups that have a clinical governance lead, which a peer group cannot afford.", "waiver"),
    ("Time Bank", "Neighbourhood time bank", "employment_and_welfare", "Neighbours trade hours of help; an hour given earns an hour back.", "Permitted work rules for benefit claimants", "Universal Credit Regulations 2013, regulation 52", "Department for Work and Pensions", "financial_rules_and_benefits", "Members on Universal Credit were told their hours may count as work and reduce their payments.", "clarification"),
    ("Residents' Committee", "Care home residents' committee", "social_care", "Residents of a care home share in running it, from menus to recruitment.", "Care home staff recruitment rules", "Regulated Activities Regulations 2014, regulation 19", "Care Quality Commission", "safeguarding_and_vetting", "Residents cannot sit on interview panels because they are not vetted as employees.", "clarification"),
    ("School Garden Club", "School council food garden", "education", "Pupils plan and run a food garden with parents at weekends.", "School site access policy", "", "Local authority education department", "health_and_safety", "Parents cannot come on site at weekends without a member of staff, and no member of staff is paid to be there.", "amendment"),
    ("Local Area Co-ordination", "Local Area Co-ordination network", "social_care", "Co-ordinators help people find support in their own neighbourhood.", "Information sharing between agencies", "UK GDPR Article 6", "County council", "data_protection_and_information_sharing", "The council will not share even a first name with the network without a data sharing agreement that takes a year to sign.", "clarification"),
    ("Tenants' Repair Cafe", "Tenant-run repair cafe", "housing", "Tenants repair each other's appliances once a month in a community room.", "Public liability insurance for volunteer repairs", "", "Housing association", "insurance_and_liability", "The housing association requires ten million pounds of cover, which no insurer will sell to a volunteer group.", "waiver"),
    ("Community Cinema", "Open-air community cinema", "culture_and_leisure", "Volunteers screen films in the park on summer evenings.", "Temporary event notice limits", "Licensing Act 2003, section 107", "Licensing authority", "licensing_and_permits", "Each screening needs its own notice and the yearly limit is reached by July.", "amendment"),
    ("Youth Skate Project", "Youth-led skate space", "community_safety", "Young people design and build a skate space on unused council land.", "Change of use planning permission", "Town and Country Planning Act 1990, section 57", "Planning authority", "planning_and_premises", "A full planning application costs more than the whole project and takes six months.", "waiver"),
    ("Mentoring Circle", "Ex-offender mentoring circle", "criminal_justice", "People who have left prison mentor those about to leave.", "Prison visitor vetting rules", "Prison Service Instruction 16/2011", "HM Prison and Probation Service", "safeguarding_and_vetting", "Anyone with a conviction is refused as a visitor, which excludes every mentor.", "amendment"),
    ("Community Orchard", "Community orchard", "environment", "Volunteers plant and tend fruit trees on council land.", "Tree planting on highway verges", "Highways Act 1980, section 96", "Highways authority", "other", "Trees on verges need a licence that is only issued to contractors.", "clarification"),
    ("Men's Shed", "Men's shed woodwork group", "health", "Older men meet to make and mend things with shared tools.", "Machinery safety rules for workshops", "Provision and Use of Work Equipment Regulations 1998", "Health and Safety Executive", "health_and_safety", "The landlord treats the shed as a workplace and asks for a qualified supervisor for every power tool.", "clarification"),
    ("Community Pantry", "Community pantry", "employment_and_welfare", "A membership food pantry run by the people who use it.", "Food hygiene rating scheme", "Food Hygiene Rating (Wales) Act 2013", "Local authority food team", "food_hygiene", "The pantry must be inspected as a shop before it may open, and inspections are booked a year ahead.", "waiver"),
    ("Family Hub Volunteers", "Parent volunteers at the family hub", "children_and_families", "Parents welcome new families and run the stay and play sessions.", "Enhanced DBS checks for volunteers", "Safeguarding Vulnerable Groups Act 2006", "Disclosure and Barring Service", "safeguarding_and_vetting", "Every volunteer needs an enhanced check even when staff are always in the room.", "clarification"),
    ("Supported Living Co-op", "Tenants' supported living co-operative", "housing", "Disabled tenants choose and employ their own support workers together.", "Direct payments pooling rules", "Care and Support (Direct Payments) Regulations 2014", "Adult social care", "financial_rules_and_benefits", "Direct payments cannot be pooled, so the tenants cannot employ one worker together.", "amendment"),
    ("Peer Recovery Network", "Peer-led recovery cafe", "health", "People in recovery from addiction run a cafe and drop-in.", "Commissioning framework for substance misuse services", "", "Public health team", "procurement_and_commissioning", "Only organisations with three years of audited accounts may bid for the grant.", "waiver"),
    ("Repair and Reuse Hub", "Repair and reuse hub", "environment", "Volunteers collect, repair and give away furniture.", "Waste carrier registration", "Environmental Protection Act 1990, section 34", "Environment Agency", "licensing_and_permits", "Collecting unwanted furniture counts as carrying waste and needs a registration the group cannot hold.", "clarification"),
    ("Street Games", "Street play sessions", "culture_and_leisure", "Residents close their street to traffic so children can play after school.", "Road closure orders", "Town Police Clauses Act 1847, section 21", "Highways authority", "licensing_and_permits", "Each closure needs a fresh order with six weeks' notice and a traffic management plan.", "amendment"),
    ("Community Energy", "Community solar roof", "environment", "Residents share the cost and the savings of solar panels on a community building.", "Connection rules for small generators", "Engineering Recommendation G99", "Distribution network operator", "other", "The connection application is priced for commercial generators.", "waiver"),
    ("Kinship Carers", "Kinship carers' support group", "children_and_families", "Grandparents raising grandchildren meet and support each other.", "Room hire rules for groups with children", "", "Local authority property services", "insurance_and_liability", "The council will only let rooms to groups with their own insurance and safeguarding policy.", "clarification"),
    ("Welcome Circle", "Refugee welcome circle", "community_safety", "Local families help refugee families settle in.", "Community sponsorship approval", "", "Home Office", "professional_standards_and_qualifications", "Approval needs a registered charity as lead sponsor, which the circle is not.", "amendment"),
    ("Befriending Network", "Telephone befriending network", "social_care", "Volunteers phone isolated older people every week.", "Consent for referrals", "Data Protection Act 2018", "Adult social care", "data_protection_and_information_sharing", "Referrals come only with consent forms the council's system cannot send.", "clarification"),
    ("Savings Club", "Savings club at the school gate", "employment_and_welfare", "Parents save small amounts together each week.", "Financial promotion rules", "Financial Services and Markets Act 2000, section 21", "Financial Conduct Authority", "financial_rules_and_benefits", "Encouraging others to save counts as a financial promotion.", "clarification"),
    ("Estate Gardeners", "Estate gardening group", "housing", "Tenants turn an estate's unused land into vegetable beds.", "Tenancy conditions on alterations", "", "Housing association", "planning_and_premises", "Any change to communal land needs the landlord's written consent, which takes months.", "waiver"),
    ("Homework Club", "Volunteer homework club", "education", "Retired teachers and students help children with homework in the library.", "Library room booking policy", "", "Library service", "planning_and_premises", "Rooms can only be booked by constituted groups with a bank account.", "clarification"),
    ("Youth Radio", "Youth community radio", "culture_and_leisure", "Young people make a weekly radio show for their area.", "Community radio licence conditions", "Community Radio Order 2004", "Ofcom", "licensing_and_permits", "A licence needs a company with directors over eighteen.", "amendment"),
    ("Recovery House", "Peer-run recovery house", "criminal_justice", "People leaving prison share a house run by those who did so before.", "Houses in multiple occupation licensing", "Housing Act 2004, Part 2", "Private sector housing team", "licensing_and_permits", "The house needs an HMO licence with fire doors the group cannot afford.", "waiver"),
    ("Dementia Cafe", "Dementia cafe", "health", "People living with dementia and their carers meet monthly in a church hall.", "Food safety training requirements", "Regulation (EC) No 852/2004, Annex II", "Environmental health", "food_hygiene", "Every volunteer serving tea must hold a level 2 certificate.", "clarification"),
    ("Care Co-operative", "Home care co-operative", "social_care", "Care workers and the people they support own a home care service together.", "Registration of home care providers", "Health and Social Care Act 2008, section 10", "Care Quality Commission", "professional_standards_and_qualifications", "The co-operative must name a registered manager with qualifications none of its members has yet.", "amendment"),
)
PLACES: dict[str, tuple[str, ...]] = {
    "north_east": ("Gateshead", "Sunderland", "Hartlepool", "Hexham", "Durham", "Byker"),
    "north_west": ("Stockport", "Wigan", "Toxteth", "Kendal", "Salford", "Blackburn", "Moss Side"),
    "yorkshire_and_the_humber": ("Hull", "Barnsley", "Harrogate", "Chapeltown", "Rotherham", "Whitby"),
    "east_midlands": ("Derby", "Lincoln", "Mansfield", "Loughborough", "Corby", "Skegness"),
    "west_midlands": ("Handsworth", "Stoke", "Walsall", "Hereford", "Dudley", "Coventry"),
    "east_of_england": ("Norwich", "Luton", "Ipswich", "Peterborough", "Harlow", "Cambridge"),
    "london": ("Hackney", "Lewisham", "Tower Hamlets", "Brixton", "Haringey", "Newham", "Camden", "Croydon", "Southwark", "Ealing"),
    "south_east": ("Brighton", "Hastings", "Reading", "Margate", "Slough", "Oxford"),
    "south_west": ("Bristol", "Plymouth", "Exeter", "Swindon", "Truro", "Stroud"),
    "wales": ("Cardiff", "Swansea", "Wrexham", "Merthyr Tydfil", "Aberystwyth", "Bangor"),
    "scotland": ("Glasgow", "Dundee", "Leith", "Inverness", "Paisley", "Aberdeen"),
    "northern_ireland": ("Belfast", "Derry", "Newry", "Omagh", "Lisburn"),
}
# Roughly where people live, London heavier still (more groups for its size).
REGION_WEIGHTS: dict[str, float] = {
    "north_east": 0.6, "north_west": 1.2, "yorkshire_and_the_humber": 1.0, "east_midlands": 0.8,
    "west_midlands": 1.0, "east_of_england": 0.9, "london": 2.6, "south_east": 1.4, "south_west": 0.9,
    "wales": 0.6, "scotland": 0.9, "northern_ireland": 0.45,
}
FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dafydd", "Ewa", "Farah", "Grace", "Hamza", "Isla", "Jamal", "Kirsty", "Liam",
    "Mei", "Niamh", "Oluwaseun", "Priya", "Rhys", "Siân", "Tomasz", "Uzma", "Vikram", "Wendy", "Yusuf", "Zara",
)
LAST_NAMES = (
    "Adeyemi", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Gallagher", "Hussain", "Iqbal", "Jones",
    "Kowalski", "Lewis", "MacDonald", "Nowak", "O'Neill", "Patel", "Quinn", "Roberts", "Singh", "Thomas",
    "Walker", "Williams", "Young", "Zhang",
)
REMEDY_DETAILS = (
    "A waiver for two years while our volunteers train.",
    "Written guidance we can show to the landlord and the insurer.",
    "A change to the rule so that it treats volunteer groups like small businesses.",
    "A named officer we can ask before each event.",
)
QUESTIONS = (
    "Can you tell us how many volunteers take part each week and what training they have?",
    "Has anyone from the issuing body told you in writing that the rule applies to you? Please attach it if so.",
    "How many people would the initiative reach in a year if the barrier were removed?",
    "Who owns the building you use, and have you asked them about this?",
    "What would it cost you to meet the rule as it stands?",
)
ANSWERS = (
    "Twelve volunteers take part each week; four have first aid training and two have food hygiene certificates.",
    "Yes, the letter from the council is attached. It says the rule applies to every group using the hall.",
    "About two hundred people a year, most of them families who use no other service.",
    "The housing association owns it. They told us they cannot change the rule themselves.",
    "Around four thousand pounds a year, which is more than our whole budget.",
)
UPHOLD_REASONS = (
    "The rule was applied more strictly than it needs to be for an initiative of this kind.",
    "The risk the rule guards against is already managed by the way the group works.",
    "The rule was written for commercial providers and the guidance did not consider volunteer groups.",
    "The council can use its discretion here, and the benefit to the community outweighs the small risk.",
)
NOT_UPHOLD_REASONS: dict[str, tuple[str, ...]] = {
    "no_regulatory_barrier_found": ("No regulation requires what the group was asked to do; the request came from a local policy we have now clarified.",),
    "regulation_necessary_and_proportionate": (
        "The rule protects children and applies to every provider in the same way; it is proportionate to the risk.",
        "The rule protects people who cannot protect themselves, and no lighter rule would do so.",
    ),
    "outside_council_powers": ("The rule is set nationally and the council has no power to waive or change it; we have told the national body.",),
    "insufficient_information": ("We could not establish how the rule blocks the initiative from the information given.",),
    "other": ("The initiative can go ahead under an existing exemption, so there is no barrier for us to remove.",),
}
DECLINE_EXPLANATIONS: dict[str, tuple[str, ...]] = {
    "out_of_scope": (
        "This is a national rule that the council cannot waive; we have passed your claim to the national body.",
        "Your claim is about a private contract, not a regulation, so the guarantee does not cover it.",
    ),
    "duplicate": ("Another claim about the same barrier is already being reviewed; we will tell you its outcome.",),
    "not_a_regulatory_barrier": ("The difficulty you describe is about funding, not a regulation, so we cannot review it under the guarantee.",),
}
GROUNDS = (
    "The decision did not consider that a qualified lead is always present.",
    "We sent evidence with our answer that the decision does not mention.",
    "Other councils have waived the same rule for groups like ours.",
    "The reasons say the rule protects children, but no children take part in our initiative.",
)
ALLOW_REASONS = (
    "The panel finds that the rule was applied disproportionately and that the first decision gave too little weight to the evidence.",
    "The panel finds that the first decision did not consider the group's safeguards.",
)
DISMISS_REASONS = (
    "The panel agrees with the original decision and finds no new evidence that would change it.",
    "The panel finds that the rule is necessary and was applied correctly.",
)
SUMMARIES: dict[str, tuple[str, ...]] = {
    "waiver_granted": ("The council granted a waiver for two years, reviewed each year.", "A waiver was granted for twelve months."),
    "guidance_clarified": ("The council published guidance that the rule does not apply to volunteer groups like this one.",),
    "regulation_amended": ("The council amended its policy so that groups of this kind are exempt.",),
    "referred_to_national_body": ("The council referred the rule to the national body with a recommendation to change it.",),
    "remedy_not_implemented": ("The council could not put the remedy in place within the time allowed; the group has been told why.",),
}
WITHDRAW_REASONS = (
    "We found another venue.",
    "The group has stopped meeting for now.",
    "The landlord changed their mind, so the barrier is gone.",
    "We no longer have the volunteers to run it.",
)
REOPEN_JUSTIFICATIONS = (
    "The group sent new evidence by post.",
    "The group phoned to say they never received our question.",
    "The claim was declined in error: it is not a duplicate.",
)
# The regulation catalogue by category: (title, legal reference, issuing body, the situations it
# has entries of its own for), the most claimed first.
CATALOGUE: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "health_and_safety": (
        ("Risk assessment for volunteer activities", "Management of Health and Safety at Work Regulations 1999, reg. 3", "Health and Safety Executive", ("community halls", "outdoor events", "children's activities", "workshops")),
        ("Work equipment safety", "Provision and Use of Work Equipment Regulations 1998", "Health and Safety Executive", ("power tools", "kitchens", "gardening")),
        ("School site access policy", "", "Local authority education department", ("weekends", "parents on site")),
        ("Fire safety in shared premises", "Regulatory Reform (Fire Safety) Order 2005", "Fire and rescue service", ("community halls", "shared houses", "places of worship")),
        ("First aid provision", "Health and Safety (First-Aid) Regulations 1981", "Health and Safety Executive", ("small groups", "events")),
        ("Legionella control in community buildings", "Approved Code of Practice L8", "Health and Safety Executive", ("showers", "community halls")),
        ("Lone working rules", "", "Local authority property services", ("home visits", "evening sessions")),
    ),
    "safeguarding_and_vetting": (
        ("Enhanced DBS checks for volunteers", "Safeguarding Vulnerable Groups Act 2006", "Disclosure and Barring Service", ("supervised volunteers", "family hubs", "occasional helpers", "peer supporters")),
        ("Care home staff recruitment rules", "Regulated Activities Regulations 2014, reg. 19", "Care Quality Commission", ("resident panels", "volunteers")),
        ("Prison visitor vetting", "Prison Service Instruction 16/2011", "HM Prison and Probation Service", ("mentors with convictions", "peer groups")),
        ("Safeguarding policy for room hire", "", "Local authority property services", ("children's groups", "adult groups")),
        ("Supervision ratios for youth activities", "", "Local authority youth service", ("residential trips", "evening clubs", "sports sessions")),
    ),
    "insurance_and_liability": (
        ("Public liability insurance for community groups", "", "Local authority property services", ("room hire", "events on council land", "volunteer repairs")),
        ("Employer's liability insurance", "Employers' Liability (Compulsory Insurance) Act 1969", "Health and Safety Executive", ("volunteers treated as employees", "small co-operatives")),
        ("Indemnity for tenants' activities", "", "Housing association", ("communal rooms", "repairs")),
        ("Hirer's indemnity for school premises", "", "Local authority education department", ("weekend use", "holiday clubs")),
        ("Motor insurance for volunteer drivers", "Road Traffic Act 1988, s. 143", "Insurers", ("community transport", "hospital runs")),
    ),
    "licensing_and_permits": (
        ("Temporary event notice limits", "Licensing Act 2003, s. 107", "Licensing authority", ("film screenings", "fundraising events", "music")),
        ("Road closure orders", "Town Police Clauses Act 1847, s. 21", "Highways authority", ("play streets", "street parties")),
        ("Waste carrier registration", "Environmental Protection Act 1990, s. 34", "Environment Agency", ("furniture reuse", "repair cafes")),
        ("HMO licensing", "Housing Act 2004, Part 2", "Private sector housing team", ("recovery houses", "shared housing")),
        ("Community radio licence conditions", "Community Radio Order 2004", "Ofcom", ("youth stations", "hospital radio")),
        ("Street trading consent", "Local Government (Miscellaneous Provisions) Act 1982, Sch. 4", "Licensing authority", ("community stalls", "markets")),
        ("Permits for community transport", "Transport Act 1985, s. 19", "Traffic commissioner", ("minibuses", "dial-a-ride")),
    ),
    "data_protection_and_information_sharing": (
        ("Information sharing between agencies", "UK GDPR Article 6", "County council", ("referrals", "community networks", "safeguarding concerns")),
        ("Consent for referrals", "Data Protection Act 2018", "Adult social care", ("telephone befriending", "social prescribing")),
        ("Data sharing agreements with volunteers", "", "Integrated care board", ("peer support", "care navigation")),
        ("Photography and consent at events", "UK GDPR Article 9", "County council", ("children", "social media")),
    ),
    "procurement_and_commissioning": (
        ("Clinical governance for commissioned services", "", "Integrated care board", ("peer support", "walking groups", "mental health")),
        ("Grant eligibility: audited accounts", "", "Public health team", ("recovery cafes", "small grants")),
        ("Preferred supplier lists", "Public Contracts Regulations 2015", "Council procurement team", ("community catering", "youth work")),
        ("Social value weighting", "Public Services (Social Value) Act 2012", "Council procurement team", ("co-operatives", "community interest companies")),
        ("Minimum contract values", "", "Council procurement team", ("small grants", "spot purchasing")),
        ("Payment in arrears", "", "Council finance team", ("small groups", "start-up costs")),
    ),
    "planning_and_premises": (
        ("Change of use planning permission", "Town and Country Planning Act 1990, s. 57", "Planning authority", ("skate spaces", "community gardens", "temporary uses")),
        ("Tenancy conditions on alterations", "", "Housing association", ("communal land", "community rooms")),
        ("Library room booking policy", "", "Library service", ("unconstituted groups", "regular bookings")),
        ("Asset transfer rules", "Localism Act 2011, Part 5", "Council property services", ("community buildings", "open spaces")),
        ("Building regulations for community kitchens", "Building Regulations 2010", "Building control", ("extraction", "accessible toilets")),
        ("Lease terms for council buildings", "", "Council property services", ("short leases", "peppercorn rents")),
    ),
    "financial_rules_and_benefits": (
        ("Permitted work rules for benefit claimants", "Universal Credit Regulations 2013, reg. 52", "Department for Work and Pensions", ("time banks", "volunteering", "expenses")),
        ("Direct payments pooling", "Care and Support (Direct Payments) Regulations 2014", "Adult social care", ("supported living", "shared support workers")),
        ("Financial promotion rules", "Financial Services and Markets Act 2000, s. 21", "Financial Conduct Authority", ("savings clubs", "community shares")),
        ("Volunteer expenses and benefits", "", "Department for Work and Pensions", ("travel expenses", "meals")),
        ("Gift aid on volunteer-run events", "Income Tax Act 2007, Part 8", "HM Revenue and Customs", ("raffles", "membership fees")),
        ("Charitable status for small groups", "Charities Act 2011", "Charity Commission", ("unincorporated groups", "income threshold")),
    ),
    "professional_standards_and_qualifications": (
        ("Early years staffing ratios", "EYFS statutory framework 3.30", "Ofsted", ("parent rotas", "qualified leads", "holiday clubs")),
        ("Registration of home care providers", "Health and Social Care Act 2008, s. 10", "Care Quality Commission", ("co-operatives", "registered managers")),
        ("Community sponsorship approval", "", "Home Office", ("lead sponsors", "welcome circles")),
        ("Youth work qualifications", "", "Local authority youth service", ("peer-led sessions", "detached youth work")),
        ("Food handler supervision", "", "Environmental health", ("community cafes", "lunch clubs")),
        ("Peer support worker accreditation", "", "NHS trust", ("mental health", "recovery")),
    ),
    "food_hygiene": (
        ("Food premises registration", "Regulation (EC) No 852/2004, Article 6", "District council environmental health", ("community halls", "home kitchens", "occasional events")),
        ("Food hygiene rating scheme", "Food Hygiene Rating (Wales) Act 2013", "Local authority food team", ("community pantries", "cafes")),
        ("Food safety training requirements", "Regulation (EC) No 852/2004, Annex II", "Environmental health", ("tea and cake", "volunteer cooks")),
        ("Allergen labelling", "Food Information Regulations 2014", "Food Standards Agency", ("prepacked for direct sale", "bake sales")),
        ("Home cooking for community meals", "", "Environmental health", ("shared meals", "lunch clubs")),
    ),
    "other": (
        ("Tree planting on highway verges", "Highways Act 1980, s. 96", "Highways authority", ("orchards", "street trees")),
        ("Connection rules for small generators", "Engineering Recommendation G99", "Distribution network operator", ("community solar", "heat pumps")),
        ("Use of parks for regular activities", "", "Parks service", ("play sessions", "exercise groups", "growing")),
        ("Noise limits for outdoor events", "Environmental Protection Act 1990, s. 79", "Environmental health", ("music", "late events")),
        ("Dog control orders in parks", "Anti-social Behaviour, Crime and Policing Act 2014, s. 59", "Parks service", ("therapy dogs", "walking groups")),
    ),
}
# 4 admins, 10 triage officers, 20 reviewers and 6 appeal panel members; some hold two roles.
OFFICER_ROLES: tuple[tuple[str, ...], ...] = (
    ("admin",), ("admin",), ("admin", "reviewer"), ("admin", "appeal_panel"),
    *((("triage",),) * 8), ("reviewer", "triage"), ("reviewer", "triage"),
    *((("reviewer",),) * 18), ("appeal_panel", "reviewer"), ("appeal_panel", "reviewer"),
    *((("appeal_panel",),) * 6),
)
# fmt: on
# The remedy granted when a claim is upheld, for what the council later records having done.
REMEDY_FOR_OUTCOME = {
    "waiver_granted": "waiver",
    "guidance_clarified": "guidance_clarified",
    "regulation_amended": "regulation_amendment",
    "referred_to_national_body": "referral_to_national_body",
}

# --- the routes claims take through the workflow --------------------------------------------------

A, D, RI, PI, IL = "accept", "decline", "request_information", "provide_information", "information_lapsed"
U, NU, AP, WC = "uphold", "not_uphold", "appeal", "appeal_window_closed"
AA, DA, RR, W, RO = "allow_appeal", "dismiss_appeal", "record_resolution", "withdraw", "reopen"
_UPHELD_THEN_RESOLVED = ((65, (A, U, RR)), (25, (A, RI, PI, U, RR)), (10, (A, NU, AP, AA, RR)))
# For each (state, outcome) of STANDING: the routes that end there, with their relative weights.
WAYS: dict[tuple[str, str | None], tuple[tuple[int, tuple[str, ...]], ...]] = {
    ("submitted", None): ((1, ()),),
    ("under_review", None): (
        (70, (A,)),
        (22, (A, RI, PI)),
        (3, (A, RI, PI, RI, PI)),
        (3, (D, RO)),
        (2, (A, RI, IL, RO)),
    ),
    ("awaiting_information", None): ((85, (A, RI)), (15, (A, RI, PI, RI))),
    ("upheld", None): ((70, (A, U)), (22, (A, RI, PI, U)), (8, (A, NU, AP, AA))),
    ("not_upheld", None): ((75, (A, NU)), (25, (A, RI, PI, NU))),
    ("appealed", None): ((80, (A, NU, AP)), (20, (A, RI, PI, NU, AP))),
    **{("resolved", outcome): _UPHELD_THEN_RESOLVED for outcome in RESOLUTION_OUTCOMES},
    ("resolved", "not_upheld"): ((75, (A, NU, WC)), (25, (A, RI, PI, NU, WC))),
    ("resolved", "appeal_dismissed"): ((80, (A, NU, AP, DA)), (20, (A, RI, PI, NU, AP, DA))),
    ("closed", "declined"): ((1, (D,)),),
    ("withdrawn", "withdrawn"): ((25, (W,)), (35, (A, W)), (20, (A, RI, W)), (10, (A, NU, W)), (10, (A, NU, AP, W))),
    ("lapsed", "lapsed"): ((90, (A, RI, IL)), (10, (A, RI, PI, RI, IL))),
}
SWEPT_STATES = frozenset(source for _, source in SYSTEM_TRIGGERS)  # states the sweeper moves on


@dataclass(frozen=True)
class Step:
    trigger: str
    who: str  # the first of the workflow's fired_by: a role, "group" or "system"
    source: str


@dataclass(frozen=True)
class Route:
    """One way through the workflow, and the share of claims that take it."""

    state: str
    outcome: str | None
    steps: tuple[Step, ...]
    weight: float
    clocks: int  # clock rows it leaves
    texts: int  # timeline entries it leaves, leaving out the optional reason to withdraw
    withdraws: bool


def _routes() -> tuple[Route, ...]:
    """Every route of WAYS, checked against the workflow and weighted by the STANDING shares."""
    standing = {(state, outcome): share for state, outcome, share in STANDING}
    if set(standing) != set(WAYS):
        raise RuntimeError(f"the routes do not match the standing shares: {sorted(set(standing) ^ set(WAYS), key=str)}")
    made = []
    for (state, outcome), ways in WAYS.items():
        total = sum(w for w, _ in ways)
        for weight, triggers in ways:
            steps, at = [], INITIAL_STATE
            for trigger in triggers:
                transition = TRANSITIONS_BY_TRIGGER[trigger]
                if at not in transition.sources:
                    raise RuntimeError(f"{trigger} cannot follow {at} on the way to {state}")
                steps.append(Step(trigger, transition.fired_by[0], at))
                at = transition.dest
            if at != state:
                raise RuntimeError(f"the route {triggers} ends in {at}, not {state}")
            effects = [*CLOCKS_ON_SUBMISSION, *(e for t in triggers for e in TRANSITIONS_BY_TRIGGER[t].clocks)]
            # The data set's groups do not agree to publishing, so no summary is asked (asked_if).
            texts = sum(
                1
                for t in triggers
                for i in TRANSITIONS_BY_TRIGGER[t].inputs
                if i.kind == "text" and i.required and i.asked_if is None
            )
            share = standing[(state, outcome)] * weight / total
            clocks = len({e.clock for e in effects if e.action == "start"})
            made.append(Route(state, outcome, tuple(steps), share, clocks, texts, W in triggers))
    return tuple(made)


ROUTES = _routes()

# --- days, instants and working days ---------------------------------------------------------------

EPOCH = date(1970, 1, 1).toordinal()
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
OFFICE_OPENS, OFFICE_CLOSES = 8 * HOUR_US + 30 * MINUTE_US, 17 * HOUR_US + 30 * MINUTE_US  # UK time


class Times:
    """UK days (ordinals) and instants (microseconds since the epoch, UTC), and their text."""

    def __init__(self, first: int, last: int) -> None:
        noon = datetime.min.time().replace(hour=12)
        self.offset = {}  # UK day -> offset from UTC (microseconds), for times after 02:00
        for day in range(first, last + 1):
            offset = datetime.combine(date.fromordinal(day), noon, tzinfo=UK).utcoffset()
            self.offset[day] = int(offset.total_seconds()) * 1_000_000 if offset else 0
        self.iso = {day: date.fromordinal(day).isoformat() for day in range(first, last + 1)}  # day -> its text
        self.json = {day: f'"{text}"' for day, text in self.iso.items()} | {None: "null"}  # as a JSON value
        self._utc = {day - EPOCH: text for day, text in self.iso.items()}  # by days since the epoch

    def instant(self, day: int, of_day: int) -> int:
        """The instant of a UK day and a time of day (local microseconds after midnight, after 02:00)."""
        return (day - EPOCH) * DAY_US + of_day - self.offset[day]

    def iso_day(self, day: int) -> str:
        return self.iso[day]

    def parts(self, instant: int) -> tuple[str, str]:
        """(UTC date, UTC time with microseconds) of an instant."""
        seconds, micro = divmod(instant, 1_000_000)
        day, of_day = divmod(seconds, 86_400)
        clock = "%02d:%02d:%02d.%06d" % (of_day // 3600, of_day // 60 % 60, of_day % 60, micro)  # noqa: UP031 (fastest)
        return self._utc[day], clock


class Calendar:
    """The working days of one nation, for arithmetic that gives exactly what
    ``guarantee.services.calendar`` gives (due days, holidays skipped, weekend days), fast."""

    def __init__(self, nation: str, first: int, last: int, times: Times) -> None:
        self.nation, self.first, self.times = nation, first, times
        self.cumulative: list[int] = []  # working days in (first, day]
        self.weekends: list[int] = []  # weekend days in (first, day]
        self.working: list[int] = []  # the working days after first
        self.holidays: list[int] = []  # bank holidays on weekdays after first
        self.names: dict[int, str] = {}
        counted = weekend = 0
        for day in range(first, last + 1):
            on = date.fromordinal(day)
            name = bank_holiday(on, nation)
            if day == first:
                pass  # counting starts the day after, as add_working_days counts
            elif on.weekday() >= 5:
                weekend += 1
            elif name is not None:
                self.holidays.append(day)
                self.names[day] = name
            else:
                counted += 1
                self.working.append(day)
            self.cumulative.append(counted)
            self.weekends.append(weekend)
        self._stretches: dict[tuple[int, int], tuple[int, str]] = {}

    def add(self, start: int, days: int) -> tuple[int, str]:
        """The day ``days`` working days after ``start``, and that stretch as a clock keeps it (JSON)."""
        found = self._stretches.get((start, days))
        if found is None:
            due = self.working[self.cumulative[start - self.first] + days - 1] if days else start
            skipped = self.holidays[bisect.bisect_right(self.holidays, start) : bisect.bisect_right(self.holidays, due)]
            iso = self.times.iso_day
            stretch = {
                "start": iso(start),
                "working_days": days,
                "due": iso(due),
                "nation": self.nation,
                "holidays_skipped": [{"date": iso(d), "name": self.names[d]} for d in skipped],
                "weekend_days_skipped": self.weekends[due - self.first] - self.weekends[start - self.first],
            }
            found = self._stretches[(start, days)] = (due, json.dumps(stretch))
        return found

    def between(self, after: int, until: int) -> int:
        """Working days after ``after`` up to and including ``until``."""
        if until <= after:
            return 0
        return self.cumulative[until - self.first] - self.cumulative[after - self.first]

    def after_working_days(self, day: int, days: int) -> int:
        """The working day ``days`` working days after ``day``; for 0, ``day`` or the next working day."""
        if days == 0:
            return self.working[bisect.bisect_left(self.working, day)]
        return self.working[self.cumulative[day - self.first] + days - 1]


# --- planning: when each claim was filed and each of its steps taken -------------------------------

PlannedClaim = tuple[tuple[int, ...], tuple[int, ...], int, int, bool]


@dataclass
class Plan:
    """The planned claims in the order they were filed, each (instants, UK days, route index,
    region index, whether a withdrawal says why), the first day and the claims of each year."""

    claims: list[PlannedClaim]
    first_day: int
    years: dict[int, tuple[int, int]]  # year -> (first claim id, claims)


class Planner:
    """Chooses each claim's route and region and the moment of each of its steps."""

    def __init__(self, now: datetime, seed: int, part: int = 0) -> None:
        self.rng = random.Random(f"plan:{seed}:{part}")  # noqa: S311 (test data, not secrets)
        self.now_us = int(now.timestamp() * 1_000_000) - 2 * MINUTE_US  # every step at least two minutes ago
        self.today = now.astimezone(UK).date().toordinal()
        self.window_start = self.today - WINDOW_DAYS
        first, last = self.window_start - 400, self.today + 400
        self.times = Times(first, last)
        calendars = {
            nation: Calendar(nation, first, last, self.times) for nation in sorted(set(map(nation_of, REGIONS)))
        }
        self.calendars = [calendars[nation_of(region)] for region in REGIONS]  # by region index
        self.route_cumulative = list(_cumulative([r.weight for r in ROUTES]))
        self.region_cumulative = list(_cumulative([REGION_WEIGHTS[r] for r in REGIONS]))

    def claims(self, count: int, *, routes: Sequence[int] = ()) -> list[PlannedClaim]:
        """A claim on each of ``routes``, then more up to ``count`` on routes drawn by their shares."""
        rng = self.rng
        chosen = [*routes, *(_pick_weighted(self.route_cumulative, rng) for _ in range(count - len(routes)))]
        return [self._one(index, _pick_weighted(self.region_cumulative, rng)) for index in chosen]

    def plan(self, count: int, *, routes: Sequence[int] = ()) -> Plan:
        return arrange(self.claims(count, routes=routes), self.today)

    def _one(self, index: int, region: int) -> PlannedClaim:
        """When the claim was filed and each step taken."""
        rng, route, calendar = self.rng, ROUTES[index], self.calendars[region]
        draws = [self._draw(step) for step in route.steps]
        filed_at = _group_time(rng)
        overdue = None
        if is_terminal(route.state):
            start = self._weekday_weighted(self.window_start, self.today)
        else:
            # Place the claim so that its running clock falls due where it should: mostly in the
            # coming weeks, sometimes overdue (by a night or two where the sweeper watches it).
            start = self.today - 300
            due, started = self._running_clock(
                route, calendar, self._simulate(route, calendar, start, filed_at, draws)[0]
            )
            overdue = rng.random() < OVERDUE_SHARE
            if overdue:
                late = rng.randint(1, 3) if route.state in SWEPT_STATES else 1 + min(int(rng.expovariate(1 / 12)), 120)
                target = self.today - late
            else:
                target = self.today + rng.randint(1, max(due - started, 1))
            start += target - due
        instant = self.times.instant
        for attempt in range(100):
            days, of_days = self._simulate(route, calendar, start, filed_at, draws)
            last = instant(days[-1], of_days[-1])
            if last > self.now_us:
                start -= 1 + (last - self.now_us) // DAY_US
                continue
            if overdue is not None and attempt < 20:
                # Officers act on working days only, which moves the due day on a little: move back.
                due = self._running_clock(route, calendar, days)[0]
                if (due < self.today) != overdue:
                    start += (target - due) or (-1 if overdue else 1)
                    continue
            instants = tuple(map(instant, days, of_days))
            return instants, tuple(days), index, region, rng.random() < 0.7
        raise RuntimeError("could not place a claim before now")

    def _draw(self, step: Step) -> tuple[int, int, int]:
        """(days, or working days, after the step before; time of day; a nudge when on the same day)."""
        rng, draw = self.rng, self.rng.random
        if step.who == "system":
            gap, when = (0 if draw() < 0.9 else 1 + (draw() < 0.5)), 3 * HOUR_US + int(draw() * 20 * MINUTE_US)
        elif step.who == "group":
            gap, when = 1 + min(int(rng.expovariate(_GROUP_RATES.get(step.trigger, 1 / 12))), 60), _group_time(rng)
        else:
            least, rate, most = _OFFICER_GAPS[step.trigger]
            gap, when = least + min(int(rng.expovariate(rate)), most), OFFICE_OPENS + int(draw() * 9 * HOUR_US)
        return gap, when, 2 * MINUTE_US + int(draw() * 88 * MINUTE_US)

    def _simulate(
        self, route: Route, calendar: Calendar, start: int, filed_at: int, draws: list[tuple[int, int, int]]
    ) -> tuple[list[int], list[int]]:
        """The days and times of day of the claim's steps if filed on ``start``: officers on working
        days, the sweeper the night after a clock ran out, the group within its deadlines."""
        days, of_days = [start], [filed_at]
        information_due = appeal_due = 0
        for step, (gap, drawn, nudge) in zip(route.steps, draws, strict=True):
            trigger, limit, when = step.trigger, None, drawn
            if step.who == "system":
                day = (information_due if trigger == IL else appeal_due) + 1 + gap
            elif step.who == "group":
                limit = (
                    information_due if step.source == "awaiting_information" else appeal_due if trigger == AP else None
                )
                day = min(days[-1] + gap, limit) if limit else days[-1] + gap
            else:
                day = calendar.after_working_days(days[-1], gap)
            if day == days[-1] and when <= of_days[-1]:  # later the same day, or the next (working) day
                when = of_days[-1] + nudge
                if step.who != "group" and when > OFFICE_CLOSES:
                    day, when = calendar.after_working_days(day, 1), drawn
                elif when >= DAY_US and limit == day:
                    when = of_days[-1] + (DAY_US - 1 - of_days[-1]) // 2
                elif when >= DAY_US:
                    day, when = day + 1, drawn
            days.append(day)
            of_days.append(when)
            if trigger == RI:
                information_due = calendar.add(day, DEFAULT_WORKING_DAYS["information"])[0]
            elif trigger == NU:
                appeal_due = calendar.add(day, DEFAULT_WORKING_DAYS["appeal_window"])[0]
        return days, of_days

    def _running_clock(self, route: Route, calendar: Calendar, days: list[int]) -> tuple[int, int]:
        """(due day, the day it last started or resumed) of the clock running at the end of the route."""
        clocks: dict[str, list[Any]] = {}  # name -> [status, due, days left, started]
        changes = [(days[0], CLOCKS_ON_SUBMISSION)]
        changes += [(d, TRANSITIONS_BY_TRIGGER[s.trigger].clocks) for d, s in zip(days[1:], route.steps, strict=True)]
        for day, effects in changes:
            for effect in effects:
                clock = clocks.get(effect.clock)
                if effect.action == "start":
                    clocks[effect.clock] = ["running", calendar.add(day, DEFAULT_WORKING_DAYS[effect.clock])[0], 0, day]
                elif clock is None:
                    continue
                elif effect.action == "pause" and clock[0] == "running":
                    late = day >= clock[1]  # workflows.LATE_PAUSE_RULE: it keeps its due day
                    clock[:3] = ["paused", clock[1] if late else 0, -1 if late else calendar.between(day, clock[1])]
                elif effect.action == "resume" and clock[0] == "paused":
                    due = clock[1] if clock[2] == -1 else calendar.add(day, clock[2])[0]
                    clock[:] = ["running", due, 0, day]
                elif effect.action == "stop":
                    clock[0] = "stopped"
        running = sorted((c for c in clocks.values() if c[0] == "running"), key=lambda c: c[1])
        return running[0][1], running[0][3]

    def _weekday_weighted(self, first: int, last: int) -> int:
        """A day from first to last; fewer claims are filed at weekends."""
        draw = self.rng.random
        while True:
            day = first + int(draw() * (last - first + 1))
            if (day - 1) % 7 < 5 or draw() < 0.4:  # day 1 of the proleptic calendar was a Monday
                return day


def arrange(planned: list[PlannedClaim], today: int) -> Plan:
    """The planned claims in the order they were filed, and how many each year gets."""
    planned.sort(key=lambda p: p[0][0])
    years: dict[int, tuple[int, int]] = {}
    for number, claim in enumerate(planned, start=1):
        year = date.fromordinal(claim[1][0]).year
        first, seen = years.get(year, (number, 0))
        years[year] = (first, seen + 1)
    for year, (_, seen) in years.items():
        if seen > MAX_PER_YEAR:
            raise ValueError(f"{seen:,} claims would be filed in {year}; references allow {MAX_PER_YEAR:,} a year")
    return Plan(planned, planned[0][1][0] if planned else today, years)


def _plan_part(job: tuple[datetime, int, int, int, Sequence[int]]) -> list[PlannedClaim]:
    now, seed, part, count, routes = job
    return Planner(now, seed, part).claims(count, routes=routes)


def _group_time(rng: random.Random) -> int:
    """When a group does something: mostly in the day, often in the evening."""
    roll = rng.random()
    hours = 7 + 2 * rng.random() if roll < 0.1 else 9 + 8 * rng.random() if roll < 0.65 else 17 + 6 * rng.random()
    return int(hours * HOUR_US)


# Days a group takes to act, on average; (least, 1 / average extra, most) working days an officer takes.
_GROUP_RATES = {PI: 1 / 6, AP: 1 / 8}
_OFFICER_GAPS = {
    A: (0, 1 / 2, 15),
    D: (0, 1 / 2, 15),
    RI: (1, 1 / 5, 18),
    U: (2, 1 / 9, 40),
    NU: (2, 1 / 9, 40),
    AA: (3, 1 / 8, 40),
    DA: (3, 1 / 8, 40),
    RR: (5, 1 / 18, 80),
    RO: (3, 1 / 12, 60),
}


def _cumulative(weights: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _pick_weighted(cumulative: list[float], rng: random.Random) -> int:
    return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


# --- making the rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What every maker of rows needs: the officers, the catalogue, the years of the plan, the
    seed, and how the database wants values written."""

    seed: int
    backend: str  # "postgresql" (COPY text) or "sqlite"
    now: datetime
    claims: int
    officers: dict[int, tuple[str, ...]]  # id -> roles
    regulations: dict[str, tuple[int, ...]]  # category -> ids, the most claimed first
    years: dict[int, tuple[int, int]]


def tracking_token(reference: str, seed: int = 7) -> str:
    """A generated claim's tracking token: 256 bits like the service's, but reproducible."""
    digest = hmac.new(f"guarantee benchmark {seed}".encode(), reference.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


_HOLE = re.compile(r'"@@(\d+)@@"')


def _holes(document: Any, canonical: bool) -> tuple[str, Callable[[Sequence[str]], tuple[str, ...]]]:
    """A template of ``document`` written as the service writes it (``canonical_json`` for the
    hash, ``json.dumps`` as the JSON column keeps it), whose "@@n@@" strings are holes for JSON
    values: the format, and what puts the values (numbered n) in the order the holes come."""
    written = canonical_json(document).decode() if canonical else json.dumps(document)
    if "%" in written:
        raise RuntimeError(f"a template cannot hold %: {written}")
    order = [int(n) for n in _HOLE.findall(written)]
    if not order:
        return written, lambda values: ()
    pick = operator.itemgetter(*order)
    return _HOLE.sub("%s", written), (lambda values: (pick(values),)) if len(order) == 1 else pick


@dataclass(frozen=True)
class _Shape:
    """How one kind of event is written: the stored payload and the hashed audit document, as
    templates with holes for the values (the payload's, then claim, time and actor)."""

    action: tuple[str, str | None, str]  # trigger, from state, to state
    actor_type: str
    stored: str
    document: str
    order: Callable[[Sequence[str]], tuple[str, ...]]
    holes: int


def _shape(
    action: tuple[str, str | None, str], actor_type: str, seq: int, payload: dict[str, Any], holes: int
) -> _Shape:
    """The templates of one kind of event; ``action`` is (trigger, from state, to state)."""
    trigger, from_state, to_state = action
    mark = [f"@@{n}@@" for n in range(holes + 3)]
    document = {
        "claim": mark[holes],
        "seq": seq,
        "occurred_at": mark[holes + 1],
        "actor_type": actor_type,
        "actor_id": mark[holes + 2],
        "action": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "payload": payload,
    }
    stored, _ = _holes(payload, canonical=False)
    written, order = _holes(document, canonical=True)
    return _Shape(action, actor_type, stored, written, order, holes)


def _payload_holes(
    sections: Sequence[tuple[str, Sequence[str]]], clocks: Sequence[tuple[str, str]], start: int = 0
) -> tuple[dict[str, Any], int]:
    """A payload whose named values and clock due days are holes, numbered in the order stored."""
    payload: dict[str, Any] = {}
    n = start
    for section, names in sections:
        payload[section] = {}
        for name in names:
            payload[section][name] = f"@@{n}@@"
            n += 1
    payload["clocks"] = []
    for clock, action in clocks:
        payload["clocks"].append({"clock": clock, "action": action, "due_on": f"@@{n}@@"})
        n += 1
    return payload, n


@dataclass
class Chunk:
    """The rows of a run of claims, per table, and what the manifest keeps of them."""

    rows: dict[str, Any]
    ids: list[int]  # the last event, clock and timeline entry ids used
    claims: int = 0
    events: int = 0
    states: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)


class Builder:
    """Makes the rows of planned claims exactly as the services write them."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        planner = Planner(setting.now, setting.seed)
        self.times, self.calendars = planner.times, planner.calendars
        postgresql = setting.backend == "postgresql"
        self.null: str | None = "\\N" if postgresql else None
        self.true, self.false = ("t", "f") if postgresql else ("1", "0")
        self.zone = "+00" if postgresql else ""
        self.quoted: dict[str, str] = {}  # text -> its SHA-256, as a JSON string
        self.shapes: dict[tuple[Any, ...], _Shape] = {}
        self.token_key = hmac.new(f"guarantee benchmark {setting.seed}".encode(), digestmod=hashlib.sha256)
        self.by_role = {
            role: tuple(sorted(i for i, roles in setting.officers.items() if role in roles))
            for role in ("triage", "reviewer", "appeal_panel", "admin")
        }
        self.regulations = {
            category: (ids, list(_cumulative([1 / (k + 1) ** 1.1 for k in range(len(ids))])))
            for category, ids in setting.regulations.items()
        }
        self.first_ids = sorted((first, year) for year, (first, _) in setting.years.items())
        self.sample_every = max(1, setting.claims // 1000)

    def digest(self, value: str) -> str:
        """The SHA-256 of a text, as a JSON string."""
        found = self.quoted.get(value)
        if found is None:
            found = self.quoted[value] = f'"{text_digest(value)}"'
        return found

    def reference(self, claim_id: int) -> str:
        first, year = self.first_ids[bisect.bisect_right(self.first_ids, (claim_id, 10**6)) - 1]
        return f"CPG-{year}-{claim_id - first + 1:06d}"

    def token(self, reference: str) -> str:
        mac = self.token_key.copy()
        mac.update(reference.encode())
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def chunk(self, index: int, first_id: int, ids: tuple[int, int, int], plans: list[PlannedClaim]) -> Chunk:
        """The rows of ``plans``, the claims numbered from ``first_id`` and their events, clocks
        and timeline entries after ``ids``."""
        rng = random.Random(f"rows:{self.setting.seed}:{index}")  # noqa: S311 (test data)
        collecting = gc.isenabled()
        gc.disable()  # millions of small tuples and no cycles: the collector would only slow this down
        rows: dict[str, list[Any]] = {t: [] for t in TABLES}
        made = Chunk(rows, list(ids))
        for claim_id, plan in enumerate(plans, start=first_id):
            reference = self.reference(claim_id)
            state, version, events = self.claim(rng, claim_id, reference, plan, rows=rows, ids=made.ids)
            made.claims += 1
            made.events += events
            seen = made.states[state] = made.states.get(state, 0) + 1
            if claim_id % self.sample_every == 0 or seen <= 3:
                sample = {"reference": reference, "token": self.token(reference), "state": state, "version": version}
                made.samples.append(sample | {"regular": claim_id % self.sample_every == 0})
        if self.setting.backend == "postgresql":
            made.rows = {t: ("\n".join(map("\t".join, rs)) + "\n").encode() if rs else b"" for t, rs in rows.items()}
        if collecting:
            gc.enable()
        return made

    def claim(
        self,
        rng: random.Random,
        claim_id: int,
        reference: str,
        plan: PlannedClaim,
        *,
        rows: dict[str, Any],
        ids: list[int],
    ) -> tuple[str, int, int]:
        """Append one claim's rows to ``rows``: its state, version and number of events."""
        instants, days, route_index, region_index, gives_reason = plan
        route, calendar = ROUTES[route_index], self.calendars[region_index]
        zone, parts = self.zone, self.times.parts
        stamps = [(f"{day} {clock}{zone}", f'"{day}T{clock}+00:00"') for day, clock in map(parts, instants)]
        filed, written = self._filing(rng, REGIONS[region_index])
        claim: dict[str, Any] = dict(_UNSET, state=INITIAL_STATE, id=claim_id, reference=reference, route=route)
        claim["barrier_category"], claim["gives_reason"] = filed["barrier_category"], gives_reason
        clocks: dict[str, list[Any]] = {}
        events = self._EventWriter(self, claim_id, reference, rows["audit_events"], ids)
        changes, dues = self._clocks(clocks, CLOCKS_ON_SUBMISSION, days[0], calendar)
        events.add(self._submitted(filed, changes), stamps[0], None, [*self._submitted_values(filed), *dues])
        timeline, shapes, digest, number = rows["timeline_entries"], self.shapes, self.digest, str(claim_id)
        deciders: set[int] = set()
        for seq, step in enumerate(route.steps, start=2):
            trigger, who = step.trigger, step.who
            transition = TRANSITIONS_BY_TRIGGER[trigger]
            values, texts = self._inputs(rng, trigger, claim)
            actor = None if who in _NOT_OFFICERS else self._actor(rng, step, claim, deciders)
            if transition.is_decision and actor is not None:
                deciders.add(actor)
            from_state = claim["state"]
            self._apply(claim, trigger, values, seq - 1)
            changes, dues = self._clocks(clocks, transition.clocks, days[seq - 1], calendar)
            key = (trigger, from_state, claim["state"], seq, tuple(values), tuple(texts), changes)
            shape = shapes.get(key) or self._trigger_shape(key, who)
            given = [v[0] for v in values.values()]
            given += [digest(t) for t in texts.values()]
            given += dues
            actor_id = "sweeper" if who == "system" else None if actor is None else str(actor)
            events.add(shape, stamps[seq - 1], actor_id, given)
            for name, public in _TEXT_INPUTS[trigger]:
                if name in texts:
                    ids[2] += 1
                    timeline.append(
                        (str(ids[2]), number, str(seq), name, texts[name], self.true if public else self.false)
                    )
        self._claim_row(claim, written, stamps, clocks, out=rows["claims"])
        self._clock_rows(claim_id, clocks, rows["claim_clocks"], ids)
        null = self.null
        contact = (filed["contact_name"], f"group{claim_id}@example.org", filed["phone"] or null, null)
        rows["contacts"].append((number, number, *contact))
        token = token_hash(self.token(reference))
        # The filing token (the confirmation page's, the API's): it has no end.
        rows["tracking_tokens"].append((number, number, token, stamps[0][0], null, null))
        return claim["state"], len(instants), len(instants)

    class _EventWriter:
        """Writes a claim's audit events one by one, each hashed onto the one before as
        ``audit.event_hash`` does."""

        def __init__(self, builder: Builder, claim_id: int, reference: str, out: list[Any], ids: list[int]) -> None:
            self.null, self.claim, self.out, self.ids = builder.null, str(claim_id), out, ids
            self.reference = f'"{reference}"'
            self.seq, self.prev, self.state = 0, GENESIS_HASH, None

        def add(self, shape: _Shape, stamp: tuple[str, str], actor_id: str | None, values: list[str]) -> None:
            if len(values) != shape.holes:
                raise RuntimeError("an event's values do not fit its template")
            occurred_at, occurred_json = stamp
            stored = shape.stored % tuple(values)
            values += (self.reference, occurred_json, "null" if actor_id is None else f'"{actor_id}"')
            document = shape.document % shape.order(values)
            digest = hashlib.sha256((self.prev + document).encode()).hexdigest()
            self.seq += 1
            self.ids[0] += 1
            action, from_state, to_state = shape.action
            actor = self.null if actor_id is None else actor_id
            row = (str(self.ids[0]), self.claim, str(self.seq), occurred_at, shape.actor_type, actor, action)
            self.out.append(
                (*row, self.null if from_state is None else from_state, to_state, stored, self.prev, digest)
            )
            self.prev = digest

    def _filing(self, rng: random.Random, region: str) -> tuple[dict[str, Any], tuple[str | None, ...]]:
        """What the group wrote when it filed the claim, and as the claims table takes it."""
        draw = rng.random
        group, title, sector, description, regulation, regulation_reference, imposed_by, category, how, usual = (
            INITIATIVES[int(draw() * len(INITIATIVES))]
        )
        places = PLACES[region]
        remedy_sought = usual if draw() < 0.7 else REMEDIES_SOUGHT[int(draw() * len(REMEDIES_SOUGHT))]
        first, last = FIRST_NAMES[int(draw() * len(FIRST_NAMES))], LAST_NAMES[int(draw() * len(LAST_NAMES))]
        filed = {
            "group_name": f"{places[int(draw() * len(places))]} {group}",
            "initiative_title": title,
            "initiative_description": description,
            "sector": "other" if draw() < 0.06 else sector,
            "region": region,
            "people_involved": None if draw() < 0.1 else 3 + int(draw() * 248),
            "barrier_regulation": regulation,
            "barrier_regulation_reference": regulation_reference if regulation_reference and draw() < 0.6 else None,
            "barrier_imposed_by": imposed_by,
            "barrier_category": category,
            "barrier_how_it_blocks": how,
            "remedy_sought": remedy_sought,
            "remedy_details": REMEDY_DETAILS[int(draw() * 4)] if remedy_sought == "other" or draw() < 0.2 else None,
            "consent_contact": draw() < 0.85,
            "contact_name": f"{first} {last}",
            "phone": f"07700 900{int(draw() * 1000):03d}" if draw() < 0.6 else None,
        }
        null = self.null
        written = tuple(null if filed[k] is None else str(filed[k]) for k in COLUMNS["claims"][6:19])
        # Filed as the API files by default: without consent to publishing a decision statement,
        # and without a catalogue entry chosen on the form's similar rules step.
        return filed, (*written, self.true if filed["consent_contact"] else self.false, self.false, self.null)

    def _submitted(self, filed: dict[str, Any], changes: tuple[tuple[str, str], ...]) -> _Shape:
        """The shape of the claim's first event (``claims.submit_claim``): codes, hashes of what
        the group wrote, which contact details it gave, the clock started."""
        written = tuple(k for k in _WRITTEN if filed[k] is not None)
        key = ("submitted", written, filed["phone"] is not None, changes)
        shape = self.shapes.get(key)
        if shape is None:
            payload, holes = _payload_holes([("codes", _CODES), ("text_sha256", written)], changes)
            contact = ["contact_name", "email", "phone"] if filed["phone"] else ["contact_name", "email"]
            payload = {"codes": payload["codes"], "text_sha256": payload["text_sha256"], "contact_fields": contact}
            payload["clocks"] = _payload_holes([], changes, holes - len(changes))[0]["clocks"]
            shape = self.shapes[key] = _shape(("submitted", None, INITIAL_STATE), "group", 1, payload, holes)
        return shape

    def _submitted_values(self, filed: dict[str, Any]) -> list[str]:
        people = filed["people_involved"]
        codes = [_JSON_CODES[filed[k]] for k in _CODES[:4]]
        codes += ["true" if filed["consent_contact"] else "false", "null" if people is None else str(people)]
        return codes + [self.digest(filed[k]) for k in _WRITTEN if filed[k] is not None]

    def _trigger_shape(self, key: tuple[Any, ...], who: str) -> _Shape:
        trigger, from_state, to_state, seq, given, texts, changes = key
        payload, holes = _payload_holes([("input", given), ("text_sha256", texts)], changes)
        actor_type = who if who in ("group", "system") else "officer"
        shape = self.shapes[key] = _shape((trigger, from_state, to_state), actor_type, seq, payload, holes)
        return shape

    def _claim_row(
        self,
        claim: dict[str, Any],
        written: tuple[str | None, ...],
        stamps: list[tuple[str, str]],
        clocks: dict[str, Any],
        *,
        out: list[Any],
    ) -> None:
        null = self.null
        running = [c for c in clocks.values() if c[1] == "running"]
        running.sort(key=lambda c: c[4])
        due_clock, due_on = (running[0][0], self.times.iso[running[0][4]]) if running else (null, null)
        category, regulation, assignee, reason, remedy, duplicate, outcome = (
            null if claim[k] is None else str(claim[k]) for k in _SET_COLUMNS
        )
        decided, resolved = claim["decided_at"], claim["resolved_at"]
        out.append(
            (
                str(claim["id"]),
                claim["reference"],
                claim["state"],
                str(len(stamps)),  # each step is one UPDATE, so one more version
                stamps[0][0],
                stamps[-1][0],
                *written,
                category,
                regulation,
                assignee,
                due_clock,
                due_on,
                remedy,
                reason,
                duplicate,
                outcome,
                null if decided is None else stamps[decided][0],
                null if resolved is None else stamps[resolved][0],
                "en",  # written to in English, the default (the Welsh pages are measured by the cookie)
            )
        )

    def _clock_rows(self, claim_id: int, clocks: dict[str, list[Any]], out: list[Any], ids: list[int]) -> None:
        null, iso = self.null, self.times.iso
        for name, status, days, started, due, paused, left, stopped, stretches, late, lates in clocks.values():
            ids[1] += 1
            working = '{"stretches": [' + ", ".join(stretches) + "]"
            if late is not None:
                working += f', "late_pause": {late[0]}'
            if lates:
                working += ', "late_pauses": [' + ", ".join(lates) + "]"
            working += "}"
            if null is not None and "\\" in working:  # COPY's text format reads a backslash as an escape
                working = working.replace("\\", "\\\\")
            out.append(
                (
                    str(ids[1]),
                    str(claim_id),
                    name,
                    status,
                    str(days),
                    iso[started],
                    null if due is None else iso[due],
                    null if paused is None else iso[paused],
                    null if left is None else str(left),
                    null if stopped is None else iso[stopped],
                    working,
                )
            )

    def _clocks(
        self, clocks: dict[str, list[Any]], effects: Sequence[ClockEffect], day: int, calendar: Calendar
    ) -> tuple[tuple[tuple[str, str], ...], list[str]]:
        """Apply the workflow's clock effects as ``clocks.apply_effects`` does: the changes made,
        and each changed clock's due day as JSON. A clock is [name, status, working days,
        started, due, paused, days left, stopped, stretches, the late pause it is in (JSON) and
        the late pauses it had (JSON), as workflows.LATE_PAUSE_RULE has them]."""
        changes, dues, json_day = [], [], self.times.json
        for effect in effects:
            clock, action = clocks.get(effect.clock), effect.action
            if action == "start":
                days = DEFAULT_WORKING_DAYS[effect.clock]
                due, stretch = calendar.add(day, days)
                clock = clocks[effect.clock] = [
                    effect.clock,
                    "running",
                    days,
                    day,
                    due,
                    None,
                    None,
                    None,
                    [stretch],
                    None,
                    [],
                ]
            elif clock is None:
                continue
            elif action == "pause" and clock[1] == "running":
                if day >= clock[4]:  # asked once it was due: it keeps its due day, to come back to
                    clock[9] = (f'{{"paused_on": {json_day[day]}, "due": {json_day[clock[4]]}}}', clock[4])
                    clock[6] = 0
                else:
                    clock[6] = calendar.between(day, clock[4])
                clock[1], clock[5], clock[4] = "paused", day, None
            elif action == "resume" and clock[1] == "paused":
                if clock[9] is not None:
                    late, due = clock[9]
                    clock[10].append(late[:-1] + f', "resumed_on": {json_day[day]}}}')
                    clock[9] = None
                else:
                    due, stretch = calendar.add(day, clock[6] or 0)
                    clock[8].append(stretch)
                clock[1], clock[4], clock[5], clock[6] = "running", due, None, None
            elif action == "stop" and clock[1] in ("running", "paused"):
                clock[1], clock[7] = "stopped", day
            else:
                continue
            changes.append((effect.clock, action))
            dues.append(json_day[clock[4]])
        return tuple(changes), dues

    @staticmethod
    def _apply(claim: dict[str, Any], trigger: str, values: dict[str, tuple[str, Any]], event: int) -> None:
        """The claim's columns after the trigger, as ``claims._apply_values`` sets them (times
        are kept as the number of the event that set them)."""
        transition = TRANSITIONS_BY_TRIGGER[trigger]
        claim["state"] = transition.dest
        for name, (_, value) in values.items():
            claim[_SETS[name]] = value
        if transition.decided_at is not None:
            claim["decided_at"] = event if transition.decided_at == "stamp" else None
        if claim["state"] in TERMINAL_STATES:
            claim["outcome"] = values[transition.outcome_input][1] if transition.outcome_input else transition.outcome
            claim["resolved_at"] = event
        else:
            claim["outcome"] = claim["resolved_at"] = None

    def _inputs(
        self, rng: random.Random, trigger: str, claim: dict[str, Any]
    ) -> tuple[dict[str, tuple[str, Any]], dict[str, str]]:
        """The trigger's input, in the workflow's order: {name: (as JSON, as set on the claim)},
        and its texts."""
        draw = rng.random
        outcome = claim["route"].outcome
        if trigger == A:
            category = (
                claim["barrier_category"]
                if draw() < 0.85
                else BARRIER_CATEGORIES[int(draw() * len(BARRIER_CATEGORIES))]
            )
            ids, cumulative = self.regulations[category]
            regulation = ids[_pick_weighted(cumulative, rng)]
            values = {"category": (_JSON_CODES[category], category), "regulation": (str(regulation), regulation)}
            if draw() < 0.8:
                assignee = _choice(self.by_role["reviewer"], draw)
                values["assignee"] = (str(assignee), assignee)
            return values, {}
        if trigger == D:
            reason = _choice(DECLINE_REASONS, draw) if claim["id"] > 1 else "out_of_scope"
            values = {"reason_code": (_JSON_CODES[reason], reason)}
            if reason == "duplicate":  # of a claim filed a little earlier
                original = max(1, claim["id"] - 1 - int(draw() * 5000))
                values["duplicate_of"] = (f'"{self.reference(original)}"', original)
            return values, {"explanation": _choice(DECLINE_EXPLANATIONS[reason], draw)}
        if trigger in (U, AA):
            remedy = REMEDY_FOR_OUTCOME.get(outcome) or _choice(REMEDIES, draw)
            reasons = _choice(UPHOLD_REASONS if trigger == U else ALLOW_REASONS, draw)
            return {"remedy": (_JSON_CODES[remedy], remedy)}, {"reasons": reasons}
        if trigger == NU:
            reason = _choice(NOT_UPHELD_REASONS, draw)
            return {"reason_code": (_JSON_CODES[reason], reason)}, {
                "reasons": _choice(NOT_UPHOLD_REASONS[reason], draw)
            }
        if trigger == RR:
            return {"outcome": (_JSON_CODES[outcome], outcome)}, {"summary": _choice(SUMMARIES[outcome], draw)}
        if trigger == W:
            return {}, ({"reason": _choice(WITHDRAW_REASONS, draw)} if claim["gives_reason"] else {})
        if trigger in _TEXTS:
            name, choices = _TEXTS[trigger]
            return {}, {name: _choice(choices, draw)}
        return {}, {}  # the sweeper's triggers take no input

    def _actor(self, rng: random.Random, step: Step, claim: dict[str, Any], deciders: set[int]) -> int | None:
        """The officer who takes the step (None for the group and the sweeper)."""
        draw, by_role = rng.random, self.by_role
        if step.who == "triage":
            return int(_choice(by_role["admin"] if draw() < 0.03 else by_role["triage"], draw))
        if step.who == "reviewer":
            if step.trigger == RR and draw() < 0.05:
                return int(_choice(by_role["admin"], draw))
            assignee = claim["assignee_id"]
            return int(assignee if assignee and draw() < 0.9 else _choice(by_role["reviewer"], draw))
        if step.who == "appeal_panel":  # never anyone who made an earlier decision on the claim
            return int(_choice([i for i in by_role["appeal_panel"] if i not in deciders], draw))
        return int(_choice(by_role[step.who], draw))


_NOT_OFFICERS = ("group", "system")


def _choice(items: Sequence[Any], draw: Callable[[], float]) -> Any:
    return items[int(draw() * len(items))]


# What submit_claim hashes (free text) and keeps as codes, in its order; what each input sets.
_WRITTEN = COLUMNS["claims"][6:9] + COLUMNS["claims"][12:15] + ("barrier_how_it_blocks", "remedy_details")
_CODES = ("sector", "region", "barrier_category", "remedy_sought", "consent_contact", "people_involved")
_SETS = {
    "category": "category",
    "regulation": "regulation_id",
    "assignee": "assignee_id",
    "reason_code": "reason_code",
    "remedy": "remedy",
    "duplicate_of": "duplicate_of_id",
    "outcome": "outcome",
}
_SET_COLUMNS = ("category", "regulation_id", "assignee_id", "reason_code", "remedy", "duplicate_of_id", "outcome")
_UNSET = dict.fromkeys((*_SET_COLUMNS, "decided_at", "resolved_at"))
_TEXT_INPUTS = {t: [(i.name, i.public) for i in TRANSITIONS_BY_TRIGGER[t].inputs if i.kind == "text"] for t in TRIGGERS}
_TEXTS = {
    RI: ("question", QUESTIONS),
    PI: ("answer", ANSWERS),
    AP: ("grounds", GROUNDS),
    DA: ("reasons", DISMISS_REASONS),
    RO: ("justification", REOPEN_JUSTIFICATIONS),
}
_JSON_CODES = {
    code: json.dumps(code)
    for codes in (
        SECTORS,
        REGIONS,
        BARRIER_CATEGORIES,
        REMEDIES_SOUGHT,
        REMEDIES,
        DECLINE_REASONS,
        NOT_UPHELD_REASONS,
        OUTCOMES,
    )
    for code in codes
}


def _plain_texts() -> None:
    """COPY's text format needs no escaping for any of the words above: keep it so."""
    words = [*FIRST_NAMES, *LAST_NAMES, *REMEDY_DETAILS, *QUESTIONS, *ANSWERS, *UPHOLD_REASONS, *GROUNDS]
    words += [*ALLOW_REASONS, *DISMISS_REASONS, *WITHDRAW_REASONS, *REOPEN_JUSTIFICATIONS]
    words += [
        w
        for group in (NOT_UPHOLD_REASONS, DECLINE_EXPLANATIONS, SUMMARIES, PLACES)
        for ws in group.values()
        for w in ws
    ]
    words += [w for initiative in INITIATIVES for w in initiative]
    for word in words:
        if any(c in word for c in "\\\t\n\r") or word != word.strip():
            raise RuntimeError(f"{word!r} would need escaping")


_plain_texts()
for _table, _columns in COLUMNS.items():
    if set(_columns) != set(Base.metadata.tables[_table].columns.keys()):
        raise RuntimeError(f"the columns of {_table} changed: make their rows here too")

_BUILDERS: dict[tuple[Any, ...], Builder] = {}  # in a worker process: one for each data set


def _build(job: tuple[Setting, Job]) -> Chunk:
    setting, (index, first_id, ids, plans) = job
    key = (setting.seed, setting.backend, setting.now, setting.claims)
    if key not in _BUILDERS:
        _BUILDERS.clear()
        _BUILDERS[key] = Builder(setting)
    return _BUILDERS[key].chunk(index, first_id, ids, plans)


# --- officers and the catalogue ----------------------------------------------------------------------


def catalogue_entries() -> list[tuple[str, str | None, str, str]]:
    """The regulation catalogue: (title, legal reference, issuing body, category), the most
    claimed first within each category."""
    entries = []
    for category, bases in CATALOGUE.items():
        for title, legal, body, situations in bases:
            entries.append((title, legal or None, body, category))
            entries += [(f"{title}: {situation}", legal or None, body, category) for situation in situations]
    return entries


def officer_accounts() -> list[dict[str, Any]]:
    """The generated officers, {"email", "name", "roles"}, in the order they are added."""
    accounts, seen = [], set()
    for n, roles in enumerate(OFFICER_ROLES):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
        local = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and (c.isalnum() or c == "."))
        while local in seen:
            local += str(n)
        seen.add(local)
        accounts.append({"email": f"{local}@council.example", "name": f"{first} {last}", "roles": sorted(roles)})
    return accounts


def _add_officers_and_catalogue(ctx: ServiceContext) -> tuple[dict[int, tuple[str, ...]], dict[str, tuple[int, ...]]]:
    """The officers, through the real service (the first admin added by an operator, the others by
    that admin), and the catalogue. Flushes only."""
    officers: dict[int, tuple[str, ...]] = {}
    first_admin = None
    for account in officer_accounts():
        officer = create_officer(
            ctx,
            email=account["email"],
            name=account["name"],
            roles=account["roles"],
            password=PASSWORD,
            added_by=first_admin,
        )
        officers[officer.id] = tuple(account["roles"])
        if first_admin is None and "admin" in account["roles"]:
            first_admin = officer.id
    regulations: dict[str, list[int]] = {}
    for title, legal, body, category in catalogue_entries():
        entry = Regulation(
            title=title, legal_reference=legal, issuing_body=body, category=category, created_at=ctx.now()
        )
        ctx.session.add(entry)
        ctx.session.flush()
        regulations.setdefault(category, []).append(entry.id)
    return officers, {category: tuple(ids) for category, ids in regulations.items()}


# --- writing the rows ---------------------------------------------------------------------------------

Job = tuple[int, int, tuple[int, int, int], list[PlannedClaim]]


def _jobs(plan: Plan) -> list[Job]:
    """The plan in chunks, each with the ids its events, clocks and timeline entries start after."""
    jobs, events, clocks, texts = [], 0, 0, 0
    for index, start in enumerate(range(0, len(plan.claims), CHUNK)):
        part = plan.claims[start : start + CHUNK]
        jobs.append((index, start + 1, (events, clocks, texts), part))
        for instants, _, route_index, _, gives_reason in part:
            route = ROUTES[route_index]
            events += len(instants)
            clocks += route.clocks
            texts += route.texts + (1 if route.withdraws and gives_reason else 0)
    return jobs


def _chunks(setting: Setting, jobs: list[Job], pool: Pool | None) -> Iterator[Chunk]:
    """The chunks' rows in order: made here, or by the worker processes while the caller writes.
    Each chunk's last ids must be where the next one starts, or the counts were wrong."""
    if pool is None:
        builder = Builder(setting)
        yield from _checked((builder.chunk(*job) for job in jobs), jobs)
    else:
        yield from _checked(pool.imap(_build, [(setting, job) for job in jobs]), jobs)


def _checked(chunks: Iterator[Chunk], jobs: list[Job]) -> Iterator[Chunk]:
    for chunk, following in zip(chunks, [*jobs[1:], None], strict=True):
        if following is not None and tuple(chunk.ids) != following[2]:
            raise RuntimeError(f"a chunk ended at ids {chunk.ids}, the next starts after {following[2]}")
        yield chunk


@dataclass
class Loaded:
    """What the manifest keeps of the rows written."""

    events: int = 0
    states: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, chunk: Chunk) -> None:
        """Count a chunk in; keep its regular samples, and a few more of each state while rare."""
        self.events += chunk.events
        for state, n in chunk.states.items():
            self.states[state] = self.states.get(state, 0) + n
        shown: dict[str, int] = {}
        for sample in self.samples:
            shown[sample["state"]] = shown.get(sample["state"], 0) + 1
        for sample in chunk.samples:
            regular = sample.pop("regular")
            if regular or shown.get(sample["state"], 0) < 20:
                self.samples.append(sample)
                shown[sample["state"]] = shown.get(sample["state"], 0) + 1


def _progress(done: int, claims: int, step: int, started: float) -> None:
    written(done, claims, step, started)


def _every_tenth(done: int, claims: int, step: int, started: float) -> None:
    """A progress line at each tenth of the claims written (for a log, or a pipe)."""
    if done * 10 // claims != (done - step) * 10 // claims:
        progress(f"  {done:,} claims written ({time.perf_counter() - started:.0f} s)")


class _Bar:
    """On a terminal: a bar of the claims written, with the rate and the time left."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, claims: int, step: int, started: float) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=claims,
                label="  writing the claims",
                file=sys.stdout,
                show_eta=True,
                show_pos=True,
                item_show_func=lambda shown: shown,
            )
            self.bar.__enter__()
        rate = done / max(time.perf_counter() - started, 1e-9)
        self.bar.update(step, f"{rate:,.0f} claims/s")
        if done >= claims:
            self.bar.__exit__(None, None, None)
            self.bar = None


# How the claims written so far are shown: a line at each tenth; the command line draws a bar
# instead when its output is a terminal.
written: Callable[[int, int, int, float], None] = _every_tenth


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE (c.conrelid = ANY(%(tables)s::regclass[]) AND c.contype IN ('p', 'u', 'f'))
   OR (c.confrelid = ANY(%(tables)s::regclass[]) AND c.contype = 'f')
"""
_INDEXES = """
SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(%(tables)s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""


def _load_postgresql(url: str, setting: Setting, plan: Plan, pool: Pool | None) -> Loaded:
    """COPY FREEZE into each table on a connection of its own; keys, indexes and foreign keys
    put back (and checked) once the tables are full; then sequences, counters and ANALYZE."""
    dsn = _psycopg_url(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        keys = conn.execute(_KEYS, {"tables": list(TABLES)}).fetchall()
        indexes = conn.execute(_INDEXES, {"tables": list(TABLES)}).fetchall()
        with conn.transaction():
            for table, name, _, _ in sorted(keys, key=lambda k: k[2] != "f"):  # foreign keys first
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
    try:
        loaded = _copy_all(dsn, setting, plan, pool)
    except BaseException:
        _restore(dsn, keys, indexes, strict=False)  # leave the database as it was, if it can be
        raise
    started = time.perf_counter()
    _restore(dsn, keys, indexes)
    progress(f"keys, indexes and foreign keys in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608 (constant names)
        for year, (_, count) in plan.years.items():
            conn.execute("INSERT INTO reference_counters (year, last) VALUES (%s, %s)", (year, count))
        conn.execute("ANALYZE")
    progress(f"sequences, reference counters and ANALYZE in {time.perf_counter() - started:.1f} s")
    return loaded


def _copy_all(dsn: str, setting: Setting, plan: Plan, pool: Pool | None) -> Loaded:
    """Stream every chunk's rows to the six COPY connections, one thread each."""
    loaded = Loaded()
    started = time.perf_counter()
    chunks = _chunks(setting, _jobs(plan), pool)
    first = next(chunks, None)
    feeds: dict[str, queue.Queue[bytes | None]] = {t: queue.Queue(maxsize=3) for t in TABLES}
    failures: list[BaseException] = []
    threads = [threading.Thread(target=_copy, args=(dsn, t, feeds[t], failures)) for t in TABLES]
    for thread in threads:
        thread.start()
    done = 0
    try:
        for chunk in _then(first, chunks):
            if failures:
                raise RuntimeError("writing the rows failed") from failures[0]
            for table in TABLES:
                feeds[table].put(chunk.rows[table])
            done += chunk.claims
            loaded.add(chunk)
            _progress(done, len(plan.claims), chunk.claims, started)
    finally:
        for table in TABLES:
            feeds[table].put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise RuntimeError("writing the rows failed") from failures[0]
    progress(f"rows written in {time.perf_counter() - started:.1f} s")
    return loaded


def _then(first: Chunk | None, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    if first is not None:
        yield first
    yield from rest


def _copy(dsn: str, table: str, feed: queue.Queue[bytes | None], failures: list[BaseException]) -> None:
    """One table's COPY, in the transaction that empties it, so that its rows go in frozen."""
    fed = False
    try:
        with psycopg.connect(dsn) as conn:
            # For the load only: no waiting for the disk at commit, and TRUNCATE let past the
            # audit table's append-only trigger (the table is empty: the database is fresh).
            conn.execute("SET synchronous_commit = off")
            conn.execute("SET session_replication_role = replica")
            conn.execute(f"TRUNCATE {table}")
            statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN WITH (FREEZE)"
            with conn.cursor() as cursor, cursor.copy(statement) as copy:
                while (data := feed.get()) is not None:
                    if data:
                        copy.write(data)
                fed = True
            conn.execute("SET session_replication_role = origin")
    except BaseException as exc:
        failures.append(exc)
        while not fed and feed.get() is not None:  # let the writer finish
            pass


def _restore(dsn: str, keys: list[Any], indexes: list[Any], *, strict: bool = True) -> None:
    """Primary keys, unique constraints and indexes (two connections at a time, the biggest table
    first), then the foreign keys, which PostgreSQL checks as it adds them. Not ``strict``: as
    many as can be, after a failure."""
    made = [(t, f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {how}') for t, name, kind, how in keys if kind != "f"]
    made += [(t, how) for _, t, how in indexes]
    made.sort(key=lambda m: TABLES.index(m[0]) if m[0] in TABLES else len(TABLES))
    made.sort(key=lambda m: m[0] != "audit_events")
    foreign = [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {how}' for t, name, kind, how in keys if kind == "f"]
    for batch in ([statement for _, statement in made], foreign):
        work: queue.Queue[str] = queue.Queue()
        for statement in batch:
            work.put(statement)
        failures: list[BaseException] = []
        runners = [threading.Thread(target=_run, args=(dsn, work, failures)) for _ in range(2)]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
        if failures and strict:
            raise RuntimeError("putting the keys back failed") from failures[0]


def _run(dsn: str, work: queue.Queue[str], failures: list[BaseException]) -> None:
    """Run statements from ``work`` until none is left, noting the ones that fail."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            while True:
                try:
                    statement = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    conn.execute(statement)  # built from the catalog's own definitions
                except psycopg.Error as exc:
                    failures.append(exc)
    except BaseException as exc:
        failures.append(exc)


def _load_sqlite(url: str, setting: Setting, plan: Plan, pool: Pool | None) -> Loaded:
    """Big executemany batches in one transaction, the journal off and no syncing during the load
    only, the indexes built once the tables are full."""
    path = make_url(url).database
    if not path or path == ":memory:":
        raise ValueError("give a SQLite database file")
    loaded = Loaded()
    started = time.perf_counter()
    chunks = _chunks(setting, _jobs(plan), pool)
    first = next(chunks, None)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        listed = ", ".join("?" for _ in TABLES)
        indexes = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({listed})",  # noqa: S608 (placeholders)
            TABLES,
        ).fetchall()
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        done = 0
        for chunk in _then(first, chunks):
            _insert(conn, chunk.rows)
            done += chunk.claims
            loaded.add(chunk)
            _progress(done, len(plan.claims), chunk.claims, started)
        for _, sql in indexes:
            conn.execute(sql)
        _count_references(conn, plan)
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA journal_mode = WAL")  # as the service keeps it
        conn.close()
    progress(f"rows written in {time.perf_counter() - started:.1f} s")
    return loaded


def _insert(conn: sqlite3.Connection, rows: dict[str, list[Any]]) -> None:
    for table in TABLES:
        columns = COLUMNS[table]
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",  # noqa: S608 (constants)
            rows[table],
        )


def _count_references(conn: sqlite3.Connection, plan: Plan) -> None:
    conn.executemany(
        "INSERT INTO reference_counters (year, last) VALUES (?, ?)",
        [(year, count) for year, (_, count) in plan.years.items()],
    )


# --- the real services as the template --------------------------------------------------------------

# Compared as the database holds them (as text), but for what is the claim's own: its ids, its
# reference, the hashes (the reference is hashed) and the random tracking token.
_NOT_COMPARED = {
    "claims": {"id", "reference"},
    "audit_events": {"id", "claim_id", "prev_hash", "hash"},
    "claim_clocks": {"id", "claim_id"},
    "timeline_entries": {"id", "claim_id"},
    "contacts": {"id", "claim_id"},
    "tracking_tokens": {"id", "claim_id", "token_hash"},
}


def _as_stored(session: Session, table: str, claim_id: int) -> list[tuple[Any, ...]]:
    """A claim's rows in one table, every column as the database's text."""
    model = Base.metadata.tables[table]
    key = model.c.id if table == "claims" else model.c.claim_id
    columns = [cast(c, Text).label(c.name) for c in model.c if c.name not in _NOT_COMPARED[table]]
    return [tuple(r) for r in session.execute(select(*columns).where(key == claim_id).order_by(model.c.id))]


def _submission(claim: Claim, contact: Contact) -> dict[str, Any]:
    """What the group sent, read back from a claim and its contact."""
    group: dict[str, Any] = {"name": claim.group_name, "contact_name": contact.contact_name, "email": contact.email}
    initiative: dict[str, Any] = {"title": claim.initiative_title, "description": claim.initiative_description}
    initiative |= {"sector": claim.sector, "region": claim.region}
    barrier: dict[str, Any] = {"regulation": claim.barrier_regulation, "imposed_by": claim.barrier_imposed_by}
    barrier |= {"category": claim.barrier_category, "how_it_blocks": claim.barrier_how_it_blocks}
    barrier["remedy_sought"] = claim.remedy_sought
    for section, name, value in (
        (group, "phone", contact.phone),
        (initiative, "people_involved", claim.people_involved),
        (barrier, "regulation_reference", claim.barrier_regulation_reference),
        (barrier, "remedy_details", claim.remedy_details),
    ):
        if value is not None:
            section[name] = value
    return {"group": group, "initiative": initiative, "barrier": barrier, "consent": {"contact": claim.consent_contact}}


def replay_differences(session: Session, reference: str) -> list[str]:
    """File the claim ``reference`` again through ``submit_claim`` and ``fire``, with the same
    input, by the same actors, at the same moments, and list every row in which what the
    services wrote differs from it (column by column, as stored). Flushes only: roll back after."""
    claim = session.scalar(select(Claim).where(Claim.reference == reference))
    contact = session.scalar(select(Contact).where(Contact.claim_id == (claim.id if claim else None)))
    if claim is None or contact is None:
        return [f"{reference}: there is no such claim"]
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq)))
    entries = list(session.scalars(select(TimelineEntry).where(TimelineEntry.claim_id == claim.id)))
    clock = FixedClock(events[0].occurred_at)
    ctx = ServiceContext(session, clock=clock)
    try:
        again = submit_claim(ctx, _submission(claim, contact)).reference
        for event in events[1:]:
            clock.set(event.occurred_at)
            actor: Actor
            if event.actor_type == "officer":
                actor = OfficerActor(int(event.actor_id or 0))
            elif event.actor_type == "group":
                actor = GroupActor(again)
            else:
                actor = SystemActor(event.actor_id or "sweeper")
            data = dict(event.payload["input"]) | {e.field: e.body for e in entries if e.seq == event.seq}
            fire(ctx, again, event.action, actor, data)
    except Exception as exc:  # a refusal is the difference to report
        return [f"{reference}: the services refused to replay it: {exc!r}"]
    session.flush()
    replayed = session.scalar(select(Claim.id).where(Claim.reference == again))
    assert replayed is not None
    differences = []
    for table in TABLES:
        generated, written = _as_stored(session, table, claim.id), _as_stored(session, table, replayed)
        if generated != written:
            differences.append(f"{reference} {table}: generated {generated}, but the services wrote {written}")
    return differences


def check_against_services(now: datetime, seed: int) -> int:
    """Make a claim on every route in a scratch SQLite database, replay each through the real
    services, and raise if a row differs or a chain does not verify. Returns the claims checked."""
    with tempfile.TemporaryDirectory(prefix="guarantee-dataset-") as folder:
        path = f"{folder}/scratch.sqlite3"
        engine = configure_engine(create_engine(f"sqlite:///{path}"))
        Base.metadata.create_all(engine)
        officers, regulations = _scratch_staff(engine, now)
        plan = Planner(now, seed).plan(len(ROUTES), routes=range(len(ROUTES)))
        setting = Setting(seed, "sqlite", now, len(plan.claims), officers, regulations, plan.years)
        chunk = Builder(setting).chunk(0, 1, (0, 0, 0), plan.claims)
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("BEGIN")
            _insert(conn, chunk.rows)
            _count_references(conn, plan)
            conn.execute("COMMIT")
        problems: list[str] = []
        with Session(engine) as session:
            for claim in list(session.scalars(select(Claim).order_by(Claim.id))):
                if len(problems) >= 5:
                    break
                events = session.scalars(
                    select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq)
                )
                problem = check_chain(claim, list(events))
                problems += [str(problem)] if problem else []
                problems += replay_differences(session, claim.reference)
            session.rollback()
        engine.dispose()
    if problems:
        listed = "\n".join(problems[:5])
        raise RuntimeError(f"generated claims differ from what the services write, such as:\n{listed}")
    return len(plan.claims)


def _scratch_staff(engine: Any, now: datetime) -> tuple[dict[int, tuple[str, ...]], dict[str, tuple[int, ...]]]:
    """The officers and catalogue of a generated database, in a scratch one (no password needed)."""
    officers: dict[int, tuple[str, ...]] = {}
    regulations: dict[str, list[int]] = {}
    with Session(engine) as session:
        for n, account in enumerate(officer_accounts(), start=1):
            roles = [OfficerRole(role=r) for r in account["roles"]]
            session.add(
                Officer(
                    id=n,
                    email=account["email"],
                    name=account["name"],
                    password_hash="-",  # noqa: S106 (never signs in)
                    session_nonce="-",
                    created_at=now,
                    role_rows=roles,
                )
            )
            officers[n] = tuple(account["roles"])
        for n, (title, legal, body, category) in enumerate(catalogue_entries(), start=1):
            session.add(
                Regulation(
                    id=n, title=title, legal_reference=legal, issuing_body=body, category=category, created_at=now
                )
            )
            regulations.setdefault(category, []).append(n)
        session.commit()
    return officers, {category: tuple(ids) for category, ids in regulations.items()}


# --- the data set ------------------------------------------------------------------------------------


@dataclass
class Manifest:
    """What a benchmark needs to know about a generated database."""

    database_url: str
    claims: int
    events: int
    seconds: float  # generation time
    first_day: date  # the earliest submission date (the statistics series start)
    officers: list[dict[str, Any]]  # {"email", "password", "roles": [...]} for every officer
    tracking: list[dict[str, Any]]  # sample claims across all states: {"reference", "token", "state", "version"}

    def to_json(self) -> str:
        document = asdict(self)
        document["first_day"] = self.first_day.isoformat()
        return json.dumps(document, indent=1)


# Progress lines go here; the command line prints them.
progress: Callable[[str], None] = lambda message: None  # noqa: E731


def generate(database_url: str, claims: int, *, seed: int = 7) -> Manifest:
    """Fill the fresh, empty database at ``database_url`` (it is migrated first) with officers, a
    regulation catalogue and ``claims`` claims in every state, as of now on the real clock."""
    if claims < 1:
        raise ValueError("generate at least one claim")
    started = time.perf_counter()
    now = datetime.now(UTC)
    # Two worker processes plan the claims and check them against the services while this one
    # migrates and adds the officers; then they make the rows while this one writes them.
    # Forking is quicker than starting afresh, but safe only while this process has no other thread.
    method = "fork" if threading.active_count() == 1 else "spawn"
    pool = multiprocessing.get_context(method).Pool(2) if claims >= IN_PROCESS_BELOW else None
    try:
        parts = max(1, min(8, claims // 50_000)) if pool else 1
        routes = range(len(ROUTES)) if claims >= len(ROUTES) else range(0)  # every route at least once
        jobs = [(now, seed, n, claims // parts + (n < claims % parts), routes if n == 0 else ()) for n in range(parts)]
        checking = pool.apply_async(check_against_services, (now, seed)) if pool else None
        planning = pool.map_async(_plan_part, jobs) if pool else None
        officers, regulations = _prepare(database_url, now)
        entries = sum(map(len, regulations.values()))
        progress(
            f"migrated; {len(officers)} officers, {entries} catalogue entries ({time.perf_counter() - started:.1f} s)"
        )
        checked = checking.get() if checking else check_against_services(now, seed)
        progress(
            f"{checked} claims, one on each route, are what the services write ({time.perf_counter() - started:.1f} s)"
        )
        parted = planning.get() if planning else [_plan_part(job) for job in jobs]
        plan = arrange([claim for part in parted for claim in part], now.astimezone(UK).date().toordinal())
        progress(f"{claims:,} claims planned ({time.perf_counter() - started:.1f} s)")
        backend = make_url(database_url).get_backend_name()
        setting = Setting(seed, backend, now, claims, officers, regulations, plan.years)
        loaded = (_load_postgresql if backend == "postgresql" else _load_sqlite)(database_url, setting, plan, pool)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    published = publish_statements(database_url)
    progress(f"{published:,} decision statements published ({time.perf_counter() - started:.1f} s)")
    seconds = time.perf_counter() - started
    here, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (
        f"CPU: this process {here.ru_utime + here.ru_stime:.0f} s, workers {workers.ru_utime + workers.ru_stime:.0f} s"
    )
    progress("claims by state: " + ", ".join(f"{state} {n:,}" for state, n in sorted(loaded.states.items())))
    progress(f"{claims:,} claims and {loaded.events:,} audit events in {seconds:.1f} s ({used})")
    return Manifest(
        database_url=database_url,
        claims=claims,
        events=loaded.events,
        seconds=round(seconds, 2),
        first_day=date.fromordinal(plan.first_day),
        officers=[{"email": a["email"], "password": PASSWORD, "roles": a["roles"]} for a in officer_accounts()],
        tracking=loaded.samples,
    )


STATEMENT_CHUNK = 10_000
STATEMENT_SUMMARY = (
    "The council found that the rule, as applied to this volunteer-run initiative, went further than the law "
    "requires, and agreed a remedy with the body that issued it."
)


def publish_statements(database_url: str) -> int:
    """A published decision statement for every claim decided on its merits (issue 20), written
    directly, as the four-eyes approval would have left it: the register's pages and API then
    read as many statements as a service of this size would publish. One in five groups did not
    agree to a summary."""
    engine = create_engine(database_url)
    decided = outcome_group_column()
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(
                    Claim.id,
                    Claim.regulation_id,
                    func.coalesce(Claim.category, Claim.barrier_category),
                    Claim.sector,
                    Claim.region,
                    Claim.submitted_at,
                    Claim.decided_at,
                    Claim.outcome,
                    Claim.remedy,
                    Claim.reason_code,
                    decided,
                )
                .where(decided.in_(DECIDED_GROUPS), Claim.decided_at.is_not(None))
                .order_by(Claim.decided_at, Claim.id)
            ).all()
            made = []
            for n, (
                claim_id,
                rule,
                category,
                sector,
                region,
                submitted,
                decided_at,
                outcome,
                remedy,
                reason,
                group,
            ) in enumerate(rows, start=1):
                upheld = group == "upheld"
                consent = n % 5 != 0
                made.append(
                    {
                        "number": f"DS-{decided_at.year}-{n:06d}"[:16],
                        "claim_id": claim_id,
                        "decision": "upheld"
                        if upheld
                        else ("appeal_dismissed" if outcome == "appeal_dismissed" else "not_upheld"),
                        "status": "published",
                        "summary": STATEMENT_SUMMARY if consent else None,
                        "drafted_at": decided_at,
                        "published_at": decided_at + timedelta(days=2),
                        "consent": consent,
                        "regulation_id": rule,
                        "category": category,
                        "sector": sector,
                        "region": region,
                        "decided_on": decided_at.astimezone(UK).date(),
                        "working_days": max(0, (decided_at - submitted).days * 5 // 7),
                        "remedy": remedy if upheld else None,
                        "reason_code": None if upheld else reason,
                        "resolution": outcome if upheld and outcome in RESOLUTION_OUTCOMES else None,
                    }
                )
            for start in range(0, len(made), STATEMENT_CHUNK):
                session.execute(insert(DecisionStatement), made[start : start + STATEMENT_CHUNK])
            session.commit()
            return len(made)
    finally:
        engine.dispose()


def _prepare(database_url: str, now: datetime) -> tuple[dict[int, tuple[str, ...]], dict[str, tuple[int, ...]]]:
    """Migrate the database, check that it is empty, and add the officers and the catalogue as
    they were before the first claim."""
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=database_url, TESTING=False)
    app = create_app(config)
    with app.app_context():
        upgrade()
        for table in ("claims", "officers", "regulations", "admin_events"):
            if db.session.scalar(text(f"SELECT COUNT(*) FROM {table}")):  # noqa: S608 (constant names)
                raise ValueError(f"the database is not empty ({table} has rows): give a fresh one")
        ctx = ServiceContext(db.session(), clock=FixedClock(now - timedelta(days=WINDOW_DAYS + 60)))
        made = _add_officers_and_catalogue(ctx)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return made


def main(argv: Sequence[str] | None = None) -> None:
    global progress, written  # noqa: PLW0603 (the command line shows progress)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, required=True)
    parser.add_argument("--database-url", required=True, help="a fresh, empty database (PostgreSQL or SQLite)")
    parser.add_argument("--manifest", type=Path, help="write the manifest (officers, sample tracking links) here")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    progress = lambda message: print(message, flush=True)  # noqa: E731
    if sys.stdout.isatty():
        written = _Bar()
    manifest = generate(options.database_url, options.claims, seed=options.seed)
    if options.manifest:
        options.manifest.write_text(manifest.to_json() + "\n")
        print(f"manifest written to {options.manifest}")


if __name__ == "__main__":
    main()
