"""The common Table Schema and its DataStore layout (``vierstaedte_contract.table``)."""

from __future__ import annotations

from decimal import Decimal

import frictionless
import pytest

import vierstaedte_contract
from tests.factories import Observation
from vierstaedte_contract import cities, table


def test_the_descriptor_is_a_valid_frictionless_table_schema():
    report = frictionless.Schema.validate_descriptor(table.descriptor())
    assert report.valid, report.flatten(["type", "note"])
    assert table.descriptor()["version"] == vierstaedte_contract.SCHEMA_VERSION


def test_the_city_enum_is_the_list_of_cities():
    assert (
        table.enum("city") == tuple(cities.names()) == ("mainz", "trier", "koblenz", "ludwigshafen")
    )
    (city,) = [f for f in table.descriptor()["fields"] if f["name"] == "city"]
    assert city["constraints"] == {"required": True, "enum": cities.names()}


def test_rows_are_checked_against_the_schema_with_frictionless():
    schema = frictionless.Schema.from_descriptor(table.descriptor())
    rows = [
        Observation(),
        Observation(city="trier", value=None, sex="female"),
        Observation(city="koblenz", ags="0711100"),
        {**Observation(), "city": "berlin"},
    ]
    data = [table.field_names(), *([row[name] for name in table.field_names()] for row in rows)]
    report = frictionless.Resource(data=data, schema=schema).validate()
    assert report.flatten(["rowNumber", "fieldName", "type"]) == [
        [4, "ags", "constraint-error"],
        [5, "city", "constraint-error"],
    ]


def test_the_descriptor_is_a_copy():
    changed = table.descriptor()
    changed["fields"].clear()
    assert len(table.descriptor()["fields"]) == len(table.field_names()) == 17


def test_the_primary_key_names_fields_of_the_schema():
    assert set(table.primary_key()) <= set(table.field_names())
    assert "value" not in table.primary_key() and "period" in table.primary_key()


def test_datastore_fields_in_schema_order_with_types_and_labels():
    fields = table.datastore_fields()
    assert [f["id"] for f in fields] == table.field_names()
    by_id = {f["id"]: f for f in fields}
    assert by_id["value"]["type"] == "numeric" and by_id["city"]["type"] == "text"
    assert {f["type"] for f in fields} == {"text", "numeric"}
    assert by_id["area_level"]["info"]["label"] == table.fields()["area_level"]["title"]
    assert by_id["value"]["info"]["notes"] == table.fields()["value"]["description"]


@pytest.mark.parametrize("kind", sorted(table.DATASTORE_TYPES))
def test_a_reader_accepts_the_type_the_harvester_creates(kind):
    assert table.DATASTORE_TYPES[kind] in table.DATASTORE_READ_TYPES[kind]


@pytest.mark.parametrize(
    "version, major",
    [
        ("1.0.0", "1"),
        ("12.3.4", "12"),
        ("1.0", None),
        ("v1.0.0", None),
        (None, None),
        ("", None),
    ],
)
def test_major(version, major):
    assert table.major(version) == major


@pytest.mark.parametrize(
    "cell, number",
    [
        ("220000", 220000),
        ("220000.0", 220000),
        (Decimal("2.50"), 2.5),
        (3, 3),
        ("-1.5", -1.5),
        ("", None),
        (None, None),
    ],
)
def test_number_reads_a_value_cell(cell, number):
    assert table.number(cell) == number
    assert type(table.number(cell)) is type(number)
