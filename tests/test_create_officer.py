"""``flask guarantee create-officer``: the password rule is shown before the password is asked
for; a person at a terminal is asked again after a bad password or two that differ; a script
(standard input not a terminal, or ``--password-stdin``) gets the reason and exit 1."""

from __future__ import annotations

import os
import pty
import secrets
import select as select_module
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from guarantee import cli
from guarantee.extensions import db
from guarantee.models import Officer
from guarantee.services.officers import password_matches

GOOD = "a long enough password"
ARGS = ["guarantee", "create-officer", "--email", "lee@council.example", "--name", "Lee", "--role", "admin"]
RULE = "The password must be at least 12 characters long."


def officer_password_hash(app: Flask) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Officer.password_hash).where(Officer.email == "lee@council.example"))


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a person typed the answers: click's test runner feeds standard input from a string,
    which is never a terminal, so the command is told it is one."""
    monkeypatch.setattr(cli, "_interactive", lambda: True)


def test_the_rule_is_shown_before_the_password_is_asked_for(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=ARGS, input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.index(RULE) < result.output.index("Password:")
    assert GOOD not in result.output


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_a_short_password_and_a_mismatch_are_asked_for_again(app: Flask, runner: Any) -> None:
    typed = ["short", GOOD, "a different long password", GOOD, GOOD]
    result = runner.invoke(args=ARGS, input="\n".join(typed) + "\n")
    assert result.exit_code == 0, result.output
    assert "at least 12 characters long: yours has 5. Try again." in result.output
    assert "The two passwords do not match. Try again." in result.output
    assert result.output.count("Password:") == 3, "asked three times: short, mismatched, then right"
    assert "Created officer lee@council.example (admin)." in result.output
    stored = officer_password_hash(app)
    assert stored is not None and password_matches(stored, GOOD)


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_a_password_no_database_can_store_is_asked_for_again(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=ARGS, input=f"a long\x00 password\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "cannot be stored" in result.output
    assert officer_password_hash(app) is not None


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (["short"], "at least 12 characters long: yours has 5."),
        ([GOOD, "a different long password"], "The two passwords do not match."),
    ],
    ids=["short", "mismatch"],
)
def test_from_a_pipe_a_bad_password_ends_the_command_with_the_reason(
    app: Flask, runner: Any, typed: list[str], reason: str
) -> None:
    result = runner.invoke(args=ARGS, input="\n".join([*typed, GOOD, GOOD]) + "\n")
    assert result.exit_code == 1
    assert reason in result.output and "Try again" not in result.output
    assert officer_password_hash(app) is None, "nothing was created"


def test_with_password_stdin_a_short_password_ends_the_command_with_the_reason(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=[*ARGS, "--password-stdin"], input=f"short\n{GOOD}\n")
    assert result.exit_code == 1
    assert "at least 12 characters long: yours has 5." in result.output
    assert officer_password_hash(app) is None


# --- a real terminal -------------------------------------------------------------------------


def _read_until(fd: int, wanted: str, seen: list[str], seconds: float = 60) -> None:
    """Read the terminal's output until ``wanted`` appears in what is new since the last call."""
    deadline = time.monotonic() + seconds
    start = len("".join(seen))
    while wanted not in "".join(seen)[start:]:
        if time.monotonic() > deadline:
            pytest.fail(f"never saw {wanted!r} on the terminal:\n{''.join(seen)}")
        ready, _, _ = select_module.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the command ended and closed the terminal
                chunk = b""
            if not chunk:
                pytest.fail(f"the command ended before {wanted!r}:\n{''.join(seen)}")
            seen.append(chunk.decode(errors="replace"))


def test_in_a_real_terminal_the_password_is_hidden_and_asked_for_again(
    app: Flask, fresh_url: str, tmp_path: Path
) -> None:
    """The command run as an operator runs it: in a pseudo-terminal, so that the password prompt
    reads the terminal with echo off, as getpass does."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GUARANTEE_", "FLASK_"))},
        "FLASK_APP": "wsgi",
        "DATABASE_URL": fresh_url,
        "GUARANTEE_SECRET_KEY": secrets.token_hex(32),
        "GUARANTEE_TWO_STEP_KEY": secrets.token_hex(32),
        "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
        "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "GUARANTEE_MAIL_DIR": str(tmp_path / "mail"),
        "GUARANTEE_LOG_JSON": "0",
    }
    flask = str(Path(sys.executable).parent / "flask")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, with the pseudo-terminal as its controlling terminal
        try:
            os.chdir(Path(__file__).resolve().parent.parent)
            os.execve(flask, [flask, *ARGS], environment)
        finally:
            os._exit(127)  # never go on running the tests in the child
    seen: list[str] = []
    try:
        _read_until(terminal, "Password:", seen)
        assert RULE in "".join(seen), "the rule comes before the first prompt"
        os.write(terminal, b"short\n")
        _read_until(terminal, "Password:", seen)
        os.write(terminal, GOOD.encode() + b"\n")
        _read_until(terminal, "Type it again:", seen)
        os.write(terminal, GOOD.encode() + b"\n")
        _read_until(terminal, "Created officer", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    output = "".join(seen)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert "yours has 5. Try again." in output
    assert GOOD not in output and "short" not in output, "what is typed is never echoed"
    stored = officer_password_hash(app)
    assert stored is not None and password_matches(stored, GOOD)
