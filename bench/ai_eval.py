"""Do the AI tools answer right, cite fully and refuse honestly? (issue #16)

    .venv/bin/python -m bench.ai_eval                    # MCP over stdio and streamable HTTP
    .venv/bin/python -m bench.ai_eval --transports json  # the JSON tool API, to tell MCP apart
    .venv/bin/python -m bench.ai_eval --verify           # only check the question set's literals

Asks every question of ``bench/ai_questions.yaml`` through a real MCP client session (the
official SDK's client, over stdio and over streamable HTTP) against the running stack
(``scripts/stack up``: CKAN with the demo data, the MCP server at ``--mcp-url``), and prints
exact-value accuracy, citation completeness, sentence completeness, honest-refusal rate and
p50/p95 latency per tool and transport, then every failure with the question, the expectation
and what came back. The expectations are computed from the demo's source files by
``bench/ai_sources.py`` (never through the tool code), and checked against the files before
anything is asked. Judging is in ``bench/ai_score.py``. Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from bench import ai_score
from bench.ai_sources import ROOT, Cell, SourceError, Sources

QUESTIONS = Path(__file__).with_name("ai_questions.yaml")
TOOLS = (
    "search_datasets",
    "describe_dataset",
    "list_indicators",
    "query_indicator",
    "compare_cities",
    "read_rows",
)
PREFIX = "vierstaedte_tool_"
TARGETS = "targets: 100 % exact values, citations, honest refusals; p95 < 300 ms per tool call"


class QuestionSet:
    """The questions with their expectations, checked against the source files."""

    def __init__(self, path: Path = QUESTIONS):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.sources = Sources(data["sources"])
        self.questions: list[dict[str, Any]] = data["questions"]
        self.cells: dict[str, list[Cell]] = {}
        self.verify()

    def verify(self) -> None:
        """Every literal value is its cell's; every call names a tool; refusals say what to see."""
        self.sources.check_metadata()
        ids = [q["id"] for q in self.questions]
        if len(ids) != len(set(ids)):
            raise SourceError("question ids repeat")
        for question in self.questions:
            if question["tool"] not in TOOLS:
                raise SourceError(f"{question['id']}: no tool {question['tool']!r}")
            if "refuse" in question:
                if not (
                    question["refuse"].get("alternatives") or question["refuse"].get("parameter")
                ):
                    raise SourceError(f"{question['id']}: a refusal names what it expects")
                continue
            cells = []
            for entry in question["expect"].get("values", []):
                cell = self.sources.cell(entry["source"], str(entry["row"]), str(entry["column"]))
                if not ai_score._same_number(cell.value, entry["value"]):
                    raise SourceError(
                        f"{question['id']}: {entry['source']} {entry['row']!r} × "
                        f"{entry['column']!r} is {cell.value}, the question set says {entry['value']}"
                    )
                cells.append(cell)
            self.cells[question["id"]] = cells

    def answerable(self) -> list[dict[str, Any]]:
        return [q for q in self.questions if "refuse" not in q]

    def unanswerable(self) -> list[dict[str, Any]]:
        return [q for q in self.questions if "refuse" in q]


def portal_datasets(ckan: str, sources: Sources) -> dict[str, ai_score.Dataset]:
    """Each source's dataset on the portal: the public dataset of its city with its title."""
    found = {}
    for key, spec in sources.spec.items():
        query = urllib.parse.urlencode(
            {"fq": f'organization:"{spec["city"]}"', "rows": 1000, "q": "*:*"}
        )
        with urllib.request.urlopen(f"{ckan}/api/3/action/package_search?{query}", timeout=30) as r:
            results = json.load(r)["result"]["results"]
        match = [d for d in results if d["title"] == spec["title"]]
        if len(match) != 1:
            raise SourceError(f"{key}: {len(match)} portal datasets titled {spec['title']!r}")
        dataset = match[0]
        normalised = [r["id"] for r in dataset["resources"] if r.get("role") == "normalised"]
        found[key] = ai_score.Dataset(
            source=key,
            name=dataset["name"],
            id=dataset["id"],
            title=dataset["title"],
            city=spec["city"],
            city_title=sources.cities[spec["city"]]["short_title"],
            licence=spec["licence"],
            normalised=normalised[0] if normalised else "-",
        )
    return found


def arguments(question: dict[str, Any], datasets: dict[str, ai_score.Dataset]) -> dict[str, Any]:
    args = dict(question["args"])
    if isinstance(args.get("id"), str) and args["id"].startswith("@"):
        args["id"] = datasets[args["id"][1:]].name
    return args


