"""How datasets are indexed in Solr, how package_search asks it, how facets are labelled.

Themes are a JSON list in the dataset; Solr's catch-all field is single
valued, so the list goes to the multi-valued ``vocab_theme`` field, which is
what the theme facet uses. Facet items carry German labels instead of URIs.

German search (issue 15, docs/search.md): :mod:`.vocabulary` adds the words of a dataset's
table to its document, :mod:`.query` sets the German fields and weights and corrects typos.
Both only with ``ckanext.vierstaedte.search.german`` on: the ``vs_*`` fields exist only in
our configset, so on a core with CKAN's own schema (the benchmark's baseline) indexing and
searching stay stock.
"""

from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.search import query, vocabulary
from vierstaedte_contract import vocabularies

THEME_FACET = "vocab_theme"
# facet field -> vocabulary whose labels replace the raw values
FACET_VOCABULARIES = {
    THEME_FACET: "themes",
    "license_id": "licenses",
    "spatial_granularity": "spatial_granularities",
    "validation_status": "validation_statuses",
}


def ui_lang() -> str:
    """``en`` when the visitor chose English, else German (also outside requests)."""
    try:
        return "en" if tk.h.lang() == "en" else "de"
    except (RuntimeError, AttributeError):
        return "de"


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        try:
            return [str(v) for v in json.loads(value)]
        except ValueError:
            return []
    return [value] if value else []


def index_dataset(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    pkg_dict[THEME_FACET] = _as_list(pkg_dict.get("theme") or pkg_dict.get("extras_theme"))
    if query.enabled():
        pkg_dict.update(vocabulary.fields(pkg_dict))
    return pkg_dict


def after_search(search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
    return query.after_search(label_facets(search_results, ui_lang()), search_params)


def get_actions() -> dict[str, Any]:
    return {"package_search": query.package_search} if query.enabled() else {}


def label_facets(search_results: dict[str, Any], lang: str) -> dict[str, Any]:
    for field, vocab in FACET_VOCABULARIES.items():
        facet = search_results.get("search_facets", {}).get(field)
        for item in (facet or {}).get("items", []):
            item["display_name"] = vocabularies.label(vocab, item["name"], lang)
    return search_results


def dataset_facets(facets: dict[str, str]) -> dict[str, str]:
    """City, theme and granularity first: how people look for city statistics."""
    ordered = {
        "organization": tk._("Städte"),
        THEME_FACET: tk._("Themen"),
        "spatial_granularity": tk._("Räumliche Gliederung"),
        "tags": tk._("Schlagwörter"),
        "res_format": tk._("Formate"),
        "license_id": tk._("Lizenzen"),
    }
    ordered.update({k: v for k, v in facets.items() if k not in ordered and k != "groups"})
    return ordered
