"""The README reports how easy every public page and every e-mail to a group is to read (Flesch
reading ease, from tests/readability.py), and no page reads harder than the floor recorded there."""

from __future__ import annotations

from flask import Flask

from guarantee.clock import FixedClock
from tests.readability import (
    AIM,
    Row,
    as_markdown,
    as_prose,
    below_floor,
    reading_ease,
    recorded,
    scores_of,
    table,
)

PLAIN = ["We have your claim.", "An officer will check it by 9 November 2026.", "Change"]
HARD = [
    "Notwithstanding the aforementioned considerations, determinations regarding the applicability "
    "of the regulatory requirements shall be communicated subsequently."
]


def test_plain_words_score_higher_than_legal_ones() -> None:
    assert reading_ease(PLAIN) >= AIM > reading_ease(HARD)


def test_each_block_is_read_as_a_sentence_once_without_what_people_typed() -> None:
    assert as_prose(["Your claim CPG-2026-000001", "…", "Change", "Change", "12", "Why: …"]) == (
        "Your claim X. Change. Why."
    )


def test_a_row_below_its_floor_is_reported_and_writing_the_table_again_keeps_the_floor() -> None:
    kept = {"Start page": Row("Start page", 72.0, 70)}
    rows = table({"Start page": 64.5, "A new page": 52.3}, kept)
    assert rows == [Row("Start page", 64.5, 70), Row("A new page", 52.3, 50)]
    assert below_floor(rows) == [Row("Start page", 64.5, 70)]
    assert recorded(as_markdown(rows)) == {r.name: r for r in rows}


def test_the_readme_reports_the_reading_ease_of_every_public_page_and_e_mail(app: Flask, clock: FixedClock) -> None:
    kept = recorded()
    rows = table(scores_of(app, clock), kept)
    assert not below_floor(rows), "\n".join(
        f"{r.name}: {r.score} is below its floor of {r.floor}" for r in below_floor(rows)
    )
    assert as_markdown(rows) == as_markdown(list(kept.values())), (
        "The README's readability table is out of date: run .venv/bin/python -m tests.readability --write"
    )
    assert any(name.startswith("E-mail: ") for name in kept) and any(name.startswith("Tracking page") for name in kept)
