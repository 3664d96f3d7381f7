"""Who may do what in the officers' console: every console action, tried by every role and by a
signed-out browser, with a valid CSRF token and valid input, so that only the role decides.

The tables under "the spec" are written by hand from DESIGN 1 and 4: the console is tested
against them, never against its own ``fired_by`` or role lists. Allowed, an action is done and
saved; refused, it is a 403 page that says who may, and it leaves no trace in the database;
signed out, the browser is sent to sign in and nothing changes. Then separation of duties: a
member of the appeal panel who decided a claim cannot decide its appeal, on the claim page or
through the API, while another member can.

Quick to run: one app and database per backend and worker (as in test_public), the officers
signed in for each role made once (argon2id is quick in every test: ``quick_password_hashing``);
each test makes the claims, catalogue entries and accounts it acts on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, or_, select
from werkzeug.test import TestResponse

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import (
    AdminEvent,
    AuditEvent,
    Base,
    Claim,
    Contact,
    DataRightsRequest,
    Officer,
    OfficerToken,
    OutboxMessage,
    Regulation,
    RemedyCheckIn,
    SavedFilter,
    SignInDomain,
    StatisticsRelease,
    TimelineEntry,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from guarantee.models.register import DecisionStatement
from guarantee.services import data_rights, publishing, saved_filters
from guarantee.services.actors import GroupActor, OfficerActor
from guarantee.services.casework import assign
from guarantee.services.claims import fire, submit_claim
from guarantee.services.evidence import add_evidence
from guarantee.services.officers import mail_settings, password_matches
from guarantee.services.two_step_secrets import keep_in_use
from guarantee.webhooks import delivery, endpoints, urls
from tests.api_support import CLAIMS, assert_problem, new_officer
from tests.api_support import sign_in as api_sign_in
from tests.conftest import START, Database
from tests.helpers import INPUTS, PASSWORD, VALID_SUBMISSION, Cast, submission, walk
from tests.support.remedies import open_follow_up
from tests.test_console import (
    SIGN_IN,
    Someone,
    action_path,
    claim_now,
    claim_path,
    confirm,
    is_check_page,
    location,
    offered,
    officer,
    post_action,
    set_active,
    signed_in,
)
from tests.test_public import csrf, fields, module_app, text_of
from workflows import TRANSITIONS
from workflows.vocabulary import ROLES

# --- the spec -------------------------------------------------------------------------------

SIGNED_OUT = "signed_out"
EVERY_ROLE = frozenset(ROLES)
# Those who deal with groups and the catalogue: not the appeal panel, which decides appeals
# on the written record.
CASEWORKERS = frozenset({"triage", "reviewer", "admin"})
ASSIGNERS = CASEWORKERS | {"team_leader"}  # team leaders share out the team's work
ADMINS = frozenset({"admin"})
LEADERS = frozenset({"admin", "team_leader"})  # who see the team's workload and share it out
APPROVERS = frozenset({"reviewer", "appeal_panel", "admin"})  # who approve decision statements


@dataclass(frozen=True)
class Step:
    """A workflow step an officer takes: the state we try it in, where it goes, who takes it."""

    source: str
    dest: str
    taken_by: frozenset[str]


# DESIGN 4: every step an officer takes, and who takes it (an admin may take any of them).
STEPS: dict[str, Step] = {
    "accept": Step("submitted", "under_review", frozenset({"triage", "admin"})),
    "decline": Step("submitted", "closed", frozenset({"triage", "admin"})),
    "request_information": Step("under_review", "awaiting_information", frozenset({"reviewer", "admin"})),
    "uphold": Step("under_review", "upheld", frozenset({"reviewer", "admin"})),
    "not_uphold": Step("under_review", "not_upheld", frozenset({"reviewer", "admin"})),
    "allow_appeal": Step("appealed", "upheld", frozenset({"appeal_panel", "admin"})),
    "dismiss_appeal": Step("appealed", "resolved", frozenset({"appeal_panel", "admin"})),
    "record_resolution": Step("upheld", "resolved", frozenset({"reviewer", "admin"})),
    "reopen": Step("closed", "under_review", ADMINS),
}

# Everything else in the console, and who may do it.
MAY: dict[str, frozenset[str]] = {
    # casework on claims
    "note": EVERY_ROLE,
    "contact": CASEWORKERS,
    "assignee": ASSIGNERS,
    "classification": CASEWORKERS,
    "bulk-assign": ASSIGNERS,
    "bulk-decline-duplicates": frozenset({"triage", "admin"}),  # each is a decline
    # the regulation catalogue
    "correct-entry": CASEWORKERS,
    "merge-entries": CASEWORKERS,
    # officer accounts
    "add-officer": ADMINS,
    "roles": ADMINS,
    "deactivate": ADMINS,
    "reactivate": ADMINS,
    "reset-password": ADMINS,
    "reset-two-step": ADMINS,
    "revoke-tokens": ADMINS,
    # pages
    "action-page": frozenset({"reviewer", "admin"}),  # uphold's, as its step is taken
    "queue": EVERY_ROLE,
    "queue-csv": EVERY_ROLE,
    "claim-page": EVERY_ROLE,
    "evidence": EVERY_ROLE,
    "catalogue": EVERY_ROLE,
    "catalogue-entry": EVERY_ROLE,
    "officers-page": ADMINS,
    "officer-account-page": ADMINS,
    "messages-page": ADMINS,
    "statistics-page": ADMINS,
    "remedy-follow-ups-page": ADMINS,
    "remedy-follow-up-page": ADMINS,
    # the outbox
    "message-try-again": ADMINS,
    # the groups' answers that a remedy is not in place
    "close-remedy-follow-up": ADMINS,
    # the statistics register
    "publish-statistics": ADMINS,
    # decision statements (issue 20): approved by the officers who decide claims, withdrawn by an admin
    "statements-page": APPROVERS,
    "statement-page": APPROVERS,
    "edit-statement": APPROVERS,
    "approve-statement": APPROVERS,
    "withdraw-statement": ADMINS,
    # the team's workload
    "team-page": LEADERS,
    "reassign-page": LEADERS,
    "reassign": LEADERS,
    # an officer's own saved filters and e-mail settings
    "save-filter": EVERY_ROLE,
    "delete-filter": EVERY_ROLE,
    "mail-settings-page": EVERY_ROLE,
    "change-mail-settings": EVERY_ROLE,
    # data rights (issue 21): those who may see a group's contact details (a copy of its data holds
    # them); only an admin erases
    "data-rights-page": CASEWORKERS,
    "data-rights-request-page": CASEWORKERS,
    "record-data-rights-page": CASEWORKERS,
    "record-data-rights": CASEWORKERS,
    "data-rights-copy": CASEWORKERS,
    "data-rights-erase": ADMINS,
    "erase-page": ADMINS,
    "erase": ADMINS,
    # single sign-on (issue 24): the e-mail domains whose staff may make an account by signing in
    "sign-in-domains-page": ADMINS,
    "allow-domain": ADMINS,
    "remove-domain": ADMINS,
    # signed webhooks (issue 24): the endpoints other systems are told of changes at
    "webhooks-page": ADMINS,
    "add-webhook-page": ADMINS,
    "webhook-page": ADMINS,
    "add-webhook": ADMINS,
    "turn-webhook-on": ADMINS,
    "remove-webhook": ADMINS,
}
CASEWORK = (
    "note",
    "contact",
    "assignee",
    "classification",
    "bulk-assign",
    "bulk-decline-duplicates",
    "message-try-again",
    "close-remedy-follow-up",
    "reassign",
    "record-data-rights",
    "data-rights-copy",
    "data-rights-erase",
    "erase",
)
OWN = ("save-filter", "delete-filter", "change-mail-settings")
CATALOGUE = ("correct-entry", "merge-entries")
STATEMENTS = ("edit-statement", "approve-statement", "withdraw-statement")
ACCOUNTS = ("add-officer", "roles", "deactivate", "reactivate", "reset-password", "reset-two-step", "revoke-tokens")
SIGN_IN_DOMAINS = ("allow-domain", "remove-domain")  # single sign-on (issue 24)
WEBHOOKS = ("add-webhook", "turn-webhook-on", "remove-webhook")  # signed webhooks (issue 24)
PAGES = tuple(
    name
    for name in MAY
    if name not in (*CASEWORK, *CATALOGUE, *ACCOUNTS, *OWN, *STATEMENTS, *SIGN_IN_DOMAINS, *WEBHOOKS)
)

# How the cast (never an officer signed in below) brings a claim to where a step is tried, so
# that nobody trying a step has decided the claim before.
PATHS: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "under_review": ("accept",),
    "upheld": ("accept", "uphold"),
    "appealed": ("accept", "not_uphold", "appeal"),
    "closed": ("decline",),
}

CONTACT_EMAIL: str = VALID_SUBMISSION["group"]["email"]
NOTE = "Phoned the council: the rota rule is local policy."
PDF = b"%PDF-1.4\n%%EOF\n"


# --- the app, the cast, and a browser per role ----------------------------------------------


@dataclass(frozen=True)
class Browser:
    """A browser signed in with one role (or signed out), and a CSRF token of its session."""

    role: str
    client: FlaskClient
    csrf_token: str
    who: Someone | None

    @property
    def officer_id(self) -> int:
        assert self.who is not None
        return self.who.id

    @property
    def audit_id(self) -> str:
        """The officer as the claims' audit trail names them."""
        return str(self.officer_id)


