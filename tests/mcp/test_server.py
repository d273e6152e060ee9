"""The MCP server as MCP clients see it: the official SDK's client over stdio and streamable HTTP.

The server runs as its command, ``vierstaedte-mcp``, against the live test CKAN filled by the
real harvester, with a recording proxy between them (``Tap``), so the tests see every request
the server sends to the portal: anonymous, read-only, only public data. The tool list is
whatever the portal's manifest says: each tool listed is called with the manifest's examples.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import anyio
import pytest
import requests
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from demo.replay import LoopbackServer
from tests.factories import HarvestedDataset
from tests.harvesting import CkanTap, _TapHandler

COMMAND = str(Path(sys.executable).with_name("vierstaedte-mcp"))
# the tools the portal has had since #16; the manifest may list more, and each is tested
KNOWN = (
    "vierstaedte_tool_search_datasets",
    "vierstaedte_tool_describe_dataset",
    "vierstaedte_tool_query_indicator",
)
QUERY = "vierstaedte_tool_query_indicator"
# a desktop's tokens in the server's environment: none of them may reach the portal
LEAK = "tok-must-not-leak"
SECRET_ENV = {"CKAN_API_TOKEN": LEAK, "VIERSTAEDTE_API_TOKEN": LEAK}


class _Recording(_TapHandler):
    def _forward(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        super()._forward()


class Tap(CkanTap):
    """A real proxy in front of CKAN that keeps each request's method, path and headers."""

    def __init__(self, upstream: str):
        super().__init__(upstream)
        self.RequestHandlerClass = _Recording
        self.requests: list[tuple[str, str, dict[str, str]]] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpServer:
    """``vierstaedte-mcp --http`` on a free port, as ``scripts/stack up`` starts it."""

    def __init__(self, portal: str, *extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        command = [COMMAND, "--http", "--port", str(self.port), "--portal", portal, *extra]
        env = dict(os.environ, **SECRET_ENV)
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("vierstaedte-mcp --http did not listen within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def stdio(portal: str, *args: str) -> StdioServerParameters:
    """What a desktop client's config launches: the command and the portal in its environment."""
    env = dict(os.environ, VIERSTAEDTE_PORTAL_URL=portal, **SECRET_ENV)
    return StdioServerParameters(command=COMMAND, args=list(args), env=env)


def session(server, check, **options):
    """One client session, on an event loop of its own thread.

    The suite's browser tests leave Playwright's sync API, which keeps an asyncio loop running
    in the main thread, so ``anyio.run`` there would refuse to start.
    """

    async def run():
        async with Client(server, **options) as client:
            await check(client)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, run).result()


async def exercise(client: Client, manifest: dict, private: dict) -> None:
    """Everything a client does: tools with schemas, each tool called, errors, resources."""
    assert client.server_info.name == "vierstaedte"
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    specs = {t["function"]["name"]: t["function"] for t in manifest["tools"]}
    assert set(listed) == set(specs) and set(KNOWN) <= set(listed)
    for name, spec in specs.items():
        assert listed[name].input_schema == spec["parameters"]
        assert listed[name].description == spec["description"]
        assert listed[name].annotations.read_only_hint is True

    for name, spec in specs.items():
        for example in spec["examples"]:
            result = await client.call_tool(name, example)
            assert not result.is_error, (name, example, result.content)
            structured = result.structured_content
            assert isinstance(structured, dict) and structured, (name, example)
            assert json.loads(result.content[-1].text) == structured
            if structured.get("answer"):
                assert result.content[0].text == structured["answer"]

    # a value with its sentence and citation, in the language asked
    answer = await client.call_tool(
        "vierstaedte_tool_query_indicator",
        {"indicator": "population_total", "city": "mainz", "area_name": "Gonsenheim"},
    )
    assert "25.301 Personen" in answer.content[0].text
    english = await client.call_tool(
        "vierstaedte_tool_query_indicator",
        {"indicator": "population_total", "city": "mainz", "area_name": "Gonsenheim", "lang": "en"},
    )
    assert "25,301" in english.content[0].text
    assert english.structured_content["results"][0]["citation"]["dataset_url"]

    # malformed arguments: the portal's message per parameter, as a tool error
    wrong = await client.call_tool(
        "vierstaedte_tool_query_indicator", {"indicator": "population_total", "city": "berlin"}
    )
    assert wrong.is_error and wrong.content[0].text.startswith("city: ")
    assert "mainz" in wrong.content[0].text
    missing = await client.call_tool("vierstaedte_tool_describe_dataset", {"dataset": "x"})
    assert missing.is_error
    assert {"id", "dataset"} <= set(missing.structured_content["error"])
    # well-formed but unanswerable: a normal result that says so
    unknown = await client.call_tool(
        "vierstaedte_tool_query_indicator", {"indicator": "unemployment_rate", "city": "mainz"}
    )
    assert not unknown.is_error and unknown.structured_content["available"] is False
    with pytest.raises(MCPError, match="Unknown tool: vierstaedte_tool_delete"):
        await client.call_tool("vierstaedte_tool_delete", {})

    # resources: the indicator vocabulary and each public dataset, never the private one
    resources = (await client.list_resources()).resources
    uris = {str(r.uri) for r in resources}
    assert "vierstaedte://indicators" in uris
    datasets = sorted(u for u in uris if u.startswith("vierstaedte://datasets/"))
    assert datasets and f"vierstaedte://datasets/{private['name']}" not in uris
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["vierstaedte://datasets/{name}"]
    content = (await client.read_resource(datasets[0])).contents[0]
    described = json.loads(content.text)
    assert content.mime_type == "application/json"
    assert f"vierstaedte://datasets/{described['name']}" == datasets[0] and described["citation"]
    vocabulary = json.loads(
        (await client.read_resource("vierstaedte://indicators?lang=en")).contents[0].text
    )
    assert "population_total" in json.dumps(vocabulary)
    assert "Population" in vocabulary["answer"]
    for uri in (f"vierstaedte://datasets/{private['name']}", "vierstaedte://nothing"):
        with pytest.raises(MCPError) as refused:
            await client.read_resource(uri)
        assert refused.value.code == -32002

    # the private dataset exists, but no tool shows it
    hidden = await client.call_tool("vierstaedte_tool_describe_dataset", {"id": private["name"]})
    assert hidden.structured_content["available"] is False
    found = await client.call_tool(
        "vierstaedte_tool_search_datasets", {"query": "Geheimzahlen", "limit": 10}
    )
    assert private["name"] not in json.dumps(found.structured_content)


def assert_anonymous(tap: Tap, manifest: dict) -> None:
    """No credentials reached the portal, and nothing but reads of the tool API and catalogue."""
    assert tap.requests
    tools = {t["function"]["name"] for t in manifest["tools"]}
    for method, path, headers in tap.requests:
        sent = {k.lower() for k in headers}
        assert not sent & {"authorization", "x-ckan-api-key", "cookie"}, (path, sent)
        assert LEAK not in json.dumps(headers)
        if method == "GET":
            assert path == "/api/vierstaedte/tools.json"
        else:
            assert method == "POST" and path.startswith("/api/3/action/")
            assert path.rsplit("/", 1)[1] in tools | {"package_search"}, path


@pytest.fixture
def portal(harvest, platform):
    """The test portal with Mainz harvested and one private dataset, behind a ``Tap``."""
    assert harvest("mainz").returncode == 0
    private = HarvestedDataset(city="mainz", private=True, title="Geheimzahlen")
    manifest = requests.get(f"{platform['url']}/api/vierstaedte/tools.json", timeout=10).json()
    with Tap(platform["url"]) as tap:
        yield tap, manifest, private


@pytest.mark.usefixtures("with_plugins")
def test_stdio_session(portal):
    tap, manifest, private = portal
    session(stdio(tap.base), lambda client: exercise(client, manifest, private))

    async def english(client):  # --lang: the language of calls that name none
        gonsenheim = {"indicator": "population_total", "city": "mainz", "area_name": "Gonsenheim"}
        assert "25,301" in (await client.call_tool(QUERY, gonsenheim)).content[0].text
        german = await client.call_tool(QUERY, {**gonsenheim, "lang": "de"})
        assert "25.301" in german.content[0].text

    session(stdio(tap.base, "--lang", "en"), english)
    assert_anonymous(tap, manifest)


@pytest.mark.usefixtures("with_plugins")
def test_streamable_http_session(portal):
    tap, manifest, private = portal
    server = HttpServer(tap.base)
    try:
        # the current protocol, and the initialize handshake of older clients
        session(server.url, lambda client: exercise(client, manifest, private))
        session(server.url, lambda client: exercise(client, manifest, private), mode="legacy")
        # bounded: a body larger than any tool call is refused before it is read
        too_big = requests.post(
            server.url,
            data=b"x" * (2 << 20),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            timeout=10,
        )
        assert too_big.status_code == 413
    finally:
        server.stop()
    assert_anonymous(tap, manifest)


class _BadPortal(BaseHTTPRequestHandler):
    """A portal whose manifest is not one: answered with whatever ``server.body`` holds."""

    def do_GET(self) -> None:
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<html>", "is not JSON"),
        (b'{"tools": {}}', "has no list 'tools'"),
        (
            b'{"tools": [{"function": {"name": "../x", "description": "", "parameters": {}}}]}',
            "not an action name",
        ),
        (b'{"tools": [{"function": {"name": "t", "description": "d"}}]}', "t has no parameters"),
    ],
)
def test_bad_manifest_is_a_clear_error(body, message):
    with LoopbackServer(_BadPortal) as portal:
        portal.body = body

        async def check(client):
            for _ in range(2):  # the server stays up and says the same again
                with pytest.raises(MCPError, match=message):
                    await client.list_tools()
                with pytest.raises(MCPError, match=message):
                    await client.call_tool("t", {})
            assert (await client.list_resource_templates()).resource_templates

        session(stdio(portal.base), check)


class _SlowPortal(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(3)

    def log_message(self, format, *args):  # noqa: A002
        pass


def test_slow_portal_times_out():
    with LoopbackServer(_SlowPortal) as portal:

        async def check(client):
            began = time.monotonic()
            with pytest.raises(MCPError, match="did not answer within 1 s"):
                await client.list_tools()
            assert time.monotonic() - began < 2.5

        session(stdio(portal.base, "--timeout", "1"), check)


def test_unreachable_portal_is_a_clear_error():
    port = free_port()  # nothing listens there
    server = HttpServer(f"http://127.0.0.1:{port}", "--timeout", "2")
    try:

        async def check(client):
            with pytest.raises(MCPError, match=f"127.0.0.1:{port} cannot be reached"):
                await client.list_tools()

        session(server.url, check)
    finally:
        server.stop()


def test_command_line():
    wrong = subprocess.run(
        [COMMAND, "--portal", "ftp://x"], capture_output=True, text=True, timeout=30
    )
    assert wrong.returncode == 2 and "http(s)://" in wrong.stderr
