"""Compile each language's catalogue (guarantee/translations/<lang>/LC_MESSAGES/messages.po) to
the .mo file Flask-Babel reads.

``pybabel compile`` would do, but its placeholder check pairs a plural's forms with the English
singular and plural in order, so a Welsh form for "other" (msgstr[0], which says the number) is
judged against the English singular (which does not) and refused. tests/test_translations.py
checks every form's placeholders properly instead; this writes the catalogue as it is, fuzzy
translations left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "guarantee" / "translations"


def compile_all(root: Path = TRANSLATIONS) -> list[Path]:
    written = []
    for source in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        with source.open("rb") as handle:
            catalogue = read_po(handle, locale=source.parent.parent.name)
        target = source.with_suffix(".mo")
        with target.open("wb") as out:
            write_mo(out, catalogue, use_fuzzy=False)
        done = sum(1 for m in catalogue if m.id and m.string and "fuzzy" not in m.flags)
        print(f"{target.relative_to(root.parent.parent)}: {done} of {len(catalogue)} texts translated")
        written.append(target)
    return written


if __name__ == "__main__":
    sys.exit(0 if compile_all() else 1)
