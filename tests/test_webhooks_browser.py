"""Webhooks in the console, in Chromium (issue 24): an admin adds an endpoint by keyboard alone
(a refused URL first), sees its secret once, and after a delivery reads the endpoint's delivery
log; an endpoint turned off after failures is announced on both pages and turned back on. Every
page passes axe-core, fits 320, 375 and 1280 px, and is seen in Welsh. Screenshots go to
test-output/screenshots/webhooks-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.helpers import VALID_SUBMISSION
from tests.support.browser import (
    AXE,
    LiveServer,
    Visit,
    console_sign_in_as,
    make_officer,
    serve,
    skip_without_browser,
)
from tools.webhook_receiver import Receiver

pytestmark = skip_without_browser

TWO_STEP_KEY = "b0b0" * 16


@pytest.fixture
def server(fresh_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    yield from serve(
        fresh_url,
        tmp_path,
        GUARANTEE_TWO_STEP_KEY=TWO_STEP_KEY,
        GUARANTEE_WEBHOOKS_ALLOW_PRIVATE="true",
        GUARANTEE_WEBHOOKS_ALLOW_HTTP="true",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    from guarantee.webhooks.endpoints import new_secret

    made = Receiver(("127.0.0.1", 0), new_secret(), quiet=True)
    threading.Thread(target=made.serve_forever, daemon=True).start()
    yield made
    made.shutdown()
    made.server_close()


def _app(fresh_url: str) -> Any:
    from guarantee import create_app

    settings = {"SECRET_KEY": "x", "GUARANTEE_LOG_JSON": False, "GUARANTEE_TWO_STEP_KEY": TWO_STEP_KEY}
    return create_app({"SQLALCHEMY_DATABASE_URI": fresh_url, **settings})


def in_app(fresh_url: str, do: Any) -> Any:
    """Run ``do(ctx, key)`` in one transaction of an app on the live server's database."""
    from guarantee.context import unit_of_work
    from guarantee.extensions import db

    app = _app(fresh_url)
    with app.app_context():
        with unit_of_work() as ctx:
            done = do(ctx, app.extensions["guarantee.two_step_key"])
        db.engine.dispose()
    return done


def deliver(fresh_url: str) -> None:
    """What the notify worker does: deliver every due webhook message."""
    from guarantee.context import unit_of_work
    from guarantee.extensions import db
    from guarantee.webhooks import delivery, urls

    app = _app(fresh_url)
    with app.app_context():
        key = app.extensions["guarantee.two_step_key"]
        delivery.deliver_batch(unit_of_work, key, urls.Policy(allow_http=True, allow_private=True))
        db.engine.dispose()


def turn_off(fresh_url: str) -> None:
    from guarantee.models import WebhookEndpoint

    def run(ctx: Any, key: Any) -> None:
        ctx.session.execute(update(WebhookEndpoint).values(turned_off_at=ctx.now(), consecutive_failures=5))

    in_app(fresh_url, run)


class Window:
    def __init__(self, browser: Any, width: int, name: str, *, welsh: bool = False) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.add_init_script(path=str(AXE))
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.visit = Visit(self.page, name, width=width)
        self.welsh = welsh

    def sign_in(self, server: LiveServer, email: str) -> None:
        console_sign_in_as(self.page, server, email)
        if self.welsh:
            self.context.add_cookies([{"name": "language", "value": "cy", "url": server.url}])

    def check(self, label: str) -> None:
        if self.welsh:
            assert self.page.get_attribute("html", "lang") == "cy", label
        self.visit.check(label)


def heading(page: Any) -> str:
    return str(page.get_by_role("heading", level=1).inner_text())


