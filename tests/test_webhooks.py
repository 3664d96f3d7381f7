"""Signed webhooks (issue 24): written with the change, delivered by the worker, signed per the
Standard Webhooks specification and verified by the receiver in tools/, retried with backoff,
an endpoint turned off after repeated failures, a 30-day delivery log, and never aimed at the
service's own machine or a private network unless configuration allows it."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guarantee.clock import FixedClock
from guarantee.config import _webhook_settings
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AdminEvent, WebhookAttempt, WebhookEndpoint, WebhookMessage
from guarantee.services.claims import submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, ValidationFailed
from guarantee.services.two_step_secrets import TwoStepKey, seal
from guarantee.webhooks import delivery, endpoints, urls
from tests.helpers import Cast, make_officer, submission, walk
from tests.test_console import signed_in
from tests.test_public import csrf, text_of
from tools.webhook_receiver import Receiver

ALL_EVENTS = ["claim.submitted", "claim.moved", "decision_statement.published", "statistics_release.published"]
OPEN = urls.Policy(allow_http=True, allow_private=True)  # for a receiver on this machine
STRICT = urls.Policy()


def public_dns(host: str, port: int) -> list[str]:
    """A resolver for names in tests: every name is a public address (a fixed one)."""
    return ["93.184.215.14"] if host != "loopback.example" else ["127.0.0.1"]


@pytest.fixture
def key() -> TwoStepKey:
    return TwoStepKey(secrets.token_bytes(32), "test")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), endpoints.new_secret(), quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def add_endpoint(
    ctx: ServiceContext,
    key: TwoStepKey,
    url: str = "https://crm.example/in",
    events: list[str] | None = None,
    policy: urls.Policy = STRICT,
) -> endpoints.Added:
    admin = make_officer(ctx, "admin")
    return endpoints.add(
        ctx,
        admin,
        key,
        policy,
        url=url,
        description="Casework CRM",
        events=events or ALL_EVENTS,
        resolver=public_dns,
    )


def to_receiver(ctx: ServiceContext, key: TwoStepKey, receiver: Receiver, events: list[str] | None = None) -> int:
    """An endpoint aimed at the test receiver, with the receiver's secret."""
    added = add_endpoint(ctx, key, receiver.url, events, OPEN)
    use_secret(ctx, key, added.endpoint, receiver.secret)
    return added.endpoint.id


def use_secret(ctx: ServiceContext, key: TwoStepKey, endpoint: WebhookEndpoint, secret: str) -> None:
    """The endpoint signs with ``secret`` (the receiver's, made before the endpoint was)."""
    endpoint.secret = seal(key, endpoint.id, endpoints.COLUMN, secret, table=endpoints.TABLE)
    ctx.session.flush()


@contextmanager
def in_session(ctx: ServiceContext) -> Iterator[ServiceContext]:
    """The worker's transactions, as savepoints of the test's own (rolled back after it)."""
    yield ctx
    ctx.session.flush()


def deliver(ctx: ServiceContext, key: TwoStepKey, **options: Any) -> delivery.Outcome:
    options.setdefault("resolver", public_dns)
    return delivery.deliver_batch(lambda: in_session(ctx), key, OPEN, **options)


def messages(session: Session, **where: Any) -> list[WebhookMessage]:
    query = select(WebhookMessage).filter_by(**where).order_by(WebhookMessage.id)
    return list(session.scalars(query))


# --- events, written with the change ------------------------------------------------------


def test_a_submitted_claim_writes_one_message_per_endpoint_that_wants_it(ctx: ServiceContext, key: TwoStepKey) -> None:
    wanting = add_endpoint(ctx, key, events=["claim.submitted"]).endpoint
    add_endpoint(ctx, key, "https://reports.example.org/in", events=["statistics_release.published"])
    filed = submit_claim(ctx, submission())
    written = messages(ctx.session)
    assert [(m.endpoint_id, m.event_type, m.status) for m in written] == [(wanting.id, "claim.submitted", "pending")]
    message = written[0]
    assert message.message_id.startswith("msg_")
    assert message.payload["type"] == "claim.submitted"
    assert message.payload["data"] == {"claim": filed.reference, "state": filed.claim.state}
    assert message.next_attempt_at == ctx.now()


