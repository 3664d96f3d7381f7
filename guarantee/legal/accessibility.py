"""What the accessibility statement says about testing: the automated checks that the browser tests
make on every page of the journeys (axe-core, WCAG 2.2 A and AA), as recorded in
docs/accessibility/axe-results.json by ``make accessibility-results``, and the known limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "accessibility" / "axe-results.json"


@dataclass(frozen=True)
class AutomatedTests:
    pages: int  # page checks, each a page (or a state of one) in a journey, once per width
    violations: int
    axe_version: str
    tested_on: date
    rules_passed: int  # the most rules one page passed (axe runs only the rules that apply)


def automated_tests(path: Path = RESULTS) -> AutomatedTests | None:
    """The recorded results, or None where this copy of the service has none (or a broken file)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        pages = data["pages"]
        return AutomatedTests(
            pages=len(pages),
            violations=sum(int(p["violations"]) for p in pages),
            axe_version=str(data["axe_version"]),
            tested_on=date.fromisoformat(data["tested_on"]),
            rules_passed=max((int(p["passes"]) for p in pages), default=0),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
