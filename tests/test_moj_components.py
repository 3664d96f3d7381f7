"""Our Jinja ports of MOJ Frontend 11.1.0 (guarantee/templates/moj/) give the markup of MOJ's own
Nunjucks templates: each case renders our macro and MOJ's template (with the `nunjucks` npm
package, through tests/render_nunjucks.mjs) with the same parameters, and compares them with
whitespace normalised. Where our macro takes a parameter MOJ's does not (a count in the sub
navigation, a sort link in a table header), MOJ's template is given what ours makes of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import Environment

from guarantee.pages import init_app

ROOT = Path(__file__).resolve().parent.parent
RENDER = ROOT / "tests" / "render_nunjucks.mjs"
NODE = shutil.which("node")


def _missing() -> str | None:
    if NODE is None:
        return "node is not installed: MOJ's Nunjucks templates cannot be rendered to compare with"
    for package in ("nunjucks", "@ministryofjustice/frontend", "govuk-frontend"):
        if not (ROOT / "node_modules" / package).is_dir():
            return f"node_modules/{package} is missing (npm ci installs it)"
    return None


needs_node = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@dataclass(frozen=True)
class Case:
    """Our macro and MOJ's, called with the same parameters (or, for MOJ's, `theirs`)."""

    name: str
    ours: str  # a Jinja call, with `params`
    mojs: str  # a Nunjucks call, with `params`
    params: dict[str, Any]
    theirs: dict[str, Any] | None = None
    imports: tuple[str, ...] = field(default=())


MOJ = "moj/components/{0}/macro.njk"

SUB_NAVIGATION = (
    '{% from "moj/sub-navigation.html" import mojSubNavigation %}{{ mojSubNavigation(params) }}',
    '{% from "' + MOJ.format("sub-navigation") + '" import mojSubNavigation %}{{ mojSubNavigation(params) }}',
)
BADGE = (
    '{% from "moj/badge.html" import mojBadge %}{{ mojBadge(params) }}',
    '{% from "' + MOJ.format("badge") + '" import mojBadge %}{{ mojBadge(params) }}',
)
TIMELINE = (
    '{% from "moj/timeline.html" import mojTimeline %}{{ mojTimeline(params) }}',
    '{% from "' + MOJ.format("timeline") + '" import mojTimeline %}{{ mojTimeline(params) }}',
)
BUTTON_MENU = (
    '{% from "moj/button-menu.html" import mojButtonMenu %}{{ mojButtonMenu(params) }}',
    '{% from "' + MOJ.format("button-menu") + '" import mojButtonMenu %}{{ mojButtonMenu(params) }}',
)
FILTER = (
    '{% from "moj/filter.html" import mojFilter %}{{ mojFilter(params) }}',
    '{% from "' + MOJ.format("filter") + '" import mojFilter %}{{ mojFilter(params) }}',
)
SORTABLE_TABLE = (
    '{% from "moj/sortable-table.html" import mojSortableTable %}{{ mojSortableTable(params) }}',
    '{% from "govuk/components/table/macro.njk" import govukTable %}{{ govukTable(params) }}',
)
FILTER_LAYOUT = (
    '{% from "moj/filter.html" import mojFilterLayout %}'
    "{% call mojFilterLayout(params) %}<table><tr><td>The list</td></tr></table>{% endcall %}",
    # MOJ's "Filter a list" pattern, with the GET form and hidden field we add around the panel.
    '{% from "' + MOJ.format("filter") + '" import mojFilter %}'
    '<div class="moj-filter-layout"><div class="moj-filter-layout__filter">'
    '<form method="get" action="/officer/claims" novalidate><input type="hidden" name="sort" value="due">'
    "{{ mojFilter(params.filter) }}</form></div>"
    '<div class="moj-filter-layout__content"><div class="moj-action-bar"><div class="moj-action-bar__filter"></div>'
    "{{ params.actionsHtml | safe }}</div>"
    "<table><tr><td>The list</td></tr></table></div></div>",
)

OPTIONS = (
    '<div class="govuk-form-group"><label class="govuk-label govuk-label--s" for="q">Reference or title</label>'
    '<input class="govuk-input" id="q" name="q" type="text"></div>'
)
SELECTED = {
    "heading": {"text": "Selected filters"},
    "clearLink": {"text": "Clear filters", "href": "/officer/claims"},
    "categories": [
        {"heading": {"text": "Status"}, "items": [{"text": "Submitted", "href": "?state=under_review"}]},
        {
            "heading": {"text": "Region"},
            "items": [{"text": "London", "href": "?"}, {"text": "Wales & <Borders>", "href": "?"}],
        },
    ],
}
EVENT = {
    "label": {"text": "Claim upheld"},
    "text": "The rule will be waived for this initiative.",
    "byline": {"text": "Ann Officer"},
}

CASES = [
    Case(
        "sub navigation",
        *SUB_NAVIGATION,
        {
            "label": "Saved views",
            "classes": "app-views",
            "attributes": {"data-test": "views"},
            "items": [
                {"text": "My claims", "href": "/officer/claims?view=mine", "active": True},
                {
                    "html": "<strong>Unassigned</strong>",
                    "href": "/officer/claims?view=unassigned",
                    "classes": "x",
                    "attributes": {"data-view": "unassigned"},
                },
                {"text": "Appeals & <reviews>", "href": "/officer/claims?view=appeals"},
            ],
        },
    ),
    Case("sub navigation without a label", *SUB_NAVIGATION, {"items": [{"text": "Queue", "href": "/"}]}),
    Case(
        "sub navigation with counts in the item text",
        *SUB_NAVIGATION,
        {
            "items": [
                {"text": "Overdue", "count": 1234, "href": "/o", "active": True},
                {"text": "Due this week", "count": "more than 1,000", "href": "/d"},
                {"text": "Appeals waiting", "count": 0, "href": "/a"},
            ]
        },
        theirs={
            "items": [
                {"text": "Overdue (1,234)", "href": "/o", "active": True},
                {"text": "Due this week (more than 1,000)", "href": "/d"},
                {"text": "Appeals waiting (0)", "href": "/a"},
            ]
        },
    ),
    Case("badge", *BADGE, {"text": "Urgent", "classes": "moj-badge--red"}),
    Case(
        "badge with markup, attributes and a label",
        *BADGE,
        {
            "html": "New <span class='govuk-visually-hidden'>claim</span>",
            "label": "New claim",
            "attributes": {"data-state": "new"},
        },
    ),
    Case("badge with plain text escaped", *BADGE, {"text": "<b>&</b> \"quoted\" 'once'"}),
    Case(
        "timeline",
        *TIMELINE,
        {
            "items": [
                {**EVENT, "datetime": {"timestamp": "2026-06-14T14:01:00.000Z", "type": "datetime"}},
                {
                    "label": {"html": "Question <em>asked</em>"},
                    "html": "<p class='govuk-body'>What days?</p>",
                    "datetime": {"timestamp": "2026-11-02T09:00:00Z", "type": "shortdatetime"},
                    "classes": "app-internal",
                    "attributes": {"data-event": "7"},
                },
                {
                    "label": {"text": "Claim filed"},
                    "text": "By the group",
                    "datetime": {"timestamp": "2026-01-31T23:30:00+00:00", "type": "date"},
                },
            ]
        },
    ),
    Case(
        "timeline with every kind of date, heading level, classes",
        *TIMELINE,
        {
            "headingLevel": 3,
            "classes": "app-timeline",
            "attributes": {"id": "history"},
            "items": [
                {**EVENT, "datetime": {"timestamp": "2026-03-29T00:30:00Z", "type": "shortdate"}},
                {**EVENT, "datetime": {"timestamp": "2026-03-29T01:30:00Z", "type": "time"}},
                {**EVENT, "datetime": {"timestamp": "2026-10-25T12:00:00Z", "type": "time"}},
                {
                    **EVENT,
                    "byline": {"html": "<a href='/officers/1'>Ann</a>"},
                    "datetime": {"timestamp": "2026-09-01T11:05:00Z", "type": "shortdatetime"},
                },
            ],
        },
    ),
    Case(
        "timeline from Python datetimes and dates",
        *TIMELINE,
        {
            "items": [
                {
                    **EVENT,
                    "datetime": {"timestamp": datetime(2026, 7, 1, 8, 0, 30, 123456, tzinfo=UTC), "type": "datetime"},
                },
                {**EVENT, "datetime": {"timestamp": date(2026, 7, 2), "type": "date"}},
            ]
        },
        theirs={
            "items": [
                {**EVENT, "datetime": {"timestamp": "2026-07-01T08:00:30+00:00", "type": "datetime"}},
                {**EVENT, "datetime": {"timestamp": "2026-07-02", "type": "date"}},
            ]
        },
    ),
    Case(
        "button menu",
        *BUTTON_MENU,
        {
            "items": [
                {"text": "Assign to me", "name": "action", "value": "assign"},
                {"text": "Print", "href": "/print", "classes": "app-print"},
                {
                    "html": "Decline <span class='govuk-visually-hidden'>selected</span>",
                    "type": "button",
                    "attributes": {"data-x": "1"},
                    "disabled": True,
                },
            ]
        },
    ),
    Case(
        "button menu with its toggle's words, alignment and attributes",
        *BUTTON_MENU,
        {
            "button": {"text": "Claim actions", "classes": "govuk-button--secondary app-x"},
            "alignMenu": "right",
            "classes": "app-menu",
            "attributes": {"id": "actions"},
            "items": [{"text": "One"}, {"text": "Two"}],
        },
    ),
    Case(
        "filter",
        *FILTER,
        {
            "heading": {"text": "Filter"},
            "selectedFilters": SELECTED,
            "optionsHtml": OPTIONS,
            "submit": {"text": "Show claims", "attributes": {"data-test": "apply"}},
            "attributes": {"id": "filters"},
        },
    ),
    Case(
        "filter with nothing selected",
        *FILTER,
        {"heading": {"html": "Filter <span class='govuk-visually-hidden'>claims</span>"}, "optionsHtml": OPTIONS},
    ),
    Case(
        "filter layout",
        *FILTER_LAYOUT,
        {
            "filter": {"heading": {"text": "Filter"}, "selectedFilters": SELECTED, "optionsHtml": OPTIONS},
            "action": "/officer/claims",
            "hidden": {"sort": "due", "page": None},
            "actionsHtml": '<a class="govuk-link" href="/officer/views/new">Save this view</a>',
        },
    ),
    Case(
        "sortable table",
        *SORTABLE_TABLE,
        {
            "caption": "Claims",
            "captionClasses": "govuk-visually-hidden",
            "firstCellIsHeader": True,
            "attributes": {"id": "queue"},
            "head": [
                {"text": "Reference", "sort": "ascending", "href": "?sort=reference&dir=desc"},
                {"text": "Due & late", "sort": "none", "href": "?sort=due"},
                {"text": "Title", "sort": "descending"},
                {"html": "<span class='govuk-visually-hidden'>Select</span>", "classes": "app-narrow"},
            ],
            "rows": [
                [
                    {"text": "CPG-2026-000001"},
                    {"text": "3 December 2026", "attributes": {"data-sort-value": "2026-12-03"}},
                    {"text": "Kitchen"},
                    {"html": "<input type='checkbox'>"},
                ],
                [
                    {"text": "CPG-2026-000002"},
                    {"text": "1 December 2026", "attributes": {"data-sort-value": "2026-12-01"}},
                    {"text": "Garden"},
                    {"html": "<input type='checkbox'>"},
                ],
            ],
        },
        theirs={
            "caption": "Claims",
            "captionClasses": "govuk-visually-hidden",
            "firstCellIsHeader": True,
            "attributes": {"id": "queue", "data-module": "moj-sortable-table"},
            "head": [
                {
                    "html": '<a class="govuk-link app-sort-link" href="?sort=reference&amp;dir=desc">Reference</a>',
                    "attributes": {"aria-sort": "ascending"},
                },
                {
                    "html": '<a class="govuk-link app-sort-link" href="?sort=due">Due &amp; late</a>',
                    "attributes": {"aria-sort": "none"},
                },
                {"text": "Title", "attributes": {"aria-sort": "descending"}},
                {"html": "<span class='govuk-visually-hidden'>Select</span>", "classes": "app-narrow"},
            ],
            "rows": [
                [
                    {"text": "CPG-2026-000001"},
                    {"text": "3 December 2026", "attributes": {"data-sort-value": "2026-12-03"}},
                    {"text": "Kitchen"},
                    {"html": "<input type='checkbox'>"},
                ],
                [
                    {"text": "CPG-2026-000002"},
                    {"text": "1 December 2026", "attributes": {"data-sort-value": "2026-12-01"}},
                    {"text": "Garden"},
                    {"html": "<input type='checkbox'>"},
                ],
            ],
        },
    ),
]


def normalise(html: str) -> str:
    """The same markup, whatever the template engine's whitespace and quote escaping."""
    html = html.replace("&#34;", "&quot;").replace("&#x27;", "&#39;")
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"> <", "><", html)  # between two tags
    html = re.sub(r" >", ">", html)  # before the end of a tag
    return html.strip()


