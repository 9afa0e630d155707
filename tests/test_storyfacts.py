"""The facts an IP story turns on, and the ones that tell two stories apart."""

from __future__ import annotations

import pytest

from digest.issue.storyfacts import conflict, facts, numbers, parties


def test_figures_in_words_and_scales_compare_equal() -> None:
    assert "80000" in numbers("eighty thousand bottles") & numbers("80,000 bottles") & numbers("80k bottles")
    assert "12000000" in numbers("$12m verdict") & numbers("12 million dollars")
    assert numbers("a 4G portfolio in 2024") == frozenset({"2024"})


def test_the_facts_of_a_story() -> None:
    title = "Federal Circuit overturns Korvath verdict against Belmora"
    f = facts(f"{title} The appeals court held the claims in No. 23-1234 invalid and wiped out $40m.", title)
    assert f.stage == "appeal decided"
    assert f.forums == frozenset({"federal circuit", "court of appeal"})
    assert f.cases == frozenset({"23-1234"})
    assert {"korvath", "belmora"} <= f.names
    assert "40000000" in f.numbers


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        ("Korvath sues Belmora over battery patent", "Jury finds Belmora infringed Korvath patent", "stage"),
        ("Korvath sues Belmora over battery patent", "Korvath sues Belmora for stealing trade secrets", "rights"),
        ("Tamsin sues Corvel over the '512 patent", "Tamsin sues Corvel over the '778 patent", "case numbers"),
        ("Customs seize 40,000 fake watches", "Customs seize 10,000 fake watches", "numbers"),
        ("Court in Case T-12/24 annuls refusal", "Court in Case T-98/23 annuls refusal", "case numbers"),
        ("EUIPO revokes VELUNA for non-use", "EUIPO rejects VELUNA opposition against VELUNIA", "marks"),
        ("League wins blocking order in Ireland", "League wins blocking order in the Netherlands", "place"),
        (
            "Parrish design not infringed, court rules",
            "In a separate claim, Parrish design infringed, court rules",
            "another matter",
        ),
        ("Delhi court protects Sarvana's voice", "Delhi court protects singer Meera Anand's voice", "parties"),
    ],
)
def test_a_fact_both_name_that_disagrees_tells_them_apart(a: str, b: str, why: str) -> None:
    assert conflict(facts(a, a), facts(b, b)) == why


def test_one_event_in_other_words_has_no_conflict() -> None:
    a = "Milan court orders Ferrovia to stop selling copied sneakers"
    b = "Lucca wins sneaker stripe case in Italy"
    fa = facts(f"{a} The Court of Milan found that Ferrovia's trainers imitated the stripes of the Lucca brand.", a)
    fb = facts(f"{b} Ferrovia must pull its trainers after judges in Milan ruled the stripes copied Lucca's design.", b)
    assert conflict(fa, fb) == ""
    assert parties(fa, fb)[0] & parties(fa, fb)[1] == {"ferrovia", "lucca"}


def test_a_title_case_headline_names_no_parties() -> None:
    title = "Court Orders Providers To Block Pirate Sites"
    assert facts(title, title).names == frozenset()
