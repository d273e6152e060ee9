"""The citation every tool result carries, so an assistant can cite and a person can check.

Most of the cities' data is under the Datenlizenz Deutschland – Namensnennung 2.0, which asks
for the provider's attribution, the licence's name with a link to its text, a link to the data
and a note that the data were changed (ours are normalised). ``attribution`` is that text,
written by the licence's rule; a licence without such a rule gets the same parts under its own
title. ``filter`` is the exact filter a result was read with.

One name per city: the citation text, ``publisher`` and ``attribution`` all say the dataset's
publisher as the source portal states it (``exports.publisher_of``), else the city
organisation's title. The source's own modification date is not harvested into the dataset, so
``modified`` is the portal record's time, said as such (``portal_modified``); ``source_url`` is
the page of the dataset on the city's portal.
"""

from __future__ import annotations

from typing import Any

from ckanext.vierstaedte.logic import exports, tables

# the names the licences require in an attribution, by the vocabulary's code
ATTRIBUTION_NAMES = {
    "dl-by-de/2.0": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
    "dl-by-de/1.0": "Datenlizenz Deutschland – Namensnennung – Version 1.0",
    "dl-by-nc-de/1.0": "Datenlizenz Deutschland – Namensnennung – nicht kommerziell – Version 1.0",
}
CHANGED = {
    "de": "Daten normalisiert durch Vier Städte Open Data",
    "en": "data normalised by Vier Städte Open Data",
}
PORTAL = "Vier Städte Open Data"
REQUIRED = (
    "text",
    "dataset_title",
    "dataset_url",
    "resource_url",
    "publisher",
    "licence",
    "attribution",
    "modified",
    "filter",
)


def _quoted(title: str, lang: str) -> str:
    return f"„{title}“" if lang == "de" else f"“{title}”"


def attribution(dataset: dict[str, Any], licence: dict[str, Any], url: str, lang: str) -> str:
    """``Publisher: „Title“ (URL), Licence name (licence URL); changes noted``."""
    name = ATTRIBUTION_NAMES.get(licence.get("code") or "", licence.get("title") or "")
    text = f"{exports.publisher_of(dataset)}: {_quoted(dataset['title'], lang)} ({url})"
    if name:
        text += f", {name}" + (f" ({licence['url']})" if licence.get("url") else "")
    return f"{text}; {CHANGED[lang]}"


def citation(
    dataset: dict[str, Any], used: dict[str, Any] | None = None, lang: str = "de"
) -> dict[str, Any]:
    """How to cite what a tool read from ``dataset`` with ``filter``: parts and one text."""
    urls = exports.dataset_urls(dataset)
    table = tables.normalised_resource(dataset)
    licence = exports.licence_details(dataset, lang)
    modified = dataset.get("metadata_modified")
    publisher = exports.publisher_of(dataset)
    stand = (
        ("Stand des Portaleintrags" if lang == "de" else "portal record of") + f" {modified[:10]}"
        if modified
        else ""
    )
    text = f"{publisher}: {_quoted(dataset['title'], lang)}, {PORTAL}, {urls['page']}"
    text += f" ({stand})" if stand else ""
    text += f"; {'Lizenz' if lang == 'de' else 'licence'}: {licence['title']}"
    if urls["source_page"]:
        text += f"; {'Quelle' if lang == 'de' else 'source'}: {urls['source_page']}"
    return {
        "text": text,
        "dataset_title": dataset["title"],
        "dataset_url": urls["page"],
        "resource_url": (table or {}).get("url") or urls["csv"],
        "datastore_url": urls["datastore_search"],
        "source_file": urls["source_file"],
        "source_url": urls["source_page"],
        "publisher": publisher,
        "city": exports.city_of(dataset)["name"],
        "licence": {k: licence[k] for k in ("id", "title", "url")},
        "attribution": attribution(dataset, licence, urls["page"], lang),
        "modified": modified,
        "portal_modified": modified,
        "filter": used or {},
    }
