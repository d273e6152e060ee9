"""The statistics tools, as CKAN actions: the one implementation behind the JSON tool API and MCP.

Each action validates its arguments against its JSON Schema (``schemas``), reads only public
datasets (``data``; a private dataset is never found, whoever asks), and answers in the
result shape the MCP server and ``bench/ai_eval.py`` rely on (``answers``, ``citations``).
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import exports, tables
from ckanext.vierstaedte.logic.tools import answers, citations, council, data, schemas, words
from vierstaedte_contract import areas as area_module
from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.areas import resolver as area_resolver
from vierstaedte_contract.names import name_key
from vierstaedte_contract.table import number

AREA_LIMIT = 1000
GROUP_LIMIT = 10_000
BREAKDOWN_FIELDS = ("indicator", "sex", "age_group", "nationality", "dimension", "dimension_value")


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(dict.fromkeys(value))


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _pad(period: str, last: bool) -> str:
    padding = ("-12-31", "-31", "") if last else ("-01-01", "-01", "")
    return period + padding[period.count("-")]


def _within(period: str, start: str | None, end: str | None) -> bool:
    """Whether a period (``2023``, ``2023-12-31``, ``2022/2023``) lies wholly within the bounds."""
    first, _sep, last = period.partition("/")
    return (start is None or _pad(first, False) >= _pad(start, False)) and (
        end is None or _pad(last or first, True) <= _pad(end, True)
    )


def _end(period: str) -> str:
    return _pad(period.rpartition("/")[2], True)


def _year(period: str) -> str:
    return period.rpartition("/")[2][:4]


def _sources(rows: list[tuple[dict, dict]], used: dict, lang: str) -> list[dict[str, Any]]:
    datasets = {dataset["id"]: dataset for _row, dataset in rows}
    return [citations.citation(d, used, lang) for d in datasets.values()]


KEYS = {
    "de": {
        "indicators": "Indikatoren",
        "cities": "Städte",
        "areas": "Gebiete",
        "area_levels": "Gebietsebenen",
        "periods": "Zeitbezüge",
        "sex": "Geschlecht",
        "age_group": "Altersgruppen",
        "nationality": "Staatsangehörigkeit",
    },
    "en": {
        "indicators": "indicators",
        "cities": "cities",
        "areas": "areas",
        "area_levels": "area levels",
        "periods": "periods",
        "sex": "sex",
        "age_group": "age groups",
        "nationality": "nationality",
    },
}
SHOWN = 12  # values of one alternative named in the message (all are in ``alternatives``)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("value") or value.get("id") or value.get("city"))
    return str(value)


def _exists_text(lang: str, alternatives: dict[str, Any]) -> str:
    """The alternatives in one sentence: ``Vorhanden sind: Gebiete: Gonsenheim, …``."""
    parts = []
    for key, values in alternatives.items():
        if isinstance(values, list) and values:
            more = " …" if len(values) > SHOWN else ""
            named = ", ".join(_shown(v) for v in values[:SHOWN])
            parts.append(f"{KEYS[lang].get(key, key)}: {named}{more}")
        elif isinstance(values, dict):
            for name, entries in values.items():
                parts.append(f"{name}: {', '.join(_shown(e) for e in entries[:SHOWN])}")
    return answers.message(lang, "exists", what="; ".join(parts)) if parts else ""


def _refuse(
    reason: str,
    lang: str,
    alternatives: dict[str, Any],
    used: dict[str, Any],
    skipped: list[dict[str, Any]],
    sources: list[dict[str, Any]] | None = None,
    **values: Any,
) -> dict[str, Any]:
    text = answers.message(lang, reason, **values)
    exists = _exists_text(lang, alternatives)
    return answers.refusal(reason, f"{text} {exists}".strip(), alternatives, used, skipped, sources)


def _no_indicator(
    context: dict,
    indicator: str,
    names: list[str],
    lang: str,
    used: dict[str, Any],
    skipped: list[dict[str, Any]],
) -> dict[str, Any]:
    """The indicator has no rows in these cities: unknown, or known and held elsewhere."""
    everywhere = data.city_tables(context, cities.names(), skipped)
    held = data.cities_indicators(context, everywhere, skipped)
    with_data = sorted({i for n in names for i in held[n]}, key=data.order_of_indicators)
    known = vocabularies.indicators()
    labels = {
        i: f"{known.get(i, {}).get('label_de', i)} {known.get(i, {}).get('label_en', i)}"
        for i in with_data
    }
    alternatives: dict[str, Any] = {
        "indicators": [
            {"id": i, "label": words.indicator_label(i, lang)}
            for i in data.closest(indicator, with_data, labels)
        ]
    }
    titles = ", ".join(cities.get(name).short_title for name in names)
    label = words.indicator_label(indicator, lang) if indicator in known else indicator
    if indicator not in known:
        return _refuse("unknown_indicator", lang, alternatives, used, skipped, indicator=indicator)
    others = [c for c in cities.names() if c not in names]
    alternatives["cities"] = [c for c in others if indicator in held[c]]
    return _refuse(
        "no_data_for_indicator", lang, alternatives, used, skipped, indicator=label, city=titles
    )


def _filter_breakdowns(
    rows: list[tuple[dict, dict]], arguments: dict[str, Any], used: dict[str, Any]
) -> tuple[list[tuple[dict, dict]], str | None, list[str]]:
    """Rows with the asked breakdown values: the rows, the first breakdown that matches nothing
    (if any), and the asked values that have no rows while others of their list have."""
    absent: list[str] = []
    for field in words.BREAKDOWNS:
        wanted = _as_list(arguments.get(field, words.TOTAL))
        used[field] = _one_or_list(wanted)
        hit = [(r, d) for r, d in rows if r[field] in wanted]
        if not hit:
            return rows, f"{field}={', '.join(wanted)}", absent
        held = {r[field] for r, _d in hit}
        absent += [f"{field}={value}" for value in wanted if value not in held]
        rows = hit
    if arguments.get("dimension_value"):
        wanted = _as_list(arguments["dimension_value"])
        keys = {name_key(v): v for v in wanted}
        used["dimension_value"] = _one_or_list(wanted)
        hit = [
            (r, d)
            for r, d in rows
            if r["dimension"] != "none" and name_key(r["dimension_value"]) in keys
        ]
        if not hit:
            return rows, ", ".join(wanted), absent
        held = {name_key(r["dimension_value"]) for r, _d in hit}
        absent += [value for key, value in keys.items() if key not in held]
        rows = hit
    return rows, None, absent


def _breakdown_alternatives(rows: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """Every breakdown value the rows have, a further dimension's closest to ``wanted`` first."""
    found = data.existing(rows)
    alternatives: dict[str, Any] = {k: found[k] for k in ("sex", "age_group", "nationality")}
    alternatives["dimensions"] = {}
    for dimension, values in found["dimensions"].items():
        order = data.closest(wanted, [v["value"] for v in values])
        alternatives["dimensions"][dimension] = sorted(
            values, key=lambda v: order.index(v["value"])
        )
    return alternatives


