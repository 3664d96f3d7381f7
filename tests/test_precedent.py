"""Precedent when filing (issue 20, item 5): once a group names the rule that blocks it, the
claim form offers the closest catalogue entries with what was decided about them, under the
10-5 rule, and the group may choose one. The choice is a suggestion for triage, kept on the claim
as regulation_chosen_id; it never classifies the claim. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim
from guarantee.public.forms import PAGES
from guarantee.services import rule_pages
from tests.support.filing import CHECK_PAGE, SUBMIT, answer_page, page_csrf
from tests.support.rules import add_claims, add_rule
from tests.test_public import REFERENCE, VALID_FORM, fields, text_of

SIMILAR = "/claims/new/similar-rules"


def answer_up_to_the_rule(client: FlaskClient, **overrides: str) -> str:
    """Answer the pages up to and including the rule's: where the form goes next."""
    answers = {**VALID_FORM, **overrides}
    for page in PAGES:
        response = answer_page(client, page.slug, answers)
        assert response.status_code == 303, text_of(response.text)[:400]
        if page.slug == "rule":
            return str(response.headers["Location"])
    raise AssertionError("the form has a rule page")


def answer_the_rest(client: FlaskClient, checked: list[str] | None = None) -> str:
    """Answer the pages after the rule's and file the claim: its reference (``checked`` gets the
    words of the check-your-answers page)."""
    at = [p.slug for p in PAGES].index("rule")
    for page in PAGES[at + 1 :]:
        assert answer_page(client, page.slug, VALID_FORM).status_code == 303
    checking = client.get(CHECK_PAGE)
    assert checking.status_code == 200
    if checked is not None:
        checked.append(text_of(checking.text))
    filed = client.post(SUBMIT, data=fields(checking.text))
    assert filed.status_code == 200, text_of(filed.text)[:400]
    found = REFERENCE.search(text_of(filed.text))
    assert found
    return found[0]


def chosen(app: Flask, reference: str) -> tuple[int | None, int | None]:
    with app.app_context():
        row = db.session.execute(
            select(Claim.regulation_chosen_id, Claim.regulation_id).where(Claim.reference == reference)
        ).one()
        return row[0], row[1]


def test_naming_a_known_rule_offers_the_closest_entries_with_their_decided_claims(app: Flask, client: FlaskClient):
    ratios, _ = add_rule(app, "Early years staffing ratios", issuing_body="Ofsted")
    add_claims(app, ratios, "upheld", 12)
    add_claims(app, ratios, "not_upheld", 11)
    qualifications, _ = add_rule(app, "Early years staff qualifications", issuing_body="Ofsted")
    add_claims(app, qualifications, "upheld", 3)
    add_rule(app, "Food premises registration")  # nothing like it
    assert answer_up_to_the_rule(client) == SIMILAR
    page = text_of(client.get(SIMILAR).text)
    assert "Early years staffing ratios" in page
    assert "About 25 decided claims about this rule: about 10 upheld" in page  # 23 and 12, rounded
    assert "Early years staff qualifications" in page
    assert "Fewer than 10 decided claims about this rule" in page  # 3: not said
    assert "Food premises registration" not in page
    assert "It is not one of these" in page


def test_the_entry_a_group_chooses_is_kept_as_a_suggestion_for_triage(app: Flask, client: FlaskClient):
    ratios, _ = add_rule(app, "Early years staffing ratios", issuing_body="Ofsted")
    answer_up_to_the_rule(client)
    opened = client.get(SIMILAR)
    chose = client.post(SIMILAR, data={"precedent_regulation": str(ratios), "csrf_token": page_csrf(opened.text)})
    assert chose.status_code == 303 and chose.headers["Location"] == "/claims/new/barrier"
    assert f'value="{ratios}" checked' in client.get(SIMILAR).text.replace('checked=""', "checked")
    checked: list[str] = []
    reference = answer_the_rest(client, checked)
    assert "The rule in our list Early years staffing ratios" in checked[0]
    assert chosen(app, reference) == (ratios, None), "a suggestion: triage classifies the claim"
    with app.app_context():
        filed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "submitted")).one()
        assert filed.payload["regulation_chosen"] == ratios, "the claim's audit chain records the choice"
    with app.app_context(), unit_of_work() as ctx:
        assert rule_pages.chosen_by_group(ctx, reference) == "Early years staffing ratios"


def test_a_group_may_choose_none_of_these_or_nothing(app: Flask, client: FlaskClient):
    add_rule(app, "Early years staffing ratios")
    answer_up_to_the_rule(client)
    opened = client.get(SIMILAR)
    assert (
        client.post(SIMILAR, data={"precedent_regulation": "none", "csrf_token": page_csrf(opened.text)}).status_code
        == 303
    )
    assert chosen(app, answer_the_rest(client)) == (None, None)
    other = app.test_client()
    answer_up_to_the_rule(other)
    opened = other.get(SIMILAR)
    assert other.post(SIMILAR, data={"csrf_token": page_csrf(opened.text)}).status_code == 303
    assert chosen(app, answer_the_rest(other)) == (None, None)


def test_an_entry_that_was_not_offered_cannot_be_chosen(app: Flask, client: FlaskClient):
    add_rule(app, "Early years staffing ratios")
    unrelated, _ = add_rule(app, "Food premises registration")
    answer_up_to_the_rule(client)
    opened = client.get(SIMILAR)
    refused = client.post(SIMILAR, data={"precedent_regulation": str(unrelated), "csrf_token": page_csrf(opened.text)})
    assert refused.status_code == 400
    assert "Select one of the rules listed, or say it is not one of these" in text_of(refused.text)
    for nonsense in ("99999999999", "-1", "x"):
        assert (
            client.post(
                SIMILAR, data={"precedent_regulation": nonsense, "csrf_token": page_csrf(opened.text)}
            ).status_code
            == 400
        )


def test_with_no_similar_rule_in_the_catalogue_the_form_goes_straight_on(app: Flask, client: FlaskClient):
    add_rule(app, "Food premises registration")
    assert answer_up_to_the_rule(client) == "/claims/new/barrier"
    assert client.get(SIMILAR).headers["Location"] == "/claims/new/barrier"


def test_renaming_the_rule_forgets_the_entry_chosen_for_the_old_name(app: Flask, client: FlaskClient):
    ratios, _ = add_rule(app, "Early years staffing ratios")
    answer_up_to_the_rule(client)
    opened = client.get(SIMILAR)
    client.post(SIMILAR, data={"precedent_regulation": str(ratios), "csrf_token": page_csrf(opened.text)})
    assert answer_up_to_the_rule(client, barrier_regulation="Bin collection days") == "/claims/new/barrier"
    assert chosen(app, answer_the_rest(client)) == (None, None)