@dataclass(frozen=True)
class World:
    app: Flask
    cast: Cast  # officers who move claims to where a test needs them
    browsers: dict[str, Browser]


@pytest.fixture(scope="module")
def shared_world(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    app = module_app(database, folder)
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
    browsers = {role: _browser(app, *signed_in(app, role), role) for role in ROLES}
    browsers[SIGNED_OUT] = _browser(app, app.test_client(), None, SIGNED_OUT)
    yield World(app, cast, browsers)
    with app.app_context():
        db.engine.dispose()


def _browser(app: Flask, client: FlaskClient, who: Someone | None, role: str) -> Browser:
    return Browser(role, client, csrf(client.get(SIGN_IN).text), who)


@pytest.fixture
def world(shared_world: World) -> World:
    """The shared world, its clock back at conftest's START."""
    shared_world.app.extensions["guarantee.clock"].set(START)
    return shared_world


# --- what an action acts on, and what a refusal must leave as it was ------------------------


@dataclass(frozen=True)
class Target:
    claims: tuple[str, ...] = ()
    regulations: tuple[int, ...] = ()
    officers: tuple[int, ...] = ()
    email: str = ""  # of an officer to add
    attachment: int = 0
    message: int = 0  # an outbox message the sender gave up on
    follow_up: int = 0  # a remedy check-in answered "not in place", its follow-up open
    data_request: int = 0  # a group's data rights request, open
    statement: int = 0  # a decision statement (issue 20)
    webhook: int = 0  # a webhook endpoint (issue 24)
    url: str = ""  # a webhook endpoint's URL (issue 24)


def trace(app: Flask, target: Target) -> dict[str, Any]:
    """How many rows each table holds, and every row about the target's claims, catalogue
    entries, officers and webhook endpoint: whatever an action could have written."""
    with app.app_context():
        tables = Base.metadata.sorted_tables
        counts = db.session.execute(
            select(*(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables))
        ).one()
        found: dict[str, Any] = {"rows in each table": dict(counts._mapping)}
        claim_ids = select(Claim.id).where(Claim.reference.in_(target.claims))
        for table in tables:
            about = []
            if target.claims and table.name == "claims":
                about.append(table.c.reference.in_(target.claims))
            if target.claims and "claim_id" in table.c:
                about.append(table.c.claim_id.in_(claim_ids))
            for kind, ids in (("officer", target.officers), ("regulation", target.regulations)):
                if ids and table.name == f"{kind}s":
                    about.append(table.c.id.in_(ids))
                if ids and f"{kind}_id" in table.c:
                    about.append(table.c[f"{kind}_id"].in_(ids))
            if target.webhook and table.name == "webhook_endpoints":
                about.append(table.c.id.in_((target.webhook,)))
            if target.webhook and table.name.startswith("webhook_") and "endpoint_id" in table.c:
                about.append(table.c.endpoint_id.in_((target.webhook,)))
            if about:
                query = select(table).where(or_(*about)).order_by(*table.primary_key.columns)
                found[table.name] = [tuple(row) for row in db.session.execute(query)]
        return found


def last_event(app: Flask, reference: str) -> tuple[str, str | None]:
    """(action, officer id) of the newest event in the claim's audit trail."""
    with app.app_context():
        row = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .join(Claim, Claim.id == AuditEvent.claim_id)
            .where(Claim.reference == reference)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).one()
        return row.action, row.actor_id


def saved(app: Flask, model: type[Any], *where: Any) -> Any:
    """One row as saved, detached from the session."""
    with app.app_context():
        found = db.session.scalar(select(model).where(*where))
        assert found is not None
        db.session.expunge(found)
        return found


@dataclass(frozen=True)
class Account:
    roles: frozenset[str]
    active: bool
    must_change_password: bool
    password_hash: str
    tokens_revoked: tuple[bool, ...]
    two_step: bool


def account(app: Flask, officer_id: int) -> Account:
    with app.app_context():
        found = db.session.get(Officer, officer_id)
        assert found is not None
        tokens = db.session.scalars(select(OfficerToken).where(OfficerToken.officer_id == officer_id))
        revoked = tuple(t.revoked_at is not None for t in tokens)
        return Account(
            frozenset(found.roles),
            found.active,
            found.must_change_password,
            found.password_hash,
            revoked,
            found.totp_secret is not None,
        )


def admin_log(app: Flask, **about: int) -> list[tuple[str, int | None]]:
    """(action, by whom) of each event in the admin log about an officer or a catalogue entry."""
    with app.app_context():
        query = select(AdminEvent.action, AdminEvent.actor_id).filter_by(**about).order_by(AdminEvent.seq)
        return [(row.action, row.actor_id) for row in db.session.execute(query)]


def say(response: TestResponse) -> str:
    return f"{response.status_code} {response.headers.get('Location', '')} {text_of(response.text)[:300]}"


# --- making what the actions act on ---------------------------------------------------------


def claim_in(world: World, state: str) -> str:
    """A new claim, brought to ``state`` by the cast."""
    with world.app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission()).reference
        fired = walk(ctx, world.cast, reference, *PATHS[state])
        assert fired is None or fired.claim.state == state
    return reference


def claims_in(state: str, count: int = 1) -> Callable[[World], Target]:
    return lambda world: Target(claims=tuple(claim_in(world, state) for _ in range(count)))


def entries(app: Flask, *titles: str) -> tuple[int, ...]:
    """New catalogue entries."""
    with app.app_context(), unit_of_work() as ctx:
        made = [Regulation(title=t, category="food_hygiene", created_at=ctx.now()) for t in titles]
        ctx.session.add_all(made)
        ctx.session.flush()
        return tuple(r.id for r in made)


def answers(trigger: str) -> dict[str, str]:
    """helpers.INPUTS's valid input for the trigger, as its form on the claim page asks for it."""
    given: dict[str, str] = {}
    for name, value in INPUTS[trigger].items():
        if isinstance(value, dict):  # a new catalogue entry: "Add a new entry", and its title
            given[name], given[f"{name}_new"] = "", value["title"]
        else:
            given[name] = str(value)
    return given


def post(browser: Browser, path: str, **form: Any) -> TestResponse:
    return browser.client.post(path, data={"csrf_token": browser.csrf_token, **form})


# --- the actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempted:
    world: World
    browser: Browser
    target: Target
    response: TestResponse
    claims_before: dict[str, tuple[str, int, int]]

    @property
    def reference(self) -> str:
        (reference,) = self.target.claims
        return reference


@dataclass(frozen=True)
class Action:
    """How to make what the action acts on, try it, and tell that it was done and saved."""

    allowed: frozenset[str]
    prepare: Callable[[World], Target]
    attempt: Callable[[World, Browser, Target], TestResponse]
    done: Callable[[Attempted], None]
    done_status: int = 303