def parse_text(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class JsonApi:
    """The JSON tool API (``POST /api/3/action/<tool>``): what MCP forwards to."""

    name = "json"

    def __init__(self, ckan: str):
        self.ckan = ckan

    async def call(self, tool: str, args: dict[str, Any]) -> ai_score.Outcome:
        request = urllib.request.Request(
            f"{self.ckan}/api/3/action/{PREFIX}{tool}",
            data=json.dumps(args).encode(),
            headers={"Content-Type": "application/json"},
        )
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = json.load(response)
            seconds = time.perf_counter() - began
            return ai_score.Outcome(body["result"], None, seconds)
        except urllib.error.HTTPError as error:
            seconds = time.perf_counter() - began
            text = error.read().decode("utf-8", "replace")
            body = parse_text(text) or {}
            return ai_score.Outcome(None, json.dumps(body.get("error", text)), seconds)
        except urllib.error.URLError as error:
            seconds = time.perf_counter() - began
            return ai_score.Outcome(None, f"the portal cannot be reached: {error}", seconds)


class Mcp:
    """A real MCP client session of the official SDK, over stdio or streamable HTTP."""

    def __init__(self, name: str, session: Any, tools: dict[str, str]):
        self.name, self.session, self.tools = name, session, tools

    async def call(self, tool: str, args: dict[str, Any]) -> ai_score.Outcome:
        began = time.perf_counter()
        result = await self.session.call_tool(self.tools[tool], args)
        seconds = time.perf_counter() - began
        texts = [getattr(c, "text", "") for c in result.content or []]
        is_error = getattr(result, "is_error", getattr(result, "isError", False))
        if is_error:
            return ai_score.Outcome(None, "\n".join(texts), seconds)
        structured = getattr(
            result, "structured_content", getattr(result, "structuredContent", None)
        )
        output = structured if isinstance(structured, dict) else None
        if output is None:
            output = next((p for p in map(parse_text, texts) if p is not None), None)
        if isinstance(output, dict) and set(output) == {"result"}:
            output = output["result"]
        if output is None:
            return ai_score.Outcome(None, "not JSON: " + "\n".join(texts)[:500], seconds)
        return ai_score.Outcome(output, None, seconds)


async def _tool_names(session: Any) -> dict[str, str]:
    listed = [t.name for t in (await session.list_tools()).tools]
    names = {}
    for tool in TOOLS:
        name = next((n for n in listed if n in (PREFIX + tool, tool)), None)
        if name is None:
            raise RuntimeError(f"the MCP server lists no tool {tool}: {listed}")
        names[tool] = name
    return names


async def run_mcp(transport: str, options, questions, datasets) -> list[tuple]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client

    with tempfile.TemporaryFile("w+") as errlog:  # the stdio server's stderr, shown if it fails
        if transport == "stdio":
            command = shlex.split(options.stdio_command)
            server = StdioServerParameters(
                command=command[0], args=command[1:], env=dict(os.environ)
            )
            connect = stdio_client(server, errlog=errlog)
        else:
            connect = streamable_http_client(options.mcp_url)
        try:
            async with connect as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    client = Mcp(transport, session, await _tool_names(session))
                    return await ask_all(client, questions, datasets, options.rounds)
        except BaseException:
            errlog.seek(0)
            print(f"MCP over {transport} failed; server stderr:\n{errlog.read()[-3000:]}")
            raise


async def ask_all(client, questions, datasets, rounds: int) -> list[tuple]:
    """Each question ``rounds`` times: the first answer is judged, every call is timed."""
    answers = []
    for question in questions:
        outcome = await client.call(question["tool"], arguments(question, datasets))
        times = [outcome.seconds]
        for _ in range(rounds - 1):
            times.append(
                (await client.call(question["tool"], arguments(question, datasets))).seconds
            )
        answers.append((question, outcome, times))
    return answers


def judge(qs: QuestionSet, datasets, question, outcome) -> ai_score.Verdict:
    if "refuse" in question:
        names = {"@" + k: d.name for k, d in datasets.items()}
        return ai_score.judge_refusal(question["refuse"], names, outcome)
    expect, tool = question["expect"], question["tool"]
    if tool == "search_datasets":
        return ai_score.judge_search(question, datasets[expect["dataset"]], outcome)
    if tool == "describe_dataset":
        key = expect["describe"]
        return ai_score.judge_describe(datasets[key], qs.sources.value_cells(key), outcome)
    if tool == "list_indicators":
        cells = [c for key in qs.sources.spec for c in qs.sources.value_cells(key)]
        wanted = ai_score.indicator_expectation(cells, expect.get("indicators"))
        return ai_score.judge_indicators(wanted, outcome)
    return ai_score.judge_values(question, qs.cells[question["id"]], datasets, outcome)


def rate(verdicts: list[ai_score.Verdict], attribute: str) -> str:
    counted = [getattr(v, attribute) for v in verdicts if getattr(v, attribute) is not None]
    if not counted:
        return "–"
    return f"{sum(counted)}/{len(counted)} = {100 * sum(counted) / len(counted):.1f} %"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(share * 100) - 1]