def test_a_claim_moving_writes_its_trigger_and_both_states(ctx: ServiceContext, key: TwoStepKey) -> None:
    add_endpoint(ctx, key, events=["claim.moved"])
    filed = submit_claim(ctx, submission())
    before = filed.claim.state
    fired = walk(ctx, Cast(ctx), filed.reference, "accept")
    assert fired is not None
    (moved,) = messages(ctx.session, event_type="claim.moved")
    assert moved.payload["data"] == {
        "claim": filed.reference,
        "trigger": "accept",
        "from_state": before,
        "to_state": fired.claim.state,
        "seq": fired.event.seq,
    }


def test_payloads_hold_references_and_codes_never_personal_data(ctx: ServiceContext, key: TwoStepKey) -> None:
    add_endpoint(ctx, key)
    personal = {
        "contact_name": "Rhiannon Pryce-Unique",
        "email": "rhiannon.unique@example.org",
        "phone": "07700 900123",
    }
    filed = submit_claim(ctx, submission(group=personal))
    walk(ctx, Cast(ctx), filed.reference, "accept")
    written = messages(ctx.session)
    assert {m.event_type for m in written} == {"claim.submitted", "claim.moved"}
    text = json.dumps([m.payload for m in written])
    for value in [
        *personal.values(),
        submission()["group"]["name"],
        submission()["initiative"]["title"],
        submission()["barrier"]["how_it_blocks"],
    ]:
        assert value not in text


def test_nothing_is_written_when_the_change_is_rolled_back(app: Flask) -> None:
    with app.app_context():
        key = app.extensions["guarantee.two_step_key"]
        with unit_of_work() as ctx:
            add_endpoint(ctx, key)
        with pytest.raises(RuntimeError), unit_of_work() as ctx:
            submit_claim(ctx, submission())
            assert messages(ctx.session)  # written in the change's transaction...
            raise RuntimeError("the request failed after the change")
        assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 0  # ...and undone with it
        with unit_of_work() as ctx:
            submit_claim(ctx, submission())
        assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 1


# --- delivery ---------------------------------------------------------------------------


def test_the_receiver_verifies_every_signature_and_the_message_is_delivered(
    ctx: ServiceContext, key: TwoStepKey, receiver: Receiver
) -> None:
    endpoint_id = to_receiver(ctx, key, receiver)
    filed = submit_claim(ctx, submission())
    outcome = deliver(ctx, key)
    (message,) = messages(ctx.session)
    assert outcome.delivered == [message.message_id]
    assert message.status == "delivered" and message.delivered_at == ctx.now()
    assert receiver.rejected == 0
    (got,) = receiver.verified
    assert got["webhook_id"] == message.message_id
    assert got["event"]["type"] == "claim.submitted"
    assert got["event"]["data"]["claim"] == filed.reference
    (line,) = endpoints.delivery_log(ctx, make_officer(ctx, "admin"), endpoint_id)
    assert (line.outcome, line.http_status, line.attempt, line.message_id) == ("delivered", 204, 1, message.message_id)


def test_a_wrong_secret_is_rejected_by_the_receiver_with_400(
    ctx: ServiceContext, key: TwoStepKey, receiver: Receiver
) -> None:
    add_endpoint(ctx, key, receiver.url, ["claim.submitted"], OPEN)  # a secret the receiver does not know
    submit_claim(ctx, submission())
    outcome = deliver(ctx, key)
    (message,) = messages(ctx.session)
    assert outcome.retried == [message.message_id]
    assert receiver.verified == [] and receiver.rejected == 1
    (attempt,) = ctx.session.scalars(select(WebhookAttempt)).all()
    assert (attempt.outcome, attempt.http_status) == ("failed", 400)