def _narrowing(arguments: dict[str, Any], levels: list[str]) -> dict[str, list[str]]:
    """The question's breakdown values (``total`` unless asked) and levels, for the store's SQL
    (each a column of its filter index, so each value is a range of the index, not a scan)."""
    where = {field: _as_list(arguments.get(field, words.TOTAL)) for field in words.BREAKDOWNS}
    return {"area_level": list(levels), **where}


@tk.side_effect_free
def vierstaedte_tool_query_indicator(context, data_dict):
    """Every value of one indicator in one city for the asked areas, period and breakdowns.

    Without an area the whole city; where the indicator exists only below city level, the
    values of the coarsest level that has them, saying so. Without a period the newest. Each
    breakdown defaults to ``total``; a further dimension (a party) gives all its values unless
    ``dimension_value`` names some.

    Reads the question's rows only (its level and breakdown values filter in SQL) and what the
    city holds of the indicator from the tables' coverage summaries. A question it cannot
    answer is refused with what exists: worded from all the indicator's rows where they are
    within the bound (``data.ROW_BOUND``), else from the summaries and the question's rows.
    """
    tk.check_access("vierstaedte_tool_query_indicator", context, data_dict)
    arguments = schemas.validate("vierstaedte_tool_query_indicator", data_dict)
    lang, indicator = arguments["lang"], arguments["indicator"]
    city = cities.get(arguments["city"])
    used: dict[str, Any] = {"indicator": indicator, "city": city.name}
    skipped: list[dict[str, Any]] = []
    sources = {city.name: data.city_tables(context, [city.name], skipped)[city.name]}
    cover = data.Coverage(context, indicator, sources)
    if not cover.held(city.name):
        return _no_indicator(context, indicator, [city.name], lang, used, skipped)
    levels = cover.levels(city.name)
    level = arguments.get("area_level")
    names = ([arguments["area_name"]] if arguments.get("area_name") else []) + arguments.get(
        "areas", []
    )
    at = level if (level or names) else ("stadt" if "stadt" in levels else levels[0])

    def read(where: dict[str, list[str]] | None = None) -> data.Rows:
        found = data.cities_rows(context, indicator, sources, skipped, where, cover.public)
        return found[city.name]

    rows = read(_narrowing(arguments, [at] if at else levels))
    if rows:
        result = _query(rows, arguments, dict(used), skipped, lang, city, levels)
        if result["available"] or not cover.fits(city.name):
            return result
    if cover.fits(city.name):  # the indicator's rows are few: what exists, from them all
        rows = read()
        if not rows:
            return _no_indicator(context, indicator, [city.name], lang, used, skipped)
        return _query(rows, arguments, dict(used), skipped, lang, city, None)
    return _refuse_by_coverage(cover, arguments, names, used, skipped, lang, city)


