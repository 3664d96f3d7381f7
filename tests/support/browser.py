"""The browser tests' harness: Debian's Chromium driven by Playwright (never a downloaded browser),
gunicorn serving the production app on 127.0.0.1 on a fresh database of the test's backend, and a
``Visit`` that checks each page: axe-core (WCAG 2.2 A/AA), no sideways scrolling, no
Content-Security-Policy violation, and a screenshot in test-output/screenshots/.

Its fixtures (``live_server``, ``browser``, ``visit``) are registered for every test by
conftest.py; a test module starts with ``pytestmark = skip_without_browser``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import PASSWORD, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("GUARANTEE_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
# Screenshots are for a person to open (make test, locally); CI, where no one does, sets
# GUARANTEE_SCREENSHOTS=0 and saves the time. Every check on the page runs either way.
TAKE_SCREENSHOTS = os.environ.get("GUARANTEE_SCREENSHOTS", "1") != "0"
# With GUARANTEE_RECORD_AXE=<file>, each page's axe-core result is added to that file as a line of
# JSON; `make accessibility-results` gathers them into docs/accessibility/axe-results.json, which
# the accessibility statement reads (tools/accessibility_results.py).
RECORD_AXE = os.environ.get("GUARANTEE_RECORD_AXE") or None
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# A tiny but real PNG: the 8-byte signature and one IHDR/IDAT/IEND image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Debian's Chromium is not installed at {CHROMIUM} (make test installs it as root)"
    if not AXE.exists():
        return "axe-core is not installed (make test runs npm ci)"
    return None


if _browser_missing() and os.environ.get("GUARANTEE_REQUIRE_BROWSER") == "1":
    pytest.fail(f"GUARANTEE_REQUIRE_BROWSER=1 but {_browser_missing()}", pytrace=False)
# Each browser test module starts with ``pytestmark = skip_without_browser``.
skip_without_browser = pytest.mark.skipif(_browser_missing() is not None, reason=_browser_missing() or "")


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer


def start_live_server(
    fresh_url: str, tmp_path: Path, *, application: str = "wsgi:app", port: int | None = None, **environment: str
) -> LiveServer:
    """gunicorn serving ``application`` on a free port of 127.0.0.1, with ``environment`` over the
    tests' settings (e.g. ``GUARANTEE_TOKEN_RATE_LIMIT``; tests/support/shifted_clock.py serves the
    app on a clock a test moves). ``port``: one chosen beforehand (an identity provider must know
    the address it sends officers back to)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": fresh_url,
        "GUARANTEE_SECRET_KEY": secrets.token_hex(32),
        "GUARANTEE_BASE_URL": url,
        "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
        "GUARANTEE_LOG_JSON": "1",
        # Low enough for a test to meet the "Too many attempts" page (counted per worker).
        "GUARANTEE_TOKEN_RATE_LIMIT": "3 per minute",
        **environment,
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        # The app is made once, in the master, and the workers are forked from it: each server
        # starts on one import of the app instead of one a worker (the app holds no connection
        # across the fork: start-up's two-step key check disposes of its engine).
        "--preload",
        "--no-control-socket",
        application,
    ]
    with log.open("wb") as out:
        process = start_gunicorn(command, env, url, stdout=out, stderr=subprocess.STDOUT, log=log)
    return LiveServer(url, log, process)


def stop_live_server(server: LiveServer) -> None:
    server.process.terminate()
    server.process.wait(timeout=10)


def serve(fresh_url: str, tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """A live server for the length of a fixture, with these settings over the tests' defaults."""
    server = start_live_server(fresh_url, tmp_path, **settings)
    yield server
    stop_live_server(server)


@pytest.fixture
def live_server(fresh_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    yield from serve(fresh_url, tmp_path)


def officer_token(server: LiveServer, app_url: str, *roles: str) -> str:
    """An officer created in the database and signed in through the API."""
    return server.api("POST", "/api/v1/tokens", {"email": make_officer(app_url, *roles), "password": PASSWORD})["token"]


def make_officer(app_url: str, *roles: str) -> str:
    """An officer created in the database (password: tests.helpers.PASSWORD); their email."""
    from guarantee import create_app
    from guarantee.context import unit_of_work
    from guarantee.extensions import db
    from guarantee.services.officers import create_officer

    email = f"{'-'.join(roles)}-{secrets.token_hex(4)}@council.example"
    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "SECRET_KEY": "x", "GUARANTEE_LOG_JSON": False})
    with app.app_context():
        with unit_of_work() as ctx:
            create_officer(ctx, email=email, name="Officer", roles=list(roles), password=PASSWORD)
        db.engine.dispose()
    return email


