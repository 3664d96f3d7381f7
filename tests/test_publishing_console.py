"""Publishing decision statements in the console and on the filing form (issue 20, items 2 and 6),
over HTTP as a browser sends it, CSRF on, on SQLite and PostgreSQL: the decision form asks for
the public summary (or says why it does not) and offers earlier statements to cite; "Statements
to approve" lists the drafts; a draft's page shows the personal-data check, which blocks
approval, and the officer who drafted it cannot approve it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Claim
from guarantee.models.register import DecisionStatement
from guarantee.services import publishing
from tests.helpers import INPUTS
from tests.support.filing import fill_pages
from tests.test_console import Someone, action_path, file, fire_as, officer, post_action, sign_in, signed_in
from tests.test_public import VALID_FORM, error_summary, fields, text_of
from workflows import PUBLIC_SUMMARY

SUMMARY = "A volunteer kitchen asked for relief from a registration rule. The council agreed and waived it."
STATEMENTS = "/officer/statements"


def under_review(app: Flask, triage: Someone, *, publish: bool = True, regulation: int | None = None) -> str:
    (reference,) = file(app, consent={"contact": True, "publish": publish})
    fire_as(
        app,
        reference,
        "accept",
        triage,
        category="food_hygiene",
        regulation=regulation or {"title": "Food premises registration"},
    )
    return reference


def statement_of(app: Flask, reference: str) -> DecisionStatement:
    with app.app_context():
        found = db.session.scalar(
            select(DecisionStatement)
            .join(Claim, Claim.id == DecisionStatement.claim_id)
            .where(Claim.reference == reference)
            .order_by(DecisionStatement.id.desc())
        )
        assert found is not None
        db.session.expunge(found)
        return found


def uphold(client: FlaskClient, reference: str, summary: str = SUMMARY, **more: str) -> None:
    answers = {"reasons": INPUTS["uphold"]["reasons"], "remedy": "waiver", PUBLIC_SUMMARY: summary} | more
    done = post_action(client, reference, "uphold", **answers)
    assert done.status_code == 303, text_of(done.text)


def test_the_decision_form_asks_for_the_public_summary(app: Flask) -> None:
    client, _ = signed_in(app, "reviewer")
    reference = under_review(app, officer(app, "triage"))

    page = client.get(action_path(reference, "uphold")).text

    assert f'name="uphold-{PUBLIC_SUMMARY}"' in page
    assert "Write it without names, addresses or contact details. It is separate from the reasons the group gets." in (
        text_of(page)
    )


def test_without_consent_the_form_says_only_the_facts_are_published(app: Flask) -> None:
    client, _ = signed_in(app, "reviewer")
    reference = under_review(app, officer(app, "triage"), publish=False)

    page = client.get(action_path(reference, "uphold")).text
    done = post_action(client, reference, "uphold", reasons="Applied too strictly.", remedy="waiver")

    assert f'name="uphold-{PUBLIC_SUMMARY}"' not in page
    assert "The group did not agree to a decision statement being published." in text_of(page)
    assert done.status_code == 303
    assert statement_of(app, reference).summary is None


def test_a_decision_without_the_summary_is_refused_with_a_form_error(app: Flask) -> None:
    client, _ = signed_in(app, "reviewer")
    reference = under_review(app, officer(app, "triage"))

    refused = post_action(client, reference, "uphold", reasons="Applied too strictly.", remedy="waiver")

    assert refused.status_code == 400
    assert "Enter summary for the public register" in error_summary(refused.text).values()


def test_the_decision_form_offers_earlier_statements_on_the_rule_and_stores_the_citations(app: Flask) -> None:
    triage, approver = officer(app, "triage"), officer(app, "appeal_panel")
    client, _ = signed_in(app, "reviewer")
    first = under_review(app, triage)
    uphold(client, first)
    earlier = statement_of(app, first)
    with app.app_context(), unit_of_work() as ctx:
        publishing.approve(ctx, approver.actor, earlier.id)
    second = under_review(app, triage, regulation=earlier.regulation_id)

    page = client.get(action_path(second, "uphold")).text
    uphold(client, second, cites=str(earlier.id))

    number = statement_of(app, first).number
    assert f"Cite {number}: upheld, October to December 2026." in text_of(page)
    with app.app_context():
        cited = db.session.get(DecisionStatement, statement_of(app, second).id)
        assert cited is not None and [s.number for s in cited.cites] == [number]


def test_citing_an_unknown_statement_is_a_form_error(app: Flask) -> None:
    triage, approver = officer(app, "triage"), officer(app, "appeal_panel")
    client, _ = signed_in(app, "reviewer")
    first = under_review(app, triage)
    uphold(client, first)
    with app.app_context(), unit_of_work() as ctx:
        publishing.approve(ctx, approver.actor, statement_of(app, first).id)
    second = under_review(app, triage, regulation=statement_of(app, first).regulation_id)

    refused = post_action(
        client, second, "uphold", reasons="Too strict.", remedy="waiver", public_summary=SUMMARY, cites="999999"
    )

    assert refused.status_code == 400
    assert any("Only statements on the register can be cited" in m for m in error_summary(refused.text).values())


def test_statements_to_approve_is_linked_for_officers_who_may_approve(app: Flask) -> None:
    reviewer, _ = signed_in(app, "reviewer")
    triage, _ = signed_in(app, "triage")

    assert "Statements to approve" in text_of(reviewer.get("/officer").text)
    assert "Statements to approve" not in text_of(triage.get("/officer").text)
    assert triage.get(STATEMENTS).status_code == 403


def test_the_check_blocks_approval_and_the_drafter_may_not_approve(app: Flask) -> None:
    drafter, _ = signed_in(app, "reviewer")
    reference = under_review(app, officer(app, "triage"))
    uphold(drafter, reference, summary=SUMMARY + " Write to ada.testperson@example.org.")
    statement = statement_of(app, reference)
    second = officer(app, "appeal_panel")
    approver = app.test_client()
    assert sign_in(approver, second.email).status_code == 303
    page_path = f"{STATEMENTS}/{statement.id}"

    listed = approver.get(STATEMENTS).text
    page = approver.get(page_path).text
    blocked = approver.post(f"{page_path}/approve", data={k: v for k, v in fields(page).items() if "approve" in k})
    drafters = drafter.get(page_path).text
    forged = drafter.post(f"{page_path}/approve", data={k: v for k, v in fields(page).items() if "approve" in k})

    assert reference in text_of(listed)
    assert "Approval is blocked." in text_of(page)
    assert "The group's e-mail address: “ada.testperson@example.org”, on line 1" in text_of(page)
    assert blocked.status_code == 400
    assert any("ada.testperson@example.org" in m for m in error_summary(blocked.text).values())
    assert "A second officer must approve this statement: you drafted it" in text_of(drafters)
    assert forged.status_code in (400, 403)
    assert statement_of(app, reference).status == "awaiting_approval"


def test_an_approver_corrects_the_summary_and_a_third_officer_approves(app: Flask) -> None:
    drafter, _ = signed_in(app, "reviewer")
    reference = under_review(app, officer(app, "triage"))
    uphold(drafter, reference, summary=SUMMARY + " Ring 01632 960 001.")
    page_path = f"{STATEMENTS}/{statement_of(app, reference).id}"
    second, _ = signed_in(app, "appeal_panel")
    third, _ = signed_in(app, "admin")

    page = second.get(page_path).text
    edit = {k: v for k, v in fields(page).items() if k.startswith("edit-")} | {"edit-summary": SUMMARY}
    saved = second.post(f"{page_path}/summary", data=edit)
    after = second.get(page_path).text
    thirds = third.get(page_path).text
    approved = third.post(f"{page_path}/approve", data={k: v for k, v in fields(thirds).items() if "approve" in k})

    assert saved.status_code == 303
    assert "changed its summary last" in text_of(after)
    assert "The check found no names" in text_of(thirds)
    assert approved.status_code == 303
    assert re.fullmatch(r"DS-2026-[1-9][0-9]{4}", statement_of(app, reference).number or "")


def test_the_claims_console_page_lists_its_statements_with_their_status(app: Flask) -> None:
    drafter, _ = signed_in(app, "reviewer")
    triage = officer(app, "triage")
    reference = under_review(app, triage)
    uphold(drafter, reference)
    statement = statement_of(app, reference)
    claim_path = f"/officer/claims/{reference}"

    drafted = text_of(drafter.get(claim_path).text)
    second, _ = signed_in(app, "appeal_panel")
    page = second.get(f"{STATEMENTS}/{statement.id}").text
    approved = second.post(
        f"{STATEMENTS}/{statement.id}/approve", data={k: v for k, v in fields(page).items() if "approve" in k}
    )
    published = drafter.get(claim_path).text
    triages = app.test_client()
    assert sign_in(triages, triage.email).status_code == 303

    assert "Decision statements Not numbered yet Upheld: awaiting approval, drafted on" in drafted
    assert approved.status_code == 303
    number = statement_of(app, reference).number
    assert f"{number} Upheld: published on" in text_of(published)
    assert (
        f'href="{STATEMENTS}/{statement.id}">Open<span class="govuk-visually-hidden"> decision statement {number}'
        in published
    )
    triage_page = triages.get(claim_path).text
    assert f"{number} Upheld: published on" in text_of(triage_page), "every officer who reads the claim sees it"
    assert f"{STATEMENTS}/{statement.id}" not in triage_page, "only those who may approve open it"


def test_the_summary_is_not_on_the_groups_tracking_page(app: Flask) -> None:
    from guarantee.services.claims import issue_tracking_token

    client, _ = signed_in(app, "reviewer")
    reference = under_review(app, officer(app, "triage"))
    uphold(client, reference)
    with app.app_context(), unit_of_work() as ctx:
        claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
        assert claim is not None
        token = issue_tracking_token(ctx, claim)

    tracking = app.test_client().get(f"/track/{reference}?token={token}", follow_redirects=True)

    assert tracking.status_code == 200
    assert INPUTS["uphold"]["reasons"] in text_of(tracking.text)
    assert SUMMARY not in text_of(tracking.text)


@pytest.mark.parametrize(("answer", "stored"), [("yes", True), ("no", False)])
def test_the_filing_form_asks_whether_a_statement_may_be_published(
    app: Flask, client: FlaskClient, answer: str, stored: bool
) -> None:
    page = client.get("/claims/new/contact").text
    fill_pages(client, VALID_FORM | {"consent_publish": answer})
    check = client.get("/claims/new/check")
    filed = client.post("/claims/new/submit", data=fields(check.text))

    assert "Can we publish an anonymised statement of our decision?" in text_of(page)
    assert "It never names you, your group or anyone else" in text_of(page)
    assert filed.status_code in (200, 303)
    with app.app_context():
        newest = db.session.scalar(select(Claim).order_by(Claim.id.desc()))
        assert newest is not None and newest.consent_publish is stored
