"""The contract's search synonyms: the shipped groups, and a bad row named with its line."""

from __future__ import annotations

import pytest

from vierstaedte_contract import synonyms
from vierstaedte_contract.synonyms import SynonymError, parse

HEADER = "group,lang,term,note\n"


def terms(group: str) -> set[str]:
    return {t.term for t in synonyms.groups()[group]}


def test_the_shipped_groups_join_the_words_people_type():
    assert {"Einwohner", "Bevölkerung", "Einwohnerzahl", "Bevölkerungszahl"} <= terms("population")
    assert {"population", "inhabitants"} <= terms("population")
    election = {"Wahl", "Wahlen", "Wahlergebnis", "Wahlergebnisse", "Kommunalwahl"}
    assert election | {"Stadtratswahl", "election", "elections"} <= terms("election")
    assert {"Arbeitslose", "Arbeitslosigkeit", "Arbeitslosenquote"} <= terms("unemployment")
    assert "unemployment" in terms("unemployment")
    for group in synonyms.groups().values():
        assert {t.lang for t in group} <= {"de", "en"}


def test_haushalt_is_ambiguous_between_households_and_budget():
    assert synonyms.ambiguous() == {"Haushalt": ("households", "budget")}
    assert {"Haushalte", "Privathaushalte", "households"} <= terms("households")
    assert {"Haushaltsplan", "Etat", "budget"} <= terms("budget")
    assert not terms("households") & terms("budget")


def test_a_good_file_parses():
    parsed = parse(HEADER + "a,de,Wahl,\na,en,election,\nb,de,Etat,\nb,en,budget,\nb|a,de,X,\n")
    assert [t.term for t in parsed.groups["a"]] == ["Wahl", "election"]
    assert parsed.ambiguous == {"X": ("b", "a")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("group,term\na,Wahl\n", "the header must be group,lang,term,note"),
        (HEADER + "a,de,Wahl,\na,fr,élection,\n", "line 3: lang 'fr' is not one of de, en"),
        (HEADER + "a,de,Wahl,\nA b,de,Wahlen,\n", "line 3: group 'A b' is no id"),
        (HEADER + 'a,de,Wahl,\na,de,"Wahl, Wahlen",\n', "line 3: term 'Wahl, Wahlen' must be"),
        (HEADER + "a,de,Wahl,\na,de,Wahl => Wahlen,\n", "line 3: term 'Wahl => Wahlen' must be"),
        (HEADER + "a,de,Wahl,\na,de,,\n", "line 3: term '' must be words"),
        (HEADER + "a,de,Wahl,\na,de,Wahlen,\nb,de,wahl,\nb,de,x,\n", "line 4: 'wahl' is already"),
        (HEADER + "a,de,Wahl,\na,de,Wahlen,\nb,de,Etat,\n", "group 'b' has one term only"),
        (HEADER + "a,de,Wahl,\na,de,Wahlen,\na|c,de,X,\n", "'X' names the unknown group 'c'"),
        (HEADER + "a,de,Wahl\n", "line 2: expected the columns group,lang,term,note"),
        (HEADER + "a,de,Wahl,,extra\n", "line 2: expected the columns group,lang,term,note"),
    ],
)
def test_a_bad_row_is_named_with_its_line(text, message):
    with pytest.raises(SynonymError) as error:
        parse(text)
    assert message in str(error.value)