# --- the browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Visit:
    """A page, with the checks every page of the journey must pass."""

    page: Any
    name: str
    shots: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    referers: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    width: int = 320
    javascript: bool = True
    test: str = ""  # the test's id, for the record of axe's results

    def check(self, label: str) -> None:
        """Accessible (axe, WCAG 2.2 A/AA), no sideways scrolling at 320 px, a screenshot.
        (axe runs in the page, so only where JavaScript is on; the markup is the same.)"""
        self.page.wait_for_load_state()  # a page still arriving has no document to measure
        if self.javascript:
            result = self.page.evaluate(
                "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
            )
            if RECORD_AXE:
                record_axe(Path(RECORD_AXE), self, label, result)
            problems = [
                f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]
            ]
            assert not problems, f"{label}: accessibility problems:\n" + "\n".join(problems)
        scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= self.width, f"{label}: the page scrolls sideways ({scroll_width}px > {self.width}px)"
        self.shots.append(f"{self.name}-{len(self.shots) + 1:02d}-{label}")
        screenshot(self.page, self.shots[-1])
        assert not self.csp_violations, f"{label}: Content-Security-Policy violations: {self.csp_violations}"


def record_axe(path: Path, visit: Visit, label: str, result: dict[str, Any]) -> None:
    """One line of JSON for one page checked: which page, and what axe-core found on it. Appended
    in one write, so that test workers running at once do not mix their lines."""
    line = {
        "test": visit.test or os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0],
        "label": label,
        "path": urlsplit(visit.page.url).path,
        "width": visit.width,
        "passes": len(result["passes"]),
        "violations": len(result["violations"]),
        "incomplete": len(result["incomplete"]),
        "axe_version": result["testEngine"]["version"],
        "tested_at": result["timestamp"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """The page as test-output/screenshots/<name>.png (the whole page, or the window), unless
    GUARANTEE_SCREENSHOTS=0."""
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def visit(browser: Any, request: pytest.FixtureRequest, backend: str) -> Iterator[Visit]:
    javascript = "nojs" not in request.node.name
    # Groups use phones; officers work the console at a desk.
    width = 1280 if "console" in request.node.name else 320
    context = browser.new_context(
        viewport={"width": width, "height": 800}, java_script_enabled=javascript, accept_downloads=True
    )
    if javascript:
        context.add_init_script(path=str(AXE))  # a devtools script: the page's CSP does not apply
    page = context.new_page()
    page.set_default_timeout(15_000)
    name = f"{backend}-{'js' if javascript else 'nojs'}"
    v = Visit(page, name, javascript=javascript, width=width, test=request.node.nodeid)
    page.on(
        "console",
        lambda msg: v.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("request", lambda req: (v.urls.append(req.url), v.referers.append(req.headers.get("referer") or "")))
    yield v
    context.close()


# --- measuring a page with element boxes ------------------------------------------------------

# Every word of the visible text under ``root`` whose letters the browser set on more than one
# line: a word broken inside itself ("Categor / y"), which no width may do.
_BROKEN_WORDS = """(root) => {
  const broken = [];
  for (const scope of document.querySelectorAll(root)) {
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!element || element.closest(".govuk-visually-hidden, script, style, [hidden], option")) continue;
      if (!element.getClientRects().length) continue;
      for (const word of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""

# The elements matching ``selector`` that take more than one line of their own text.
_TALLER_THAN_A_LINE = """(selector) => [...document.querySelectorAll(selector)].filter((element) => {
  const line = parseFloat(getComputedStyle(element).lineHeight);
  return element.getBoundingClientRect().height > line + 1 || element.getClientRects().length > 1;
}).map((element) => element.textContent.trim())"""


def broken_words(page: Any, root: str = "main") -> list[str]:
    """The words under ``root`` that wrap inside themselves (none, on every page at every width)."""
    words: list[str] = page.evaluate(_BROKEN_WORDS, root)
    return words


def taller_than_a_line(page: Any, selector: str) -> list[str]:
    """The text of each element matching ``selector`` whose box is more than one line high."""
    found: list[str] = page.evaluate(_TALLER_THAN_A_LINE, selector)
    return found


def choose_action(page: Any, name: str, *, exact: bool = False) -> None:
    """Press one of "What you can do now"'s buttons on a console claim page: the first step is a
    button of its own; with JavaScript the others are in MOJ's button menu, opened first."""
    button = page.get_by_role("button", name=name, exact=exact)
    more = page.get_by_role("button", name="More actions")
    if not button.is_visible() and more.is_visible():
        more.click()
    button.click()


def console_sign_in_as(page: Any, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in to the console and wait for the queue."""
    page.goto(server.url + "/officer/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/officer")