def take_step(world: World, browser: Browser, trigger: str, reference: str) -> TestResponse:
    """The step's form as its action page gives it; where the page is refused, the same answers
    with this session's CSRF token and the claim's current version. A decision is then confirmed
    on its check page, as a browser would."""
    shown = browser.client.get(action_path(reference, trigger))
    given = fields(shown.text) if shown.status_code == 200 else {}
    data = {
        f"{trigger}-csrf_token": given.get(f"{trigger}-csrf_token", browser.csrf_token),
        f"{trigger}-version": given.get(f"{trigger}-version") or str(claim_now(world.app, reference)[1]),
    }
    data |= {f"{trigger}-{name}": value for name, value in answers(trigger).items()}
    response = browser.client.post(action_path(reference, trigger), data=data)
    if is_check_page(response):
        return confirm(browser.client, reference, trigger, response.text)
    return response


def _step(trigger: str) -> Action:
    step = STEPS[trigger]

    def attempt(world: World, browser: Browser, target: Target) -> TestResponse:
        return take_step(world, browser, trigger, target.claims[0])

    def done(a: Attempted) -> None:
        _, version, events = a.claims_before[a.reference]
        assert location(a.response) == claim_path(a.reference)
        assert claim_now(a.world.app, a.reference) == (step.dest, version + 1, events + 1)
        assert last_event(a.world.app, a.reference) == (trigger, a.browser.audit_id)

    return Action(step.taken_by, claims_in(step.source), attempt, done)


def _noted(a: Attempted) -> None:
    state, version, events = a.claims_before[a.reference]
    assert location(a.response) == claim_path(a.reference)
    assert claim_now(a.world.app, a.reference) == (state, version + 1, events + 1)
    assert last_event(a.world.app, a.reference) == ("note_added", a.browser.audit_id)
    claim_id = select(Claim.id).where(Claim.reference == a.reference).scalar_subquery()
    entry = saved(a.world.app, TimelineEntry, TimelineEntry.claim_id == claim_id, TimelineEntry.field == "note")
    assert (entry.body, entry.public) == (NOTE, False), "an internal note, never shown to the group"


def _contact_shown(a: Attempted) -> None:
    state, _, events = a.claims_before[a.reference]
    assert CONTACT_EMAIL in text_of(a.response.text)
    state_now, _, events_now = claim_now(a.world.app, a.reference)
    assert (state_now, events_now) == (state, events + 1), "the view is audited and changes nothing else"
    assert last_event(a.world.app, a.reference) == ("contact_viewed", a.browser.audit_id)


def _change_assignee(world: World, browser: Browser, target: Target) -> TestResponse:
    (reference,) = target.claims
    version = claim_now(world.app, reference)[1]
    return post(
        browser, f"{claim_path(reference)}/assignee", assignee=str(world.cast.reviewer.officer_id), version=version
    )


def _assigned(a: Attempted) -> None:
    state, version, events = a.claims_before[a.reference]
    assert location(a.response) == claim_path(a.reference)
    assert claim_now(a.world.app, a.reference) == (state, version + 1, events + 1)
    assert saved(a.world.app, Claim, Claim.reference == a.reference).assignee_id == a.world.cast.reviewer.officer_id
    assert last_event(a.world.app, a.reference) == ("assigned", a.browser.audit_id)


def _classify(world: World, browser: Browser, target: Target) -> TestResponse:
    (reference,) = target.claims
    version = claim_now(world.app, reference)[1]
    form = {"csrf_token": browser.csrf_token, "version": version, "category": "licensing_and_permits"}
    return browser.client.post(
        f"{claim_path(reference)}/classification", data={f"classify-{name}": value for name, value in form.items()}
    )


def _classified(a: Attempted) -> None:
    state, version, events = a.claims_before[a.reference]
    assert location(a.response) == claim_path(a.reference)
    assert claim_now(a.world.app, a.reference) == (state, version + 1, events + 1)
    assert saved(a.world.app, Claim, Claim.reference == a.reference).category == "licensing_and_permits"
    assert last_event(a.world.app, a.reference) == ("classified", a.browser.audit_id)


def _from_the_queue(world: World, references: list[str]) -> dict[str, Any]:
    """The selected claims, each with the version the queue showed."""
    return {"reference": references} | {f"version-{r}": claim_now(world.app, r)[1] for r in references}


def _bulk_assign(world: World, browser: Browser, target: Target) -> TestResponse:
    selected = _from_the_queue(world, list(target.claims))
    assignee = str(world.cast.reviewer.officer_id)
    return post(browser, "/officer/bulk", action="assign", assignee=assignee, **selected)


def _all_assigned(a: Attempted) -> None:
    assert location(a.response) == "/officer"
    for reference in a.target.claims:
        claim = saved(a.world.app, Claim, Claim.reference == reference)
        assert claim.assignee_id == a.world.cast.reviewer.officer_id, reference
        assert last_event(a.world.app, reference) == ("assigned", a.browser.audit_id)


def _bulk_decline(world: World, browser: Browser, target: Target) -> TestResponse:
    original, *copies = target.claims
    explanation = "The same hall and rule as the first claim."
    selected = _from_the_queue(world, copies)
    return post(
        browser,
        "/officer/bulk",
        action="decline_duplicates",
        duplicate_of=original,
        explanation=explanation,
        **selected,
    )


def _all_declined(a: Attempted) -> None:
    original, *copies = a.target.claims
    assert location(a.response) == "/officer"
    kept = saved(a.world.app, Claim, Claim.reference == original)
    assert (kept.state, kept.version) == a.claims_before[original][:2]
    for reference in copies:
        declined = saved(a.world.app, Claim, Claim.reference == reference)
        assert (declined.state, declined.reason_code, declined.duplicate_of_id) == ("closed", "duplicate", kept.id)
        assert last_event(a.world.app, reference) == ("decline", a.browser.audit_id)


def _an_entry(world: World) -> Target:
    return Target(regulations=entries(world.app, "Food premises registration"))


CORRECTED = {
    "title": "Food business registration",
    "legal_reference": "Regulation (EC) No 852/2004",
    "issuing_body": "Food Standards Agency",
    "category": "licensing_and_permits",
}


def _correct(world: World, browser: Browser, target: Target) -> TestResponse:
    return post(browser, f"/officer/regulations/{target.regulations[0]}", **CORRECTED)


def _corrected(a: Attempted) -> None:
    (entry,) = a.target.regulations
    assert location(a.response) == f"/officer/regulations/{entry}"
    now = saved(a.world.app, Regulation, Regulation.id == entry)
    assert {name: getattr(now, name) for name in CORRECTED} == CORRECTED
    assert admin_log(a.world.app, regulation_id=entry) == [("regulation_corrected", a.browser.officer_id)]


def _duplicate_entries(world: World) -> Target:
    """A duplicate catalogue entry with a claim mapped to it, and the entry it duplicates."""
    duplicate, kept = entries(world.app, "Food premisses registration", "Food premises registration")
    reference = claim_in(world, "submitted")
    with world.app.app_context(), unit_of_work() as ctx:
        fire(ctx, reference, "accept", world.cast.triage, {"category": "food_hygiene", "regulation": duplicate})
    return Target(claims=(reference,), regulations=(duplicate, kept))


def _merge(world: World, browser: Browser, target: Target) -> TestResponse:
    duplicate, kept = target.regulations
    return post(browser, f"/officer/regulations/{duplicate}/merge", into=str(kept))


def _merged(a: Attempted) -> None:
    duplicate, kept = a.target.regulations
    assert location(a.response) == f"/officer/regulations/{kept}"
    assert saved(a.world.app, Regulation, Regulation.id == duplicate).merged_into_id == kept
    assert saved(a.world.app, Claim, Claim.reference == a.reference).regulation_id == kept
    assert last_event(a.world.app, a.reference) == ("regulation_merged", a.browser.audit_id)
    assert admin_log(a.world.app, regulation_id=duplicate) == [("regulation_merged", a.browser.officer_id)]


def _add_officer(world: World, browser: Browser, target: Target) -> TestResponse:
    return post(browser, "/officer/admin", name="Nia Newcomer", email=target.email, roles=["reviewer"])


def _temporary_password(response: TestResponse) -> str:
    shown = re.search(r'id="temporary-password">([^<]+)<', response.text)
    assert shown, "the temporary password is shown, once"
    return shown[1]


def _officer_added(a: Attempted) -> None:
    added = saved(a.world.app, Officer, Officer.email == a.target.email)
    made = account(a.world.app, added.id)
    assert (added.name, made.roles, made.active, made.must_change_password) == (
        "Nia Newcomer",
        frozenset({"reviewer"}),
        True,
        True,
    )
    assert password_matches(made.password_hash, _temporary_password(a.response))
    assert admin_log(a.world.app, officer_id=added.id) == [("officer_added", a.browser.officer_id)]