def test_a_retry_keeps_the_webhook_id_after_a_backoff(
    ctx: ServiceContext, key: TwoStepKey, clock: FixedClock, receiver: Receiver
) -> None:
    to_receiver(ctx, key, receiver, ["claim.submitted"])
    submit_claim(ctx, submission())
    sent: list[str] = []

    def unavailable(request: delivery.Request) -> delivery.Answer:
        sent.append(request.headers["webhook-id"])
        return delivery.Answer(503, "HTTP 503 Service Unavailable")

    deliver(ctx, key, send=unavailable)
    (message,) = messages(ctx.session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == ctx.now() + timedelta(minutes=1)
    assert deliver(ctx, key).handled == 0  # not due yet
    clock.advance(minutes=1)
    deliver(ctx, key, send=unavailable)
    assert message.next_attempt_at == ctx.now() + timedelta(minutes=2)  # 1, 2, 4 ... minutes
    clock.advance(minutes=2)
    deliver(ctx, key)
    assert message.status == "delivered" and message.attempts == 3
    assert sent == [message.message_id, message.message_id]
    assert [r["webhook_id"] for r in receiver.verified] == [message.message_id]


def test_backoff_doubles_up_to_four_hours() -> None:
    assert [delivery.backoff(n) for n in (1, 2, 3, 8, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=128),
        timedelta(hours=4),
    ]


def test_a_worker_that_stopped_mid_delivery_leaves_it_for_the_next_with_the_same_id(
    ctx: ServiceContext, key: TwoStepKey, clock: FixedClock, receiver: Receiver
) -> None:
    to_receiver(ctx, key, receiver, ["claim.submitted"])
    submit_claim(ctx, submission())
    claimed = delivery.claim_batch(ctx, 10, "a-worker-that-died")
    (message,) = messages(ctx.session)
    assert claimed == [message.id] and message.status == "sending"
    assert deliver(ctx, key).handled == 0  # its lease still holds
    clock.advance(minutes=3)  # the lease ran out
    outcome = deliver(ctx, key)
    assert outcome.delivered == [message.message_id]
    assert [r["webhook_id"] for r in receiver.verified] == [message.message_id]


def test_an_endpoint_is_turned_off_after_repeated_failures_and_its_messages_wait(
    ctx: ServiceContext, key: TwoStepKey, receiver: Receiver
) -> None:
    endpoint_id = to_receiver(ctx, key, receiver, ["claim.submitted"])
    for _ in range(delivery.TURN_OFF_AFTER + 1):
        submit_claim(ctx, submission())

    def refused(request: delivery.Request) -> delivery.Answer:
        return delivery.Answer(500, "HTTP 500 Internal Server Error")

    outcome = deliver(ctx, key, send=refused, max_attempts=1, limit=delivery.TURN_OFF_AFTER)
    endpoint = ctx.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None and endpoint.turned_off_at == ctx.now()
    assert outcome.turned_off == [endpoint_id] and len(outcome.failed) == delivery.TURN_OFF_AFTER
    logged = ctx.session.scalars(select(AdminEvent).where(AdminEvent.action == "webhook_turned_off")).all()
    assert [e.payload["endpoint"] for e in logged] == [endpoint_id]
    assert deliver(ctx, key).handled == 0  # the last message waits while the endpoint is off
    admin = make_officer(ctx, "admin")
    assert endpoints.turn_on(ctx, admin, endpoint_id)
    assert deliver(ctx, key).delivered == [messages(ctx.session, status="delivered")[0].message_id]
    assert endpoint.consecutive_failures == 0


def test_the_url_is_checked_again_at_delivery(ctx: ServiceContext, key: TwoStepKey) -> None:
    endpoint = add_endpoint(ctx, key, "https://rebinding.example/hook", ["claim.submitted"]).endpoint
    submit_claim(ctx, submission())
    posted: list[delivery.Request] = []

    def rebound(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]  # the name now points at the cloud's metadata service

    def never(request: delivery.Request) -> delivery.Answer:
        posted.append(request)
        return delivery.Answer(204, None)

    delivery.deliver_batch(lambda: in_session(ctx), key, STRICT, send=never, resolver=rebound)
    assert posted == []
    (attempt,) = ctx.session.scalars(select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id)).all()
    assert attempt.outcome == "failed" and attempt.error is not None and "link-local" in attempt.error