def _refuse_by_coverage(cover, arguments, names, used, skipped, lang, city) -> dict[str, Any]:
    """The city holds more rows of the indicator than the bound and none answer the question:
    the refusal names what the coverage summary says exists (levels, periods, breakdowns)."""
    offered = cover.offered(city.name)
    sources = [citations.citation(d, used, lang) for d in cover.datasets([city.name])]
    values = {"indicator": words.indicator_label(used["indicator"], lang), "city": city.short_title}
    level = arguments.get("area_level")
    if level:
        used["area_level"] = level
    failed = None
    for field in words.BREAKDOWNS:
        wanted = _as_list(arguments.get(field, words.TOTAL))
        used[field] = _one_or_list(wanted)
        held = {entry["value"] for entry in offered[field]}
        if failed is None and not held & set(wanted):
            failed = f"{field}={', '.join(wanted)}"
    if failed is None and names:
        used["areas"] = names
        held = [a for a in area_module.areas(city.name) if a.level in offered["area_levels"]]
        by_name = {a.name: {"level": a.level, "name": a.name} for a in held}
        alternatives = {
            "areas": [by_name[n] for n in data.closest(names[0], list(by_name))],
            "area_levels": offered["area_levels"],
        }
        reason = "no_data_for_area" if area_resolver(city.name).find(names[0]) else "unknown_area"
        return _refuse(reason, lang, alternatives, used, skipped, sources, area=names[0], **values)
    if failed is None and level and level not in offered["area_levels"]:
        alternatives = {"area_levels": offered["area_levels"], "areas": []}
        label = words.level_label(level, lang)
        return _refuse(
            "no_data_for_level", lang, alternatives, used, skipped, sources, level=label, **values
        )
    if failed is None:  # each value exists, not together (or not at this level)
        failed = "; ".join(
            f"{field}={', '.join(_as_list(arguments.get(field, words.TOTAL)))}"
            for field in words.BREAKDOWNS
        )
    alternatives = {key: offered[key] for key in (*words.BREAKDOWNS, "dimensions", "area_levels")}
    return _refuse(
        "no_data_for_breakdown",
        lang,
        alternatives,
        used,
        skipped,
        sources,
        breakdown=failed,
        **values,
    )


def _query(rows, arguments, used, skipped, lang, city, levels) -> dict[str, Any]:
    """The answer (or refusal) from the rows read; ``levels``: the levels the city holds of the
    indicator (from the coverage summary), where the rows are the question's only."""
    indicator = arguments["indicator"]
    label = words.indicator_label(indicator, lang)
    values = {"indicator": label, "city": city.short_title}
    notes: list[str] = []
    warnings: list[str] = []  # said before the values

    level = arguments.get("area_level")
    names = ([arguments["area_name"]] if arguments.get("area_name") else []) + arguments.get(
        "areas", []
    )
    if level:
        used["area_level"] = level
    if names:
        used["areas"] = names
        resolver, chosen = area_resolver(city.name), {}
        for name in names:
            known = resolver.find(name)
            spellings = {name_key(name)} | {name_key(s) for a in known for s in a.spellings()}
            hit = [
                (r, d)
                for r, d in rows
                if name_key(r["area_name"]) in spellings and level in (None, r["area_level"])
            ]
            if not hit:
                found = data.existing([r for r, _d in rows])
                by_name = {a["name"]: a for a in found["areas"]}
                alternatives = {
                    "areas": [by_name[n] for n in data.closest(name, list(by_name))],
                    "area_levels": levels or found["area_levels"],
                }
                reason = "no_data_for_area" if known else "unknown_area"
                return _refuse(
                    reason,
                    lang,
                    alternatives,
                    used,
                    skipped,
                    _sources(rows, used, lang),
                    area=name,
                    **values,
                )
            chosen.update({id(r): (r, d) for r, d in hit})
        rows = list(chosen.values())
    else:
        at = level or "stadt"
        hit = [(r, d) for r, d in rows if r["area_level"] == at]
        if not hit:
            found = data.existing([r for r, _d in rows])
            if level:
                alternatives = {"area_levels": found["area_levels"], "areas": found["areas"]}
                return _refuse(
                    "no_data_for_level",
                    lang,
                    alternatives,
                    used,
                    skipped,
                    _sources(rows, used, lang),
                    level=words.level_label(level, lang),
                    **values,
                )
            held = levels or found["area_levels"]
            at = found["area_levels"][0]
            hit = [(r, d) for r, d in rows if r["area_level"] == at]
            # a model asked for the whole city must not add these areas up to a city figure
            warnings += [
                answers.message(
                    lang,
                    "below_city",
                    level=words.level_label(at, lang),
                    levels=", ".join(words.level_label(v, lang) for v in held),
                ),
                answers.message(
                    lang, "not_summable", level=words.level_label(at, lang), city=city.short_title
                ),
            ]
        used["area_level"] = at
        rows = hit

    kept, failed, absent = _filter_breakdowns(rows, arguments, used)
    if absent:
        notes.append(answers.message(lang, "partly", what=", ".join(absent)))
    if failed:
        alternatives = _breakdown_alternatives([r for r, _d in rows], failed)
        return _refuse(
            "no_data_for_breakdown",
            lang,
            alternatives,
            used,
            skipped,
            _sources(rows, used, lang),
            breakdown=failed,
            **values,
        )
    rows = kept

    wanted = arguments.get("period")
    start, end = arguments.get("period_from"), arguments.get("period_to")
    if wanted or start or end:
        hit = [(r, d) for r, d in rows if _within(r["period"], wanted or start, wanted or end)]
        used.update(
            {k: arguments[k] for k in ("period", "period_from", "period_to") if k in arguments}
        )
    else:
        newest = max((r["period"] for r, _d in rows), key=_end)
        hit = [(r, d) for r, d in rows if r["period"] == newest]
        used["period"] = newest
    if not hit:
        alternatives = {"periods": data.existing([r for r, _d in rows])["periods"]}
        asked = wanted or f"{start or '…'}–{end or '…'}"
        return _refuse(
            "no_data_for_period",
            lang,
            alternatives,
            used,
            skipped,
            _sources(rows, used, lang),
            period=asked,
            **values,
        )
    left_out = sorted({r["area_name"] for r, _d in rows} - {r["area_name"] for r, _d in hit})
    if left_out:
        periods = ", ".join(sorted({r["period"] for r, _d in hit}))
        notes.append(answers.message(lang, "partly", what=f"{', '.join(left_out)} ({periods})"))
    hit.sort(key=lambda pair: answers.sort_key(pair[0]))
    result = answers.value_answer(hit, used, lang, notes, skipped, warnings)
    result["partial_areas"] = result["not_summable"] = bool(warnings)
    return result