def _account_to_change(
    *, active: bool = True, api_token: bool = False, two_step: bool = False
) -> Callable[[World], Target]:
    """An officer account, not one of the officers signed in here, for an admin to change."""

    def prepare(world: World) -> Target:
        who = officer(world.app, "reviewer")
        if api_token:
            assert api_sign_in(world.app.test_client(), who.email).status_code == 201
        if not active:
            set_active(world.app, who, False)
        if two_step:
            with world.app.app_context(), unit_of_work() as ctx:
                assert ctx.two_step_key is not None
                keep_in_use(ctx.two_step_key, ctx.session.get_one(Officer, who.id), pyotp.random_base32())
        return Target(officers=(who.id,))

    return prepare


def _account_change(
    change: str,
    logged: str,
    is_changed: Callable[[Account, TestResponse], bool],
    prepare: Callable[[World], Target] | None = None,
    done_status: int = 303,
    **form: Any,
) -> Action:
    def attempt(world: World, browser: Browser, target: Target) -> TestResponse:
        return post(browser, f"/officer/admin/{target.officers[0]}/{change}", **form)

    def done(a: Attempted) -> None:
        (officer_id,) = a.target.officers
        if done_status == 303:
            assert location(a.response) == f"/officer/admin/{officer_id}"
        assert is_changed(account(a.world.app, officer_id), a.response)
        assert admin_log(a.world.app, officer_id=officer_id) == [
            ("officer_added", None),  # by an operator, at the command line
            (logged, a.browser.officer_id),
        ]

    return Action(MAY[change], prepare or _account_to_change(), attempt, done, done_status)


def _password_reset(now: Account, response: TestResponse) -> bool:
    temporary = _temporary_password(response)
    return (
        now.must_change_password
        and password_matches(now.password_hash, temporary)
        and not password_matches(now.password_hash, PASSWORD)
    )


def _page(
    path: Callable[[World, Target], str],
    prepare: Callable[[World], Target] = lambda world: Target(),
    done: Callable[[Attempted], None] | None = None,
) -> Callable[[frozenset[str]], Action]:
    def attempt(world: World, browser: Browser, target: Target) -> TestResponse:
        return browser.client.get(path(world, target))

    def shown(a: Attempted) -> None:
        assert a.response.mimetype in ("text/html", "text/csv")

    return lambda allowed: Action(allowed, prepare, attempt, done or shown, 200)


def _with_evidence(world: World) -> Target:
    reference = claim_in(world, "under_review")
    with world.app.app_context(), unit_of_work() as ctx:
        attachment = add_evidence(ctx, reference, GroupActor(reference), "letter.pdf", PDF)
        return Target(claims=(reference,), attachment=attachment.id)


def _downloaded(a: Attempted) -> None:
    assert a.response.data == PDF
    assert a.response.headers["Content-Disposition"].startswith("attachment")


def _an_open_follow_up(world: World) -> Target:
    reference = claim_in(world, "submitted")  # the row is made directly: who may is what is tried
    with world.app.app_context(), unit_of_work() as ctx:
        return Target(claims=(reference,), follow_up=open_follow_up(ctx, reference))


def _follow_up_closed(a: Attempted) -> None:
    assert location(a.response) == "/officer/remedy-follow-ups"
    row = saved(a.world.app, RemedyCheckIn, RemedyCheckIn.id == a.target.follow_up)
    assert (row.follow_up_closed_at is not None, row.follow_up_closed_by) == (True, a.browser.officer_id)
    assert last_event(a.world.app, a.reference) == ("remedy_follow_up_closed", a.browser.audit_id)


def _a_statement(*, published: bool = False) -> Callable[[World], Target]:
    """A claim upheld by the cast, whose group agreed to publishing: its statement, drafted by the
    cast's reviewer (and approved by the cast's appeal panel member, if ``published``)."""

    def prepare(world: World) -> Target:
        with world.app.app_context(), unit_of_work() as ctx:
            reference = submit_claim(ctx, submission(consent={"contact": True, "publish": True})).reference
            walk(ctx, world.cast, reference, *PATHS["upheld"])
            statement = publishing.latest_draft(ctx, reference)
            if published:
                publishing.approve(ctx, world.cast.appeal_panel, statement.id)
            return Target(claims=(reference,), statement=statement.id)

    return prepare


def _statement_now(app: Flask, statement_id: int) -> DecisionStatement:
    with app.app_context():
        found = db.session.get(DecisionStatement, statement_id)
        assert found is not None
        db.session.expunge(found)
        return found


def _edited(a: Attempted) -> None:
    now = _statement_now(a.world.app, a.target.statement)
    assert (now.summary, now.edited_by_id) == ("A corrected summary.", a.browser.officer_id)


def _approved(a: Attempted) -> None:
    now = _statement_now(a.world.app, a.target.statement)
    assert (now.status, now.approved_by_id) == ("published", a.browser.officer_id) and now.number
    assert last_event(a.world.app, a.reference) == ("statement_published", a.browser.audit_id)


def _withdrawn(a: Attempted) -> None:
    now = _statement_now(a.world.app, a.target.statement)
    assert (now.status, now.withdrawn_reason) == ("withdrawn", "Taken down at the group's request.")
    assert last_event(a.world.app, a.reference) == ("statement_withdrawn", a.browser.audit_id)


def _statement_form(name: str, **form: str) -> Callable[[World, Browser, Target], TestResponse]:
    def attempt(world: World, browser: Browser, target: Target) -> TestResponse:
        prefix = {"summary": "edit", "approve": "approve", "withdraw": "withdraw"}[name]
        data = {f"{prefix}-csrf_token": browser.csrf_token} | {f"{prefix}-{k}": v for k, v in form.items()}
        return browser.client.post(f"/officer/statements/{target.statement}/{name}", data=data)

    return attempt


def _a_request(kind: str) -> Callable[[World], Target]:
    """A request by post, recorded by the cast's triage officer."""

    def prepare(world: World) -> Target:
        reference = claim_in(world, "under_review")
        with world.app.app_context(), unit_of_work() as ctx:
            made = data_rights.record_request(
                ctx, reference, world.cast.triage, kind=kind, channel="post", received_on=ctx.today(), note=None
            )
            return Target(claims=(reference,), data_request=made.id)

    return prepare


def _request_done(a: Attempted, last: str) -> None:
    row = saved(a.world.app, DataRightsRequest, DataRightsRequest.id == a.target.data_request)
    assert (row.completed_at is not None, row.completed_by) == (True, a.browser.officer_id)
    assert last_event(a.world.app, a.reference) == (last, a.browser.audit_id)


def _data_copied(a: Attempted) -> None:
    assert a.response.headers["Content-Disposition"].startswith("attachment")
    assert CONTACT_EMAIL in a.response.text
    _request_done(a, "data_provided")


def _erased(a: Attempted) -> None:
    assert location(a.response) in (f"/officer/data-rights/{a.target.data_request}", claim_path(a.reference))
    contact = saved(
        a.world.app,
        Contact,
        Contact.claim_id == select(Claim.id).where(Claim.reference == a.reference).scalar_subquery(),
    )
    assert contact.erased_at is not None and contact.email is None
    assert last_event(a.world.app, a.reference) == ("erasure_completed", a.browser.audit_id)


def _erasure_request_done(a: Attempted) -> None:
    _erased(a)
    _request_done(a, "erasure_completed")


def _recorded(a: Attempted) -> None:
    claim_id = select(Claim.id).where(Claim.reference == a.reference).scalar_subquery()
    row = saved(a.world.app, DataRightsRequest, DataRightsRequest.claim_id == claim_id)
    assert (row.kind, row.channel, row.recorded_by) == ("access", "phone", a.browser.officer_id)
    assert location(a.response) == f"/officer/data-rights/{row.id}"
    assert last_event(a.world.app, a.reference) == ("access_requested", a.browser.audit_id)


# --- single sign-on (issue 24): allowing e-mail domains ---------------------------------------


def _last_admin_event(app: Flask) -> tuple[str, int | None, dict[str, Any]]:
    with app.app_context():
        event = db.session.scalars(select(AdminEvent).order_by(AdminEvent.seq.desc()).limit(1)).one()
        return event.action, event.actor_id, event.payload