def test_the_post_goes_to_the_address_that_was_checked(
    ctx: ServiceContext, key: TwoStepKey, receiver: Receiver
) -> None:
    """A name is resolved once, checked, and the connection made to that address (no rebinding)."""
    port = receiver.server_address[1]
    added = add_endpoint(ctx, key, f"http://receiver.example:{port}/webhooks", ["claim.submitted"], OPEN)
    use_secret(ctx, key, added.endpoint, receiver.secret)
    submit_claim(ctx, submission())
    deliver(ctx, key, resolver=lambda host, port: ["127.0.0.1"])  # receiver.example is not in any DNS
    assert len(receiver.verified) == 1


def test_the_delivery_log_is_pruned_after_30_days(
    ctx: ServiceContext, key: TwoStepKey, clock: FixedClock, receiver: Receiver
) -> None:
    endpoint_id = to_receiver(ctx, key, receiver, ["claim.submitted"])
    submit_claim(ctx, submission())
    deliver(ctx, key)
    admin = make_officer(ctx, "admin")
    clock.advance(days=29)
    assert delivery.prune(ctx) == 0
    assert len(endpoints.delivery_log(ctx, admin, endpoint_id)) == 1
    clock.advance(days=2)
    assert delivery.prune(ctx) == 1
    assert ctx.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0
    assert ctx.session.scalar(select(func.count()).select_from(WebhookMessage)) == 0


# --- where webhooks may go (SSRF) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private network"),
        ("https://192.168.0.10/hook", "private network"),
        ("https://100.64.0.1/hook", "private network"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:127.0.0.1]/hook", "IPv4 address written as IPv6"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://loopback.example/hook", "loopback"),
        ("http://crm.example.org/hook", "must start with https://"),
        ("ftp://crm.example.org/hook", "starting with https://"),
        ("https://user:pass@crm.example.org/hook", "user name or password"),
        ("crm.example.org/hook", "starting with https://"),
        ("", "Enter the URL"),
    ],
)
def test_a_url_that_is_not_public_https_is_refused_saying_why(url: str, says: str) -> None:
    with pytest.raises(urls.Refused) as refused:
        urls.check(url, STRICT, public_dns)
    assert says in refused.value.reason


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(urls.Refused) as refused:
        urls.check("https://nowhere.example/hook", STRICT, lambda host, port: [])
    assert refused.value.reason == "The host nowhere.example could not be found. Check the URL."


def test_configuration_can_allow_http_and_private_addresses() -> None:
    target = urls.check("http://127.0.0.1:9000/webhooks?x=1", OPEN, public_dns)
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "http",
        "127.0.0.1",
        9000,
        "/webhooks?x=1",
        "127.0.0.1",
    )
    assert urls.check("https://crm.example.org/in", STRICT, public_dns).address == "93.184.215.14"


def test_the_settings_are_read_and_checked() -> None:
    assert _webhook_settings({"GUARANTEE_WEBHOOKS_ALLOW_PRIVATE": "true", "GUARANTEE_WEBHOOKS_ALLOW_HTTP": "no"}) == {
        "GUARANTEE_WEBHOOKS_ALLOW_PRIVATE": True,
        "GUARANTEE_WEBHOOKS_ALLOW_HTTP": False,
    }
    with pytest.raises(ValueError, match="true or false"):
        _webhook_settings({"GUARANTEE_WEBHOOKS_ALLOW_PRIVATE": "perhaps"})
    with pytest.raises(ValueError, match="from 1 to 20"):
        _webhook_settings({"GUARANTEE_WEBHOOKS_MAX_ATTEMPTS": "0"})