def _missing_note(entry: dict[str, Any], lang: str, label: str) -> str:
    """Why a city is not in a comparison, and what it has instead."""
    title = cities.get(entry["city"]).short_title
    if entry["reason"] == "no_data_for_indicator":
        return answers.message(lang, "no_data_for_indicator", indicator=label, city=title)
    if entry["reason"] == "no_data_for_period":
        periods = ", ".join(entry["exists"]["periods"])
        return answers.message(
            lang, "missing_period", city=title, period=entry["period"], periods=periods
        )
    exists = entry["exists"]
    where = [f"{words.level_label(a['level'], lang)} {a['name']}" for a in exists["areas"][:8]]
    if not where:  # from a coverage summary: the levels, not each area
        where = [words.level_label(level, lang) for level in exists["area_levels"]]
    what = "; ".join(where) + (f"; {', '.join(exists['periods'])}" if exists["periods"] else "")
    return answers.message(lang, "missing_city", city=title, what=what)


def _no_city_values(missing, lang, used, skipped, everything, label, titles) -> dict[str, Any]:
    """No city has city-wide values: per city that holds the indicator, where and when it does;
    the cities without it apart (never a flat list of every city)."""
    held = {
        entry["city"]: {
            "area_levels": entry["exists"]["area_levels"],
            "periods": entry["exists"]["periods"],
            "areas": entry["exists"]["areas"],
        }
        for entry in missing
        if entry["reason"] != "no_data_for_indicator"
    }
    alternatives = {
        "cities": held,
        "cities_without_indicator": [
            e["city"] for e in missing if e["reason"] == "no_data_for_indicator"
        ],
    }
    text = answers.message(lang, "no_data_in_cities", indicator=label, city=titles)
    where = "; ".join(
        answers.message(
            lang,
            "held_by",
            city=cities.get(name).short_title,
            levels=", ".join(words.level_label(v, lang) for v in found["area_levels"]),
            periods=words.span(found["periods"]),
        )
        for name, found in held.items()
    )
    text += f" {answers.message(lang, 'exists', what=where)}" if where else ""
    return answers.refusal(
        "no_data_in_cities", text, alternatives, used, skipped, _sources(everything, used, lang)
    )