def _domain_allowed(a: Attempted) -> None:
    assert location(a.response) == "/officer/admin/sign-in-domains"
    assert saved(a.world.app, SignInDomain, SignInDomain.domain == a.target.email).added_by == a.browser.officer_id
    assert _last_admin_event(a.world.app) == (
        "sign_in_domain_allowed",
        a.browser.officer_id,
        {"domain": a.target.email},
    )


def _an_allowed_domain(world: World) -> Target:
    domain = f"d{uuid.uuid4().hex[:8]}.example"
    with world.app.app_context(), unit_of_work() as ctx:
        ctx.session.add(SignInDomain(domain=domain, added_at=ctx.now(), added_by=None))
    return Target(email=domain)


def _domain_removed(a: Attempted) -> None:
    assert location(a.response) == "/officer/admin/sign-in-domains"
    with a.world.app.app_context():
        assert db.session.get(SignInDomain, a.target.email) is None
    assert _last_admin_event(a.world.app) == (
        "sign_in_domain_removed",
        a.browser.officer_id,
        {"domain": a.target.email},
    )


# --- signed webhooks (issue 24) ---------------------------------------------------------------

# A public address, written as one: the tests' settings allow neither http nor private addresses,
# and the URL check accepts this one as it is, resolving no name (203.0.113.0/24, for
# documentation, is refused as not on the internet).
WEBHOOK_URL = "https://93.184.215.14/in"
WEBHOOK_EVENTS = ["decision_statement.published", "statistics_release.published"]  # as the service orders them


def _a_webhook_url(world: World) -> Target:
    return Target(url=f"{WEBHOOK_URL}/{uuid.uuid4().hex[:8]}")


def _add_webhook(world: World, browser: Browser, target: Target) -> TestResponse:
    return post(
        browser, "/officer/webhooks/new", url=target.url, description="Reporting tool", events=WEBHOOK_EVENTS[::-1]
    )


def _webhook_added(a: Attempted) -> None:
    shown = re.search(r'id="webhook-secret">(whsec_[^<]+)<', a.response.text)
    assert shown, "the signing secret is shown, once"
    added = saved(a.world.app, WebhookEndpoint, WebhookEndpoint.url == a.target.url)
    assert (added.description, added.events, added.created_by, added.turned_off_at) == (
        "Reporting tool",
        WEBHOOK_EVENTS,
        a.browser.officer_id,
        None,
    )
    assert shown[1] not in added.secret, "the secret is kept sealed"
    assert endpoints.secret_of(a.world.app.extensions["guarantee.two_step_key"], added) == shown[1]
    assert _last_admin_event(a.world.app) == (
        "webhook_added",
        a.browser.officer_id,
        {"endpoint": added.id, "url": a.target.url, "events": WEBHOOK_EVENTS},
    )


def _a_turned_off_webhook(world: World) -> Target:
    """An endpoint the cast's admin added, turned off after repeated failures: a message waits for
    it (its next try hours away), and the delivery log has the try that failed."""
    url = _a_webhook_url(world).url
    key = world.app.extensions["guarantee.two_step_key"]
    with world.app.app_context(), unit_of_work() as ctx:
        endpoint = endpoints.add(
            ctx, world.cast.admin, key, urls.Policy(), url=url, description="Casework CRM", events=WEBHOOK_EVENTS
        ).endpoint
        endpoint.turned_off_at, endpoint.consecutive_failures = ctx.now(), delivery.TURN_OFF_AFTER
        message = WebhookMessage(
            endpoint_id=endpoint.id,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type="statistics_release.published",
            payload={"type": "statistics_release.published", "timestamp": ctx.now().isoformat(), "data": {}},
            status="pending",
            attempts=1,
            created_at=ctx.now(),
            next_attempt_at=ctx.now() + timedelta(hours=4),
            last_error="HTTP 503",
        )
        ctx.session.add(message)
        ctx.session.flush()
        ctx.session.add(
            WebhookAttempt(
                endpoint_id=endpoint.id,
                message_id=message.id,
                attempt=1,
                attempted_at=ctx.now(),
                outcome="failed",
                http_status=503,
                error="Service Unavailable",
            )
        )
        return Target(webhook=endpoint.id, url=url)


def _webhook_turned_on(a: Attempted) -> None:
    assert location(a.response) == f"/officer/webhooks/{a.target.webhook}"
    now = saved(a.world.app, WebhookEndpoint, WebhookEndpoint.id == a.target.webhook)
    assert (now.turned_off_at, now.consecutive_failures) == (None, 0)
    waiting = saved(a.world.app, WebhookMessage, WebhookMessage.endpoint_id == a.target.webhook)
    assert (waiting.status, waiting.next_attempt_at) == ("pending", waiting.created_at), "it goes at the next round"
    assert _last_admin_event(a.world.app) == (
        "webhook_turned_on",
        a.browser.officer_id,
        {"endpoint": a.target.webhook, "url": a.target.url},
    )


def _webhook_removed(a: Attempted) -> None:
    assert location(a.response) == "/officer/webhooks"
    with a.world.app.app_context():
        assert db.session.get(WebhookEndpoint, a.target.webhook) is None
        for model in (WebhookMessage, WebhookAttempt):
            left = select(func.count()).select_from(model).where(model.endpoint_id == a.target.webhook)
            assert db.session.scalar(left) == 0, f"its {model.__tablename__} are removed with it"
    assert _last_admin_event(a.world.app) == (
        "webhook_removed",
        a.browser.officer_id,
        {"endpoint": a.target.webhook, "url": a.target.url, "undelivered": 1},
    )


PAGE_ACTIONS: dict[str, Callable[[frozenset[str]], Action]] = {
    "statements-page": _page(lambda w, t: "/officer/statements"),
    "statement-page": _page(lambda w, t: f"/officer/statements/{t.statement}", _a_statement()),
    "queue": _page(lambda w, t: "/officer"),
    "queue-csv": _page(lambda w, t: "/officer/queue.csv"),
    "claim-page": _page(lambda w, t: claim_path(t.claims[0]), claims_in("under_review")),
    "action-page": _page(lambda w, t: action_path(t.claims[0], "uphold"), claims_in("under_review")),
    "evidence": _page(lambda w, t: f"{claim_path(t.claims[0])}/evidence/{t.attachment}", _with_evidence, _downloaded),
    "catalogue": _page(lambda w, t: "/officer/regulations"),
    "catalogue-entry": _page(lambda w, t: f"/officer/regulations/{t.regulations[0]}", _an_entry),
    "officers-page": _page(lambda w, t: "/officer/admin"),
    "officer-account-page": _page(lambda w, t: f"/officer/admin/{w.cast.reviewer.officer_id}"),
    "messages-page": _page(lambda w, t: "/officer/messages"),
    "statistics-page": _page(lambda w, t: "/officer/statistics"),
    "remedy-follow-ups-page": _page(lambda w, t: "/officer/remedy-follow-ups"),
    "remedy-follow-up-page": _page(lambda w, t: f"/officer/remedy-follow-ups/{t.follow_up}", _an_open_follow_up),
    "team-page": _page(lambda w, t: "/officer/team"),
    "reassign-page": _page(lambda w, t: f"/officer/team/{w.cast.reviewer.officer_id}/reassign"),
    "mail-settings-page": _page(lambda w, t: "/officer/settings/email"),
    "sign-in-domains-page": _page(lambda w, t: "/officer/admin/sign-in-domains"),
    "webhooks-page": _page(lambda w, t: "/officer/webhooks"),
    "add-webhook-page": _page(lambda w, t: "/officer/webhooks/new"),
    "webhook-page": _page(lambda w, t: f"/officer/webhooks/{t.webhook}", _a_turned_off_webhook),
    "data-rights-page": _page(lambda w, t: "/officer/data-rights"),
    "data-rights-request-page": _page(lambda w, t: f"/officer/data-rights/{t.data_request}", _a_request("access")),
    "record-data-rights-page": _page(lambda w, t: f"{claim_path(t.claims[0])}/data-rights", claims_in("submitted")),
    "erase-page": _page(lambda w, t: f"{claim_path(t.claims[0])}/erase", claims_in("submitted")),
}


