"""An officer's e-mail settings in the console, over HTTP: a checkbox for each kind of e-mail their
roles bring, with its hint, saved with a success banner, and linked from every console page. Each
test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from guarantee.context import unit_of_work
from guarantee.services import notifications, officers
from tests.test_console import QUEUE, Someone, location, signed_in
from tests.test_console_queue import link
from tests.test_public import fields, text_of

SETTINGS = "/officer/settings/email"


def ticked(html: str) -> dict[str, bool]:
    """Each kind of e-mail on the page: whether its box is ticked."""
    boxes = re.findall(
        r'<input class="govuk-checkboxes__input" id="[^"]+" name="kinds" type="checkbox" value="([^"]+)"([^>]*)>', html
    )
    return {kind: "checked" in rest for kind, rest in boxes}


def settings_of(app: Flask, who: Someone) -> dict[str, bool]:
    with app.app_context(), unit_of_work() as ctx:
        return {s.kind: s.on for s in officers.mail_settings(ctx, who.actor)}


@pytest.mark.parametrize("roles", [("reviewer",), ("triage",), ("appeal_panel",), ("admin", "team_leader")])
def test_every_officer_sees_the_kinds_of_e_mail_their_roles_bring_each_with_its_hint(
    app: Flask, roles: tuple[str, ...]
) -> None:
    client, _ = signed_in(app, *roles)
    assert link(client.get(QUEUE).text, "E-mail settings") == SETTINGS, "linked from the console's header"
    page = client.get(SETTINGS)
    assert page.status_code == 200
    kinds = notifications.kinds_for(roles)
    assert ticked(page.text) == {k.kind: True for k in kinds}, "every kind is on until turned off"
    words = text_of(page.text)
    for kind in kinds:
        assert f"{kind.label} {kind.hint}" in words


def test_an_officer_turns_e_mails_off_and_on_again_and_is_told_they_are_saved(app: Flask) -> None:
    client, me = signed_in(app, "reviewer")
    token = fields(client.get(SETTINGS).text)["csrf_token"]
    saved = client.post(SETTINGS, data={"csrf_token": token, "kinds": ["assignments", "appeals"]})
    assert saved.status_code == 303 and location(saved) == SETTINGS
    page = client.get(SETTINGS).text
    assert "Your e-mail settings are saved." in text_of(page)
    on = {"assignments", "appeals"}
    assert ticked(page) == {kind: kind in on for kind in ticked(page)}
    assert settings_of(app, me) == ticked(page), "the page shows what is saved"
    client.post(SETTINGS, data={"csrf_token": token, "kinds": list(ticked(page))})
    assert all(settings_of(app, me).values())
    nothing = client.post(SETTINGS, data={"csrf_token": token})
    assert nothing.status_code == 303, "every box unticked: no e-mail at all"
    assert not any(settings_of(app, me).values())


def test_a_kind_not_on_the_officers_list_or_a_missing_token_changes_nothing(app: Flask) -> None:
    client, me = signed_in(app, "reviewer")
    token = fields(client.get(SETTINGS).text)["csrf_token"]
    # Triage officers' daily list of new claims: not a reviewer's to turn on or off.
    forged = client.post(SETTINGS, data={"csrf_token": token, "kinds": ["assignments", "new_claims_digest"]})
    assert forged.status_code == 400
    assert "Choose the e-mails you want from the list" in text_of(forged.text)
    assert all(settings_of(app, me).values())
    assert client.post(SETTINGS, data={"kinds": ["assignments"]}).status_code == 400
    assert all(settings_of(app, me).values())