@pytest.fixture(scope="module")
def jinja() -> Environment:
    """The pages' Jinja environment (loaders, filters and globals), without a database."""
    app = Flask(__name__)
    init_app(app)
    return app.jinja_env


@pytest.fixture(scope="module")
def mojs_markup() -> dict[str, str]:
    """Every case rendered by MOJ's (and GOV.UK's) own Nunjucks templates, in one run of node."""
    cases = [{"source": c.mojs, "params": c.theirs if c.theirs is not None else c.params} for c in CASES]
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(RENDER)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "TZ": "Europe/London"},
        cwd=ROOT,
    )
    rendered: list[str] = json.loads(done.stdout)
    return {c.name: html for c, html in zip(CASES, rendered, strict=True)}


@needs_node
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_macro_gives_the_markup_of_mojs_template(case: Case, jinja: Environment, mojs_markup: dict[str, str]) -> None:
    ours = jinja.from_string(case.ours).render(params=case.params)
    assert normalise(ours) == normalise(mojs_markup[case.name])


def test_every_macro_says_which_moj_component_and_version_it_follows() -> None:
    for template in sorted((ROOT / "guarantee" / "templates" / "moj").glob("*.html")):
        text = template.read_text()
        macros = re.findall(r"{% macro (\w+)\(", text)
        assert macros, template.name
        for macro in macros:
            assert re.search(rf"{macro}: MOJ(?: Frontend)?'s .*?11\.1\.0", text, re.S), (
                f"{template.name}: {macro}'s docstring names the MOJ component and version it follows"
            )


