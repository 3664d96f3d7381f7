"""Two-step secrets at rest: the database holds them sealed under a key kept outside it, so a copy
of the database alone makes no codes. A secret moved to another officer's row does not open; a
key that cannot open the secrets stops the service from starting; `rotate-key` seals them all
again under a new key, all or none; the migration seals the secrets of an existing database and
its downgrade opens them again."""

from __future__ import annotations

import base64
import dataclasses
import logging
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from guarantee import create_app
from guarantee.clock import FixedClock
from guarantee.config import TestConfig, from_environment
from guarantee.extensions import db
from guarantee.models import Officer, OfficerRole
from guarantee.services import two_step
from guarantee.services.context import ServiceContext
from guarantee.services.officers import create_officer
from guarantee.services.two_step_secrets import (
    KeyInvalid,
    SecretUnreadable,
    key_from_settings,
    parse_key,
    unreadable,
    unseal,
)
from guarantee.two_step_key import TwoStepKeyMismatch
from tests.conftest import _app_config
from tests.helpers import PASSWORD
from tests.test_console import QUEUE, location, officer, sign_in, sign_in_as
from tests.test_two_step import CODE_PAGE, TWO_STEP, code, post_code, shown_key, start_setting_up, with_two_step

KEY = parse_key(TestConfig.GUARANTEE_TWO_STEP_KEY, "GUARANTEE_TWO_STEP_KEY")
OTHER_KEY = parse_key(secrets.token_hex(32), "GUARANTEE_TWO_STEP_KEY")
BEFORE = "e5c2b8d4a1f7"  # the revision before the secrets were sealed


def stored(session: Session, officer_id: int) -> tuple[str | None, str | None]:
    """What the database itself holds: (secret in use, secret being set up)."""
    row = session.execute(
        text("SELECT totp_secret, totp_pending_secret FROM officers WHERE id = :id"), {"id": officer_id}
    ).one()
    return row[0], row[1]


def app_stored(app: Flask, officer_id: int) -> tuple[str | None, str | None]:
    with app.app_context():
        try:
            return stored(db.session, officer_id)
        finally:
            db.session.rollback()


def write_stored(app: Flask, officer_id: int, in_use: str | None, being_set_up: str | None = None) -> None:
    with app.app_context():
        db.session.execute(
            text("UPDATE officers SET totp_secret = :in_use, totp_pending_secret = :being_set_up WHERE id = :id"),
            {"in_use": in_use, "being_set_up": being_set_up, "id": officer_id},
        )
        db.session.commit()


