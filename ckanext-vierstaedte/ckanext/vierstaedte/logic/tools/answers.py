"""Turning rows into a tool's answer, and a question it cannot answer into an honest refusal.

A value result lists every value it found, each with its sentence and citation; nothing is
estimated, filled in or left out silently (a multi-party table gives every party). A question
that is well formed but has no answer (an unknown indicator, area, period or breakdown value)
is a ``{"available": false}`` result naming what exists instead, never a number.
"""

from __future__ import annotations

from typing import Any

from ckanext.vierstaedte.logic.tools import citations, words
from vierstaedte_contract import cities, table

MAX_RESULTS = 500
SEX = table.enum("sex")
NATIONALITY = table.enum("nationality")
LEVELS = table.enum("area_level")

MESSAGES = {
    "de": {
        "unknown_indicator": "Den Indikator {indicator} gibt es nicht.",
        "no_data_for_indicator": "Für {indicator} gibt es in {city} keine Daten.",
        "unknown_area": "Ein Gebiet „{area}“ gibt es in {city} nicht.",
        "no_data_for_area": "Für {indicator} in {area} ({city}) gibt es keine Werte.",
        "no_data_for_level": "Für {indicator} gibt es in {city} keine Werte auf der Ebene {level}.",
        "no_data_for_period": "Für {indicator} in {city} gibt es keine Werte für {period}.",
        "no_data_for_breakdown": "Für {indicator} in {city} gibt es keine Werte für {breakdown}.",
        "no_data_in_cities": "Für {indicator} hat keine der Städte {city} Werte für die Gesamtstadt.",
        "no_table": "Der Datensatz {dataset} hat keine lesbare normalisierte Tabelle.",
        "exists": "Vorhanden sind: {what}.",
        "below_city": "Für die Gesamtstadt gibt es keine Werte; hier die Werte auf Ebene {level} "
        "(vorhanden: {levels}).",
        "truncated": "{count} weitere Werte nicht gezeigt; bitte die Filter einschränken.",
        "not_aligned": "Die Städte haben kein gemeinsames Jahr; je Stadt der neueste Wert.",
        "missing_city": "{city}: keine Werte für die Gesamtstadt ({what}).",
        "partly": "Keine Werte für {what}; genannt sind die übrigen.",
        "missing_period": "{city}: keine Werte für {period}; vorhanden: {periods}.",
        "not_summable": "Achtung: Diese {level}-Werte gelten nur für die genannten Gebiete, nicht "
        "für die ganze Stadt {city}; nicht summieren, ihre Summe ist kein Wert der Gesamtstadt.",
        "held_by": "{city}: nur auf Ebene {levels} ({periods})",
        "parts_not_summed": "Teile nicht summieren: die Summe steht in den Zeilen mit „insgesamt“ "
        "(is_total).",
    },
    "en": {
        "unknown_indicator": "There is no indicator {indicator}.",
        "no_data_for_indicator": "{city} has no data for {indicator}.",
        "unknown_area": "{city} has no area called “{area}”.",
        "no_data_for_area": "There are no values of {indicator} for {area} ({city}).",
        "no_data_for_level": "{city} has no values of {indicator} at the level {level}.",
        "no_data_for_period": "{city} has no values of {indicator} for {period}.",
        "no_data_for_breakdown": "{city} has no values of {indicator} for {breakdown}.",
        "no_data_in_cities": "None of the cities {city} has city-wide values of {indicator}.",
        "no_table": "The dataset {dataset} has no readable normalised table.",
        "exists": "What exists: {what}.",
        "below_city": "There are no city-wide values; these are the values at the level {level}; "
        "levels with values: {levels}.",
        "truncated": "{count} more values not shown; please narrow the filters.",
        "not_aligned": "The cities share no year; the newest value of each city.",
        "missing_city": "{city}: no city-wide values ({what}).",
        "partly": "No values for {what}; the others are listed.",
        "missing_period": "{city}: no values for {period}; there are values for {periods}.",
        "not_summable": "Caution: these values at the level {level} cover only the areas named, "
        "not the whole city of {city}; do not add them up, their sum is no city-wide value.",
        "held_by": "{city}: only at the level {levels} for {periods}",
        "parts_not_summed": "Do not add up parts: totals are in the rows with total (is_total).",
    },
}