@needs_node
def test_the_ported_version_is_the_installed_one() -> None:
    installed = json.loads((ROOT / "node_modules" / "@ministryofjustice" / "frontend" / "package.json").read_text())
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["@ministryofjustice/frontend"]
    assert installed["version"] == pinned == "11.1.0"


def test_the_sticky_action_bar_names_its_table_and_what_its_rows_are(jinja: Environment) -> None:
    html = jinja.from_string(
        '{% from "_sticky_action_bar.html" import appStickyActionBar %}{{ appStickyActionBar(params) }}'
    ).render(
        params={
            "table": "regulations",
            "noun": {"one": "regulation", "other": "regulations"},
            "items": [{"text": "Merge", "name": "action", "value": "merge"}],
        }
    )
    bar = re.search(r"<div ([^>]*)>", html)
    assert bar
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', bar[1]))
    assert attributes["data-module"] == "app-sticky-action-bar"
    assert attributes["data-table"] == "regulations"
    assert (attributes["data-noun-one"], attributes["data-noun-other"]) == ("regulation", "regulations")
    assert attributes["role"] == "region" and attributes["aria-label"] == "Actions for the regulations you tick"
    assert "For the regulations you tick:" in html, "what the bar says without JavaScript"
    assert re.search(r'<button type="submit" value="merge" name="action"[^>]*>\s*Merge\s*</button>', html)


@pytest.mark.parametrize(
    ("timestamp", "kind", "shown"),
    [
        ("2026-06-14T14:01:00Z", "datetime", "14 June 2026 at 3:01pm"),  # British Summer Time
        ("2026-12-14T14:00:00+00:00", "datetime", "14 December 2026 at 2pm"),  # on the hour: no ":00"
        (datetime(2026, 9, 1, 23, 30, tzinfo=UTC), "shortdatetime", "2 Sep 2026 at 12:30am"),  # the next day in the UK
        (date(2026, 9, 1), "shortdate", "1 Sep 2026"),
        ("2026-03-29T00:59:00Z", "time", "12:59am"),
        ("2026-03-29T00:59:00Z", "unknown", "2026-03-29T00:59:00Z"),  # given back, as MOJ's filter does
    ],
)
def test_dates_read_as_mojs_date_filter_writes_them_in_uk_time(
    jinja: Environment, timestamp: Any, kind: str, shown: str
) -> None:
    assert jinja.from_string("{{ t | moj_date(kind) }}").render(t=timestamp, kind=kind) == shown
