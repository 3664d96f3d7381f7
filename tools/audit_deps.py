"""The dependency audit CI runs (`make audit-deps`, SECURITY.md): pip-audit over every pinned
requirement, judged here so that "could not check" never passes as "nothing found".

- A known vulnerability in any pin fails, whatever else.
- Every pin checked and none vulnerable passes.
- A pin pip-audit could not check (no vulnerability database reachable, as on the build
  machine) passes only while SECURITY.md's written, dated exception holds, and fails from the
  day it lapses.

Runs with the standard library only, in the audit's own environment (`.venv-audit`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
# The sentence in SECURITY.md that dates the exception: "This exception lapses on **23 February 2027**".
LAPSES = re.compile(r"exception\s+lapses\s+on\s+\*\*(\d{1,2} [A-Z][a-z]+ \d{4})\*\*")


@dataclass
class Audit:
    """What pip-audit said about each pinned package."""

    vulnerable: dict[str, list[str]] = field(default_factory=dict)  # "name==version": advisory ids
    unchecked: dict[str, str] = field(default_factory=dict)  # "name==version": why
    checked: int = 0
    failure: str | None = None  # pip-audit gave no report at all


def read_report(report: dict[str, object]) -> Audit:
    """pip-audit's JSON report (``--format json``) as an Audit."""
    audit = Audit()
    dependencies = report.get("dependencies", [])
    assert isinstance(dependencies, list)
    for dependency in dependencies:
        pin = dependency["name"] + (f"=={dependency['version']}" if dependency.get("version") else "")
        if dependency.get("skip_reason"):
            audit.unchecked[pin] = str(dependency["skip_reason"])
            continue
        audit.checked += 1
        advisories = [str(vuln["id"]) for vuln in dependency.get("vulns", [])]
        if advisories:
            audit.vulnerable[pin] = advisories
    return audit


def exception_lapses(security_text: str) -> date | None:
    found = LAPSES.search(security_text)
    return datetime.strptime(found.group(1), "%d %B %Y").date() if found else None


def verdict(audit: Audit, lapses: date | None, today: date) -> tuple[bool, list[str]]:
    """Whether the audit passes, and the lines that say why."""
    if audit.vulnerable:
        lines = [f"{pin}: {', '.join(ids)}" for pin, ids in sorted(audit.vulnerable.items())]
        return False, ["Known vulnerabilities in pinned dependencies:", *lines, "Upgrade them and pin the fix."]
    if audit.failure is None and not audit.unchecked:
        return True, [f"No known vulnerabilities in {audit.checked} pinned packages."]
    why = audit.failure or (
        f"{len(audit.unchecked)} of {audit.checked + len(audit.unchecked)} packages could not be checked, "
        f"for example {min(audit.unchecked)}: {audit.unchecked[min(audit.unchecked)]}"
    )
    if lapses is None:
        return False, [f"Could not check the dependencies ({why}), and SECURITY.md has no dated exception."]
    if today >= lapses:
        return False, [
            f"Could not check the dependencies ({why}), and the exception in SECURITY.md lapsed on {lapses:%d %B %Y}.",
            "Run the audit where a vulnerability database is reachable, or write a new, dated exception.",
        ]
    return True, [
        f"Could not check the dependencies ({why}).",
        f"SECURITY.md's written exception holds until {lapses:%d %B %Y}; it is checked by hand meanwhile.",
    ]


def run_pip_audit() -> Audit:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "report.json"
        command = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--progress-spinner", "off"]
        for requirements in REQUIREMENTS:
            command += ["--requirement", str(ROOT / requirements)]
        command += ["--format", "json", "--output", str(output)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)  # noqa: S603
        if not output.exists() or not output.read_text().strip():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return Audit(failure=f"pip-audit exited {done.returncode}: {last[:300]}")
        return read_report(json.loads(output.read_text()))


def main() -> int:
    audit = run_pip_audit()
    passed, lines = verdict(audit, exception_lapses((ROOT / "SECURITY.md").read_text()), date.today())
    for line in lines:
        print(line)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
