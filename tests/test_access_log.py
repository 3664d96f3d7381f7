"""No request can forge a line of gunicorn's logs (issue 17, defect 6).

gunicorn decodes a request's path before logging it, so ``/track/x%0A%22POST ...`` once wrote a
line feed and a quote into the access log: one request, several lines, the later ones looking
like requests that never happened. gunicorn.conf.py escapes every field as Apache does (a quote
or backslash gets a backslash, anything else outside printable ASCII is ``\\xhh``) and every
control character in gunicorn's error log.

gunicorn is started once for each database, as ``make run`` starts it (gunicorn.conf.py), and
raw requests are sent to it over a socket: each makes exactly one access log line, showing the
escaped characters.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from guarantee import logs
from tests.conftest import Database
from tests.helpers import start_gunicorn
from tests.support.browser import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Gunicorn:
    port: int
    access_log: Path
    error_log: Path

    def send(self, raw: bytes) -> bytes:
        """One request as raw bytes, and the raw answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(raw)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        return answer

    def lines_with(self, marker: str, log: Path | None = None, seconds: float = 10) -> list[str]:
        """The log lines that name ``marker`` (waiting a little for the first one)."""
        deadline = time.monotonic() + seconds
        while True:
            lines = [line for line in (log or self.access_log).read_text().splitlines() if marker in line]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


@pytest.fixture(scope="module")
def gunicorn(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    folder = tmp_path_factory.mktemp(f"gunicorn-{database.backend}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database.copy(),
        "GUARANTEE_SECRET_KEY": secrets.token_hex(32),
        "GUARANTEE_BASE_URL": f"http://127.0.0.1:{port}",
        "GUARANTEE_EVIDENCE_DIR": str(folder / "evidence"),
        "GUARANTEE_AUDIT_SIGNING_KEY": str(folder / "signing-key.pem"),
        "GUARANTEE_LOG_JSON": "1",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        *("--config", str(ROOT / "gunicorn.conf.py")),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"),
        "wsgi:app",
    ]
    server = Gunicorn(port, folder / "access.log", folder / "error.log")
    with server.access_log.open("wb") as stdout, server.error_log.open("wb") as stderr:
        url = f"http://127.0.0.1:{port}"
        process = start_gunicorn(command, env, url, stdout=stdout, stderr=stderr, log=server.error_log)
    yield server
    process.terminate()
    process.wait(timeout=10)


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        # The forgery of the review: a line feed, then what looks like a request to sign in.
        (
            "/track/{m}%0A%22POST%20/officer/sign-in%22%20200%2012%203ms",
            r'"GET /track/{m}\x0a\"POST /officer/sign-in\" 200 12 3ms"',
        ),
        ("/track/{m}%0D%0A%22GET%20/%22%20200", r'"GET /track/{m}\x0d\x0a\"GET /\" 200"'),
        ("/track/{m}%22%20500%200%200ms", r'"GET /track/{m}\" 500 0 0ms"'),
        # A backslash is escaped too, or "\" could pass for an escaped quote.
        ("/track/{m}%5C%22", r'"GET /track/{m}\\\""'),
        # Other controls: a tab, escape (terminal colours), a NUL, DEL, and a C1 byte.
        ("/track/{m}%09%1B[31m%00%7F%85", r'"GET /track/{m}\x09\x1b[31m\x00\x7f\x85"'),
        # Unicode's line separator U+2028, sent as UTF-8: each byte shown.
        ("/track/{m}%E2%80%A8", r'"GET /track/{m}\xe2\x80\xa8"'),
    ],
)
def test_each_request_is_one_access_log_line_with_its_control_characters_escaped(
    gunicorn: Gunicorn, path: str, logged: str
) -> None:
    marker = f"probe-{secrets.token_hex(4)}"
    answer = gunicorn.send(_get(path.format(m=marker)))
    status = answer.split(b" ", 2)[1].decode()
    assert status in ("400", "403", "404"), answer[:200]  # a NUL in the address, no such claim, or no link to it
    (line,) = gunicorn.lines_with(marker)  # one line, and no other line made of the rest
    request = logged.format(m=marker)
    assert line.startswith(request), line
    assert re.fullmatch(rf" {status} [0-9]+ [0-9]+ms", line.removeprefix(request)), line
    forged = [entry for entry in gunicorn.access_log.read_text().splitlines() if not entry.startswith('"')]
    assert forged == [], forged


def test_a_request_line_gunicorn_refuses_is_logged_on_one_line_with_its_controls_escaped(gunicorn: Gunicorn) -> None:
    marker = f"probe-{secrets.token_hex(4)}"
    # A vertical tab and an escape in the raw request line itself: gunicorn refuses it (400).
    answer = gunicorn.send(f"GET /track/{marker}\x0b\x1b[2J HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    (line,) = gunicorn.lines_with(marker, gunicorn.error_log)
    assert "\x0b" not in line and "\x1b" not in line, repr(line)
    assert r"\x0b" in line and r"\x1b" in line, line
    assert gunicorn.lines_with(marker, seconds=0.5) == []  # no request was read: no access log line


# --- every other log line that can quote a request ---------------------------------------------

FORGED = 'Exception on /track/x\n{"level": "info", "message": "signed in"}\r\x1b[2J\x85\u2028 [GET]'


def _record(name: str, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)


def test_gunicorns_error_log_writes_control_characters_escaped() -> None:
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    assert spec and spec.loader
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    record = _record("gunicorn.error", "Error handling request GET /track/x\n[ERROR] forged\x1b[2J")
    conf._Redact().filter(record)
    assert record.getMessage() == r"Error handling request GET /track/x\x0a[ERROR] forged\x1b[2J"


def test_the_apps_log_lines_are_one_line_whatever_a_request_path_holds() -> None:
    as_json = logs.JsonFormatter().format(_record("flask.app", FORGED))
    assert as_json.splitlines() == [as_json]
    assert json.loads(as_json)["message"] == FORGED  # escaped, not lost
    plain = logs.PlainFormatter("%(levelname)s %(name)s: %(message)s").format(_record("flask.app", FORGED))
    assert plain == (
        r'ERROR flask.app: Exception on /track/x\x0a{"level": "info", "message": "signed in"}\x0d\x1b[2J\x85\u2028 [GET]'
    )
