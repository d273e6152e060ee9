"""The benchmarks still run: ``bench/run --tiny`` runs each one at a toy size and prints its summary.

No timing assertions (the figures live in docs/performance.md); this only keeps
bench/ from rotting. It uses the benchmarks' own test slot (databases
``ckan_benchtest*``, Solr cores ``ckan_benchtest*``, ports 5020–5022), never the
portal's or the test suite's databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["run", "benchstack", "normalise", "harvest", "source", "peer_harvest", "load"]


def test_benchmarks_import_as_a_package_and_leave_sys_path_alone():
    check = (
        "import importlib, sys\n"
        "before = list(sys.path)\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('bench.' + name)\n"
        "    assert sys.path == before, (name, sys.path)\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]


def test_bench_run_tiny_prints_the_summary_table(tmp_path):
    # the documented command, from another folder: bench/run finds its package itself
    venv = Path(sys.executable).parent.parent
    result = subprocess.run(
        [str(ROOT / "bench" / "run"), "--tiny"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=dict(os.environ, VIERSTAEDTE_VENV=str(venv)),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    summary = out.split("## summary", 1)[1]
    assert "normalise" in summary
    assert "ckanext-harvest" in summary and "re-run" in summary
    for endpoint in (
        "package_search",
        "dataset page",
        "datastore_search",
        "indicator_query",
        "comparison page",
        "AI tool call",
    ):
        assert endpoint in summary
    # each endpoint answered every request (the figures are not those of error pages)
    for line in summary.splitlines():
        if line.startswith("load 400 c="):
            result = line.split("ms, errors", 1)[1]  # "12/15/20, 0; core …"
            errors = result.split(", ")[1].split(";")[0].strip()
            assert errors == "0", line
    assert (
        "ckanext-harvest 1.6.3" in out and "3/6/0" in out
    )  # the peer published all 3 datasets, links only


def _ai_answer(cell, dataset, lang="de"):
    """A value result in the shared tool shape (docs/api.md) that says exactly what ``cell`` says."""
    value = f"{cell.value:,}".replace(",", "." if lang == "de" else ",")
    link = f"http://portal/dataset/{dataset.name}"
    return {
        "value": cell.value,
        "value_status": cell.status,
        "unit": cell.unit,
        "period": cell.period,
        "area": dict(cell.area),
        "city": {"name": cell.city, "title": dataset.city_title},
        "indicator": {"id": cell.indicator, "label": cell.indicator},
        "breakdown": dict(cell.breakdown),
        "sentence": f"Einwohner insgesamt, weiblich, {cell.area['name']} {cell.period}: {value} Personen.",
        "citation": {
            "text": f"{dataset.title}, {link}",
            "dataset_title": dataset.title,
            "dataset_url": link,
            "resource_url": f"{link}/resource/{dataset.normalised}/download/t.csv",
            "publisher": dataset.city_title,
            "licence": {"id": dataset.licence, "title": "DL-DE-BY 2.0", "url": "https://dl"},
            "attribution": f"{dataset.city_title}: {dataset.title}",
            "modified": "2024-02-15",
            "filter": {"city": cell.city},
        },
    }


def test_ai_eval_question_set_agrees_with_the_source_files(tmp_path):
    from bench.ai_eval import QuestionSet
    from bench.ai_sources import SourceError

    qs = QuestionSet()
    answerable, unanswerable = qs.answerable(), qs.unanswerable()
    assert len(answerable) >= 120 and len(unanswerable) >= 30
    assert {q["args"].get("lang", "de") for q in answerable} == {"de", "en"}
    cities = {c.city for cells in qs.cells.values() for c in cells}
    assert cities == {"mainz", "trier", "koblenz", "ludwigshafen"}
    assert {q["tool"] for q in answerable} == {
        "search_datasets", "describe_dataset", "list_indicators",
        "query_indicator", "compare_cities", "read_rows",
    }  # fmt: skip
    # a literal that the source file does not say stops the run before anything is asked
    text = (ROOT / "bench" / "ai_questions.yaml").read_text(encoding="utf-8")
    wrong = tmp_path / "questions.yaml"
    wrong.write_text(text.replace("value: 56092}", "value: 56093}", 1), encoding="utf-8")
    try:
        QuestionSet(wrong)
    except SourceError as error:
        assert "56092" in str(error)
    else:
        raise AssertionError("a wrong literal value passed the check against the source file")


def test_ai_eval_scorer_counts_each_kind_of_failure():
    from bench import ai_score
    from bench.ai_eval import QuestionSet

    qs = QuestionSet()
    question = next(q for q in qs.questions if q["args"] == {
        "indicator": "population_total", "city": "trier", "sex": "female"})  # fmt: skip
    (cell,) = qs.cells[question["id"]]
    assert (cell.value, cell.breakdown["sex"]) == (56092, "female")
    dataset = ai_score.Dataset(
        "trier", "trier-bev-1", "uuid-1", qs.sources.spec["trier"]["title"],
        "trier", "Trier", "dl-by-de/2.0", "res-norm",
    )  # fmt: skip
    datasets = {"trier": dataset}

    def judged(result, answer="Trier: 56.092 Personen."):
        output = {"available": True, "answer": answer, "filter": {"sex": "female"}}
        output["results"] = [result]
        return ai_score.judge_values(question, [cell], datasets, ai_score.Outcome(output, None, 0))

    right = judged(_ai_answer(cell, dataset))
    assert (right.values, right.citations, right.sentences) == (True, True, True), right.problems

    wrong_value = _ai_answer(cell, dataset) | {"value": 111316}  # the aggregate, not the breakdown
    verdict = judged(wrong_value)
    assert verdict.values is False and any("wrong value" in p for p in verdict.problems)

    unlabelled = _ai_answer(cell, dataset) | {"breakdown": {"sex": "total"}}
    assert judged(unlabelled).values is False

    for field in ai_score.CITATION_FIELDS:
        result = _ai_answer(cell, dataset)
        del result["citation"][field]
        verdict = judged(result)
        assert verdict.values is True and verdict.citations is False, field
        assert f"citation.{field} missing" in verdict.problems
    elsewhere = _ai_answer(cell, dataset)
    elsewhere["citation"]["dataset_url"] = "http://portal/dataset/koblenz-einwohner"
    assert judged(elsewhere).citations is False

    silent = _ai_answer(cell, dataset) | {"sentence": "Einwohner insgesamt, Trier: 56.092."}
    assert judged(silent).sentences is False  # names neither the breakdown nor the year

    refusal = next(q for q in qs.unanswerable() if q["args"].get("period") == "2020")
    honest = {
        "available": False,
        "reason": "no_data_for_period",
        "message": "Für 2020 gibt es keine Werte; vorhanden: 2023-12-31.",
        "alternatives": {"periods": ["2023-12-31"]},
    }
    judge = ai_score.judge_refusal
    assert judge(refusal["refuse"], {}, ai_score.Outcome(honest, None, 0)).refusal is True
    guessed = dict(honest, results=[{"value": 110000}])
    assert judge(refusal["refuse"], {}, ai_score.Outcome(guessed, None, 0)).refusal is False
    answered = {"available": True, "answer": "111.316", "results": [_ai_answer(cell, dataset)]}
    assert judge(refusal["refuse"], {}, ai_score.Outcome(answered, None, 0)).refusal is False
    bare = dict(honest, alternatives={})
    assert judge(refusal["refuse"], {}, ai_score.Outcome(bare, None, 0)).refusal is False
    city = next(q for q in qs.unanswerable() if q["refuse"].get("parameter") == "city")
    named = ai_score.Outcome(None, '{"city": ["Unbekannter Wert: koeln"]}', 0)
    assert judge(city["refuse"], {}, named).refusal is True
    vague = ai_score.Outcome(None, "Fehler", 0)
    assert judge(city["refuse"], {}, vague).refusal is False


# --- search benchmark (bench/search.py) --------------------------------------------------------


def test_search_query_set_is_the_catalogue_rules_and_covers_each_class():
    from bench import search, search_catalogue

    specs = search_catalogue.generate()
    assert len(specs) >= 2000
    assert {s.city for s in specs} == set(search_catalogue.CITIES)
    assert sum(s.kind == "table" for s in specs) >= 900
    queries = search.read_queries()
    search.check_queries(queries, specs + search_catalogue.DEMO)  # names = what the rules give
    assert len(queries) >= 80
    classes = {q["class"] for q in queries}
    assert classes >= {"everyday", "plural", "compound", "district", "party", "year", "typo"}
    assert sum(q["class"] == "english" for q in queries) >= 5
    assert search.score(["a", "b", "c"], ["b", "x"]) == (0.5, 0.5)
    assert search.score(["a"] * 10 + ["b"], ["b"]) == (0.0, 0.0)  # rank 11 is not in the top 10
    assert search.score([f"n{i}" for i in range(10)], [f"n{i}" for i in range(30)]) == (1.0, 1.0)


def test_bench_run_search_tiny_scores_both_configurations(tmp_path):
    # three datasets, three queries whose answers are known: the harness end to end
    import json

    venv = Path(sys.executable).parent.parent
    figures = tmp_path / "search.json"
    result = subprocess.run(
        [str(ROOT / "bench" / "run"), "--tiny", "--only", "search", "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=dict(os.environ, VIERSTAEDTE_VENV=str(venv)),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(figures.read_text())["search"]
    got = {
        label: {
            q["query"]: (round(q["recall"], 3), q["rr"]) for q in data["results"][label]["queries"]
        }
        for label in ("ours", "stock")
    }
    # the title finds the rent table in both; only ours has the table's areas; a query whose
    # rule calls all three relevant finds only the one holding both words: recall 1/3
    assert got["ours"] == {
        "Mietspiegel": (1.0, 1.0),
        "Gonsenheim": (1.0, 1.0),
        "Mietspiegel 2018": (0.333, 1.0),
    }
    assert got["stock"] == {
        "Mietspiegel": (1.0, 1.0),
        "Gonsenheim": (0.0, 0.0),
        "Mietspiegel 2018": (0.333, 1.0),
    }
    summary = data["summary"]
    assert abs(summary["ours"]["recall"] - 7 / 9) < 1e-9 and summary["ours"]["mrr"] == 1.0
    assert abs(summary["stock"]["recall"] - 4 / 9) < 1e-9
    assert abs(summary["stock"]["mrr"] - 2 / 3) < 1e-9
    for label in ("ours", "stock"):
        assert 0 < summary[label]["p50"] <= summary[label]["p95"]
    out = result.stdout.split("## summary", 1)[1]
    assert "recall@10 / MRR@10, 3 queries" in out and "0.778 / 1.000; 0.444 / 0.667" in out


def test_council_bench_stores_searches_and_scores_a_small_system(
    ckan_server, reset_db, reset_index, migrate_db_for, tmp_path
):
    # bench/council.py end to end on 40 generated papers against the live test CKAN
    import json

    import ckan.plugins
    from ckan.tests import factories

    from ckanext.vierstaedte import seed
    from ckanext.vierstaedte.council import index

    ckan.plugins.load_all()
    try:
        reset_db()
        migrate_db_for("activity")
        migrate_db_for("vierstaedte")
        reset_index()
        index.rebuild()
        sysadmin = factories.SysadminWithToken()
        seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
        token = tmp_path / "token"
        token.write_text(sysadmin["token"])
        figures = tmp_path / "council.json"
        result = subprocess.run(
            [sys.executable, "-m", "bench.council", "--url", ckan_server, "--token-file",
             str(token), "--papers", "40", "--clients", "1,2", "--duration", "0.5",
             "--settle", "0", "--json", str(figures)],
            capture_output=True, text=True, timeout=600, cwd=ROOT,
        )  # fmt: skip
    finally:
        ckan.plugins.unload_all()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(figures.read_text())
    assert data["papers"] == 40 and data["store"]["written"] == data["objects"]
    assert data["unchanged"]["written"] == 0 and data["unchanged"]["unchanged"] == data["objects"]
    assert data["judged_queries"] >= 15 and 0.5 <= data["recall_at_10"] <= 1
    assert [load["clients"] for load in data["latency"]] == [1, 2]
    assert all(0 < load["p50_ms"] <= load["p95_ms"] for load in data["latency"])
    assert "recall@10" in result.stdout and "papers/s" in result.stdout