def _a_failed_message(world: World) -> Target:
    reference = claim_in(world, "submitted")
    with world.app.app_context(), unit_of_work() as ctx:
        message = ctx.session.scalars(
            select(OutboxMessage).join(Claim, Claim.id == OutboxMessage.claim_id).where(Claim.reference == reference)
        ).first()
        assert message is not None, "filing a claim queues a message to the group"
        message.status, message.attempts, message.last_error = "failed", 8, "550 mailbox unavailable"
        return Target(claims=(reference,), message=message.id)


def _message_status(app: Flask, message_id: int) -> str:
    with app.app_context():
        return str(db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id)))


def _queued_again(a: Attempted) -> None:
    assert location(a.response) == "/officer/messages"
    assert _message_status(a.world.app, a.target.message) == "pending"


def _releases(app: Flask) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(StatisticsRelease.number).order_by(StatisticsRelease.number)))


def _published(a: Attempted) -> None:
    assert location(a.response) == "/officer/statistics"
    page = a.browser.client.get("/officer/statistics")
    (newest, *_) = reversed(_releases(a.world.app))
    assert f"Release {newest} is published." in text_of(page.text)


def _held_by_the_reviewer(world: World) -> Target:
    reference = claim_in(world, "under_review")
    with world.app.app_context(), unit_of_work() as ctx:
        assign(ctx, reference, world.cast.reviewer.officer_id, world.cast.team_leader)
    return Target(claims=(reference,), officers=(world.cast.reviewer.officer_id,))


def _reassign(world: World, browser: Browser, target: Target) -> TestResponse:
    (reference,) = target.claims
    selected = {"reference": [reference], f"version-{reference}": claim_now(world.app, reference)[1]}
    to = str(world.cast.triage.officer_id)
    return post(browser, f"/officer/team/{world.cast.reviewer.officer_id}/reassign", assignee=to, **selected)


def _reassigned(a: Attempted) -> None:
    state, version, events = a.claims_before[a.reference]
    assert location(a.response) == "/officer/team"
    assert claim_now(a.world.app, a.reference) == (state, version + 1, events + 1)
    assert saved(a.world.app, Claim, Claim.reference == a.reference).assignee_id == a.world.cast.triage.officer_id
    assert last_event(a.world.app, a.reference) == ("assigned", a.browser.audit_id)


def _saved_filters(app: Flask, officer_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SavedFilter.name).where(SavedFilter.officer_id == officer_id)))


def _filter_saved(a: Attempted) -> None:
    assert location(a.response) == "/officer?region=wales"
    assert "Wales" in _saved_filters(a.world.app, a.browser.officer_id)


def _delete_filter(world: World, browser: Browser, target: Target) -> TestResponse:
    """Delete the officer's own saved filter (signed out: any filter, which no one may)."""
    filter_id = 2147483647
    if browser.who is not None:
        with world.app.app_context(), unit_of_work() as ctx:
            filter_id = saved_filters.save(ctx, browser.who.actor, "Overdue", {"due": "overdue"}).id
    return post(browser, f"/officer/filters/{filter_id}/delete")


def _filter_deleted(a: Attempted) -> None:
    assert location(a.response) == "/officer"
    assert "Overdue" not in _saved_filters(a.world.app, a.browser.officer_id)


def _mail_settings_changed(a: Attempted) -> None:
    assert location(a.response) == "/officer/settings/email"
    with a.world.app.app_context(), unit_of_work() as ctx:
        now = {s.kind: s.on for s in mail_settings(ctx, OfficerActor(a.browser.officer_id))}
    assert now == {kind: kind == "assignments" for kind in now}
    assert admin_log(a.world.app, officer_id=a.browser.officer_id)[-1] == (
        "mail_settings_changed",
        a.browser.officer_id,
    )


ACTIONS: dict[str, Action] = {
    **{trigger: _step(trigger) for trigger in STEPS},
    "edit-statement": Action(
        MAY["edit-statement"], _a_statement(), _statement_form("summary", summary="A corrected summary."), _edited
    ),
    "approve-statement": Action(MAY["approve-statement"], _a_statement(), _statement_form("approve"), _approved),
    "withdraw-statement": Action(
        MAY["withdraw-statement"],
        _a_statement(published=True),
        _statement_form("withdraw", reason="Taken down at the group's request."),
        _withdrawn,
    ),
    "publish-statistics": Action(
        MAY["publish-statistics"],
        lambda world: Target(),
        lambda w, b, t: post(b, "/officer/statistics", period="yesterday", method="disclosure_control"),
        _published,
    ),
    "message-try-again": Action(
        MAY["message-try-again"],
        _a_failed_message,
        lambda w, b, t: post(b, f"/officer/messages/{t.message}/try-again"),
        _queued_again,
    ),
    "close-remedy-follow-up": Action(
        MAY["close-remedy-follow-up"],
        _an_open_follow_up,
        lambda w, b, t: post(b, f"/officer/remedy-follow-ups/{t.follow_up}", note="Rang the council: done."),
        _follow_up_closed,
    ),
    "note": Action(
        MAY["note"],
        claims_in("under_review"),
        lambda w, b, t: post(b, f"{claim_path(t.claims[0])}/notes", note=NOTE),
        _noted,
    ),
    "contact": Action(
        MAY["contact"],
        claims_in("under_review"),
        lambda w, b, t: post(b, f"{claim_path(t.claims[0])}/contact"),
        _contact_shown,
        done_status=200,  # the claim page with the details: shown once, never kept in a redirect
    ),
    "assignee": Action(MAY["assignee"], claims_in("under_review"), _change_assignee, _assigned),
    "classification": Action(MAY["classification"], claims_in("under_review"), _classify, _classified),
    "bulk-assign": Action(MAY["bulk-assign"], claims_in("submitted", 2), _bulk_assign, _all_assigned),
    "bulk-decline-duplicates": Action(
        MAY["bulk-decline-duplicates"], claims_in("submitted", 3), _bulk_decline, _all_declined
    ),
    "correct-entry": Action(MAY["correct-entry"], _an_entry, _correct, _corrected),
    "merge-entries": Action(MAY["merge-entries"], _duplicate_entries, _merge, _merged),
    "add-officer": Action(
        MAY["add-officer"],
        lambda w: Target(email=f"newcomer-{uuid.uuid4().hex[:8]}@council.example"),
        _add_officer,
        _officer_added,
        done_status=200,  # the temporary password, shown once
    ),
    "roles": _account_change(
        "roles", "roles_changed", lambda now, _: now.roles == {"triage", "reviewer"}, roles=["triage", "reviewer"]
    ),
    "deactivate": _account_change("deactivate", "deactivated", lambda now, _: not now.active),
    "reactivate": _account_change(
        "reactivate", "reactivated", lambda now, _: now.active, _account_to_change(active=False)
    ),
    "reset-password": _account_change("reset-password", "password_reset", _password_reset, done_status=200),
    "reset-two-step": _account_change(
        "reset-two-step",
        "two_step_reset",
        lambda now, response: not now.two_step and _password_reset(now, response),
        _account_to_change(two_step=True),
        done_status=200,  # with a temporary password, shown once
    ),
    "revoke-tokens": _account_change(
        "revoke-tokens",
        "api_tokens_revoked",
        lambda now, _: now.tokens_revoked == (True,),
        _account_to_change(api_token=True),
    ),
    "reassign": Action(MAY["reassign"], _held_by_the_reviewer, _reassign, _reassigned),
    "save-filter": Action(
        MAY["save-filter"],
        lambda world: Target(),
        lambda w, b, t: post(b, "/officer/filters", name="Wales", region="wales"),
        _filter_saved,
    ),
    "delete-filter": Action(MAY["delete-filter"], lambda world: Target(), _delete_filter, _filter_deleted),
    "change-mail-settings": Action(
        MAY["change-mail-settings"],
        lambda world: Target(),
        lambda w, b, t: post(b, "/officer/settings/email", kinds=["assignments"]),
        _mail_settings_changed,
    ),
    "record-data-rights": Action(
        MAY["record-data-rights"],
        claims_in("under_review"),
        lambda w, b, t: post(
            b, f"{claim_path(t.claims[0])}/data-rights", kind="access", channel="phone", received_on="2 11 2026"
        ),
        _recorded,
    ),
    "data-rights-copy": Action(
        MAY["data-rights-copy"],
        _a_request("access"),
        lambda w, b, t: post(b, f"/officer/data-rights/{t.data_request}/copy", format="json"),
        _data_copied,
        done_status=200,  # the copy itself, as a file
    ),
    "data-rights-erase": Action(
        MAY["data-rights-erase"],
        _a_request("erasure"),
        lambda w, b, t: post(b, f"/officer/data-rights/{t.data_request}/erase"),
        _erasure_request_done,
    ),
    "erase": Action(
        MAY["erase"],
        claims_in("under_review"),
        lambda w, b, t: post(b, f"{claim_path(t.claims[0])}/erase", channel="email", reason="The chair's e-mail."),
        _erased,
    ),
    "allow-domain": Action(
        MAY["allow-domain"],
        lambda w: Target(email=f"d{uuid.uuid4().hex[:8]}.example"),  # the domain to allow
        lambda w, b, t: post(b, "/officer/admin/sign-in-domains", domain=t.email),
        _domain_allowed,
    ),
    "remove-domain": Action(
        MAY["remove-domain"],
        _an_allowed_domain,
        lambda w, b, t: post(b, "/officer/admin/sign-in-domains/remove", domain=t.email),
        _domain_removed,
    ),
    "add-webhook": Action(
        MAY["add-webhook"],
        _a_webhook_url,
        _add_webhook,
        _webhook_added,
        done_status=200,  # the signing secret, shown once
    ),
    "turn-webhook-on": Action(
        MAY["turn-webhook-on"],
        _a_turned_off_webhook,
        lambda w, b, t: post(b, f"/officer/webhooks/{t.webhook}/turn-on"),
        _webhook_turned_on,
    ),
    "remove-webhook": Action(
        MAY["remove-webhook"],
        _a_turned_off_webhook,
        lambda w, b, t: post(b, f"/officer/webhooks/{t.webhook}/remove"),
        _webhook_removed,
    ),
    **{name: page(MAY[name]) for name, page in PAGE_ACTIONS.items()},
}