@contextmanager
def started(url: str, clock: FixedClock, tmp_path: Path, **settings: Any) -> Iterator[Flask]:
    """The service started again on the same database, with other settings."""
    app = create_app(
        _app_config(
            url,
            GUARANTEE_CLOCK=clock,
            GUARANTEE_AUDIT_SIGNING_KEY=str(tmp_path / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"),
            **settings,
        )
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def signs_in_with_code(app: Flask, email: str, key: str, clock: FixedClock) -> bool:
    client = app.test_client()
    assert location(sign_in(client, email)) == CODE_PAGE
    signed = post_code(client, CODE_PAGE, code(key, clock))
    return signed.status_code == 303 and location(signed) == QUEUE


# --- at rest --------------------------------------------------------------------------------


def test_the_database_holds_no_secret_an_app_could_make_codes_from_and_codes_still_work(
    app: Flask, clock: FixedClock
) -> None:
    who, key = with_two_step(app, clock, "triage")
    in_use, _ = app_stored(app, who.id)
    assert in_use is not None and key not in in_use
    assert signs_in_with_code(app, who.email, key, clock)
    clock.advance(seconds=30)
    token = app.test_client().post(
        "/api/v1/tokens", json={"email": who.email, "password": PASSWORD, "code": code(key, clock)}
    )
    assert token.status_code == 201


def test_a_secret_being_set_up_is_not_kept_in_clear_either(app: Flask, clock: FixedClock) -> None:
    who = officer(app, "reviewer")
    client = sign_in_as(app, who)
    key = shown_key(start_setting_up(client).text)
    in_use, being_set_up = app_stored(app, who.id)
    assert in_use is None
    assert being_set_up is not None and key not in being_set_up
    assert shown_key(client.get(TWO_STEP).text) == key  # the page still shows it, to type in
    assert post_code(client, f"{TWO_STEP}/confirm", code(key, clock)).status_code == 303


def turned_on(ctx: ServiceContext, name: str) -> tuple[Officer, str]:
    """An officer with two-step verification on, through the service: (officer, clear secret)."""
    made = create_officer(ctx, email=f"{name}@council.example", name=name, roles=["triage"], password=PASSWORD)
    setup = two_step.begin_setup(ctx, made.id)
    two_step.confirm_setup(ctx, made.id, pyotp.TOTP(setup.secret).at(ctx.now()))
    return made, setup.secret


@pytest.fixture
def keyed(ctx: ServiceContext) -> ServiceContext:
    return dataclasses.replace(ctx, two_step_key=KEY)


def test_a_secret_copied_to_another_officers_row_opens_for_nobody(keyed: ServiceContext, clock: FixedClock) -> None:
    alice, alices_secret = turned_on(keyed, "alice")
    bob, _ = turned_on(keyed, "bob")
    clock.advance(seconds=30)
    keyed.session.execute(
        text("UPDATE officers SET totp_secret = :copied WHERE id = :bob"),
        {"copied": stored(keyed.session, alice.id)[0], "bob": bob.id},
    )
    keyed.session.expire_all()
    with pytest.raises(SecretUnreadable, match=f"Officer {bob.id}'s two-step secret cannot be decrypted"):
        two_step.check_code(keyed, bob, pyotp.TOTP(alices_secret).at(clock.now()))
    assert [(p.officer_id, p.column) for p in unreadable(keyed.session, KEY)] == [(bob.id, "totp_secret")]
    two_step.check_code(keyed, alice, pyotp.TOTP(alices_secret).at(clock.now()))  # hers still works


def test_a_secret_sealed_under_another_key_does_not_open_and_says_which_key_sealed_it(
    keyed: ServiceContext, clock: FixedClock
) -> None:
    alice, secret = turned_on(keyed, "alice")
    clock.advance(seconds=30)
    elsewhere = dataclasses.replace(keyed, two_step_key=OTHER_KEY)
    with pytest.raises(SecretUnreadable, match=f"encrypted under key {KEY.id}, not key {OTHER_KEY.id}"):
        two_step.check_code(elsewhere, alice, pyotp.TOTP(secret).at(clock.now()))


def test_a_secret_moved_from_being_set_up_to_in_use_does_not_open(keyed: ServiceContext) -> None:
    made = create_officer(keyed, email="carol@council.example", name="Carol", roles=["triage"], password=PASSWORD)
    two_step.begin_setup(keyed, made.id)
    keyed.session.execute(text("UPDATE officers SET totp_secret = totp_pending_secret WHERE id = :id"), {"id": made.id})
    keyed.session.expire_all()
    assert [(p.officer_id, p.column) for p in unreadable(keyed.session, KEY)] == [(made.id, "totp_secret")]


# --- the key's settings -----------------------------------------------------------------------


def test_with_no_key_set_a_key_file_is_made_once_readable_only_by_its_owner(tmp_path: Path) -> None:
    default = tmp_path / "instance" / "two-step-key"
    first = key_from_settings(None, None, default)
    assert stat.S_IMODE(default.stat().st_mode) == 0o600
    assert key_from_settings(None, None, default) == first  # the same key every start
    assert [p.name for p in default.parent.iterdir()] == ["two-step-key"]  # no draft left behind


def test_a_key_file_that_cannot_be_made_stops_the_start_saying_which_setting_to_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service runs as a user who may not write its instance folder (as the soak run's does)."""
    from guarantee.services import two_step_secrets

    def refused(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(two_step_secrets.os, "open", refused)
    with pytest.raises(KeyInvalid, match=r"cannot be made \(Permission denied\)\. Set GUARANTEE_TWO_STEP_KEY to a key"):
        key_from_settings(None, None, tmp_path / "instance" / "two-step-key")


def test_the_key_comes_from_the_environment_or_a_named_file_and_a_bad_one_says_which_setting(tmp_path: Path) -> None:
    settings = from_environment(
        {"GUARANTEE_TWO_STEP_KEY": "k", "GUARANTEE_TWO_STEP_KEY_FILE": "/etc/guarantee/two-step-key"}
    )
    assert settings["GUARANTEE_TWO_STEP_KEY"] == "k"
    assert settings["GUARANTEE_TWO_STEP_KEY_FILE"] == "/etc/guarantee/two-step-key"
    written = tmp_path / "key"
    written.write_text(KEY.material.hex())
    assert key_from_settings(None, str(written), tmp_path / "unused").id == KEY.id
    assert key_from_settings(base64.b64encode(KEY.material).decode(), None, tmp_path / "unused").id == KEY.id
    assert not (tmp_path / "unused").exists()
    with pytest.raises(KeyInvalid, match="Set GUARANTEE_TWO_STEP_KEY or GUARANTEE_TWO_STEP_KEY_FILE, not both"):
        key_from_settings(KEY.material.hex(), str(written), tmp_path / "unused")
    with pytest.raises(KeyInvalid, match="from GUARANTEE_TWO_STEP_KEY is not 32 bytes"):
        key_from_settings("too short", None, tmp_path / "unused")
    with pytest.raises(KeyInvalid, match=f"key file {tmp_path / 'missing'} cannot be read"):
        key_from_settings(None, str(tmp_path / "missing"), tmp_path / "unused")  # never made up


# --- start-up -------------------------------------------------------------------------------


def test_the_service_refuses_to_start_with_a_key_that_cannot_open_the_secrets_and_says_what_to_set(
    app: Flask, clock: FixedClock, fresh_url: str, tmp_path: Path
) -> None:
    who, key = with_two_step(app, clock, "triage")
    with (
        pytest.raises(TwoStepKeyMismatch) as refused,
        started(fresh_url, clock, tmp_path, GUARANTEE_TWO_STEP_KEY=OTHER_KEY.material.hex()),
    ):
        pass
    message = str(refused.value)
    assert (
        f"The service cannot start: the two-step verification key from GUARANTEE_TWO_STEP_KEY (key {OTHER_KEY.id})"
        in message
    )
    assert f"Officer {who.id}'s two-step secret cannot be decrypted: it was encrypted under key {KEY.id}" in message
    assert (
        f"Set GUARANTEE_TWO_STEP_KEY or GUARANTEE_TWO_STEP_KEY_FILE to the key they were encrypted with (key {KEY.id})"
        in message
    )
    with started(fresh_url, clock, tmp_path) as again:  # the right key: it starts, and codes work
        clock.advance(seconds=30)
        assert signs_in_with_code(again, who.email, key, clock)


def test_the_service_starts_on_a_database_not_migrated_yet_whatever_the_key(
    app: Flask, clock: FixedClock, fresh_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        downgrade(revision="base")
    with (
        started(fresh_url, clock, tmp_path, GUARANTEE_TWO_STEP_KEY=OTHER_KEY.material.hex()) as empty,
        empty.app_context(),
    ):
        upgrade()
        assert "officers" in inspect(db.engine).get_table_names()


def test_the_service_starts_when_the_database_cannot_be_reached_and_logs_that_the_key_was_not_checked(
    clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1"
    with caplog.at_level(logging.WARNING, logger="guarantee.two_step_key"), started(nowhere, clock, tmp_path) as app:
        assert app.extensions["guarantee.two_step_key"].id == KEY.id
    assert "The two-step key was not checked at start-up: the database cannot be reached" in caplog.text


# --- rotation -------------------------------------------------------------------------------


def test_rotate_key_seals_every_secret_under_the_new_key_and_codes_work_with_it_alone(
    app: Flask, clock: FixedClock, fresh_url: str, tmp_path: Path
) -> None:
    who, key = with_two_step(app, clock, "triage")
    setting_up = officer(app, "reviewer")
    start_setting_up(sign_in_as(app, setting_up))
    new_file = tmp_path / "keys" / "two-step-key.new"
    result = app.test_cli_runner().invoke(args=["guarantee", "rotate-key", "--new-key-file", str(new_file)])
    assert result.exit_code == 0, result.output
    new = parse_key(new_file.read_text(), str(new_file))
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600
    assert f"Re-encrypted 2 two-step secret(s) (1 in use, 1 being set up) under key {new.id}" in result.output
    assert f"Now set GUARANTEE_TWO_STEP_KEY_FILE={new_file} and remove GUARANTEE_TWO_STEP_KEY" in result.output

    in_use, _ = app_stored(app, who.id)
    _, being_set_up = app_stored(app, setting_up.id)
    assert in_use is not None and being_set_up is not None
    assert unseal(new, who.id, "totp_secret", in_use) == key
    with pytest.raises(SecretUnreadable):
        unseal(KEY, who.id, "totp_secret", in_use)  # the old key no longer opens it
    with pytest.raises(TwoStepKeyMismatch), started(fresh_url, clock, tmp_path):
        pass  # nor does the service start with it
    with started(
        fresh_url, clock, tmp_path, GUARANTEE_TWO_STEP_KEY=None, GUARANTEE_TWO_STEP_KEY_FILE=str(new_file)
    ) as after:
        clock.advance(seconds=30)
        assert signs_in_with_code(after, who.email, key, clock)


def test_rotate_key_changes_nothing_if_any_secret_does_not_open(app: Flask, clock: FixedClock, tmp_path: Path) -> None:
    alice, _ = with_two_step(app, clock, "triage")
    bob, _ = with_two_step(app, clock, "triage")
    write_stored(app, bob.id, app_stored(app, alice.id)[0])  # copied to another row: it opens for nobody
    before = [app_stored(app, alice.id), app_stored(app, bob.id)]
    result = app.test_cli_runner().invoke(args=["guarantee", "rotate-key", "--new-key-file", str(tmp_path / "new-key")])
    assert result.exit_code == 1
    assert f"Officer {bob.id}'s two-step secret cannot be decrypted" in result.output
    assert "Nothing was changed in the database." in result.output
    assert [app_stored(app, alice.id), app_stored(app, bob.id)] == before


def test_rotate_key_refuses_the_key_in_use_now(app: Flask, tmp_path: Path) -> None:
    same = tmp_path / "same-key"
    same.write_text(KEY.material.hex())
    result = app.test_cli_runner().invoke(args=["guarantee", "rotate-key", "--new-key-file", str(same)])
    assert result.exit_code == 1
    assert f"The new two-step key is the key in use now (key {KEY.id})" in result.output


# --- the migration ---------------------------------------------------------------------------


def test_the_migration_seals_the_secrets_of_an_existing_database_and_its_downgrade_opens_them_again(
    app: Flask, clock: FixedClock
) -> None:
    who = officer(app, "triage", "reviewer")
    key, being_set_up = pyotp.random_base32(), pyotp.random_base32()
    with app.app_context():
        downgrade(revision=BEFORE)
    write_stored(app, who.id, key, being_set_up)  # as the service kept them before
    with app.app_context():
        upgrade()
    in_use, pending = app_stored(app, who.id)
    assert in_use is not None and key not in in_use and pending is not None and being_set_up not in pending
    assert unseal(KEY, who.id, "totp_pending_secret", pending) == being_set_up
    clock.advance(seconds=30)
    assert signs_in_with_code(app, who.email, key, clock)
    with app.app_context():
        downgrade(revision=BEFORE)
    assert app_stored(app, who.id) == (key, being_set_up)
    with app.app_context():
        roles = db.session.scalars(select(OfficerRole.role).where(OfficerRole.officer_id == who.id)).all()
        db.session.rollback()
        upgrade()
    assert sorted(roles) == ["reviewer", "triage"]  # widening the columns kept the officer whole