# --- endpoints ------------------------------------------------------------------------------


def test_an_endpoint_needs_a_good_url_a_description_and_events(ctx: ServiceContext, key: TwoStepKey) -> None:
    admin = make_officer(ctx, "admin")
    with pytest.raises(ValidationFailed) as failed:
        endpoints.add(ctx, admin, key, STRICT, url="https://10.0.0.1/", description=" ", events=[], resolver=public_dns)
    assert set(failed.value.errors) == {"url", "description", "events"}
    with pytest.raises(ValidationFailed) as failed:
        endpoints.add(
            ctx,
            admin,
            key,
            STRICT,
            url="https://a.example/",
            description="x",
            events=["claim.eaten"],
            resolver=public_dns,
        )
    assert set(failed.value.errors) == {"events"}


def test_only_admins_manage_endpoints(ctx: ServiceContext, key: TwoStepKey) -> None:
    reviewer = make_officer(ctx, "reviewer")
    with pytest.raises(Forbidden):
        endpoints.add(ctx, reviewer, key, STRICT, url="https://a.example/", description="x", events=ALL_EVENTS)
    with pytest.raises(Forbidden):
        endpoints.all_endpoints(ctx, reviewer)


def test_the_secret_is_kept_sealed_and_opens_only_with_the_key(ctx: ServiceContext, key: TwoStepKey) -> None:
    added = add_endpoint(ctx, key)
    assert added.secret.startswith("whsec_") and len(added.secret) >= 6 + 32
    assert added.secret not in added.endpoint.secret and added.endpoint.secret.startswith("v1:")
    assert endpoints.secret_of(key, added.endpoint) == added.secret
    with pytest.raises(endpoints.SecretLost):
        endpoints.secret_of(TwoStepKey(secrets.token_bytes(32), "another"), added.endpoint)
    new = TwoStepKey(secrets.token_bytes(32), "new")
    assert endpoints.rotate(ctx, key, new) == 1
    assert endpoints.secret_of(new, added.endpoint) == added.secret


def test_removing_an_endpoint_removes_its_messages_and_log_and_is_logged(
    ctx: ServiceContext, key: TwoStepKey, receiver: Receiver
) -> None:
    endpoint_id = to_receiver(ctx, key, receiver)
    submit_claim(ctx, submission())
    deliver(ctx, key)
    submit_claim(ctx, submission())
    endpoints.remove(ctx, make_officer(ctx, "admin"), endpoint_id)
    assert ctx.session.get(WebhookEndpoint, endpoint_id) is None
    assert messages(ctx.session) == []
    removed = ctx.session.scalars(select(AdminEvent).where(AdminEvent.action == "webhook_removed")).one()
    assert removed.payload["undelivered"] == 1


