"""The sentences of the tools: every value said with everything it depends on, in ``lang``.

A model quotes a tool's sentence as fact, so a sentence never leaves out what the number
depends on: the indicator, each breakdown the row has (sex, age group, nationality, party or
another dimension), the area and its level, the city, the period and the unit. A missing or
confidential value is said as such, never as a number. Numbers follow the language asked
(de ``111.316`` and ``33,40 %``; en ``111,316`` and ``33.40 %``); decimals are never cut off.

The language is a parameter of the tool, not the visitor's interface language, so the words
are kept here in both languages rather than in the translation catalogue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from vierstaedte_contract import table, vocabularies

TOTAL = "total"
BREAKDOWNS = ("sex", "age_group", "nationality")
RATIO_UNITS = {"percent": "%", "per_mille": "‰"}

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "sex.female": "Frauen (weiblich)",
        "sex.male": "Männer (männlich)",
        "sex.diverse": "Geschlecht divers",
        "sex.unknown": "Geschlecht unbekannt",
        "nationality.german": "Deutsche",
        "nationality.foreign": "Ausländerinnen und Ausländer",
        "age.range": "im Alter von {low} bis {high} Jahren",
        "age.open": "im Alter von {low} Jahren und älter",
        "of_which": "davon {group}",
        "party": "Partei {value}",
        "dimension": "{dimension} {value}",
        "area.city": "in {city}",
        "area.sub": "in {area} ({level}, {city})",
        "period.day": "am {day}.{month}.{year}",
        "period.month": "im Monat {month}/{year}",
        "period.year": "im Jahr {year}",
        "period.other": "im Zeitraum {period}",
        "status.missing": "kein Wert (in der Quelle nicht angegeben)",
        "status.confidential": "kein Wert (geheim gehalten)",
        "status.invalid": "kein Wert (in der Quelle ungültig)",
        "sentence": "{indicator}{breakdown} {area} {period}: {value}.",
        "source": "Quelle: {citation}",
    },
    "en": {
        "sex.female": "women (female)",
        "sex.male": "men (male)",
        "sex.diverse": "sex diverse",
        "sex.unknown": "sex unknown",
        "nationality.german": "German nationals",
        "nationality.foreign": "foreign nationals",
        "age.range": "aged {low} to {high}",
        "age.open": "aged {low} and over",
        "of_which": "of which {group}",
        "party": "party {value}",
        "dimension": "{dimension} {value}",
        "area.city": "in {city}",
        "area.sub": "in {area}, a {level} in {city},",  # no nested parentheses
        "period.day": "on {year}-{month}-{day}",
        "period.month": "in {year}-{month}",
        "period.year": "in {year}",
        "period.other": "in the period {period}",
        "status.missing": "no value (not given in the source)",
        "status.confidential": "no value (confidential)",
        "status.invalid": "no value (invalid in the source)",
        "sentence": "{indicator}{breakdown} {area} {period}: {value}.",
        "source": "Source: {citation}",
    },
}


# what a sum runs over, in the plural ("Summe über Altersgruppen"); the contract's field titles
# (``Altersgruppe / age group``) name one value, not the breakdown's values together
OVER = {
    "de": {
        "age_group": "Altersgruppen",
        "sex": "Geschlechter",
        "nationality": "Staatsangehörigkeiten",
        "area": "Gebiete",
    },
    "en": {
        "age_group": "age groups",
        "sex": "sexes",
        "nationality": "nationalities",
        "area": "areas",
    },
}


def word(lang: str, key: str, **values: Any) -> str:
    return WORDS[lang][key].format(**values)


def number(value: int | float | Decimal, lang: str, unit: str | None = None) -> str:
    """``value`` written for ``lang``: thousands grouped, all its decimals, ratios with two."""
    text = format(Decimal(str(value)).normalize(), "f")
    whole, _sep, decimals = text.partition(".")
    if unit in RATIO_UNITS:
        decimals = decimals.ljust(2, "0")
    negative = whole.startswith("-")
    grouped = f"{int(whole.lstrip('-') or 0):,}"
    point, group = (",", ".") if lang == "de" else (".", ",")
    result = grouped.replace(",", group) + (point + decimals if decimals else "")
    return ("-" if negative else "") + result


def unit_label(unit: str | None, lang: str) -> str:
    if not unit:
        return ""
    return RATIO_UNITS.get(unit) or vocabularies.unit_info(unit, lang)["label"]


def indicator_label(indicator: str, lang: str) -> str:
    return vocabularies.indicator_info(indicator, lang)["label"]


def level_label(level: str, lang: str) -> str:
    return vocabularies.label("spatial_granularities", level, lang)


def field_label(field: str, lang: str) -> str:
    """A breakdown's name from the contract's field title (``Altersgruppe / age group``)."""
    german, _sep, english = table.fields()[field]["title"].partition(" / ")
    return german if lang == "de" or not english else english


def value_order(field: str, value: str) -> tuple[int, int, str]:
    """A breakdown value's natural place: the contract's order for sex and nationality, age
    groups by their lower bound (``0-2``, ``3-5``, ``6-9``, ``10-17`` …), ``total`` last."""
    if value == TOTAL:
        return (1, 0, value)
    if field == "age_group":
        low = value.rstrip("+").partition("-")[0]
        return (0, int(low) if low.isdigit() else 10**6, value)
    if field in BREAKDOWNS:
        known = table.enum(field)
        return (0, known.index(value) if value in known else len(known), value)
    return (0, 0, value)


def age_group(value: str, lang: str) -> str:
    if value.endswith("+"):
        return word(lang, "age.open", low=value[:-1])
    low, _sep, high = value.partition("-")
    return word(lang, "age.range", low=low, high=high)


def breakdown(row: dict[str, Any], lang: str) -> list[str]:
    """The row's breakdowns other than ``total``, in words; empty for the whole population.

    A group of people is said as part of the indicator (``davon Frauen``), so a sentence never
    reads as the aggregate; a further dimension is named with its value (``Partei CDU``).
    """
    people = []
    if row["sex"] != TOTAL:
        people.append(word(lang, f"sex.{row['sex']}"))
    if row["age_group"] != TOTAL:
        people.append(age_group(row["age_group"], lang))
    if row["nationality"] != TOTAL:
        people.append(word(lang, f"nationality.{row['nationality']}"))
    parts = [word(lang, "of_which", group=", ".join(people))] if people else []
    if row["dimension"] != "none":
        key = "party" if row["dimension"] == "party" else "dimension"
        parts.append(word(lang, key, dimension=row["dimension"], value=row["dimension_value"]))
    return parts


def period(value: str, lang: str) -> str:
    parts = value.split("-")
    if "/" in value or len(parts) > 3:
        return word(lang, "period.other", period=value)
    if len(parts) == 3:
        return word(lang, "period.day", year=parts[0], month=parts[1], day=parts[2])
    if len(parts) == 2:
        return word(lang, "period.month", year=parts[0], month=parts[1])
    return word(lang, "period.year", year=value)


def area(row: dict[str, Any], city_title: str, lang: str) -> str:
    if row["area_level"] == "stadt":
        return word(lang, "area.city", city=city_title)
    return word(
        lang,
        "area.sub",
        area=row["area_name"],
        level=level_label(row["area_level"], lang)
        if lang == "de"
        else _lower(level_label(row["area_level"], lang)),
        city=city_title,
    )


def _lower(label: str) -> str:
    """``Local district (Ortsbezirk)`` → ``local district (Ortsbezirk)`` inside a sentence."""
    return label[:1].lower() + label[1:]


def value(row: dict[str, Any], lang: str) -> str:
    if row["value"] is None:
        return word(lang, f"status.{row['value_status']}")
    unit = unit_label(row["unit"], lang)
    if row["unit"] == "count":  # "1.700 Anzahl" reads wrong; the indicator says what is counted
        unit = f"({unit})"
    return f"{number(row['value'], lang, row['unit'])} {unit}".strip()


def sentence(row: dict[str, Any], city_title: str, lang: str) -> str:
    """One value in words: ``Einwohner insgesamt, Frauen (weiblich), in Trier am 31.12.2023: …``."""
    parts = breakdown(row, lang)
    return word(
        lang,
        "sentence",
        indicator=indicator_label(row["indicator"], lang),
        breakdown="".join(f", {part}" for part in parts) + ("," if parts else ""),
        area=area(row, city_title, lang),
        period=period(row["period"], lang),
        value=value(row, lang),
    )


def span(periods: list[str]) -> str:
    """``2022–2023``, or one period once when the first is the last."""
    if not periods:
        return "–"
    first, last = min(periods), max(periods)
    return first if first == last else f"{first}–{last}"
