"""The contract's search synonyms: the shipped groups, and a bad row named with its line."""

from __future__ import annotations

import pytest

from vierstaedte_contract import synonyms
from vierstaedte_contract.synonyms import SynonymError, parse

HEADER = "group,lang,term,kind,note\n"


def terms(group: str) -> set[str]:
    return {t.term for t in synonyms.groups()[group]}


def row(group: str, term: str, kind: str = "equivalent", lang: str = "de") -> str:
    return f"{group},{lang},{term},{kind},\n"


def test_the_shipped_groups_join_the_words_people_type():
    assert {"Einwohner", "Bevölkerung", "Einwohnerzahl", "Bevölkerungszahl"} <= terms("population")
    assert {"population", "inhabitants"} <= terms("population")
    election = {"Wahl", "Wahlen", "Wahlergebnis", "Wahlergebnisse", "Kommunalwahl"}
    assert election | {"Stadtratswahl", "election", "elections"} <= terms("election")
    assert {"Arbeitslose", "Arbeitslosigkeit", "Arbeitslosenquote"} <= terms("unemployment")
    assert "unemployment" in terms("unemployment")
    assert {"Kita", "Kindergarten", "Kindertagesstätte", "daycare"} <= terms("daycare")
    assert {"Müll", "Abfall", "waste"} <= terms("waste")
    assert {"Altersgruppe", "Altersgruppen", "age group", "age groups"} <= terms("age_groups")
    assert {"Geflüchtete", "Flüchtlinge", "Asylbewerber", "refugees"} <= terms("refugees")
    for group in synonyms.groups().values():
        assert {t.lang for t in group} <= {"de", "en"}


def test_a_specific_word_is_narrower_than_the_general_one_not_its_siblings():
    election = {t.term: t.kind for t in synonyms.groups()["election"]}
    assert election["Wahl"] == election["election"] == "equivalent"
    specific = ("Stadtratswahl", "Ortsbeiratswahl", "Bundestagswahl", "Landtagswahl")
    assert {election[w] for w in specific} == {"narrower"}
    local = {t.term: t.kind for t in synonyms.groups()["local_election"]}
    assert local["Kommunalwahl"] == "equivalent"
    assert local["Stadtratswahl"] == local["Ortsbeiratswahl"] == "narrower"
    assert "Bundestagswahl" not in local
    # each specific election is a group of its own forms, with none of its siblings
    assert "Ortsbeiratswahl" not in terms("city_council_election")
    assert "Stadtratswahl" not in terms("district_council_election")


def test_haushalt_is_ambiguous_between_households_and_budget():
    assert synonyms.ambiguous() == {"Haushalt": ("households", "budget")}
    assert {"Haushalte", "Privathaushalte", "households"} <= terms("households")
    assert {"Haushaltsplan", "Etat", "budget"} <= terms("budget")
    assert not terms("households") & terms("budget")


def test_a_good_file_parses():
    text = HEADER + row("a", "Wahl") + row("a", "election", lang="en") + row("b", "Etat")
    text += row("b", "budget", lang="en") + row("b|a", "X")
    text += row("c", "Grüne") + row("c", "Bündnis 90/Die Grünen")
    parsed = parse(text)
    assert [t.term for t in parsed.groups["a"]] == ["Wahl", "election"]
    assert parsed.groups["c"][1].term == "Bündnis 90/Die Grünen"
    assert {t.kind for t in parsed.groups["a"]} == {"equivalent"}
    assert parsed.ambiguous == {"X": ("b", "a")}


def test_a_narrower_term_may_hang_under_several_groups_and_have_its_own():
    text = HEADER + row("wahl", "Wahl") + row("wahl", "Stadtratswahl", "narrower")
    text += row("kommunal", "Kommunalwahl") + row("kommunal", "Stadtratswahl", "narrower")
    text += row("stadtrat", "Stadtratswahl") + row("stadtrat", "Stadtratswahlen")
    parsed = parse(text)
    assert parsed.groups["wahl"] == (
        synonyms.Term("Wahl", "de", "equivalent"),
        synonyms.Term("Stadtratswahl", "de", "narrower"),
    )
    assert parsed.groups["kommunal"][1].kind == "narrower"
    assert {t.kind for t in parsed.groups["stadtrat"]} == {"equivalent"}


WAHL = row("a", "Wahl") + row("a", "Wahlen")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("group,lang,term,note\na,de,Wahl,\n", "the header must be group,lang,term,kind,note"),
        (HEADER + WAHL + row("a", "élection", lang="fr"), "line 4: lang 'fr' is not one of de, en"),
        (HEADER + WAHL + row("A b", "Wahlen"), "line 4: group 'A b' is no id"),
        (HEADER + WAHL + row("a", '"Wahl, Wahlen"'), "line 4: term 'Wahl, Wahlen' must be"),
        (HEADER + WAHL + row("a", "Wahl => Wahlen"), "line 4: term 'Wahl => Wahlen' must be"),
        (HEADER + WAHL + row("a", ""), "line 4: term '' must be words"),
        (HEADER + WAHL + row("a", "2024 Wahl"), "line 4: term '2024 Wahl' must be words"),
        (HEADER + WAHL + row("b", "wahl") + row("b", "x"), "line 4: 'wahl' is already"),
        (HEADER + WAHL + row("b", "Etat"), "group 'b' has one term only"),
        (HEADER + WAHL + row("a|c", "X"), "'X' names the unknown group 'c'"),
        (HEADER + "a,de,Wahl,equivalent\n", "line 2: expected the columns group,lang,term,kind"),
        (HEADER + "a,de,Wahl,equivalent,,x\n", "line 2: expected the columns group,lang,term,kind"),
        (HEADER + WAHL + row("a", "Europawahl", ""), "line 4: kind '' is not one of equivalent"),
        (HEADER + WAHL + row("a", "Europawahl", "broader"), "line 4: kind 'broader' is not one"),
        (
            HEADER + WAHL + row("a", "Europawahl", "narrower") + row("a", "europawahl", "narrower"),
            "line 5: 'europawahl' is already narrower in 'a' (line 4)",
        ),
        (
            HEADER + WAHL + row("a", "wahlen", "narrower"),
            "line 4: 'wahlen' is equivalent in 'a' (line 3): equivalent or narrower, not both",
        ),
        (
            HEADER
            + WAHL
            + row("b", "Europawahl", "narrower")
            + row("b", "Landtagswahl", "narrower"),
            "group 'b' has no equivalent term to find its narrower ones",
        ),
        (
            HEADER + WAHL + row("b", "Etat") + row("b", "Etats") + row("a|b", "X", "narrower"),
            "line 6: 'X' is narrower in one group per row",
        ),
    ],
)
def test_a_bad_row_is_named_with_its_line(text, message):
    with pytest.raises(SynonymError) as error:
        parse(text)
    assert message in str(error.value)