# --- the console ----------------------------------------------------------------------------


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app: Flask) -> None:
    app.config["GUARANTEE_WEBHOOKS_ALLOW_PRIVATE"] = app.config["GUARANTEE_WEBHOOKS_ALLOW_HTTP"] = True
    client, _ = signed_in(app, "admin")
    page = client.get("/officer/webhooks/new")
    assert page.status_code == 200
    answer = client.post(
        "/officer/webhooks/new",
        data={
            "csrf_token": csrf(page.text),
            "url": "http://127.0.0.1:9000/webhooks",
            "description": "Casework CRM",
            "events": ["claim.submitted", "claim.moved"],
        },
    )
    assert answer.status_code == 200
    secret = answer.text.split('id="webhook-secret">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    assert "shown only once" in text_of(answer.text)
    with app.app_context():
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.events == ["claim.submitted", "claim.moved"]
        assert secret not in endpoint.secret
        assert db.session.scalars(select(AdminEvent.action)).all()[-1] == "webhook_added"
    listing = client.get("/officer/webhooks")
    assert "Casework CRM" in listing.text and secret not in listing.text
    shown = client.get(f"/officer/webhooks/{endpoint.id}")
    assert shown.status_code == 200 and secret not in shown.text
    assert "http://127.0.0.1:9000/webhooks" in shown.text


def test_a_refused_url_gets_a_clear_form_error(app: Flask) -> None:
    client, _ = signed_in(app, "admin")
    page = client.get("/officer/webhooks/new")
    answer = client.post(
        "/officer/webhooks/new",
        data={
            "csrf_token": csrf(page.text),
            "url": "https://127.0.0.1/hook",
            "description": "CRM",
            "events": "claim.moved",
        },
    )
    assert answer.status_code == 400
    said = text_of(answer.text)
    assert "There is a problem" in said
    assert "Webhooks cannot be sent to 127.0.0.1: it is this machine (a loopback address)" in said
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_console_says_when_an_endpoint_was_turned_off_and_an_admin_turns_it_back_on(app: Flask) -> None:
    client, _ = signed_in(app, "admin")
    with app.app_context(), unit_of_work() as ctx:
        added = add_endpoint(ctx, app.extensions["guarantee.two_step_key"])
        added.endpoint.turned_off_at = ctx.now()
        added.endpoint.consecutive_failures = delivery.TURN_OFF_AFTER
        endpoint_id = added.endpoint.id
    listing = text_of(client.get("/officer/webhooks").text)
    assert "1 endpoint was turned off after repeated failures." in listing
    page = client.get(f"/officer/webhooks/{endpoint_id}")
    assert "This endpoint was turned off on" in text_of(page.text)
    done = client.post(f"/officer/webhooks/{endpoint_id}/turn-on", data={"csrf_token": csrf(page.text)})
    assert done.status_code == 303
    after = text_of(client.get(f"/officer/webhooks/{endpoint_id}").text)
    assert "The endpoint is on again" in after and "This endpoint was turned off" not in after
    removed = client.post(f"/officer/webhooks/{endpoint_id}/remove", data={"csrf_token": csrf(page.text)})
    assert removed.status_code == 303
    assert client.get(f"/officer/webhooks/{endpoint_id}").status_code == 404


def test_webhook_pages_are_for_admins_only(app: Flask) -> None:
    client, _ = signed_in(app, "reviewer", "triage", "team_leader")
    for path in ("/officer/webhooks", "/officer/webhooks/new", "/officer/webhooks/1"):
        assert client.get(path).status_code == 403, path
    assert "/officer/webhooks" not in client.get("/officer/queue").text
    anonymous = app.test_client()
    assert anonymous.get("/officer/webhooks").status_code == 302


# --- the worker ---------------------------------------------------------------------------


def test_the_notify_worker_delivers_webhooks_and_sweep_prunes_the_log(
    app: Flask, clock: FixedClock, receiver: Receiver
) -> None:
    app.config["GUARANTEE_WEBHOOKS_ALLOW_PRIVATE"] = app.config["GUARANTEE_WEBHOOKS_ALLOW_HTTP"] = True
    key = app.extensions["guarantee.two_step_key"]
    with app.app_context(), unit_of_work() as ctx:
        to_receiver(ctx, key, receiver, ["claim.submitted"])
        submit_claim(ctx, submission())
    result = app.test_cli_runner().invoke(args=["guarantee", "notify"])
    assert result.exit_code == 0, result.output
    assert "Webhooks: 1 delivered, 0 to try again, 0 failed." in result.output
    assert len(receiver.verified) == 1 and receiver.rejected == 0
    clock.advance(days=31)
    swept = app.test_cli_runner().invoke(args=["guarantee", "sweep"])
    assert "Removed 1 webhook delivery log line(s) older than 30 days." in swept.output


def test_the_receiver_script_refuses_a_missing_secret(capsys: pytest.CaptureFixture[str]) -> None:
    from tools.webhook_receiver import main

    with pytest.raises(SystemExit):
        main(["--port", "0"])
    assert "--secret" in capsys.readouterr().err
