"""Links point where the service is (issue 19).

`make run` on any PORT gives links that work: it sets GUARANTEE_BASE_URL to the address it serves
on, unless the setting is given; the confirmation (the API's tracking URL) and every e-mail then
link there. In production the service refuses to start without an https base URL, and says
which setting to change. The README's configuration table lists every setting, this one first.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask

from guarantee import config as configuration
from guarantee import create_app, mail
from guarantee.config import ConfigurationError, from_environment
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.services import sender
from tests.conftest import _app_config
from tests.helpers import VALID_SUBMISSION

ROOT = Path(__file__).resolve().parent.parent


def make_run_dry(*arguments: str, **environment: str) -> str:
    """What `make run ...` would do, without doing it (make -n)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k != "GUARANTEE_BASE_URL"} | environment
    done = subprocess.run(
        ["make", "-n", "run", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def served(dry_run: str) -> tuple[str, str]:
    """The address gunicorn binds to, and the GUARANTEE_BASE_URL it is started with."""
    found = re.search(r"GUARANTEE_BASE_URL='([^']+)' exec \S+/gunicorn --bind (\S+)", dry_run)
    assert found, dry_run
    return found[2], found[1]


def app_from_environment(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **environment: str) -> Flask:
    """The app as `make run` starts it: settings from the environment (the tests' own otherwise)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = _app_config(url, GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"))
    for name in environment:
        settings.pop(name, None)
    return create_app(settings)


class Kept:
    def __init__(self) -> None:
        self.sent: list[sender.Email] = []

    def send(self, email: sender.Email) -> None:
        self.sent.append(email)


def test_make_run_on_another_port_gives_links_on_that_port(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bind, base_url = served(make_run_dry("PORT=8123"))
    assert (bind, base_url) == ("127.0.0.1:8123", "http://127.0.0.1:8123")
    app = app_from_environment(fresh_url, tmp_path, monkeypatch, GUARANTEE_BASE_URL=base_url)

    filed = app.test_client().post("/api/v1/claims", json=VALID_SUBMISSION)
    kept = Kept()
    with app.app_context():
        sender.send_batch(unit_of_work, kept, mail.render)
        db.engine.dispose()

    assert filed.status_code == 201
    reference = filed.json["reference"]
    assert filed.json["tracking_url"].startswith(f"http://127.0.0.1:8123/track/{reference}?token=")
    (confirmation,) = kept.sent
    assert re.search(rf"http://127\.0\.0\.1:8123/track/{reference}\?token=\S+", confirmation.text)
    assert "8000" not in confirmation.text


def test_make_run_on_another_port_confirms_a_claim_filed_on_the_web_with_a_link_on_that_port(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_public import file_claim_on_web

    _, base_url = served(make_run_dry("PORT=8123"))
    app = app_from_environment(fresh_url, tmp_path, monkeypatch, GUARANTEE_BASE_URL=base_url)

    with app.app_context():
        filed = file_claim_on_web(app.test_client())
        db.engine.dispose()

    assert filed.token
    assert filed.link.startswith(f"http://127.0.0.1:8123/track/{filed.reference}?token=")


def test_make_run_keeps_a_base_url_that_is_set(fresh_url: str) -> None:
    assert served(make_run_dry("PORT=8123", GUARANTEE_BASE_URL="https://guarantee.council.example")) == (
        "127.0.0.1:8123",
        "https://guarantee.council.example",
    )
    assert served(make_run_dry("PORT=8123", "GUARANTEE_BASE_URL=https://g.example"))[1] == "https://g.example"


def test_make_run_on_every_interface_links_to_this_machine() -> None:
    assert served(make_run_dry("HOST=0.0.0.0", "PORT=8124")) == ("0.0.0.0:8124", "http://127.0.0.1:8124")


@pytest.mark.parametrize(
    "base_url", ["http://guarantee.council.example", "http://127.0.0.1:8000", "https://", "guarantee.example", ""]
)
def test_in_production_the_service_refuses_to_start_without_an_https_base_url(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        app_from_environment(
            fresh_url, tmp_path, monkeypatch, GUARANTEE_ENVIRONMENT="production", GUARANTEE_BASE_URL=base_url
        )
    assert "GUARANTEE_BASE_URL" in str(refused.value)
    assert "https://" in str(refused.value)


def test_in_production_an_https_base_url_starts_the_service(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_from_environment(
        fresh_url,
        tmp_path,
        monkeypatch,
        GUARANTEE_ENVIRONMENT="production",
        GUARANTEE_BASE_URL="https://guarantee.council.example",
    )
    assert app.test_client().get("/healthz").status_code == 200
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    with app.app_context():
        db.engine.dispose()


def test_an_unknown_environment_is_refused_by_name(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="GUARANTEE_ENVIRONMENT must be development or production"):
        app_from_environment(fresh_url, tmp_path, monkeypatch, GUARANTEE_ENVIRONMENT="prod")


@pytest.mark.parametrize("days", ["0", "-3", "thirty", "367"])
def test_a_link_lifetime_that_is_not_a_number_of_days_is_refused_by_name(days: str) -> None:
    with pytest.raises(ValueError, match="GUARANTEE_TRACKING_LINK_DAYS"):
        from_environment({"GUARANTEE_TRACKING_LINK_DAYS": days})


def test_the_link_lifetime_is_read_from_the_environment() -> None:
    assert from_environment({"GUARANTEE_TRACKING_LINK_DAYS": "14"})["GUARANTEE_TRACKING_LINK_DAYS"] == 14


# --- the README names every setting -------------------------------------------------------------


def _settings_read() -> set[str]:
    """Every variable the service reads from its environment: from_environment's, gunicorn's."""
    source = inspect.getsource(configuration.from_environment) + inspect.getsource(configuration._council_settings)
    source += inspect.getsource(configuration._single_sign_on_settings)
    names = set(re.findall(r'"((?:GUARANTEE_[A-Z0-9_]+)|DATABASE_URL)"', source))
    names |= set(re.findall(r'environ\.get\("(GUARANTEE_[A-Z0-9_]+)"', (ROOT / "gunicorn.conf.py").read_text()))
    return names


def _configuration_table() -> list[list[str]]:
    """The names in each row of the README's configuration table, in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [re.findall(r"`((?:GUARANTEE_[A-Z0-9_]+)|DATABASE_URL)`", row.split(" | ")[0]) for row in rows]


def test_the_readme_lists_every_setting_and_the_base_url_first() -> None:
    table = _configuration_table()
    listed = {name for row in table for name in row}
    assert table[0] == ["GUARANTEE_BASE_URL"]
    assert sorted(_settings_read() - listed) == []
    assert len(_settings_read()) > 30  # the scan found the settings (a broken scan finds none)