@tk.side_effect_free
def vierstaedte_tool_compare_cities(context, data_dict):
    """One indicator for the whole of several cities, for the newest year they all have."""
    tk.check_access("vierstaedte_tool_compare_cities", context, data_dict)
    arguments = schemas.validate("vierstaedte_tool_compare_cities", data_dict)
    lang, indicator = arguments["lang"], arguments["indicator"]
    asked = arguments.get("cities") or cities.names()
    names = [c for c in cities.names() if c in asked]
    used: dict[str, Any] = {"indicator": indicator, "cities": names, "area_level": "stadt"}
    skipped: list[dict[str, Any]] = []
    by_city, missing, notes = {}, [], []
    sources = data.city_tables(context, names, skipped)
    cover = data.Coverage(context, indicator, sources)
    if not any(cover.held(name) for name in names):
        return _no_indicator(context, indicator, names, lang, used, skipped)
    # the question's rows: city-wide, the asked breakdown values, of the cities that hold it
    where = _narrowing(arguments, ["stadt"])
    holding = {name: sources[name] for name in names if cover.held(name)}
    by_source: dict[str, data.Rows] = {name: [] for name in names}
    by_source.update(data.cities_rows(context, indicator, holding, skipped, where, cover.public))
    # a city that holds the indicator but none of these rows: what it holds, from all its rows
    # where they are within the bound, else from its coverage summary
    wide = {n: sources[n] for n in names if not by_source[n] and cover.held(n) and cover.fits(n)}
    if wide:
        by_source.update(data.cities_rows(context, indicator, wide, skipped, None, cover.public))
    without = {name: sources[name] for name in names if not cover.held(name)}
    held_by = data.cities_indicators(context, without, skipped) if without else {}
    for name in names:
        rows = by_source[name]
        at_city = [(r, d) for r, d in rows if r["area_level"] == "stadt"]
        kept, failed, absent = _filter_breakdowns(at_city, arguments, used)
        if at_city and not failed:
            by_city[name] = kept
            if absent:
                title = cities.get(name).short_title
                notes.append(answers.message(lang, "partly", what=f"{title}: {', '.join(absent)}"))
        elif rows:
            found = data.existing([r for r, _d in (at_city or rows)])
            missing.append({"city": name, "reason": "no_city_values", "exists": found})
        elif cover.held(name):
            found = cover.offered(name)
            missing.append({"city": name, "reason": "no_city_values", "exists": found})
        else:
            held = held_by[name]
            missing.append({"city": name, "reason": "no_data_for_indicator", "indicators": held})
    everything = [(None, dataset) for dataset in cover.datasets(names)]
    label = words.indicator_label(indicator, lang)
    titles = ", ".join(cities.get(n).short_title for n in names)
    if not by_city:
        return _no_city_values(missing, lang, used, skipped, everything, label, titles)
    wanted = arguments.get("period")
    if wanted:
        chosen = {
            c: [(r, d) for r, d in rows if _within(r["period"], wanted, wanted)]
            for c, rows in by_city.items()
        }
        used["period"] = wanted
    else:
        years = [{_year(r["period"]) for r, _d in rows} for rows in by_city.values()]
        common = set.intersection(*years)
        if common:
            year = max(common)
            chosen = {
                c: [(r, d) for r, d in rows if _year(r["period"]) == year]
                for c, rows in by_city.items()
            }
            used["period"] = year
        else:
            chosen = dict(by_city)
            used["period"] = "newest"
            notes.append(answers.message(lang, "not_aligned"))
    matched = []
    for name, rows in chosen.items():
        if not rows:
            found = data.existing([r for r, _d in by_city[name]])
            missing.append(
                {"city": name, "reason": "no_data_for_period", "period": wanted, "exists": found}
            )
            continue
        latest = max((r["period"] for r, _d in rows), key=_end)  # a year's last stated period
        matched += sorted(
            ((r, d) for r, d in rows if r["period"] == latest), key=lambda p: answers.sort_key(p[0])
        )
    for entry in missing:
        notes.append(_missing_note(entry, lang, label))
    if not matched:
        alternatives = {
            "periods": sorted({r["period"] for rows in by_city.values() for r, _d in rows})
        }
        return _refuse(
            "no_data_for_period",
            lang,
            alternatives,
            used,
            skipped,
            _sources(everything, used, lang),
            indicator=label,
            city=titles,
            period=wanted,
        )
    result = answers.value_answer(matched, used, lang, notes, skipped)
    result["missing"] = missing
    return result


@tk.side_effect_free
def vierstaedte_tool_list_indicators(context, data_dict):
    """The indicators with data: cities with periods and levels, breakdowns, sources."""
    tk.check_access("vierstaedte_tool_list_indicators", context, data_dict)
    arguments = schemas.validate("vierstaedte_tool_list_indicators", data_dict)
    lang = arguments["lang"]
    names = [arguments["city"]] if arguments.get("city") else cities.names()
    skipped: list[dict[str, Any]] = []
    entries: dict[str, dict[str, Any]] = {}
    groups, public = data.groups(context, data.city_tables(context, names, skipped))
    for group in groups:
        name, dataset = group["city"], public[group["dataset_id"]]
        entry = entries.setdefault(
            group["indicator"],
            {
                "cities": {},
                "units": set(),
                "levels": set(),
                "rows": 0,
                "sources": {},
                "sex": set(),
                "age_group": set(),
                "nationality": set(),
                "dimensions": set(),
            },
        )
        place = entry["cities"].setdefault(name, {"periods": set(), "levels": set()})
        place["periods"].update(group["periods"])
        place["levels"].update(group["area_levels"])
        entry["units"].update(group["units"])
        entry["levels"].update(group["area_levels"])
        entry["rows"] += int(group["row_count"])
        for field in words.BREAKDOWNS:
            entry[field].update(group[field])
        entry["dimensions"].update(d for d in group["dimensions"] if d != "none")
        entry["sources"][dataset["id"]] = (dataset, name)
    result, lines = [], []
    for indicator in sorted(entries, key=data.order_of_indicators):
        entry = entries[indicator]
        info = vocabularies.indicator_info(indicator, lang)
        places = [
            {
                "name": name,
                "title": cities.get(name).short_title,
                "periods": sorted(entry["cities"][name]["periods"]),
                "area_levels": sorted(entry["cities"][name]["levels"], key=data.level_order),
            }
            for name in cities.names()
            if name in entry["cities"]
        ]
        periods = sorted({p for place in places for p in place["periods"]})
        result.append(
            {
                "id": indicator,
                "label": info["label"],
                "definition": info.get("definition"),
                "units": [
                    {"id": u, "label": words.unit_label(u, lang)} for u in sorted(entry["units"])
                ],
                "cities": places,
                "area_levels": sorted(entry["levels"], key=data.level_order),
                "periods": periods,
                "breakdowns": {
                    "sex": sorted(entry["sex"]),
                    "age_group": sorted(entry["age_group"]),
                    "nationality": sorted(entry["nationality"]),
                    "dimensions": sorted(entry["dimensions"]),
                },
                "rows": entry["rows"],
                "citations": [
                    citations.citation(dataset, {"indicator": indicator, "city": name}, lang)
                    for dataset, name in entry["sources"].values()
                ],
            }
        )
        spans = "; ".join(
            f"{p['title']} {words.span(p['periods'])} "
            f"({', '.join(words.level_label(v, lang) for v in p['area_levels'])})"
            for p in places
        )
        lines.append(f"{info['label']} ({indicator}): {spans}")
    return {
        "available": bool(result),
        "answer": "\n".join(lines),
        "filter": {"city": arguments.get("city")},
        "indicators": result,
        "skipped": skipped,
    }