def message(lang: str, key: str, **values: Any) -> str:
    return MESSAGES[lang][key].format(**values)


def refusal(
    reason: str,
    text: str,
    alternatives: dict[str, Any],
    used: dict[str, Any],
    skipped: list[dict[str, Any]] | None = None,
    sources: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A well-formed question without an answer: why, and what exists instead."""
    return {
        "available": False,
        "reason": reason,
        "message": text,
        "alternatives": alternatives,
        "filter": used,
        "results": [],
        "citations": sources or [],
        "skipped": skipped or [],
    }


def _age_key(value: str) -> tuple[int, int]:
    if value == words.TOTAL:
        return (1, 0)
    return (0, int(value.rstrip("+").partition("-")[0]))


def sort_key(row: dict[str, Any]) -> tuple:
    return (
        LEVELS.index(row["area_level"]) if row["area_level"] in LEVELS else 99,
        row["area_code"] or "~",
        row["area_name"],
        row["period"],
        SEX.index(row["sex"]) if row["sex"] in SEX else 99,
        _age_key(row["age_group"]),
        NATIONALITY.index(row["nationality"]) if row["nationality"] in NATIONALITY else 99,
    )


def result(
    row: dict[str, Any], dataset: dict[str, Any], used: dict[str, Any], lang: str, cache: dict
) -> dict[str, Any]:
    """One value with everything it depends on, its sentence and its citation."""
    city = cities.get(row["city"])
    key = (dataset["id"], id(used))
    if key not in cache:
        cache[key] = citations.citation(dataset, used, lang)
    breakdown = {field: row[field] for field in words.BREAKDOWNS}
    if row["dimension"] != "none":
        breakdown[row["dimension"]] = row["dimension_value"]
    return {
        "value": row["value"],
        "value_status": row["value_status"],
        "unit": row["unit"],
        "unit_label": words.unit_label(row["unit"], lang),
        "period": row["period"],
        "area": {"level": row["area_level"], "code": row["area_code"], "name": row["area_name"]},
        "city": {"name": city.name, "title": city.short_title},
        "indicator": {
            "id": row["indicator"],
            "label": words.indicator_label(row["indicator"], lang),
        },
        "breakdown": breakdown,
        "sentence": words.sentence(row, city.short_title, lang),
        "citation": cache[key],
    }


def value_answer(
    matched: list[tuple[dict[str, Any], dict[str, Any]]],
    used: dict[str, Any],
    lang: str,
    notes: list[str],
    skipped: list[dict[str, Any]],
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The result of ``query_indicator``/``compare_cities``: every value, sentences, citations.

    ``warnings`` come before the values in ``answer`` (and first in ``notes``): what a reader
    must know before quoting any value, such as areas that are not the whole city."""
    warnings = warnings or []
    notes = [*warnings, *notes]
    cache: dict = {}
    shown = matched[:MAX_RESULTS]
    results = [result(row, dataset, used, lang, cache) for row, dataset in shown]
    if len(matched) > MAX_RESULTS:
        notes = [*notes, message(lang, "truncated", count=len(matched) - MAX_RESULTS)]
    sources = list({c["dataset_url"]: c for c in cache.values()}.values())
    lines = warnings + [r["sentence"] for r in results] + notes[len(warnings) :]
    lines += [words.word(lang, "source", citation=c["attribution"]) for c in sources]
    return {
        "available": True,
        "answer": "\n".join(lines),
        "filter": used,
        "results": results,
        "count": len(matched),
        "truncated": len(matched) > MAX_RESULTS,
        "notes": notes,
        "citations": sources,
        "skipped": skipped,
    }
