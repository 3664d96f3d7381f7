"""The dependency audit CI runs (tools/audit_deps.py, SECURITY.md): a known vulnerability always
fails; a clean, complete audit passes; an audit that could not check passes only while
SECURITY.md's dated exception holds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tools.audit_deps import Audit, exception_lapses, read_report, verdict

LAPSES = date(2027, 2, 23)


def report(*dependencies: dict[str, object]) -> dict[str, object]:
    return {"dependencies": list(dependencies), "fixes": []}


CLEAN = {"name": "flask", "version": "3.1.2", "vulns": []}
VULNERABLE = {"name": "jinja2", "version": "3.1.4", "vulns": [{"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"]}]}
UNCHECKED = {
    "name": "holidays",
    "version": "0.84",
    "skip_reason": "Dependency not found on PyPI and could not be audited",
}


def test_a_known_vulnerability_fails_even_while_the_exception_holds() -> None:
    passed, lines = verdict(read_report(report(CLEAN, VULNERABLE, UNCHECKED)), LAPSES, date(2026, 11, 23))
    assert not passed
    assert "jinja2==3.1.4: GHSA-q2x7-8rv6-6q7h" in lines


def test_every_pin_checked_and_none_vulnerable_passes() -> None:
    passed, lines = verdict(read_report(report(CLEAN, CLEAN | {"name": "sqlalchemy"})), None, date(2030, 1, 1))
    assert passed
    assert lines == ["No known vulnerabilities in 2 pinned packages."]


def test_a_pin_that_could_not_be_checked_passes_only_until_the_exception_lapses() -> None:
    audit = read_report(report(CLEAN, UNCHECKED))
    assert audit.unchecked == {"holidays==0.84": UNCHECKED["skip_reason"]}
    assert verdict(audit, LAPSES, date(2027, 2, 22))[0]
    assert not verdict(audit, LAPSES, date(2027, 2, 23))[0]
    assert not verdict(audit, None, date(2026, 11, 23))[0]


def test_no_report_at_all_counts_as_could_not_check() -> None:
    audit = Audit(failure="pip-audit exited 1: Connection refused")
    passed, lines = verdict(audit, LAPSES, date(2026, 12, 1))
    assert passed and "Connection refused" in lines[0]
    assert not verdict(audit, LAPSES, date(2027, 3, 1))[0]


def test_the_exception_in_security_md_is_dated() -> None:
    text = (Path(__file__).resolve().parent.parent / "SECURITY.md").read_text()
    assert isinstance(exception_lapses(text), date)
    assert exception_lapses("This exception lapses on **23 February 2027**, or sooner.") == LAPSES