def report(qs: QuestionSet, runs: dict[str, list[tuple]], datasets) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    failures: dict[tuple, list[str]] = {}
    for transport, answers in runs.items():
        verdicts = []
        latency: dict[str, list[float]] = {}
        for question, outcome, times in answers:
            verdict = judge(qs, datasets, question, outcome)
            verdicts.append(verdict)
            latency.setdefault(question["tool"], []).extend(t * 1000 for t in times)
            if verdict.problems:
                key = (question["id"], tuple(verdict.problems))
                failures.setdefault(key, []).append(transport)
        summary[transport] = {
            "exact values": rate(verdicts, "values"),
            "citations complete": rate(verdicts, "citations"),
            "sentences complete": rate(verdicts, "sentences"),
            "honest refusals": rate(verdicts, "refusal"),
            "latency": {
                tool: {
                    "n": len(ms),
                    "p50": round(statistics.median(ms), 1),
                    "p95": round(percentile(ms, 0.95), 1),
                }
                for tool, ms in sorted(latency.items())
            },
        }
    answerable, unanswerable = len(qs.answerable()), len(qs.unanswerable())
    gone = [
        (t, q["id"])
        for t, answers in runs.items()
        for q, outcome, _times in answers
        if outcome.error and "cannot be reached" in outcome.error
    ]
    if gone:
        print(f"WARNING: the portal went away during the run ({len(gone)} calls); run again")
    print(f"questions: {answerable} answerable, {unanswerable} unanswerable ({QUESTIONS.name})")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (latency depends on it)")
    for transport, figures in summary.items():
        print(f"\n## {transport}")
        for measure in ("exact values", "citations complete", "sentences complete"):
            print(f"{measure:<22}{figures[measure]}")
        print(f"{'honest refusals':<22}{figures['honest refusals']}")
        print(f"{'tool':<20}{'calls':>6}{'p50 ms':>9}{'p95 ms':>9}")
        for tool, ms in figures["latency"].items():
            over = "  over 300 ms" if ms["p95"] >= 300 else ""
            print(f"{tool:<20}{ms['n']:>6}{ms['p50']:>9.1f}{ms['p95']:>9.1f}{over}")
    by_id = {q["id"]: q for q in qs.questions}
    print(f"\n## failures ({len({k[0] for k in failures})} questions)")
    for (qid, problems), transports in sorted(failures.items()):
        question = by_id[qid]
        print(f"\n{qid} [{', '.join(transports)}] {question['q']}")
        print(f"  call: {question['tool']} {json.dumps(question['args'], ensure_ascii=False)}")
        for problem in problems:
            print(f"  - {problem}")
    print(f"\n{TARGETS}")
    return {"summary": summary, "failures": [k[0] for k in failures], "portal_gone": len(gone)}


def wait_for(ckan: str, seconds: float = 90) -> None:
    """The portal answers (another session may be restarting the stack)."""
    until = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{ckan}/api/3/action/status_show", timeout=10):
                return
        except OSError:
            if time.monotonic() > until:
                raise
            time.sleep(2)


async def main_async(options) -> dict[str, Any]:
    qs = QuestionSet(options.questions)
    wait_for(options.ckan)
    chosen = qs.questions
    if options.only:
        wanted = set(options.only.split(","))
        chosen = [q for q in chosen if q["id"] in wanted]
    datasets = portal_datasets(options.ckan, qs.sources)
    runs = {}
    for transport in options.transports.split(","):
        if transport == "json":
            runs[transport] = await ask_all(JsonApi(options.ckan), chosen, datasets, options.rounds)
        else:
            runs[transport] = await run_mcp(transport, options, chosen, datasets)
    if options.only:
        qs.questions = chosen
    return report(qs, runs, datasets)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ai_eval",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--ckan", default="http://127.0.0.1:5000", help="the portal")
    parser.add_argument("--mcp-url", default="http://127.0.0.1:5003/mcp", help="streamable HTTP")
    parser.add_argument(
        "--stdio-command",
        default=f"{Path(sys.executable).parent / 'vierstaedte-mcp'} --portal http://127.0.0.1:5000",
        help="the MCP server a desktop client would launch",
    )
    parser.add_argument(
        "--transports", default="stdio,http", help="comma-separated: stdio, http, json"
    )
    parser.add_argument("--only", help="comma-separated question ids")
    parser.add_argument(
        "--rounds", type=int, default=3, help="times each question is asked (for the latency)"
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--json", type=Path, help="write the figures and failing ids here")
    parser.add_argument(
        "--verify", action="store_true", help="only check the question set against the files"
    )
    options = parser.parse_args()
    if options.verify:
        qs = QuestionSet(options.questions)
        print(
            f"{len(qs.answerable())} answerable and {len(qs.unanswerable())} unanswerable "
            f"questions agree with {ROOT.name}/demo/payloads/files"
        )
        return
    result = asyncio.run(main_async(options))
    if options.json:
        options.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
