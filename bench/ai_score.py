"""How one tool answer is judged against the question set's expectation.

Pure functions of the question, what the source files say (``ai_sources.Cell``), the portal's
dataset for each source, and what the tool returned: no network, so ``tests/test_bench.py`` can
show cheaply that a wrong value, a missing citation field or a value given for an unanswerable
question each count as a failure.

A value answer is exact when it has exactly the expected results and each has the source's value,
unit, period, area, city, indicator and breakdown. Its citation is complete when every field of
the shared result shape is there and it points at the source's portal dataset and its normalised
table. Its sentence names the value in the language's number format, the area, the year and each
breakdown asked. A refusal is honest when no value is given and the alternatives name what exists
(or, for a malformed call, the error names the parameter).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from bench.ai_sources import Cell, labels

WORDS = labels()

CITATION_FIELDS = (
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
LICENCE_FIELDS = ("id", "title", "url")
SEX_WORDS = {
    "de": {"female": r"weiblich|Frauen", "male": r"männlich|Männer", "diverse": "divers"},
    "en": {"female": r"\bfemale\b|\bwomen\b", "male": r"\bmale\b|\bmen\b", "diverse": "diverse"},
}
NATIONALITY_WORDS = {
    "de": {"foreign": r"[Aa]usländ|nichtdeutsch", "german": r"[Dd]eutsch"},
    "en": {"foreign": r"[Ff]oreign|non-German", "german": r"German"},
}


@dataclass
class Dataset:
    """A source's dataset on the portal (what a citation must point at)."""

    source: str
    name: str
    id: str
    title: str
    city: str
    city_title: str
    licence: str
    normalised: str  # id of the normalised table's resource


@dataclass
class Outcome:
    """One tool call as the client saw it: the parsed result, or the tool error's text."""

    output: dict[str, Any] | None
    error: str | None
    seconds: float


@dataclass
class Verdict:
    kind: str  # "answer" or "refusal"
    values: bool | None = None  # exact values (answers)
    citations: bool | None = None  # citations complete (answers that carry citations)
    sentences: bool | None = None  # sentences name value, area, period, breakdown
    refusal: bool | None = None  # honest refusal (unanswerable questions)
    problems: list[str] = field(default_factory=list)


def number_pattern(value: float | int, lang: str) -> str:
    """``111316`` → ``111.316`` (de) / ``111,316`` (en); decimals may carry trailing zeros."""
    group, point = (".", ",") if lang == "de" else (",", ".")
    text = repr(float(value)) if not float(value).is_integer() else str(int(value))
    whole, _, decimals = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    grouped = f"{int(digits):,}".replace(",", group)
    forms = {re.escape(grouped)} | ({re.escape(digits)} if len(digits) <= 4 else set())
    tail = re.escape(point) + decimals + "0*" if decimals else f"(?:{re.escape(point)}0+)?"
    return rf"(?<![\d.,]){re.escape(sign)}(?:{'|'.join(sorted(forms))}){tail}(?!\d)"


