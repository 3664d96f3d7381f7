"""The Welsh catalogue (issue 23): every text the service marks for translation has a Welsh
translation, none fuzzy, each keeping its placeholders; the template of texts is the one the
code gives today; and the catalogue says that it awaits review by a Welsh speaker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "guarantee" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
WELSH = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")
TAG = re.compile(r"</?([a-z]+)[^>]*>")


def _read(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalogue) -> set[object]:  # type: ignore[no-untyped-def]
    return {message.id for message in catalogue if message.id}


def _forms(message) -> list[str]:  # type: ignore[no-untyped-def]
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def test_every_text_marked_in_the_code_is_in_the_template_and_nothing_else_is(tmp_path: Path) -> None:
    """messages.pot is what `make translations` extracts from the code now: a text marked but not
    extracted (or extracted but since removed) fails here until `make translations` is run."""
    extracted = tmp_path / "messages.pot"
    makefile = (ROOT / "Makefile").read_text()
    keywords = re.findall(r"--keyword (\S+)", makefile.split("\ntranslations: ")[1].split("pybabel update")[0])
    assert "N_" in keywords and "words" in keywords
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "--mapping-file", "babel.cfg", "--no-location",
         *[f"--keyword={k}" for k in keywords], "--output-file", str(extracted), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    now, committed = _ids(_read(extracted)), _ids(_read(TEMPLATE))
    assert not now - committed, (
        f"marked but not in messages.pot (run make translations): {sorted(map(str, now - committed))[:20]}"
    )
    assert not committed - now, f"in messages.pot but no longer in the code: {sorted(map(str, committed - now))[:20]}"


def test_every_text_has_a_welsh_translation_and_none_is_fuzzy() -> None:
    template, welsh = _read(TEMPLATE), _read(WELSH)
    assert _ids(welsh) == _ids(template), "the Welsh catalogue is not up to date with messages.pot"
    untranslated = [m.id for m in welsh if m.id and not all(_forms(m))]
    fuzzy = [m.id for m in welsh if m.id and m.fuzzy]
    assert not untranslated, f"{len(untranslated)} texts have no Welsh yet, e.g. {untranslated[:10]}"
    assert not fuzzy, f"fuzzy translations: {fuzzy[:10]}"


def test_a_welsh_plural_has_all_five_forms() -> None:
    welsh = _read(WELSH)
    assert welsh.num_plurals == 5
    for message in welsh:
        if message.pluralizable:
            assert len(message.string) == 5 and all(message.string), message.id


def test_each_translation_keeps_the_placeholders_and_tags_of_its_english() -> None:
    wrong = []
    for message in _read(WELSH):
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = sorted(set(PLACEHOLDER.findall(english[-1])))
        tags = sorted(TAG.findall(english[0]))
        for form in _forms(message):
            named = sorted(set(PLACEHOLDER.findall(form)))
            # a plural's form for one may say "un" instead of its number
            if named != wanted and not (message.pluralizable and set(named) <= set(wanted)):
                wrong.append((english[0], form))
            if sorted(TAG.findall(form)) != tags:
                wrong.append((english[0], form))
    assert not wrong, wrong[:10]


def test_the_catalogue_says_it_awaits_review_by_a_welsh_speaker() -> None:
    header = WELSH.read_text().split('msgid ""')[0]
    assert "AWAITING REVIEW BY A WELSH SPEAKER" in header
    assert "docs/welsh-glossary.md" in header


@pytest.mark.parametrize("term", ["hawliad", "apêl", "rheoliad", "rhwymedi", "diwrnod gwaith", "grŵp"])
def test_the_glossarys_terms_are_the_ones_the_translation_uses(term: str) -> None:
    """A sample of the glossary's words, each used in the catalogue (a renamed term fails here)."""
    assert term in (ROOT / "docs" / "welsh-glossary.md").read_text()
    assert term in WELSH.read_text().lower()


def test_every_bank_holiday_a_page_may_name_is_marked_for_translation() -> None:
    """The holidays package names bank holidays in English only: each name it gives for the UK's
    nations is one of calendar.HOLIDAY_NAMES, so that a Welsh page names it in Welsh."""
    import holidays

    from guarantee.services.calendar import HOLIDAY_NAMES

    given = {
        name
        for nation in ("ENG", "WLS", "SCT", "NIR")
        for name in holidays.country_holidays("GB", subdiv=nation, years=range(2020, 2041)).values()
    }
    assert given <= set(HOLIDAY_NAMES), sorted(given - set(HOLIDAY_NAMES))
