"""The workflow diagram: drawn from workflows/ by Graphviz, committed as
guarantee/static/workflow.svg, and shown on the "How a claim is handled" page (public, and linked
from the console). A change to the workflow without drawing the diagram again fails here."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from workflows import STATE_LABELS, STATES, TRANSITIONS
from workflows.diagram import FAN_IN, FINGERPRINT_PREFIX, fingerprint, to_dot

COMMITTED = Path(__file__).resolve().parent.parent / "guarantee" / "static" / "workflow.svg"
REDRAW = "the workflow changed: draw the diagram again with `make diagram` and commit guarantee/static/workflow.svg"


def drawn_steps() -> list[tuple[str, str]]:
    return [(t.trigger, s) for t in TRANSITIONS if len(t.sources) < FAN_IN for s in t.sources]


def test_the_diagram_source_has_every_state_and_every_step_in_the_users_words() -> None:
    source = to_dot()
    for state in STATES:
        assert f'{state} [id="state_{state}", label="{STATE_LABELS[state]}' in source
    for trigger, origin in drawn_steps():
        transition = next(t for t in TRANSITIONS if t.trigger == trigger)
        assert (
            f'{origin} -> {transition.dest} [id="step_{trigger}_from_{origin}", label="{transition.label}\\n(' in source
        )


def test_a_step_open_from_almost_everywhere_is_written_on_its_state_not_drawn_from_each() -> None:
    source = to_dot()
    assert "the group can withdraw the claim\\nfrom any step before the end except upheld" in source
    assert "-> withdrawn" not in source


def test_the_fingerprint_follows_the_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    from workflows import diagram

    before = fingerprint()
    monkeypatch.setitem(diagram.STATE_LABELS, "closed", "Shut")
    assert fingerprint() != before


def test_the_committed_diagram_was_drawn_from_the_workflow_as_it_is_now() -> None:
    svg = COMMITTED.read_text()
    found = re.search(re.escape(FINGERPRINT_PREFIX.replace("-", "&#45;")) + r"([0-9a-f]{64})", svg)
    assert found, "the committed diagram carries no fingerprint: " + REDRAW
    assert found.group(1) == fingerprint(), REDRAW
    for state in STATES:
        assert f'id="state_{state}"' in svg
    for trigger, origin in drawn_steps():
        assert f'id="step_{trigger}_from_{origin}"' in svg


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
def test_the_cli_draws_the_diagram_with_graphviz(app: Flask, tmp_path: Path) -> None:
    output = tmp_path / "workflow.svg"
    result = app.test_cli_runner().invoke(args=["guarantee", "diagram", "--output", str(output)])
    assert result.exit_code == 0, result.output
    svg = output.read_text()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert fingerprint() in svg
    assert "Accept for review" in svg


def test_the_cli_writes_the_graphviz_source_without_graphviz(app: Flask, tmp_path: Path) -> None:
    output = tmp_path / "workflow.dot"
    result = app.test_cli_runner().invoke(args=["guarantee", "diagram", "--dot", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text() == to_dot()


def test_the_process_page_shows_the_diagram_with_a_text_alternative(client: FlaskClient) -> None:
    page = client.get("/process").text
    image = re.search(r'<img src="(/static/workflow\.svg)" alt="([^"]+)"', page)
    assert image, "the page shows no diagram"
    assert "set out in words under" in image.group(2)
    served = client.get(image.group(1))
    assert served.status_code == 200
    assert served.mimetype == "image/svg+xml"
    served.close()
