"""Gather the axe-core results the browser tests recorded (one JSON line per page checked, written
by tests/support/browser.py's ``Visit.check()`` when GUARANTEE_RECORD_AXE names a file) into
docs/accessibility/axe-results.json, which the accessibility statement (/accessibility) reads.

    python -m tools.accessibility_results RECORDED.jsonl docs/accessibility/axe-results.json

``make accessibility-results`` runs the browser tests and then this. The same page checked on both
databases is one page: the record keeps the first and counts the worst of the two."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

# A path segment that is a capability token (a follow or check-in link's): not kept, even a test's.
TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_-]{32,}(?=/|$)")


def _key(record: dict[str, Any]) -> tuple[str, str, int]:
    """The test without its database, the page's label and the width it was checked at."""
    test = re.sub(r"-{2,}", "-", re.sub(r"sqlite|postgresql", "", record["test"]))
    test = test.replace("[-", "[").replace("-]", "]").replace("[]", "")
    return test, record["label"], int(record["width"])


def gather(lines: list[str]) -> dict[str, Any]:
    pages: dict[tuple[str, str, int], dict[str, Any]] = {}
    versions: set[str] = set()
    days: set[str] = set()
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        versions.add(record["axe_version"])
        days.add(record["tested_at"][:10])
        key = _key(record)
        kept = pages.setdefault(key, {k: record[k] for k in ("label", "path", "width", "passes", "violations")})
        kept["path"] = TOKEN.sub("<token>", kept["path"])
        kept["violations"] = max(kept["violations"], record["violations"])
        kept["test"] = key[0]
    if len(versions) != 1:
        raise SystemExit(f"expected results from one version of axe-core, found {sorted(versions) or 'none'}")
    return {
        "tool": "axe-core",
        "axe_version": versions.pop(),
        "standard": "WCAG 2.2 A and AA (axe tags wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa)",
        "tested_on": max(days),
        "pages": sorted(pages.values(), key=lambda p: (p["test"], p["label"], p["width"])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recorded", type=Path)
    parser.add_argument("output", type=Path)
    arguments = parser.parse_args(argv)
    result = gather(arguments.recorded.read_text().splitlines())
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    violations = sum(p["violations"] for p in result["pages"])
    print(f"{len(result['pages'])} pages, {violations} violations, axe-core {result['axe_version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