def _public_dataset(context: dict, id_or_name: str) -> dict[str, Any] | None:
    try:
        dataset = tk.get_action("package_show")(exports.sub_context(context), {"id": id_or_name})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return None
    if dataset.get("private") or dataset.get("state") != "active":
        return None
    if dataset.get("type", "dataset") != "dataset":
        return None
    return dataset


def _unknown_dataset(context: dict, id_or_name: str, lang: str) -> dict[str, Any]:
    """No public dataset of that name: the closest public names instead (private ones unsaid)."""
    words_of_id = " ".join(part for part in id_or_name.replace("_", "-").split("-") if part)
    found = tk.get_action("package_search")(
        exports.sub_context(context),
        {"q": words_of_id, "fq": "+dataset_type:dataset", "rows": 5, "include_private": False},
    )["results"]
    names = [d["name"] for d in exports.public_datasets(context, rows=1000)]
    close = list(dict.fromkeys([d["name"] for d in found] + data.closest(id_or_name, names)[:5]))
    text = {
        "de": "Einen öffentlichen Datensatz „{id}“ gibt es nicht.",
        "en": "There is no public dataset “{id}”.",
    }[lang].format(id=id_or_name)
    return answers.refusal("unknown_dataset", text, {"datasets": close}, {"id": id_or_name})


@tk.side_effect_free
def vierstaedte_tool_describe_dataset(context, data_dict):
    """One dataset in full: fields, units, periods, areas and every breakdown value with counts."""
    tk.check_access("vierstaedte_tool_describe_dataset", context, data_dict)
    arguments = schemas.validate("vierstaedte_tool_describe_dataset", data_dict)
    lang = arguments["lang"]
    dataset = _public_dataset(context, arguments["id"])
    if dataset is None:
        return _unknown_dataset(context, arguments["id"], lang)
    record = exports.catalogue_record(context, dataset)
    areas, periods, breakdowns, by_indicator = [], [], {}, {}
    if record["indicators"]:  # the table passed the checks in catalogue_record
        resource = tables.normalised_resource(dataset)
        name = exports.table_id(resource["id"])
        try:
            areas = [
                dict(r, rows=int(r.pop("row_count")))
                for r in tables.sql(
                    context,
                    dataset,
                    resource,
                    "SELECT area_level, area_code, area_name, COUNT(*) AS row_count "
                    f'FROM "{name}" GROUP BY area_level, area_code, area_name '
                    f"ORDER BY area_level, area_code, area_name LIMIT {AREA_LIMIT}",
                )
            ]
            periods = [
                r["period"]
                for r in tables.sql(
                    context,
                    dataset,
                    resource,
                    f'SELECT DISTINCT period FROM "{name}" ORDER BY period LIMIT {AREA_LIMIT}',
                )
            ]
            groups = tables.sql(
                context,
                dataset,
                resource,
                f'SELECT {", ".join(BREAKDOWN_FIELDS)}, COUNT(*) AS row_count FROM "{name}" '
                f"GROUP BY {', '.join(BREAKDOWN_FIELDS)} ORDER BY MIN(_id) LIMIT {GROUP_LIMIT}",
            )
        except tables.Skipped as error:
            record.update(indicators=[], fields=[], table_skipped=error.entry["reason"])
            groups = []
            areas, periods = [], []
        breakdowns = _breakdowns(groups, lang)
        for indicator in dict.fromkeys(g["indicator"] for g in groups):
            by_indicator[indicator] = _breakdowns(
                [g for g in groups if g["indicator"] == indicator], lang
            )
    for entry in record["indicators"]:
        entry["breakdowns"] = by_indicator.get(entry["id"], {})
        entry["label"] = words.indicator_label(entry["id"], lang)
        entry["unit_label"] = words.unit_label(entry["unit"], lang)
    cite = citations.citation(dataset, {"id": dataset["name"]}, lang)
    return {
        **record,
        "available": True,
        "areas": areas,
        "periods": periods,
        "breakdowns": breakdowns,
        "citation": cite,
        "answer": _describe_text(record, dataset, by_indicator, periods, areas, lang),
    }


