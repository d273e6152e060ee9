"""Fuzzing every action and every page the extension adds, over HTTP against the live CKAN.

Hostile values — NUL characters, lone surrogates, numbers at and past 2^63, NaN, deep JSON,
times in the year 99999 or before the year 1 — in any parameter, as a query string and as a
JSON body, with and without a sysadmin's token. The property: the portal never answers 5xx,
and every 4xx of the Action API is a JSON error with a message or field errors. Bounded: a
fixed number of examples, about 30 s in all.

The actions come from ``ckanext.vierstaedte.logic.action.get_actions()`` and the pages from
the extension's blueprints, so a new action or page is fuzzed without touching this file. Each
of them also gets the known bad classes every run (explicit examples), besides the random ones.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import flask
import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from ckanext.vierstaedte import views
from ckanext.vierstaedte.logic.action import get_actions

pytestmark = pytest.mark.usefixtures("with_plugins")

ACTIONS = get_actions()


def _rules() -> list[Rule]:
    probe = flask.Flask("probe")
    for blueprint in views.get_blueprints():
        probe.register_blueprint(blueprint)
    return sorted((r for r in probe.url_map.iter_rules() if r.endpoint != "static"), key=str)


RULES = _rules()
# the parameters the actions and pages read; hypothesis adds names of its own
NAMES = (
    "id",
    "organization",
    "started",
    "finished",
    "status",
    "counts",
    "report",
    "harvester_version",
    "limit",
    "offset",
    "include_report",
    "start",
    "rows",
    "indicator",
    "cities",
    "area_level",
    "period_from",
    "period_to",
    "sex",
    "age_group",
    "nationality",
    "dimension",
    "dimension_value",
    "query",
    "city",
    "area_name",
    "period",
    "page",
    "problem_page",
    "run",
    "q",
    "sort",
)
FRIENDLY = (
    "mainz",
    "trier",
    "07315000",
    "population_total",
    "stadt",
    "total",
    "none",
    "2023",
    "true",
    "1",
    "20",
    "ok",
    "2026-11-21T03:00:00Z",
    "Altstadt",
)
HOSTILE = (
    "\x00",
    "mainz\x00",
    "\ud800",
    "a\udfffb",
    "\ud83d",
    str(2**63),
    str(2**64 + 1),
    str(-(2**63) - 1),
    "9" * 400,
    "1e400",
    "NaN",
    "-Infinity",
    "-1",
    "0",
    " ",
    "",
    "99999-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "2099-01-01",
    "[" * 1200 + "]" * 1200,
    '{"a":' * 200 + "1" + "}" * 200,
    '["\\u0000"]',
    '{"x": "\\ud800"}',
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%00",
    "ä" * 300,
)
# bodies a client can send but no Python value prints: nested past the parser's recursion limit
DEEP_BODIES = (
    '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"report": ' + '{"a": ' * 3000 + "1" + "}" * 3001,
)
MAX_URL = 3500  # gunicorn refuses a request line over 4094 bytes itself (400, not from CKAN)


def _nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


text = st.one_of(
    st.sampled_from(FRIENDLY),
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec=None), max_size=20),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    text,
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, -(2**63) - 1, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
)
value = st.one_of(
    scalar,
    st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=8,
    ),
    st.sampled_from([_nested(40), _nested(70), {"a": _nested(33)}]),
)
params = st.dictionaries(st.one_of(st.sampled_from(NAMES), text), value, max_size=5)


def _query(data: dict, room: int) -> str:
    """A query string of the parameters that fit in ``room`` characters; text UTF-8 cannot
    encode (a lone surrogate) goes as the bytes a client would send."""

    def encoded(item) -> str:
        item = item if isinstance(item, str) else json.dumps(item)
        return quote(item.encode("utf-8", "surrogatepass"), safe="")

    parts = [f"{encoded(key)}={encoded(item)}" for key, item in data.items()]
    while len("&".join(parts)) > room:
        parts.pop()
    return "&".join(parts)


def _check_api(response: requests.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:800]}"
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False, (what, body)
        error = body["error"]
        fields = [messages for key, messages in error.items() if key not in ("__type", "message")]
        field_errors = fields and all(isinstance(m, (list, dict)) and m for m in fields)
        assert error.get("message") or field_errors, (what, body)


BOUNDED = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
# every action and page also gets these, whatever the random draw
BAD_PARAMS = (
    {name: "mainz\x00" for name in NAMES[:8]},
    {name: "\ud800" for name in NAMES[8:16]},
    {name: 2**63 for name in ("limit", "offset", "start", "rows", "problem_page")},
    {name: str(2**63) for name in ("limit", "offset", "start", "rows", "page")},
    {name: " " for name in ("limit", "offset", "start", "rows", "problem_page")},
    {
        "started": "0001-01-01T00:00:00+01:00",
        "finished": "99999-01-01",
        "period_from": "-0001",
        "report": _nested(70),
        "counts": "[" * 1200 + "]" * 1200,
    },
)


def _with_examples(examples):
    def decorate(test):
        for arguments in examples:
            test = example(*arguments)(test)
        return test

    return decorate


def test_actions_never_answer_5xx(platform):
    url, token = platform["url"], platform["admin_token"]
    seen: set[str] = set()

    examples = [(action, data, False, None) for action in ACTIONS for data in BAD_PARAMS]
    examples += [(action, {}, True, body) for action in ACTIONS for body in DEEP_BODIES]

    @BOUNDED
    @_with_examples(examples)
    @given(
        st.sampled_from(sorted(ACTIONS)),
        params,
        st.booleans(),
        st.sampled_from((None, *DEEP_BODIES)),
    )
    def probe(action, data, as_admin, deep_body):
        seen.add(action)
        headers = {"Authorization": token} if as_admin else {}
        endpoint = f"{url}/api/3/action/{action}"
        if getattr(ACTIONS[action], "side_effect_free", False):
            query = _query(data, MAX_URL - len(endpoint))
            response = requests.get(f"{endpoint}?{query}", headers=headers, timeout=60)
            _check_api(response, f"GET {action} {data!r:.300}")
        body = deep_body or json.dumps(data)  # lone surrogates as \ud800 escapes, NaN as NaN
        response = requests.post(
            endpoint,
            data=body.encode(),
            timeout=60,
            headers={**headers, "Content-Type": "application/json"},
        )
        _check_api(response, f"POST {action} {body[:300]}")

    probe()
    assert seen == set(ACTIONS)


def test_pages_never_answer_5xx(platform):
    url = platform["url"]
    seen: set[str] = set()

    examples = [(rule, "mainz", query) for rule in RULES for query in BAD_PARAMS]
    examples += [(rule, bad, {}) for rule in RULES if rule.arguments for bad in HOSTILE[:5]]

    @BOUNDED
    @_with_examples(examples)
    @given(st.sampled_from(RULES), st.one_of(st.sampled_from(FRIENDLY), text), params)
    def probe(rule, argument, query):
        """``argument`` fills every variable part of the rule's path (there is at most one)."""
        seen.add(rule.rule)
        path = rule.rule
        for name in rule.arguments:
            part = quote(argument.encode("utf-8", "surrogatepass"), safe="")[:1000]
            path = path.replace(f"<{name}>", part)
        response = requests.get(
            f"{url}{path}?{_query(query, MAX_URL - len(url + path))}", timeout=60
        )
        assert response.status_code < 500, f"GET {path} {query!r:.300}: {response.status_code}"
        if path.startswith("/api/") and response.status_code >= 400:
            _check_api(response, f"GET {path}")

    probe()
    assert seen == {rule.rule for rule in RULES}
