"""The indicator query's and list's answers kept in memory stay the store's answers: every
publish, update, withdrawal, private or deleted dataset, and a table dropped behind CKAN's
back, changes the very next answer; the memory they take is bounded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from ckan.tests.helpers import call_action

from ckanext.vierstaedte.observations import query as store_query
from ckanext.vierstaedte.observations import store
from tests.ckanext.test_indicators import publish
from tests.ckanext.test_observations import as_admin, normalised
from tests.factories import Observation


def ask(**data) -> dict:
    return call_action(
        "vierstaedte_indicator_query", context={"user": ""}, indicator="population_total", **data
    )


def values(answer: dict) -> list[tuple]:
    return [(row["city"], row["period"], row["value"]) for row in answer["rows"]]


def listed() -> dict[str, list[str]]:
    found = call_action("vierstaedte_indicator_list", context={"user": ""})["indicators"]
    return {entry["id"]: [c["city"] for c in entry["cities"]] for entry in found}


def generation() -> int:
    with store.read_engine().connect() as connection:
        return store.generation(connection)


@pytest.fixture
def mainz(clean_datastore, cities):
    store_query.ANSWERS.clear()
    return publish("mainz", "mainz-einwohner", [Observation(period="2023", value=222000)])


@pytest.mark.usefixtures("with_plugins")
class TestAnswersFollowTheStore:
    def test_the_same_question_is_answered_from_memory(self, mainz):
        first = ask()
        held = len(store_query.ANSWERS._held)
        assert values(first) == [("mainz", "2023", 222000)] and held >= 1
        before = generation()
        again = ask()
        assert again == first and generation() == before
        assert len(store_query.ANSWERS._held) == held  # no new answer: the held one served

    def test_a_publish_changes_the_next_answer(self, mainz):
        assert values(ask()) == [("mainz", "2023", 222000)]
        assert list(listed()) == ["population_total"]
        before = generation()
        publish(
            "trier",
            "trier-bevoelkerung",
            [Observation(city="trier", period="2023-12-31", value=111316)],
        )
        assert generation() > before
        assert values(ask()) == [("mainz", "2023", 222000), ("trier", "2023-12-31", 111316)]
        assert listed() == {"population_total": ["mainz", "trier"]}

    def test_an_update_of_the_rows_changes_the_next_answer(self, mainz):
        rid = normalised(mainz)
        assert values(ask()) == [("mainz", "2023", 222000)]
        as_admin(
            "datastore_upsert",
            resource_id=rid,
            records=[Observation(period="2023", value=223456)],
            method="upsert",
            force=True,
        )
        assert values(ask()) == [("mainz", "2023", 223456)]
        as_admin(
            "datastore_upsert",
            resource_id=rid,
            records=[Observation(period="2024", value=224000)],
            method="insert",
            force=True,
        )
        assert values(ask()) == [("mainz", "2023", 223456), ("mainz", "2024", 224000)]

    def test_private_withdrawn_and_back(self, mainz):
        assert values(ask()) and listed()
        as_admin("package_patch", id=mainz["id"], private=True)
        assert values(ask()) == [] and listed() == {}
        as_admin("package_patch", id=mainz["id"], private=False)
        assert values(ask()) == [("mainz", "2023", 222000)]
        as_admin("package_delete", id=mainz["id"])
        assert values(ask()) == [] and listed() == {}

    def test_a_renamed_dataset_is_cited_by_its_new_title(self, mainz):
        assert [s["dataset_title"] for s in ask()["sources"]] == ["Tabelle mainz-einwohner"]
        as_admin("package_patch", id=mainz["id"], title="Einwohner 2023")
        assert [s["dataset_title"] for s in ask()["sources"]] == ["Einwohner 2023"]

    def test_a_metadata_edit_that_leaves_the_store_keeps_the_generation(self, mainz):
        ask()
        before = generation()
        as_admin("package_patch", id=mainz["id"], notes="Neu beschrieben.")
        assert generation() == before

    def test_a_table_dropped_behind_ckans_back_is_skipped_at_once(self, mainz):
        rid = normalised(mainz)
        assert values(ask()) and ask()["skipped"] == []
        with store.write_engine().begin() as connection:  # no CKAN action, no generation
            connection.execute(sa.text(f'DROP TABLE "{rid}"'))
        answer = ask()
        assert values(answer) == []
        assert [entry["resource_id"] for entry in answer["skipped"]] == [rid]

    def test_nothing_is_kept_without_the_generations_line(self, mainz):
        with store.write_engine().begin() as connection:
            connection.execute(sa.text(f"DELETE FROM {store.GENERATION}"))
        try:
            store_query.ANSWERS.clear()
            assert values(ask()) == [("mainz", "2023", 222000)]
            assert len(store_query.ANSWERS._held) == 0
        finally:
            with store.write_engine().begin() as connection:
                connection.execute(
                    sa.text(f"INSERT INTO {store.GENERATION} VALUES (1, 1) ON CONFLICT DO NOTHING")
                )
                store.bump(connection)


def test_the_memory_is_bounded_by_answers_and_rows():
    answers = store_query.Answers(entries=3, rows=10)
    for number in range(5):
        answers.put(("q", number), 1, {"rows": [{}] * 2, "skipped": []}, {})
    assert [key[1] for key in answers._held] == [2, 3, 4]
    answers.get(("q", 2))  # used: now the newest
    answers.put(("q", 5), 1, {"rows": [{}] * 4, "skipped": []}, {})
    assert [key[1] for key in answers._held] == [2, 5] and answers._rows <= 10
    answers.put(("big", 0), 1, {"rows": [{}] * 10, "skipped": []}, {})  # 11 > 10: not kept
    assert ("big", 0) not in answers._held