def attempt_as(
    world: World, name: str, role: str, target: Target | None = None, attempt: Callable[[], TestResponse] | None = None
) -> None:
    """Try the action as the role (``attempt``: a browser's own way to): exactly the outcome the
    spec gives that role."""
    action, browser = ACTIONS[name], world.browsers[role]
    target = target or action.prepare(world)
    claims_before = {reference: claim_now(world.app, reference) for reference in target.claims}
    before = trace(world.app, target)

    response = attempt() if attempt else action.attempt(world, browser, target)

    try:
        if role == SIGNED_OUT:
            assert response.status_code == 302, say(response)
            assert urlsplit(response.headers["Location"]).path == SIGN_IN
            assert trace(world.app, target) == before, f"a signed-out {name} left a trace"
        elif role in action.allowed:
            assert response.status_code == action.done_status, say(response)
            action.done(Attempted(world, browser, target, response, claims_before))
        else:
            assert response.status_code == 403, say(response)
            assert response.mimetype == "text/html"
            assert "Only " in text_of(response.text), "the page says who may"
            assert CONTACT_EMAIL not in response.text, "a refusal never shows the group's contact details"
            assert trace(world.app, target) == before, f"a refused {name} left a trace"
    finally:
        response.close()  # a download holds its file open until then


def by_role(*names: str) -> list[Any]:
    """(name, role) for every name and every role."""
    return [pytest.param(name, role, id=f"{name}-by-{role}") for name in names for role in ROLES]


# --- 1. the matrix --------------------------------------------------------------------------


# Each console endpoint, and what the matrix tries there. The others are an officer's own
# business (signing in and out, their password and two-step verification), alike for every role.
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "console.act": tuple(STEPS),
    "console.action_page": ("action-page",),
    "console.note": ("note",),
    "console.contact": ("contact",),
    "console.assignee": ("assignee",),
    "console.classification": ("classification",),
    "console.bulk": ("bulk-assign", "bulk-decline-duplicates"),
    "console.regulation": ("catalogue-entry", "correct-entry"),
    "console.merge_regulation": ("merge-entries",),
    "console.officers": ("officers-page", "add-officer"),
    "console.officer_account": ("officer-account-page",),
    "console.change_officer": ACCOUNTS[1:],
    "console.sign_in_domains": ("sign-in-domains-page", "allow-domain"),
    "console.remove_sign_in_domain": ("remove-domain",),
    "console.webhooks": ("webhooks-page",),
    "console.add_webhook": ("add-webhook-page", "add-webhook"),
    "console.webhook": ("webhook-page",),
    "console.turn_webhook_on": ("turn-webhook-on",),
    "console.remove_webhook": ("remove-webhook",),
    "console.queue_page": ("queue",),
    "console.queue_csv": ("queue-csv",),
    "console.claim_page": ("claim-page",),
    "console.evidence": ("evidence",),
    "console.catalogue": ("catalogue",),
    "console.messages": ("messages-page",),
    "console.try_message_again": ("message-try-again",),
    "console.statistics": ("statistics-page",),
    "console.remedy_follow_ups": ("remedy-follow-ups-page",),
    "console.remedy_follow_up": ("remedy-follow-up-page",),
    "console.close_remedy_follow_up": ("close-remedy-follow-up",),
    "console.publish_statistics": ("publish-statistics",),
    "console.statements": ("statements-page",),
    "console.statement_page": ("statement-page",),
    "console.edit_statement": ("edit-statement",),
    "console.approve_statement": ("approve-statement",),
    "console.withdraw_statement": ("withdraw-statement",),
    "console.team": ("team-page",),
    "console.reassign": ("reassign-page", "reassign"),
    "console.save_filter": ("save-filter",),
    "console.delete_filter": ("delete-filter",),
    "console.mail_settings": ("mail-settings-page", "change-mail-settings"),
    "console.data_rights_list": ("data-rights-page",),
    "console.data_rights_request": ("data-rights-request-page",),
    "console.data_rights_copy": ("data-rights-copy",),
    "console.data_rights_erase": ("data-rights-erase",),
    "console.record_data_rights_page": ("record-data-rights-page",),
    "console.record_data_rights": ("record-data-rights",),
    "console.erase_page": ("erase-page",),
    "console.erase": ("erase",),
}
OWN_BUSINESS = (
    "console.sign_in",
    "console.sign_in_code",
    "console.sign_out",
    "console.signed_out",
    "console.password",
    "console.two_step_page",
    "console.two_step_change",
    # single sign-on (issue 24)
    "console.sign_in_with_provider",
    "console.signed_in_by_provider",
    "console.no_roles_yet",
)


def test_the_matrix_tries_every_console_endpoint_and_every_step_an_officer_may_take(world: World) -> None:
    endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules() if rule.endpoint.startswith("console.")}
    untried = endpoints - set(ENDPOINTS) - set(OWN_BUSINESS)
    assert not untried, "a new console endpoint: add what it does to the spec (MAY or STEPS), ACTIONS and ENDPOINTS"
    assert endpoints == set(ENDPOINTS) | set(OWN_BUSINESS)
    assert sorted(name for names in ENDPOINTS.values() for name in names) == sorted(ACTIONS)
    assert set(STEPS) == {t.trigger for t in TRANSITIONS if set(t.fired_by) & set(ROLES)}
    assert set(ACTIONS) == set(STEPS) | set(MAY)


@pytest.mark.parametrize(("trigger", "role"), by_role(*STEPS))
def test_a_workflow_step_is_offered_to_and_taken_by_exactly_the_roles_that_take_it(
    world: World, trigger: str, role: str
) -> None:
    browser, target = world.browsers[role], ACTIONS[trigger].prepare(world)
    (reference,) = target.claims
    page = browser.client.get(claim_path(reference))
    assert page.status_code == 200
    assert (trigger in offered(page.text)) == (role in STEPS[trigger].taken_by), "offered on the claim page"
    action_page = browser.client.get(action_path(reference, trigger))
    assert action_page.status_code == (200 if role in STEPS[trigger].taken_by else 403), "its page opens"
    attempt_as(world, trigger, role, target, lambda: take_step(world, browser, trigger, reference))


@pytest.mark.parametrize(("action", "role"), by_role(*CASEWORK))
def test_casework_on_claims_is_done_only_for_the_roles_that_may_do_it(world: World, action: str, role: str) -> None:
    attempt_as(world, action, role)


