"""The DataStore's SQL search with a statement timeout of a few seconds instead of a minute.

``datastore_search_sql`` is public: docs/api.md promises it to developers, anonymous
ones included, so it stays open and its cost is bounded instead. CKAN 2.12 runs each
query under ``SET LOCAL statement_timeout`` of 60 s (``_TIMEOUT`` in
``ckanext/datastore/backend/postgres.py``), which overrides a timeout set on the
read-only role, so three ``generate_series`` queries held three web workers for a
minute and the portal stopped answering. CKAN takes the timeout from the action's
context (``query_timeout``, in milliseconds); this sets it from
``ckanext.vierstaedte.datastore.sql_timeout`` for every caller, our own exports too.
"""

from __future__ import annotations

import ckan.plugins.toolkit as tk


@tk.chained_action
@tk.side_effect_free
def datastore_search_sql(original_action, context, data_dict):
    if not isinstance(data_dict.get("sql"), str) or not data_dict["sql"].strip():
        # CKAN reads data_dict["sql"] unchecked: without it a KeyError, i.e. a 500
        raise tk.ValidationError({"sql": [tk._("Fehlender Wert")]})
    context["query_timeout"] = tk.config.get("ckanext.vierstaedte.datastore.sql_timeout")
    return original_action(context, data_dict)


def get_actions():
    return {"datastore_search_sql": datastore_search_sql}
