"""Shared fixtures of the tests that read sent e-mail: an SMTP server in the test (``inbox``) and
the app sending to it (``mailing_app``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.test_notifications import Inbox


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailing_app(app: Flask, inbox: Inbox) -> Flask:
    app.config |= {
        "GUARANTEE_SMTP_HOST": "127.0.0.1",
        "GUARANTEE_SMTP_PORT": inbox.port,
        "GUARANTEE_SMTP_SECURITY": "none",
        "GUARANTEE_BASE_URL": "http://guarantee.test",
    }
    return app
