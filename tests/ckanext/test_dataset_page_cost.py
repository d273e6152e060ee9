"""What the dataset page costs beyond CKAN's own: its data dictionary reads the DataStore directly.

The page of a dataset with a normalised table showed its data dictionary through the
``datastore_info`` and ``datastore_search`` actions. Each ran ``resource_show`` (a whole
``package_show`` with its SQL) for an authorisation the page had already checked, and
``datastore_info`` also the table's row count, sizes, aliases and indexes the page does not show:
the page cost 1.6 × CKAN core's (issue #19). These tests hold the page to the statements it needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import ckan.logic as logic
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from tests.factories import HarvestedDataset, Observation
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

# SQL statements a render of the dataset page may run (CKAN's own page and ours together),
# measured on this fixture: 39 through the DataStore actions, 22 now; a little room for CKAN
MAX_STATEMENTS = 25


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs inside the block, in order."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


@pytest.fixture
def population(clean_datastore, cities):
    return HarvestedDataset(
        name="mainz-einwohner",
        validation_status="valid",
        records=[
            Observation(value=222000),
            Observation(value=12.5, unit="percent", dimension="share", dimension_value="foreign"),
        ],
    )


def page_statements(app, url: str) -> tuple[str, list[str]]:
    """The page's HTML and the SQL statements of its second render (the first warms caches)."""
    app.get(url)
    with statements() as seen:
        html = app.get(url).body
    return html, seen


@pytest.mark.usefixtures("with_plugins")
class TestDatasetPageCost:
    def test_the_page_runs_few_statements(self, app, population):
        html, seen = page_statements(app, "/dataset/mainz-einwohner")
        assert BeautifulSoup(html, "html.parser").select_one(".vierstaedte-data-dictionary")
        assert len(seen) <= MAX_STATEMENTS, "\n".join(seen)

    def test_the_table_is_read_for_its_columns_and_pairs_only(self, app, population):
        """No row count, sizes, aliases or indexes of the table; no datastore_search query."""
        table = resource_with_role(population, NORMALISED)["id"]
        _html, seen = page_statements(app, "/dataset/mainz-einwohner")
        on_table = [" ".join(s.split()) for s in seen if table in s]
        assert len(on_table) == 2, on_table
        assert on_table[0].startswith(f'SELECT * FROM "{table}" LIMIT')  # the column types
        assert on_table[1].startswith(f'SELECT DISTINCT indicator, unit FROM "{table}"')
        assert not [s for s in seen if "count(" in s.lower()]

    def test_the_normalised_resource_is_not_shown_again(self, app, population):
        """datastore_info and datastore_search each ran resource_show, i.e. a package_show."""
        shown = []
        original = logic.get_action("resource_show")

        def spy(context, data_dict):
            shown.append(data_dict.get("id"))
            return original(context, data_dict)

        with mock.patch.dict(logic._actions, {"resource_show": spy}):
            page_statements(app, "/dataset/mainz-einwohner")
        assert shown == []