def test_an_admin_adds_an_endpoint_by_keyboard_and_reads_its_delivery_log(  # noqa: PLR0915 (one story, told in order)
    server: LiveServer, browser: Any, fresh_url: str, receiver: Receiver, backend: str
) -> None:
    admin = make_officer(fresh_url, "admin")
    window = Window(browser, 1280, f"webhooks-{backend}-1280")
    page = window.page
    window.sign_in(server, admin)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhooks", level=1).wait_for()
    window.check("empty")
    page.get_by_role("button", name="Add an endpoint").click()
    page.get_by_role("heading", name="Add a webhook endpoint").wait_for()
    window.check("add")
    # By keyboard alone: a URL that is refused first, then the right one.
    page.get_by_label("URL").focus()
    page.keyboard.type("ftp://127.0.0.1/hook")
    page.keyboard.press("Tab")
    page.keyboard.type("Casework CRM")
    page.keyboard.press("Enter")
    page.locator(".govuk-error-summary").wait_for()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter a full URL starting with https://" in summary and "Choose at least one event" in summary
    window.check("add-refused")
    page.get_by_label("URL").fill("")
    page.get_by_label("URL").focus()
    page.keyboard.type(receiver.url)
    page.get_by_label("A claim is submitted").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # a claim moves
    assert page.get_by_label("URL").input_value() == receiver.url
    assert page.get_by_label("A claim is submitted").is_checked() and page.get_by_label("A claim moves").is_checked()
    page.get_by_role("button", name="Add endpoint").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/officer/webhooks/new")
    page.get_by_role("heading", name="Endpoint added: its signing secret").wait_for()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    window.check("secret")
    # The receiving system is given the secret; a claim is filed and the worker delivers.
    receiver.webhook = type(receiver.webhook)(secret)
    server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
    deliver(fresh_url)
    assert [r["event"]["type"] for r in receiver.verified] == ["claim.submitted"] and receiver.rejected == 0
    page.get_by_role("link", name="Go to the endpoint").click()
    page.get_by_role("heading", name="Casework CRM", level=1).wait_for()
    log = page.locator("table").inner_text()
    assert receiver.verified[0]["webhook_id"] in log and "Delivered" in log and "HTTP 204" in log
    assert secret not in page.content()
    window.check("endpoint")
    # Turned off after failures: both pages say so, and it is turned back on.
    turn_off(fresh_url)
    page.goto(f"{server.url}/officer/webhooks")
    assert "1 endpoint was turned off after repeated failures." in page.locator("main").inner_text()
    window.check("turned-off-list")
    page.get_by_role("link", name="Casework CRM").first.click()
    page.get_by_text("This endpoint was turned off on").wait_for()
    window.check("turned-off")
    page.get_by_role("button", name="Turn back on").click()
    page.get_by_text("The endpoint is on again").wait_for()
    window.check("turned-on")
    window.context.close()


@pytest.mark.parametrize("width", [375, 320])
def test_the_webhook_pages_fit_a_phone_and_read_in_welsh(
    server: LiveServer, browser: Any, fresh_url: str, backend: str, width: int
) -> None:
    from guarantee.webhooks import endpoints, urls
    from tests.helpers import make_officer as officer_in

    def add(ctx: Any, key: Any) -> int:
        added = endpoints.add(
            ctx,
            officer_in(ctx, "admin"),
            key,
            urls.Policy(allow_http=True, allow_private=True),
            url="http://127.0.0.1:9/a-rather-long-path/for-a-receiving-system/webhooks?tenant=exampleshire",
            description="Casework CRM of Exampleshire County Council",
            events=endpoints.EVENT_TYPES,
        )
        return int(added.endpoint.id)

    endpoint_id = in_app(fresh_url, add)
    turn_off(fresh_url)
    admin = make_officer(fresh_url, "admin")
    for welsh in (False, True):
        window = Window(browser, width, f"webhooks-{backend}-{width}{'-cy' if welsh else ''}", welsh=welsh)
        page = window.page
        window.sign_in(server, admin)
        page.goto(f"{server.url}/officer/webhooks")
        window.check("list")
        page.goto(f"{server.url}/officer/webhooks/new")
        page.locator("main form button.govuk-button").click()
        page.wait_for_load_state()
        window.check("add-refused")
        page.goto(f"{server.url}/officer/webhooks/{endpoint_id}")
        window.check("endpoint")
        window.context.close()