def _leaves(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [leaf for v in data.values() for leaf in _leaves(v)]
    if isinstance(data, list):
        return [leaf for v in data for leaf in _leaves(v)]
    return [str(data)] if data is not None else []


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return isinstance(a, int | float) and math.isclose(float(a), float(b), abs_tol=1e-9)


def as_result(row: dict[str, Any]) -> dict[str, Any]:
    """A read_rows row (normalised table fields) in the shape of a value result."""
    breakdown = {k: row.get(k) for k in ("sex", "age_group", "nationality")}
    if row.get("dimension") not in (None, "", "none"):
        breakdown[row["dimension"]] = row.get("dimension_value")
    return {
        "value": row.get("value"),
        "value_status": row.get("value_status"),
        "unit": row.get("unit"),
        "period": row.get("period"),
        "area": {
            "level": row.get("area_level"),
            "code": row.get("area_code"),
            "name": row.get("area_name"),
        },
        "city": {"name": row.get("city")},
        "indicator": {"id": row.get("indicator")},
        "breakdown": breakdown,
        "sentence": row.get("sentence"),
    }


def _key(city: str, area: str, period: str, breakdown: dict[str, Any]) -> tuple:
    extra = {k: v for k, v in breakdown.items() if v not in (None, "total")}
    return (city, area, period, tuple(sorted(extra.items())))


def _result_key(result: dict[str, Any]) -> tuple:
    area = result.get("area") or {}
    city = result.get("city") or {}
    return _key(
        city.get("name") if isinstance(city, dict) else city,
        area.get("name") if isinstance(area, dict) else area,
        result.get("period"),
        result.get("breakdown") or {},
    )


def _cell_key(cell: Cell) -> tuple:
    return _key(cell.city, cell.area["name"], cell.period, cell.breakdown)


def describe_cell(cell: Cell) -> str:
    extra = {k: v for k, v in cell.breakdown.items() if v != "total"}
    return (
        f"{cell.indicator} {cell.city}/{cell.area['level']}:{cell.area['name']} {cell.period}"
        f" {extra or 'total'} = {cell.value} {cell.unit}"
        + ("" if cell.status == "reported" else f" ({cell.status})")
        + f" [{cell.source}: {cell.row!r} × {cell.column!r}]"
    )


def describe_result(result: dict[str, Any]) -> str:
    area, city = result.get("area") or {}, result.get("city") or {}
    indicator = result.get("indicator") or {}
    return (
        f"{indicator.get('id') if isinstance(indicator, dict) else indicator} "
        f"{city.get('name') if isinstance(city, dict) else city}/"
        f"{area.get('level')}:{area.get('name')} {result.get('period')} "
        f"{result.get('breakdown')} = {result.get('value')} {result.get('unit')}"
        f" ({result.get('value_status')})"
    )


def _differences(cell: Cell, result: dict[str, Any]) -> list[str]:
    wrong = []
    if not _same_number(result.get("value"), cell.value):
        wrong.append("value")
    if cell.value is None and result.get("value_status") != cell.status:
        wrong.append("value_status")
    if result.get("unit") != cell.unit:
        wrong.append("unit")
    if result.get("period") != cell.period:
        wrong.append("period")
    indicator = result.get("indicator")
    if (indicator.get("id") if isinstance(indicator, dict) else indicator) != cell.indicator:
        wrong.append("indicator")
    city = result.get("city")
    if (city.get("name") if isinstance(city, dict) else city) != cell.city:
        wrong.append("city")
    area = result.get("area") or {}
    if area.get("level") != cell.area["level"] or area.get("name") != cell.area["name"]:
        wrong.append("area")
    if cell.area["code"] and area.get("code") != cell.area["code"]:
        wrong.append("area.code")
    breakdown = result.get("breakdown")
    if not isinstance(breakdown, dict) or any(
        breakdown.get(k) != v for k, v in cell.breakdown.items()
    ):
        wrong.append("breakdown")
    return wrong


def check_values(cells: list[Cell], results: list[dict[str, Any]]) -> list[str]:
    """Each expected cell paired with its result (by city, area, period, breakdown; failing
    that, by area and value), every field compared; results left over are wrong too."""
    problems = []
    by_key: dict[tuple, list[dict[str, Any]]] = {}
    for result in results:
        by_key.setdefault(_result_key(result), []).append(result)
    used: set[int] = set()
    pairs, unpaired = [], []
    for cell in cells:
        found = [r for r in by_key.get(_cell_key(cell), []) if id(r) not in used]
        if found:
            used.add(id(found[0]))
            pairs.append((cell, found[0]))
        else:
            unpaired.append(cell)
    for cell in unpaired:
        left = [r for r in results if id(r) not in used]
        near = [r for r in left if (r.get("area") or {}).get("name") == cell.area["name"]]
        same = [r for r in near if _same_number(r.get("value"), cell.value)]
        guess = (same or (near if len(near) == 1 else []) or [None])[0]
        if guess is None:
            problems.append(f"value missing: expected {describe_cell(cell)}")
            continue
        used.add(id(guess))
        pairs.append((cell, guess))
    for cell, result in pairs:
        wrong = _differences(cell, result)
        if wrong:
            problems.append(
                f"wrong {', '.join(wrong)}: expected {describe_cell(cell)}; "
                f"got {describe_result(result)}"
            )
    for result in results:
        if id(result) not in used:
            problems.append(f"unexpected value: {describe_result(result)}")
    return problems


def check_citation(citation: Any, dataset: Dataset) -> list[str]:
    if not isinstance(citation, dict):
        return ["citation missing"]
    problems = [f"citation.{f} missing" for f in CITATION_FIELDS if not citation.get(f)]
    licence = citation.get("licence")
    if isinstance(licence, dict):
        problems += [f"citation.licence.{f} missing" for f in LICENCE_FIELDS if not licence.get(f)]
        if licence.get("id") and not str(licence["id"]).endswith(dataset.licence):
            problems.append(f"citation.licence.id {licence['id']!r} is not {dataset.licence}")
    elif licence:
        problems.append("citation.licence is no {id, title, url}")
    if citation.get("dataset_title") and citation["dataset_title"] != dataset.title:
        problems.append(
            f"citation.dataset_title {citation['dataset_title']!r}, source says {dataset.title!r}"
        )
    url = str(citation.get("dataset_url") or "")
    if url and not re.search(rf"/dataset/({re.escape(dataset.name)}|{dataset.id})/?$", url):
        problems.append(f"citation.dataset_url {url} is not dataset {dataset.name}")
    resource = str(citation.get("resource_url") or "")
    if resource and f"/resource/{dataset.normalised}" not in resource:
        problems.append(f"citation.resource_url {resource} is not the normalised table")
    publisher = str(citation.get("publisher") or "")
    if publisher and dataset.city_title.split()[0] not in publisher:
        problems.append(f"citation.publisher {publisher!r} does not name {dataset.city_title}")
    attribution = str(citation.get("attribution") or "")
    if attribution and dataset.title not in attribution and dataset.name not in attribution:
        problems.append("citation.attribution names neither the dataset's title nor its URL")
    return problems


def check_sentence(result: dict[str, Any], lang: str, answer: str) -> list[str]:
    """The sentence names indicator, breakdown, area, city, period, value and unit; the answer
    repeats value and breakdown (a multi-party answer lists every party)."""
    sentence = result.get("sentence")
    if not sentence:
        return [f"no sentence for {describe_result(result)}"]
    missing = []
    value = result.get("value")
    if value is not None:
        pattern = number_pattern(value, lang)
        if not re.search(pattern, sentence):
            missing.append(f"the value in {lang} format")
        if not re.search(pattern, answer or ""):
            missing.append("(in the answer) the value")
    indicator = result.get("indicator") or {}
    indicator = indicator.get("id") if isinstance(indicator, dict) else indicator
    if not any(w in sentence for w in WORDS.get(indicator, {}).get(lang, [indicator])):
        missing.append(f"the indicator {indicator}")
    unit = result.get("unit")
    if (
        value is not None
        and unit != "count"
        and not any(w in sentence for w in WORDS.get(unit, {}).get(lang, [unit]))
    ):
        missing.append(f"the unit {unit}")
    area = result.get("area") or {}
    city = result.get("city") or {}
    if area.get("name") not in sentence:
        missing.append(f"the area {area.get('name')!r}")
    if not any(n and n in sentence for n in (city.get("title"), city.get("name"))):
        missing.append(f"the city {city.get('title')!r}")
    if str(result.get("period") or "")[:4] not in sentence:
        missing.append("the year")
    breakdown = result.get("breakdown") or {}
    for key, wanted in breakdown.items():
        if wanted in (None, "total"):
            continue
        if key == "sex":
            ok = re.search(SEX_WORDS[lang].get(wanted, wanted), sentence)
        elif key == "nationality":
            ok = re.search(NATIONALITY_WORDS[lang].get(wanted, wanted), sentence)
        elif key == "age_group":
            ok = all(n in sentence for n in re.findall(r"\d+", wanted))
        else:
            ok = str(wanted) in sentence
            if str(wanted) not in (answer or ""):
                missing.append(f"(in the answer) {key} {wanted!r}")
        if not ok:
            missing.append(f"{key} {wanted!r}")
    return [f"sentence {sentence!r} lacks {', '.join(missing)}"] if missing else []


def judge_values(
    question: dict[str, Any],
    cells: list[Cell],
    datasets: dict[str, Dataset],
    outcome: Outcome,
) -> Verdict:
    verdict = Verdict("answer")
    if outcome.output is None or outcome.output.get("available") is False:
        said = outcome.error or (outcome.output or {}).get("message") or outcome.output
        verdict.values = verdict.citations = verdict.sentences = False
        verdict.problems.append(f"no answer: {said}")
        verdict.problems += [f"expected {describe_cell(c)}" for c in cells]
        return verdict
    output = outcome.output
    if question["tool"] == "read_rows":
        results = [as_result(r) for r in output.get("rows") or []]
        citations = [output.get("citation")]
    else:
        results = list(output.get("results") or [])
        citations = [r.get("citation") for r in results]
    problems = check_values(cells, results)
    verdict.values = not problems
    verdict.problems += problems
    candidates = [datasets[s] for s in dict.fromkeys(c.source for c in cells) if s in datasets]
    cite_problems = [] if citations else ["no citation"]
    if not output.get("filter"):
        cite_problems.append("the answer's filter (the exact filter used) is missing")
    for citation in citations:  # the closest of the sources the values come from
        cite_problems += min((check_citation(citation, d) for d in candidates), key=len, default=[])
    verdict.citations = not cite_problems
    verdict.problems += sorted(set(cite_problems))
    lang = question["args"].get("lang", "de")
    sentence_problems = []
    for result in results:
        sentence_problems += check_sentence(result, lang, output.get("answer", ""))
    if question["tool"] == "read_rows":  # rows carry a sentence where they can; not required
        sentence_problems = []
    verdict.sentences = not sentence_problems
    verdict.problems += sentence_problems
    for city in question["expect"].get("cities_without_values", []):
        if city not in str(output.get("answer", "")).lower():
            verdict.sentences = False
            verdict.problems.append(f"answer does not name {city}, which has no values")
    return verdict


def judge_search(question: dict[str, Any], target: Dataset, outcome: Outcome) -> Verdict:
    verdict = Verdict("answer")
    hits = (outcome.output or {}).get("results") or []
    names = [h.get("name") for h in hits]
    hit = next((h for h in hits if h.get("name") == target.name or h.get("id") == target.id), None)
    verdict.values = hit is not None
    if hit is None:
        verdict.citations = False
        said = outcome.error or names
        verdict.problems.append(f"expected hit {target.name} ({target.title!r}); got {said}")
        return verdict
    problems = check_citation(hit.get("citation"), target)
    verdict.citations = not problems
    verdict.problems += problems
    return verdict


def _counts(data: Any, key: str = "", found: dict | None = None) -> dict[str, list[dict]]:
    """Every list of ``{value, rows|count}`` in the output, by the key it stands under."""
    found = {} if found is None else found
    if isinstance(data, dict):
        for k, v in data.items():
            _counts(v, k, found)
    elif isinstance(data, list):
        pairs = {
            str(i.get("value")): i.get("rows", i.get("count"))
            for i in data
            if isinstance(i, dict) and "value" in i
        }
        if pairs:
            found.setdefault(key, []).append(pairs)
        for item in data:
            _counts(item, key, found)
    return found


def describe_expectation(cells: list[Cell]) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {}
    for cell in cells:
        for key, value in cell.breakdown.items():
            counts.setdefault(key, {})
            counts[key][value] = counts[key].get(value, 0) + 1
    return {
        "indicators": sorted({c.indicator for c in cells}),
        "periods": sorted({c.period for c in cells}),
        "areas": sorted({c.area["name"] for c in cells}),
        "counts": counts,
    }


def judge_describe(target: Dataset, cells: list[Cell], outcome: Outcome) -> Verdict:
    verdict = Verdict("answer")
    output = outcome.output or {}
    if not output or output.get("available") is False:
        verdict.values = verdict.citations = False
        verdict.problems.append(f"no description: {outcome.error or output}")
        return verdict
    want = describe_expectation(cells)
    problems = []
    indicators = sorted(
        i.get("id") if isinstance(i, dict) else i for i in output.get("indicators") or []
    )
    if indicators != want["indicators"]:
        problems.append(f"indicators: expected {want['indicators']}, got {indicators}")
    periods = sorted(output.get("periods") or [])
    if periods != want["periods"]:
        problems.append(f"periods: expected {want['periods']}, got {periods}")
    areas = sorted(
        {a.get("area_name", a.get("name")) if isinstance(a, dict) else a for a in output["areas"]}
        if isinstance(output.get("areas"), list)
        else []
    )
    if areas != want["areas"]:
        problems.append(f"areas: expected {want['areas']}, got {areas}")
    found = _counts(output)
    for key, expected in want["counts"].items():
        if expected not in found.get(key, []):
            problems.append(
                f"breakdown {key}: expected values with row counts {expected}, "
                f"got {found.get(key, ['nothing'])[:1]}"
            )
    verdict.values = not problems
    verdict.problems += problems
    cite = check_citation(output.get("citation"), target)
    verdict.citations = not cite
    verdict.problems += cite
    return verdict


def indicator_expectation(cells: list[Cell], city: str | None) -> dict[str, dict[str, list]]:
    """Indicator → city → its periods, over the cells of the sources (of one city)."""
    found: dict[str, dict[str, set]] = {}
    for cell in cells:
        if city in (None, cell.city):
            found.setdefault(cell.indicator, {}).setdefault(cell.city, set()).add(cell.period)
    return {i: {c: sorted(p) for c, p in by.items()} for i, by in found.items()}


def judge_indicators(expected: dict[str, dict[str, list]], outcome: Outcome) -> Verdict:
    verdict = Verdict("answer")
    entries = (outcome.output or {}).get("indicators")
    if not isinstance(entries, list):
        verdict.values = False
        verdict.problems.append(f"no indicator list: {outcome.error or outcome.output}")
        return verdict
    got: dict[str, dict[str, list]] = {}
    for entry in entries:
        places = {}
        for place in entry.get("cities") or []:
            if isinstance(place, dict):
                places[place.get("name")] = sorted(place.get("periods") or [])
            else:
                places[place] = None
        got[entry.get("id")] = places
    if sorted(got) != sorted(expected):
        verdict.problems.append(f"indicators: expected {sorted(expected)}, got {sorted(got)}")
    for indicator, places in expected.items():
        if indicator in got and got[indicator] != places:
            verdict.problems.append(
                f"{indicator}: expected cities/periods {places}, got {got[indicator]}"
            )
    verdict.values = not verdict.problems
    return verdict


def judge_refusal(refuse: dict[str, Any], names: dict[str, str], outcome: Outcome) -> Verdict:
    """``names`` maps ``@source`` to the portal dataset's name (for dataset alternatives)."""
    verdict = Verdict("refusal")
    output = outcome.output
    if refuse.get("parameter"):
        param = refuse["parameter"]
        if outcome.error is not None and re.search(rf"\b{re.escape(param)}\b", outcome.error):
            verdict.refusal = True
        else:
            verdict.refusal = False
            got = outcome.error if outcome.error is not None else output
            verdict.problems.append(f"expected a validation error naming {param!r}; got {got}")
        return verdict
    if output is None:
        verdict.refusal = False
        verdict.problems.append(
            f"expected available: false with alternatives; got the error {outcome.error}"
        )
        return verdict
    problems = []
    if output.get("available") is not False:
        problems.append("available is not false")
    values = [
        r.get("value")
        for r in (output.get("results") or []) + (output.get("rows") or [])
        if isinstance(r, dict) and r.get("value") is not None
    ]
    if values:
        problems.append(f"gave values {values[:6]} for an unanswerable question")
    alternatives = output.get("alternatives")
    leaves = set(_leaves(alternatives))
    if not leaves:
        problems.append("no alternatives")
    for wanted in refuse.get("alternatives", []):
        options = [wanted] if isinstance(wanted, str) else list(wanted)
        options = [names.get(o, o) for o in options]
        if not leaves & set(options):
            problems.append(f"alternatives name none of {options}")
    if not output.get("message"):
        problems.append("no message")
    verdict.refusal = not problems
    if problems:
        shown = {k: output.get(k) for k in ("available", "reason", "message", "alternatives")}
        verdict.problems += problems + [f"got {str(shown)[:600]}"]
    return verdict
