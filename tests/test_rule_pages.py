"""The public rule pages (issue 20, item 4): one per catalogue entry, with how to challenge the
rule, its claims by outcome under the statistics' 10-5 rule, its decision statements, and
following it by e-mail: double opt-in through the outbox and the real sender, one-click
unsubscribe (RFC 8058), lapsed requests swept away, and the sweep's update e-mail sent once.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AdminEvent, OutboxMessage, Regulation, RuleSubscription, RuleSubscriptionToken
from guarantee.services import following, regulations
from guarantee.services.audit import text_digest
from tests.helpers import make_officer
from tests.support.filing import page_csrf
from tests.support.rules import add_claims, add_rule, publish_statement
from tests.test_notifications import Inbox, html_of, notify, text_of

FOLLOWER = "reader@example.net"


def words(html: str) -> str:
    """The page's text, tags and spacing taken out."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def follow(client: FlaskClient, slug: str, email: str = FOLLOWER) -> str:
    page = client.get(f"/rules/{slug}")
    response = client.post(f"/rules/{slug}/follow", data={"email": email, "csrf_token": page_csrf(page.text)})
    assert response.status_code == 200, response.text
    return words(response.text)


def link_in(text: str, path: str) -> str:
    found = re.search(rf"http://guarantee\.test({path}/[A-Za-z0-9_-]+)", text)
    assert found, f"a link to {path}/... in:\n{text}"
    return found[1]


