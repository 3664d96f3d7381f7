"""Filing a claim through the question pages, as a browser does, for every test that needs a
claim filed on the web (or a page of the form with a mistake on it).

Each page is opened first (its CSRF token is the session's) and continued with the answers to
its own questions; the draft of answers lives on the server, under the browser's cookie.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from guarantee.public.forms import PAGE_BY_SLUG, PAGE_OF_FIELD, PAGES

CHECK_PAGE = "/claims/new/check"
SUBMIT = "/claims/new/submit"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)" name="csrf_token"')


def page_path(slug: str, *, changing: bool = False) -> str:
    return f"/claims/new/{slug}" + ("?change=check" if changing else "")


def page_csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return unescape(found[1] or found[2])


def answer_page(
    client: FlaskClient, slug: str, answers: Mapping[str, str | None], *, changing: bool = False
) -> TestResponse:
    """Open one question page and continue with its answers (None: a question left out)."""
    path = page_path(slug, changing=changing)
    opened = client.get(path)
    assert opened.status_code == 200, opened.status_code
    own = {name: value for name, value in answers.items() if PAGE_OF_FIELD[name] is PAGE_BY_SLUG[slug]}
    data = {name: value for name, value in own.items() if value is not None}
    return client.post(path, data={**data, "csrf_token": page_csrf(opened.text)})


def fill_pages(client: FlaskClient, answers: Mapping[str, str | None]) -> TestResponse:
    """Answer every question page in turn. Returns the first page that did not continue (a
    mistake on it: 400), or else the check-your-answers page."""
    for page in PAGES:
        response = answer_page(client, page.slug, answers)
        if response.status_code != 303:
            return response
    return client.get(CHECK_PAGE)


# --- in a real browser (Playwright) ---------------------------------------------------------


def answer_shown_questions(page: Any, typed: Mapping[str, str], chosen: Mapping[str, str]) -> list[str]:
    """Fill in the questions of the page shown (labels of ``typed``; radios' legends or selects'
    labels of ``chosen``, with the choice's words): the questions it found."""
    found = []
    for label, value in typed.items():
        box = page.get_by_label(label, exact=True)
        if box.count():
            box.fill(value)
            found.append(label)
    for question, choice in chosen.items():
        group = page.get_by_role("group", name=question)  # radios, under a legend
        listed = page.get_by_role("combobox", name=question)  # a select, with a label
        if group.count():
            group.get_by_label(choice, exact=True).check()
            found.append(question)
        elif listed.count():
            listed.select_option(label=choice)
            found.append(question)
    return found


def continue_through_pages(page: Any, typed: Mapping[str, str], chosen: Mapping[str, str], check: Any = None) -> None:
    """From a question page, answer each page and continue until check your answers.
    ``check(label)`` is called on each page before it is answered (axe, screenshot)."""
    for _ in PAGES:
        heading = page.get_by_role("heading", level=1).inner_text()
        if heading.startswith("Check your answers"):
            return
        if check is not None:
            check(f"question-{page.url.rsplit('/', 1)[-1].split('?')[0]}")
        answer_shown_questions(page, typed, chosen)
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Check your answers before filing your claim").wait_for()
