"""Template helpers: vocabulary choices for the scheming forms, city facts for pages."""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte import search
from ckanext.vierstaedte.logic import api_examples, data_dictionary
from ckanext.vierstaedte.views import pages
from vierstaedte_contract import cities, dataset, vocabularies


def _choices(vocab: str):
    def helper(field: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"value": e["value"], "label": e["label"]} for e in vocabularies.vocabulary(vocab)]

    helper.__name__ = f"vierstaedte_{vocab}_choices"
    return helper


def vierstaedte_license_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The active DCAT-AP.de licences: the common ones first, then the other open ones, then
    those that are not open, marked so (the vocabulary has 34: a flat list must be ordered)."""
    licences = vocabularies.active_licences()
    order = {row["id"]: row["common"] for row in vocabularies.licences() if row.get("common")}

    def rank(lic: vocabularies.Licence) -> tuple:
        return (lic.uri not in order, not lic.open, order.get(lic.uri, 0), lic.title_de.lower())

    return [
        {
            "value": lic.uri,
            "label": {"de": lic.title_de, "en": lic.title_en}
            if lic.open
            else {"de": f"{lic.title_de} – nicht offen", "en": f"{lic.title_en} – not open"},
        }
        for lic in sorted(licences, key=rank)
    ]


def vierstaedte_role_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The resource roles of the contract (``vierstaedte_contract.dataset``)."""
    return [{"value": role, "label": dataset.ROLE_LABELS[role]} for role in dataset.ROLES]


def vierstaedte_vocabulary_label(vocab: str, value: str) -> str:
    """Label of ``value`` in the current UI language (German unless English is chosen)."""
    return vocabularies.label(vocab, value, search.ui_lang())


def vierstaedte_cities() -> list[dict[str, Any]]:
    """The four cities with dataset counts, for the home page and the city overview."""
    return tk.get_action("vierstaedte_city_list")({}, {})


def vierstaedte_last_harvest(org_name: str) -> dict[str, Any] | None:
    """The newest harvest run of a city (without its report), for the city cards; None if there is none."""
    try:
        runs = tk.get_action("vierstaedte_harvest_run_list")(
            {}, {"organization": org_name, "limit": 1}
        )
    except (tk.ValidationError, tk.ObjectNotFound):
        return None
    return runs["results"][0] if runs["results"] else None


def vierstaedte_data_dictionary(pkg_dict: dict[str, Any]) -> dict[str, Any] | None:
    """Fields and indicators of the dataset's normalised table, for the dataset page; None without one."""
    return data_dictionary.data_dictionary(pkg_dict, search.ui_lang())


def vierstaedte_search_note(q: str) -> dict[str, Any] | None:
    """What the search for ``q`` suggested (``suggestion``) or searched instead (``searched``)."""
    return search.query.note(q)


def vierstaedte_dataset_city(pkg_dict: dict[str, Any]) -> dict[str, Any] | None:
    """The city a dataset belongs to (its organisation), as the contract names it; None if none."""
    city = cities.find((pkg_dict.get("organization") or {}).get("name") or "")
    return city.as_dict() if city else None


SUGGESTED_INDICATORS = 6


def vierstaedte_search_indicators() -> list[dict[str, Any]]:
    """A few indicators that have data, for the page of a search that found nothing."""
    try:
        found = tk.get_action("vierstaedte_indicator_list")({}, {})["indicators"]
    except (tk.ValidationError, tk.NotAuthorized):
        return []
    return found[:SUGGESTED_INDICATORS]


def get_helpers() -> dict[str, Any]:
    return {
        "vierstaedte_theme_choices": _choices("themes"),
        "vierstaedte_license_choices": vierstaedte_license_choices,
        "vierstaedte_frequency_choices": _choices("frequencies"),
        "vierstaedte_geocoding_level_choices": _choices("geocoding_levels"),
        "vierstaedte_spatial_granularity_choices": _choices("spatial_granularities"),
        "vierstaedte_validation_status_choices": _choices("validation_statuses"),
        "vierstaedte_role_choices": vierstaedte_role_choices,
        "vierstaedte_vocabulary_label": vierstaedte_vocabulary_label,
        "vierstaedte_cities": vierstaedte_cities,
        "vierstaedte_last_harvest": vierstaedte_last_harvest,
        "vierstaedte_data_dictionary": vierstaedte_data_dictionary,
        "vierstaedte_search_note": vierstaedte_search_note,
        "vierstaedte_dataset_city": vierstaedte_dataset_city,
        "vierstaedte_search_indicators": vierstaedte_search_indicators,
        **pages.get_helpers(),
        **api_examples.get_helpers(),
    }
