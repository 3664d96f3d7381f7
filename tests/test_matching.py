"""Matching the rule a group named: the catalogue entry it meant comes first, typos and all, on
both databases; other open claims about the same rule in the same region are offered as possible
duplicates, each saying why, and nothing else is."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from guarantee.models import Regulation
from guarantee.services.actors import GroupActor
from guarantee.services.claims import fire, get_claim, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, NotFound
from guarantee.services.matching import LIKELY, possible_duplicates, rank_entries, similarity
from tests.helpers import Cast, make_officer, submission, walk

FOOD_CLAIM = {
    "regulation": "Food premises registraton",  # sic: groups make typos
    "regulation_reference": "",
    "imposed_by": "District council environmental health",
    "category": "food_hygiene",
}

# Realistic neighbours of the entry the group meant: same words, same body, same category.
DECOYS = [
    ("Food business premises approval", "Regulation (EC) 853/2004", "Food Standards Agency", "food_hygiene"),
    ("Registration of food business establishments", None, "Food Standards Agency", "food_hygiene"),
    ("Food hygiene rating scheme", "Food Hygiene Rating (Wales) Act 2013", "Local authority", "food_hygiene"),
    ("Food safety management procedures (HACCP)", None, "Environmental health", "food_hygiene"),
    ("Premises licence", "Licensing Act 2003", "Licensing authority", "licensing_and_permits"),
    ("Premises registration for acupuncture", None, "District council environmental health", "licensing_and_permits"),
    ("Animal by-products registration", None, "Animal and Plant Health Agency", "licensing_and_permits"),
    ("Street trading consent", None, "District council", "licensing_and_permits"),
    ("Temporary event notice", "Licensing Act 2003", "Licensing authority", "licensing_and_permits"),
    ("Food labelling regulations", None, "Trading standards", "food_hygiene"),
]
MEANT = ("Food premises registration", "Regulation (EC) 852/2004 art. 6", "Local authority", "food_hygiene")


def add_entries(ctx: ServiceContext, *entries: tuple[str, str | None, str | None, str]) -> list[int]:
    """Catalogue entries (title, legal reference, issuing body, category); their ids in order."""
    ids = []
    for title, legal_reference, issuing_body, category in entries:
        entry = Regulation(
            title=title,
            legal_reference=legal_reference,
            issuing_body=issuing_body,
            category=category,
            created_at=ctx.now(),
        )
        ctx.session.add(entry)
        ctx.session.flush()
        ids.append(entry.id)
    return ids


def food_claim(ctx: ServiceContext, **barrier: str) -> str:
    return submit_claim(ctx, submission(barrier=FOOD_CLAIM | barrier)).reference


# --- ranking the catalogue -----------------------------------------------------------------------


def test_a_typo_in_the_rule_still_ranks_the_entry_the_group_meant_first_among_realistic_decoys(
    ctx: ServiceContext,
) -> None:
    *_, meant = add_entries(ctx, *DECOYS, MEANT)
    reference = food_claim(ctx)
    officer = make_officer(ctx, "triage")
    ranked = rank_entries(ctx, officer, reference)
    assert (ranked[0].regulation_id, ranked[0].title) == (meant, "Food premises registration")
    assert ranked[0].likely and ranked[0].score >= LIKELY
    assert len(ranked) == 5, "the top five"
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)
    assert all(not m.likely for m in ranked[1:]), "no decoy is mistaken for the rule"


def test_the_ranking_is_the_same_whatever_order_the_database_returns_the_catalogue_in(ctx: ServiceContext) -> None:
    add_entries(ctx, MEANT, *reversed(DECOYS))
    first = rank_entries(ctx, make_officer(ctx, "reviewer"), food_claim(ctx), limit=10)
    add_entries(ctx, ("Zzz unrelated", None, None, "other"))
    again = rank_entries(ctx, make_officer(ctx, "reviewer"), food_claim(ctx), limit=10)
    assert [(m.title, m.score) for m in first] == [(m.title, m.score) for m in again]


def test_entries_alike_in_name_are_ordered_by_who_imposes_the_rule_and_its_category(ctx: ServiceContext) -> None:
    elsewhere, theirs = add_entries(
        ctx,
        ("Food premises registration", None, "Scottish Government", "other"),
        ("Food premises registration", None, "District council environmental health", "food_hygiene"),
    )
    ranked = rank_entries(ctx, make_officer(ctx, "triage"), food_claim(ctx))
    assert [m.regulation_id for m in ranked] == [theirs, elsewhere]
    assert ranked[0].score > ranked[1].score


def test_merged_entries_are_never_offered(ctx: ServiceContext) -> None:
    meant, old_id = add_entries(ctx, MEANT, ("Food premises registration (old)", None, None, "food_hygiene"))
    old = ctx.session.get(Regulation, old_id)
    assert old is not None
    old.merged_into_id = meant
    ctx.session.flush()
    ranked = rank_entries(ctx, make_officer(ctx, "triage"), food_claim(ctx))
    assert [m.regulation_id for m in ranked] == [meant]


def test_an_empty_catalogue_offers_nothing(ctx: ServiceContext) -> None:
    assert rank_entries(ctx, make_officer(ctx, "triage"), food_claim(ctx)) == []


def test_a_claim_that_named_no_rule_offers_nothing(ctx: ServiceContext) -> None:
    add_entries(ctx, MEANT, *DECOYS)
    assert rank_entries(ctx, make_officer(ctx, "triage"), food_claim(ctx, regulation="?")) == []


def test_entries_that_share_no_more_than_a_word_are_not_offered(ctx: ServiceContext) -> None:
    add_entries(
        ctx, ("Early years staffing ratios", "EYFS 3.28", "Ofsted", "professional_standards_and_qualifications")
    )
    assert rank_entries(ctx, make_officer(ctx, "triage"), food_claim(ctx)) == []


def test_among_thousands_of_entries_the_meant_one_still_ranks_first(ctx: ServiceContext) -> None:
    words = ["food", "premises", "licence", "registration", "permit", "safety", "scheme", "notice", "waste", "street"]
    rows = [
        {
            "title": f"{words[n % 10].capitalize()} {words[n // 10 % 10]} {words[n // 100 % 10]} rule {n}",
            "legal_reference": f"SI 2020/{n}",
            "issuing_body": f"Body {n % 40}",
            "category": "food_hygiene" if n % 3 else "other",
            "created_at": ctx.now(),
        }
        for n in range(5000)
    ]
    ctx.session.execute(insert(Regulation), rows)
    (meant,) = add_entries(ctx, MEANT)
    reference = food_claim(ctx)
    officer = make_officer(ctx, "triage")
    ranked = rank_entries(ctx, officer, reference)
    assert ranked[0].regulation_id == meant


def test_only_active_officers_may_rank_the_catalogue(ctx: ServiceContext) -> None:
    reference = food_claim(ctx)
    with pytest.raises(Forbidden):
        rank_entries(ctx, GroupActor(reference), reference)
    with pytest.raises(Forbidden):
        rank_entries(ctx, make_officer(ctx, "triage", active=False), reference)
    with pytest.raises(NotFound):
        rank_entries(ctx, make_officer(ctx, "triage"), "GC-2099-99999")


# --- possible duplicates -------------------------------------------------------------------------


def test_open_claims_in_the_region_about_a_similar_rule_are_possible_duplicates_saying_how_similar(
    ctx: ServiceContext,
) -> None:
    reference = food_claim(ctx)
    reordered = food_claim(ctx, regulation="Registering food premises")
    same = food_claim(ctx, regulation="Food premises registration")
    food_claim(ctx, regulation="Early years staffing ratios")  # another rule
    found = possible_duplicates(ctx, make_officer(ctx, "triage"), reference)
    assert [d.reference for d in found] == [same, reordered], "the most similar first"
    assert found[0].why == f"similar rule: {found[0].similarity}%" and found[0].similarity >= 95
    assert 85 <= found[1].similarity < found[0].similarity
    assert not found[0].same_entry and found[0].state == "submitted" and found[0].version == 1


def test_claims_on_the_same_catalogue_entry_are_possible_duplicates_whatever_they_wrote(ctx: ServiceContext) -> None:
    cast = Cast(ctx)
    reference = food_claim(ctx)
    other = food_claim(ctx, regulation="The rule about kitchens")
    walk(ctx, cast, reference, "accept")  # a new catalogue entry
    entry = get_claim(ctx, reference).regulation_id
    fire(ctx, other, "accept", cast.triage, {"category": "food_hygiene", "regulation": entry})
    (found,) = possible_duplicates(ctx, cast.reviewer, reference)
    assert (found.reference, found.same_entry, found.why) == (other, True, "same catalogue entry")


def test_a_claim_on_the_same_entry_and_with_a_similar_rule_says_both(ctx: ServiceContext) -> None:
    cast = Cast(ctx)
    reference = food_claim(ctx)
    other = food_claim(ctx, regulation="Food premises registration")
    walk(ctx, cast, reference, "accept")
    entry = get_claim(ctx, reference).regulation_id
    fire(ctx, other, "accept", cast.triage, {"category": "food_hygiene", "regulation": entry})
    (found,) = possible_duplicates(ctx, cast.reviewer, reference)
    assert found.why == f"same catalogue entry; similar rule: {found.similarity}%"
    assert found.same_entry and found.state == "under_review"


def test_claims_in_another_region_closed_claims_and_the_claim_itself_are_not_duplicates(
    ctx: ServiceContext,
) -> None:
    cast = Cast(ctx)
    reference = food_claim(ctx)
    elsewhere = submit_claim(ctx, submission(barrier=FOOD_CLAIM, initiative={"region": "wales"})).reference
    closed = food_claim(ctx)
    walk(ctx, cast, closed, "decline")
    withdrawn = food_claim(ctx)
    walk(ctx, cast, withdrawn, "withdraw")
    assert possible_duplicates(ctx, cast.triage, reference) == []
    assert possible_duplicates(ctx, cast.triage, elsewhere) == []
    assert [d.reference for d in possible_duplicates(ctx, cast.triage, closed)] == [reference], (
        "a closed claim still sees the open ones like it"
    )


def test_possible_duplicates_are_for_officers_only(ctx: ServiceContext) -> None:
    reference = food_claim(ctx)
    with pytest.raises(Forbidden):
        possible_duplicates(ctx, GroupActor(reference), reference)


def test_similarity_forgives_typos_order_and_added_words_but_not_a_shared_word() -> None:
    assert similarity("Food premises registration", "Food premises registraton") >= 95
    assert similarity("Food premises registration", "Registering food premises") >= 85
    assert similarity("Food premises registration", "The Food Premises (Registration) Regulations 1991") >= 85
    assert similarity("Food", "Food premises registration") < 70
    assert similarity("Premises licence", "Personal licence") < 85
    assert similarity("", "Food") == similarity("Food", None) == 0