def _breakdowns(groups: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Every value of each breakdown with its number of rows (and its words in ``lang``)."""
    result: dict[str, Any] = {}
    for field in words.BREAKDOWNS:
        counts: dict[str, int] = {}
        for group in groups:
            counts[group[field]] = counts.get(group[field], 0) + int(group["row_count"])
        result[field] = [
            {"value": value, "label": _label(field, value, lang), "rows": n}
            for value, n in counts.items()
        ]
    dimensions: dict[str, dict[str, int]] = {}
    for group in groups:
        if group["dimension"] != "none":
            values = dimensions.setdefault(group["dimension"], {})
            values[group["dimension_value"]] = values.get(group["dimension_value"], 0) + int(
                group["row_count"]
            )
    result["dimensions"] = {
        dimension: [{"value": v, "rows": n} for v, n in values.items()]
        for dimension, values in dimensions.items()
    }
    return result


def _label(field: str, value: str, lang: str) -> str:
    if value == words.TOTAL:
        return {"de": "insgesamt", "en": "total"}[lang]
    if field == "age_group":
        return words.age_group(value, lang)
    return words.word(lang, f"{field}.{value}")


DESCRIBED = {
    "de": {
        "head": "{title} ({city}): Indikatoren {indicators}; Zeitbezüge {periods}; {areas}.",
        "area": ("{n} Gebiet", "{n} Gebiete"),
        "values": "Werte (Zeilen je Wert)",
        "no_table": "Dieser Datensatz hat keine normalisierte Statistiktabelle ({why}); "
        "Ressourcen: {resources}.",
    },
    "en": {
        "head": "{title} ({city}): indicators {indicators}; periods {periods}; {areas}.",
        "area": ("{n} area", "{n} areas"),
        "values": "values (rows per value)",
        "no_table": "This dataset has no normalised statistics table ({why}); "
        "resources: {resources}.",
    },
}
WHY_NO_TABLE = {
    "de": {None: "keine Statistiktabelle in der Quelle", "default": "Tabelle abgelehnt: {reason}"},
    "en": {None: "the source has no statistics table", "default": "table rejected: {reason}"},
}


def _values_text(breakdowns: dict[str, Any]) -> list[str]:
    """Each breakdown with every value, ``total`` included: ``sex: total (16), male (16)``."""
    lines = [
        f"{field}: " + ", ".join(f"{v['value']} ({v['rows']})" for v in breakdowns[field])
        for field in words.BREAKDOWNS
        if breakdowns.get(field)
    ]
    lines += [
        f"{dimension}: " + ", ".join(f"{v['value']} ({v['rows']})" for v in values)
        for dimension, values in breakdowns.get("dimensions", {}).items()
    ]
    return lines


def _describe_text(record, dataset, by_indicator, periods, areas, lang) -> str:
    """The dataset in words; breakdown values per indicator (counts of different indicators
    are not comparable, so never added up), or why there is no statistics table."""
    said = DESCRIBED[lang]
    lines = [
        said["head"].format(
            title=record["title"],
            city=record["city"]["title"],
            indicators=", ".join(i["id"] for i in record["indicators"]) or "–",
            periods=", ".join(periods) or "–",
            areas=said["area"][len(areas) != 1].format(n=len(areas)),
        )
    ]
    if not record["indicators"]:
        reason = record.get("table_skipped")
        why = WHY_NO_TABLE[lang][None] if not reason else WHY_NO_TABLE[lang]["default"]
        resources = ", ".join(
            f"{r.get('name') or r.get('id')} ({r.get('format') or '?'})"
            for r in dataset.get("resources", [])
        )
        lines.append(said["no_table"].format(why=why.format(reason=reason), resources=resources))
    for indicator, breakdowns in by_indicator.items():
        label = words.indicator_label(indicator, lang)
        lines.append(f"{label} ({indicator}), {said['values']}:")
        lines += [f"  {line}" for line in _values_text(breakdowns)]
    return "\n".join(lines)


SEARCHED = {
    "de": {
        "said": "Gesucht nach „{query}“{city}: {n} {hits}.",
        "spellcheck": "Für diese Wörter gab es nichts; gesucht wurde stattdessen nach „{query}“.",
        "fuzzy": "Für diese Wörter gab es nichts; gesucht wurde nach ähnlichen Schreibweisen "
        "(„{query}“).",
        "fewer_words": "Mit allen Wörtern gab es nichts; die Treffer enthalten nur einen Teil der "
        "Wörter aus „{query}“.",
        "suggestion": "Vorschlag für eine bessere Suche: „{query}“.",
    },
    "en": {
        "said": "Searched for “{query}”{city}: {n} {hits}.",
        "spellcheck": "Those words found nothing; searched for “{query}” instead.",
        "fuzzy": "Those words found nothing; searched for similar spellings (“{query}”).",
        "fewer_words": "All the words together found nothing; the hits contain only some of the "
        "words of “{query}”.",
        "suggestion": "A better search might be: “{query}”.",
    },
}


@tk.side_effect_free
def vierstaedte_tool_search_datasets(context, data_dict):
    """Public datasets matching the words, each described and cited; says what was searched."""
    tk.check_access("vierstaedte_tool_search_datasets", context, data_dict)
    arguments = schemas.validate("vierstaedte_tool_search_datasets", data_dict)
    lang = arguments["lang"]
    search = {
        "q": arguments["query"],
        "fq": "+dataset_type:dataset",
        "rows": arguments["limit"],
        "include_private": False,
    }
    if arguments.get("city"):
        search["fq"] += f' +organization:"{arguments["city"]}"'  # a value of the enum only
    found = tk.get_action("package_search")(exports.sub_context(context), search)
    # German search (search/query.py) may correct a typo: say exactly what was searched
    instead = found.get("vierstaedte_searched") or {}
    offered = found.get("vierstaedte_suggestion") or {}
    searched = {
        "query": arguments["query"],
        "city": arguments.get("city"),
        "searched_for": instead.get("query", arguments["query"]),
        "corrected": bool(instead),
        "method": instead.get("method"),
        "suggestion": offered.get("query"),
    }
    used = {"query": arguments["query"], "city": arguments.get("city")}
    results = []
    for dataset in found["results"]:
        record = exports.catalogue_record(context, dataset)
        description = record["description"] or ""
        record["description"] = description[:300] + ("…" if len(description) > 300 else "")
        del record["fields"]
        record["citation"] = citations.citation(dataset, used, lang)
        results.append(record)
    city = f" ({cities.get(arguments['city']).short_title})" if arguments.get("city") else ""
    hits = "Treffer" if lang == "de" else ("hit" if found["count"] == 1 else "hits")
    lines = [
        SEARCHED[lang]["said"].format(
            query=arguments["query"], city=city, n=found["count"], hits=hits
        )
    ]
    if searched["corrected"]:
        said = SEARCHED[lang].get(searched["method"], SEARCHED[lang]["spellcheck"])
        lines.append(said.format(query=searched["searched_for"]))
    elif searched["suggestion"]:
        lines.append(SEARCHED[lang]["suggestion"].format(query=searched["suggestion"]))
    lines += [f"{r['title']} ({r['name']}, {r['city']['title']})" for r in results]
    return {
        "available": bool(results),
        "answer": "\n".join(lines),
        "searched": searched,
        "filter": used,
        "count": found["count"],
        "results": results,
    }


@tk.side_effect_free
def vierstaedte_tool_read_rows(context, data_dict):
    """Rows of a public dataset's normalised table: bounded, filtered, each with its sentence."""
    tk.check_access("vierstaedte_tool_read_rows", context, data_dict)
    arguments = schemas.validate("vierstaedte_tool_read_rows", data_dict)
    lang = arguments["lang"]
    dataset = _public_dataset(context, arguments["id"])
    if dataset is None:
        return _unknown_dataset(context, arguments["id"], lang)
    filters = {k: v for k, v in (arguments.get("filters") or {}).items()}
    used = {
        "id": dataset["name"],
        "filters": filters,
        "limit": arguments["limit"],
        "offset": arguments["offset"],
    }
    cite = citations.citation(dataset, used, lang)
    try:
        resource = tables.checked(context, dataset)
        page = None
        if resource is not None:
            page = tk.get_action("datastore_search")(
                {"user": context.get("user")},
                {
                    "resource_id": resource["id"],
                    "filters": filters,
                    "limit": arguments["limit"],
                    "offset": arguments["offset"],
                    "sort": "_id",
                    "include_total": True,
                },
            )
    except (tables.Skipped, tk.ValidationError, tk.ObjectNotFound, tk.NotAuthorized):
        page = None
    if page is None:
        text = answers.message(lang, "no_table", dataset=dataset["name"])
        return answers.refusal("no_table", text, {}, used, sources=[cite])
    rows = []
    for record in page["records"]:
        record.pop("_id", None)
        record["value"] = number(record.get("value"))
        city = cities.find(record.get("city", ""))
        if city and not tables.row_problem(record):
            record["sentence"] = words.sentence(record, city.short_title, lang)
        # a total row sums the others of its group (sources do not always agree): never add up
        record["is_total"] = all(record.get(f) == words.TOTAL for f in words.BREAKDOWNS)
        rows.append(record)
    total = page.get("total", len(rows))
    following = arguments["offset"] + len(rows)
    lines = [r["sentence"] for r in rows if r.get("sentence")]
    lines += [
        answers.message(lang, "parts_not_summed"),
        words.word(lang, "source", citation=cite["attribution"]),
    ]
    return {
        "available": True,
        "filter": used,
        "rows": rows,
        "count": len(rows),
        "total": total,
        "next_offset": following if following < total else None,
        "citation": cite,
        "not_summable": True,
        "answer": "\n".join(lines),
    }


def get_actions() -> dict[str, Any]:
    return {
        "vierstaedte_tool_search_datasets": vierstaedte_tool_search_datasets,
        "vierstaedte_tool_describe_dataset": vierstaedte_tool_describe_dataset,
        "vierstaedte_tool_list_indicators": vierstaedte_tool_list_indicators,
        "vierstaedte_tool_query_indicator": vierstaedte_tool_query_indicator,
        "vierstaedte_tool_compare_cities": vierstaedte_tool_compare_cities,
        "vierstaedte_tool_read_rows": vierstaedte_tool_read_rows,
        **council.get_actions(),
    }