def rows(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# --- the page -----------------------------------------------------------------------------


def test_a_rule_page_shows_its_reference_its_issuing_body_and_how_to_challenge_it(app: Flask, client: FlaskClient):
    route = "Write to the Food Standards Agency's appeals team within 21 days of the decision."
    _, slug = add_rule(
        app,
        "Food premises registration",
        legal_reference="Regulation (EC) 852/2004",
        issuing_body="Food Standards Agency",
        challenge_route=route,
    )
    page = words(client.get(f"/rules/{slug}").text)
    assert "Food premises registration" in page
    assert "Regulation (EC) 852/2004" in page
    assert "How to challenge this rule with Food Standards Agency" in page
    assert route in page
    assert "No claims about this rule have been filed yet" in page
    assert "No decision statements about this rule are published yet" in page
    assert f'href="/decisions.atom?rule={slug}"' in client.get(f"/rules/{slug}").text


def test_without_a_challenge_route_the_page_points_to_the_issuing_bodys_complaints_route(app, client):
    _, slug = add_rule(app, "Premises licence", issuing_body="Lambeth Council")
    page = words(client.get(f"/rules/{slug}").text)
    assert "Ask Lambeth Council how to complain about or appeal against" in page
    assert "Regulators' Code" in page


def test_fewer_than_ten_claims_about_a_rule_show_no_outcomes(app, client):
    regulation_id, slug = add_rule(app, "Volunteer DBS checks")
    add_claims(app, regulation_id, "upheld", 3)
    page = words(client.get(f"/rules/{slug}").text)
    assert "Fewer than 10 claims about this rule have been filed" in page
    assert "Where the claims are now" not in page
    assert " 3 " not in page


def test_claims_by_outcome_are_rounded_to_five_and_counts_under_ten_are_hidden(app, client):
    regulation_id, slug = add_rule(app, "Food hygiene rating display")
    add_claims(app, regulation_id, "upheld", 12)
    add_claims(app, regulation_id, "not_upheld", 14)
    page = words(client.get(f"/rules/{slug}").text)
    assert "About 25 claims about this rule have been filed" in page  # 26, to the nearest 5
    assert "Upheld 10" in page  # 12
    assert "Not upheld 15" in page  # 14
    assert "Being considered 0" in page
    assert "12" not in page and "14" not in page and "26" not in page
    add_claims(app, regulation_id, "declined", 2)
    page = words(client.get(f"/rules/{slug}").text)
    assert "Declined Not shown" in page  # 2: hidden
    assert "10 or more claims about this rule have been filed" in page  # 28 would give the 2 away


def test_a_small_rule_whose_claims_all_had_one_outcome_shows_no_outcome(app, client):
    regulation_id, slug = add_rule(app, "Allotment water use")
    add_claims(app, regulation_id, "upheld", 11)
    page = words(client.get(f"/rules/{slug}").text)
    assert "10 or more claims about this rule" in page
    assert "Upheld Not shown" in page  # all 11 upheld would tell each group the others' outcome


def test_a_merged_entrys_page_moves_permanently_to_the_entry_it_was_merged_into(app, client):
    duplicate_id, duplicate = add_rule(app, "Food premises registraton")
    into_id, into = add_rule(app, "Food premises registration")
    with app.app_context(), unit_of_work() as ctx:
        regulations.merge(ctx, make_officer(ctx, "admin"), duplicate_id, into_id)
    response = client.get(f"/rules/{duplicate}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/rules/{into}"


def test_an_unknown_rule_is_a_plain_404_page(client):
    response = client.get("/rules/no-such-rule")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert client.get("/rules/" + "x" * 200).status_code == 404


def test_the_list_of_rules_shows_only_entries_with_claims_and_can_be_searched(app, client):
    with_claims, _ = add_rule(app, "Food premises registration", issuing_body="Food Standards Agency")
    add_claims(app, with_claims, "being_considered", 1)
    add_rule(app, "A rule nobody claimed about")
    other, _ = add_rule(app, "Premises licence", issuing_body="Lambeth Council")
    add_claims(app, other, "being_considered", 1)
    listed = words(client.get("/rules").text)
    assert "Food premises registration" in listed and "Premises licence" in listed
    assert "A rule nobody claimed about" not in listed
    searched = words(client.get("/rules?q=standards").text)
    assert "Food premises registration" in searched and "Premises licence" not in searched
    assert "No rule matches" in words(client.get("/rules?q=zebra").text)


# --- following by e-mail -------------------------------------------------------------------


def test_following_by_email_is_confirmed_then_told_of_new_statements_then_stopped_with_one_click(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
):
    app, client = mailing_app, mailing_app.test_client()
    regulation_id, slug = add_rule(app, "Food premises registration")
    [claim_id] = add_claims(app, regulation_id, "upheld", 1)
    assert "Check your email" in follow(client, slug)
    notify(app)
    [asked] = inbox.to(FOLLOWER)
    assert asked["Subject"] == "Confirm you want e-mails about a rule"
    assert "Food premises registration" in text_of(asked)
    stop = link_in(text_of(asked), "/unsubscribe")
    assert asked["List-Unsubscribe"] == f"<http://guarantee.test{stop}>"
    assert asked["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    confirm = link_in(text_of(asked), "/follow")
    opened = client.get(confirm)
    assert "Confirm you want emails about this rule" in words(opened.text)
    with app.app_context():
        assert db.session.scalar(select(RuleSubscription.confirmed_at)) is None, "opening the link confirms nothing"
    confirmed = client.post(confirm, data={"csrf_token": page_csrf(opened.text)})
    assert "You are following this rule" in words(confirmed.text)
    with app.app_context():
        stored = db.session.scalars(select(RuleSubscription)).one()
        assert stored.email == FOLLOWER and stored.confirmed_at is not None
        hashes = db.session.scalars(select(RuleSubscriptionToken.token_hash)).all()
        assert following.token_hash(stop.rsplit("/", 1)[1]) in hashes
        assert all(len(h) == 64 for h in hashes)

    clock.advance(days=1)
    number = publish_statement(app, regulation_id, claim_id, clock.now())
    with app.app_context(), unit_of_work() as ctx:
        assert following.queue_rule_updates(ctx, lambda session, statement: True) == 1
    notify(app)
    update = inbox.to(FOLLOWER)[-1]
    assert update["Subject"] == "New decision about Food premises registration"
    assert f"{number}: http://guarantee.test/decisions/{number}" in text_of(update)
    assert f'href="http://guarantee.test/decisions/{number}"' in html_of(update)
    stop = link_in(text_of(update), "/unsubscribe")
    assert update["List-Unsubscribe"] == f"<http://guarantee.test{stop}>"
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A mail program's one-click POST: no CSRF token, no sign-in.
    response = client.post(stop, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert rows(app, RuleSubscription) == 0 and rows(app, RuleSubscriptionToken) == 0
    clock.advance(days=1)
    publish_statement(app, regulation_id, claim_id, clock.now())
    with app.app_context(), unit_of_work() as ctx:
        assert following.queue_rule_updates(ctx, lambda session, statement: True) == 0


def test_the_unsubscribe_link_opens_a_page_with_one_button(app: Flask, client: FlaskClient):
    _, slug = add_rule(app, "Premises licence")
    follow(client, slug)
    with app.app_context(), unit_of_work() as ctx:
        subscription_id = ctx.session.scalar(select(RuleSubscription.id))
        assert subscription_id is not None
        token = following.mint(ctx, subscription_id, "unsubscribe")
    page = client.get(f"/unsubscribe/{token}")
    assert "Stop emails about this rule" in words(page.text) and "Premises licence" in words(page.text)
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert rows(app, RuleSubscription) == 1, "opening the page stops nothing"
    assert client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert rows(app, RuleSubscription) == 0
    again = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200 and "You will get no more emails" in words(again.text)
    assert client.post(f"/unsubscribe/{token}", data={}).status_code == 400


def test_asking_to_follow_says_the_same_whether_or_not_the_address_follows_already(app, client, clock):
    _, slug = add_rule(app, "Premises licence")
    first = follow(client, slug)
    with app.app_context(), unit_of_work() as ctx:
        ctx.session.execute(
            RuleSubscription.__table__.update().values(confirmed_at=ctx.now(), expires_at=None, told_until=ctx.now())
        )
    clock.advance(hours=1)
    again = follow(client, slug)
    assert again == first
    assert rows(app, OutboxMessage) == 1, "one confirmation e-mail only, for the first request"
    other = follow(client, slug, "someone.else@example.net")
    assert other == first


def test_an_address_that_is_not_one_is_a_form_error(app, client):
    _, slug = add_rule(app, "Premises licence")
    page = client.get(f"/rules/{slug}")
    response = client.post(
        f"/rules/{slug}/follow", data={"email": "not an address", "csrf_token": page_csrf(page.text)}
    )
    assert response.status_code == 400
    assert "Enter an email address in the correct format" in words(response.text)
    assert rows(app, RuleSubscription) == 0


def test_an_unconfirmed_request_lapses_after_seven_days_and_the_sweep_deletes_it(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
):
    app, client = mailing_app, mailing_app.test_client()
    _, slug = add_rule(app, "Premises licence")
    follow(client, slug)
    notify(app)
    confirm = link_in(text_of(inbox.to(FOLLOWER)[0]), "/follow")
    clock.advance(days=7, minutes=1)
    assert client.get(confirm).status_code == 404
    result = app.test_cli_runner().invoke(args=["guarantee", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 request(s) to follow a rule" in result.output
    assert rows(app, RuleSubscription) == 0 and rows(app, RuleSubscriptionToken) == 0


def test_the_follow_form_is_rate_limited(make_app):
    app = make_app(GUARANTEE_TOKEN_RATE_LIMIT="2 per minute")
    _, slug = add_rule(app, "Premises licence")
    client = app.test_client()
    page = client.get(f"/rules/{slug}")
    sent = [
        client.post(f"/rules/{slug}/follow", data={"email": f"n{i}@example.net", "csrf_token": page_csrf(page.text)})
        for i in range(3)
    ]
    assert [r.status_code for r in sent] == [200, 200, 429]


def test_the_sweep_tells_each_follower_once_of_shown_published_statements_only(app: Flask, clock: FixedClock):
    regulation_id, slug = add_rule(app, "Food premises registration")
    other_id, _ = add_rule(app, "Premises licence")
    [claim_id] = add_claims(app, regulation_id, "upheld", 1)
    client = app.test_client()
    follow(client, slug)
    with app.app_context(), unit_of_work() as ctx:
        ctx.session.execute(
            RuleSubscription.__table__.update().values(confirmed_at=ctx.now(), expires_at=None, told_until=ctx.now())
        )
    publish_statement(app, regulation_id, claim_id, clock.now() - timedelta(days=1))  # before following
    clock.advance(hours=1)
    shown = publish_statement(app, regulation_id, claim_id, clock.now())
    held_back = publish_statement(app, regulation_id, claim_id, clock.now())
    publish_statement(app, regulation_id, claim_id, clock.now(), status="withdrawn")
    publish_statement(app, other_id, claim_id, clock.now())  # another rule's

    def is_shown(session, statement):
        return statement.number != held_back

    with app.app_context(), unit_of_work() as ctx:
        assert following.queue_rule_updates(ctx, is_shown) == 1
    with app.app_context(), unit_of_work() as ctx:
        assert following.queue_rule_updates(ctx, is_shown) == 0, "told once"
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "rule_update")).all()
        assert message.payload["numbers"] == [shown]
        assert message.recipient_type == "follower"
        assert FOLLOWER not in str(message.payload), "the address is looked up when sending"


def test_an_email_to_someone_who_stopped_following_is_not_sent(mailing_app: Flask, inbox: Inbox):
    app, client = mailing_app, mailing_app.test_client()
    _, slug = add_rule(app, "Premises licence")
    follow(client, slug)
    with app.app_context(), unit_of_work() as ctx:
        subscription_id = ctx.session.scalar(select(RuleSubscription.id))
        assert subscription_id is not None
        token = following.mint(ctx, subscription_id, "unsubscribe")
    client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    notify(app)
    assert inbox.to(FOLLOWER) == []
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.status)) == "skipped"


# --- officers edit how to challenge a rule -------------------------------------------------


def test_officers_write_how_to_challenge_a_rule_and_the_admin_log_records_it(app: Flask, client: FlaskClient):
    regulation_id, slug = add_rule(app, "Premises licence", issuing_body="Lambeth Council")
    route = "Appeal to the magistrates' court within 21 days of the council's decision."
    with app.app_context(), unit_of_work() as ctx:
        officer = make_officer(ctx, "triage")
        entry = ctx.session.get(Regulation, regulation_id)
        assert entry is not None
        data = {"title": entry.title, "issuing_body": entry.issuing_body, "category": entry.category}
        regulations.correct(ctx, officer, regulation_id, data | {"challenge_route": route})
    with app.app_context():
        event = db.session.scalars(select(AdminEvent).where(AdminEvent.action == "regulation_corrected")).one()
        assert event.payload == {"challenge_route": {"sha256": text_digest(route)}}
    assert route in words(client.get(f"/rules/{slug}").text)


def test_the_console_catalogue_page_edits_how_to_challenge_a_rule_and_links_to_its_public_page(app: Flask):
    from tests.test_console import signed_in
    from tests.test_public import fields

    regulation_id, slug = add_rule(app, "Premises licence", issuing_body="Lambeth Council")
    client, _ = signed_in(app, "triage")
    page = client.get(f"/officer/regulations/{regulation_id}")
    assert "How to challenge this rule (optional)" in words(page.text)
    assert f'href="/rules/{slug}"' in page.text
    route = "Appeal to the magistrates' court within 21 days.\r\n\r\nOr ask the licensing team to review it."
    sent = client.post(f"/officer/regulations/{regulation_id}", data=fields(page.text) | {"challenge_route": route})
    assert sent.status_code == 303
    public = client.get(f"/rules/{slug}").text
    assert '<p class="govuk-body app-break-anywhere">Appeal to the magistrates&#39; court within 21 days.</p>' in public
    assert "Or ask the licensing team to review it." in words(public)