@pytest.mark.parametrize(("action", "role"), by_role(*CATALOGUE))
def test_only_triage_reviewers_and_admins_may_change_the_regulation_catalogue(
    world: World, action: str, role: str
) -> None:
    attempt_as(world, action, role)


@pytest.mark.parametrize(("action", "role"), by_role(*ACCOUNTS))
def test_only_an_admin_may_add_or_change_an_officer_account(world: World, action: str, role: str) -> None:
    attempt_as(world, action, role)


@pytest.mark.parametrize(("action", "role"), by_role(*SIGN_IN_DOMAINS))
def test_only_an_admin_may_allow_or_remove_sign_in_domains(world: World, action: str, role: str) -> None:
    attempt_as(world, action, role)


@pytest.mark.parametrize(("action", "role"), by_role(*WEBHOOKS))
def test_only_an_admin_may_add_turn_on_or_remove_a_webhook_endpoint(world: World, action: str, role: str) -> None:
    attempt_as(world, action, role)


@pytest.mark.parametrize(("action", "role"), by_role(*OWN))
def test_every_officer_keeps_their_own_saved_filters_and_e_mail_settings(world: World, action: str, role: str) -> None:
    attempt_as(world, action, role)


@pytest.mark.parametrize(("page", "role"), by_role(*PAGES))
def test_the_officers_pages_open_only_for_admins_the_teams_for_leaders_and_every_other_for_every_officer(
    world: World, page: str, role: str
) -> None:
    attempt_as(world, page, role)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_signed_out_browser_is_sent_to_sign_in_and_changes_nothing(world: World, action: str) -> None:
    attempt_as(world, action, SIGNED_OUT)


@dataclass(frozen=True)
class Control:
    """Where the console shows a control (other than a step's form), and how it looks there."""

    prepare: Callable[[World], Target]
    page: Callable[[Target], str]
    html: Callable[[Target], str]


def _on_claim_page(form: str) -> Control:
    def path(t: Target) -> str:
        return claim_path(t.claims[0])

    return Control(claims_in("under_review"), path, lambda t: f'action="{path(t)}{form}"')


def _on_entry_page(form: str) -> Control:
    def path(t: Target) -> str:
        return f"/officer/regulations/{t.regulations[0]}"

    def two_entries(world: World) -> Target:  # an entry page offers a merge only when there are others
        return Target(regulations=entries(world.app, "Food premises registration", "Fire risk assessment"))

    return Control(two_entries, path, lambda t: f'action="{path(t)}{form}"')


def _on_the_queue(html: str) -> Control:
    return Control(claims_in("submitted"), lambda t: "/officer", lambda t: html)


CONTROLS: dict[str, Control] = {
    "note": _on_claim_page("/notes"),
    "contact": _on_claim_page("/contact"),
    "assignee": _on_claim_page("/assignee"),
    "classification": _on_claim_page("/classification"),
    "bulk-assign": _on_the_queue('name="action" value="assign"'),
    "bulk-decline-duplicates": _on_the_queue('value="decline_duplicates" name="action"'),  # govukButton's order
    "correct-entry": _on_entry_page(""),
    "merge-entries": _on_entry_page("/merge"),
    "officers-page": _on_the_queue('href="/officer/admin"'),
    "webhooks-page": _on_the_queue('href="/officer/webhooks"'),
    "team-page": _on_the_queue('href="/officer/team"'),
}


@pytest.mark.parametrize(("control", "role"), by_role(*CONTROLS))
def test_a_page_offers_a_control_only_to_the_roles_that_may_use_it(world: World, control: str, role: str) -> None:
    where = CONTROLS[control]
    target = where.prepare(world)
    page = world.browsers[role].client.get(where.page(target))
    assert page.status_code == 200
    assert (where.html(target) in page.text) == (role in MAY[control])


# --- 2. separation of duties ----------------------------------------------------------------

# An officer who may decide the claim and sit on the appeal panel, and the decision they make.
DECIDERS = {
    "reviewer-who-did-not-uphold": (("reviewer", "appeal_panel"), "not_uphold"),
    "triage-officer-who-accepted": (("triage", "appeal_panel"), "accept"),
    "admin-who-did-not-uphold": (("admin",), "not_uphold"),
}
APPEAL_DECISIONS = ("allow_appeal", "dismiss_appeal")


def _appealed_after(world: World, decision: str, decide: Callable[[str], None]) -> str:
    """A claim on which ``decide`` made ``decision``, brought to an appeal by the cast and the group."""
    reference = claim_in(world, STEPS[decision].source)
    decide(reference)
    assert last_event(world.app, reference)[0] == decision
    with world.app.app_context(), unit_of_work() as ctx:
        walk(ctx, world.cast, reference, *(("not_uphold",) if decision == "accept" else ()), "appeal")
    return reference


def _json(response: TestResponse) -> dict[str, Any]:
    body = response.json
    assert isinstance(body, dict), response.get_data(as_text=True)[:300]
    return body


@pytest.mark.parametrize(("roles", "decision"), list(DECIDERS.values()), ids=list(DECIDERS))
def test_a_panel_member_who_decided_the_claim_is_not_offered_its_appeal_and_a_forged_decision_is_refused(
    world: World, roles: tuple[str, ...], decision: str
) -> None:
    client, decider = signed_in(world.app, *roles)

    def on_the_claim_page(reference: str) -> None:
        assert post_action(client, reference, decision, **answers(decision)).status_code == 303

    reference = _appealed_after(world, decision, on_the_claim_page)
    page = client.get(claim_path(reference)).text
    assert offered(page) == set()
    target = Target(claims=(reference,), officers=(decider.id,))
    before = trace(world.app, target)
    for trigger in APPEAL_DECISIONS:
        forged = post_action(client, reference, trigger, page, **answers(trigger))
        assert forged.status_code == 403, say(forged)
        assert "You made an earlier decision on this claim" in text_of(forged.text)
    assert trace(world.app, target) == before

    panel = world.browsers["appeal_panel"]
    assert offered(panel.client.get(claim_path(reference)).text) == set(APPEAL_DECISIONS)
    allowed = post_action(panel.client, reference, "allow_appeal", **answers("allow_appeal"))
    assert allowed.status_code == 303, say(allowed)
    assert claim_now(world.app, reference)[0] == "upheld"
    assert last_event(world.app, reference) == ("allow_appeal", panel.audit_id)


@pytest.mark.parametrize(("roles", "decision"), list(DECIDERS.values()), ids=list(DECIDERS))
def test_through_the_api_a_panel_member_who_decided_the_claim_is_refused_its_appeal_and_another_decides_it(
    world: World, roles: tuple[str, ...], decision: str
) -> None:
    api = world.app.test_client()
    decider = officer(world.app, *roles)
    auth = {"Authorization": f"Bearer {_json(api_sign_in(api, decider.email))['token']}"}

    def fire_through_the_api(reference: str, trigger: str, headers: dict[str, str]) -> TestResponse:
        body = {"trigger": trigger, **INPUTS[trigger]}
        return api.post(f"{CLAIMS}/{reference}/transitions", json=body, headers=headers)

    def allowed_triggers(reference: str, headers: dict[str, str]) -> set[str]:
        return set(_json(api.get(f"{CLAIMS}/{reference}", headers=headers))["allowed_triggers"])

    def through_the_api(reference: str) -> None:
        decided = fire_through_the_api(reference, decision, auth)
        assert decided.status_code == 200, decided.get_data(as_text=True)[:300]

    reference = _appealed_after(world, decision, through_the_api)
    assert not allowed_triggers(reference, auth) & set(APPEAL_DECISIONS)
    target = Target(claims=(reference,), officers=(decider.id,))
    before = trace(world.app, target)
    for trigger in APPEAL_DECISIONS:
        refused = fire_through_the_api(reference, trigger, auth)
        assert "another member of the appeal panel" in assert_problem(refused, 403)["detail"]
    assert trace(world.app, target) == before

    other = new_officer(world.app, "appeal_panel")
    assert allowed_triggers(reference, other.auth) >= set(APPEAL_DECISIONS)
    dismissed = fire_through_the_api(reference, "dismiss_appeal", other.auth)
    assert dismissed.status_code == 200, dismissed.get_data(as_text=True)[:300]
    assert claim_now(world.app, reference)[0] == "resolved"
    assert last_event(world.app, reference) == ("dismiss_appeal", str(other.officer_id))
