"""Tools and resources of the MCP server, on the SDK's low-level ``Server``.

The low-level server, not ``MCPServer``'s decorators: the tools are not Python functions here
but whatever the portal's manifest lists, with its JSON Schemas as they are, so a tool the
portal gains is served without a change to this package. Where MCP distinguishes two kinds of
failure, this server keeps them apart: a call the portal refused (HTTP 409, a message per
parameter) or could not answer is a tool result with ``isError`` that the model can read and
correct; an unknown tool, an unknown resource or an unusable manifest is a protocol error. A
well-formed question without an answer (``available: false``) is a normal result: the
portal's refusal, with the alternatives it names, is the answer.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import anyio.to_thread
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from vierstaedte_mcp.portal import Answer, Portal, PortalError, ToolSpec

# the tools the resources read: names the portal's tool API keeps (docs/ai.md)
DESCRIBE = "vierstaedte_tool_describe_dataset"
INDICATORS = "vierstaedte_tool_list_indicators"
DATASETS_URI = "vierstaedte://datasets/"
INDICATORS_URI = "vierstaedte://indicators"
PAGE = 100  # datasets per page of resources/list
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for an unknown resource
LANGS = ("de", "en")

INSTRUCTIONS = (
    "Amtliche Statistik der Städte Mainz, Trier, Koblenz und Ludwigshafen am Rhein aus dem "
    "Open-Data-Portal Vier Städte. Jede Antwort nennt ihre Quelle (citation); Werte nie "
    "schätzen: 'available: false' heißt, das Portal hat diesen Wert nicht, und nennt, was es "
    "stattdessen gibt. Alle Werkzeuge nehmen lang ('de' oder 'en').\n\n"
    "Official statistics of Mainz, Trier, Koblenz and Ludwigshafen am Rhein from the Vier "
    "Städte open-data portal. Every answer cites its source (citation); never estimate: "
    "'available: false' means the portal does not have that value and names what exists "
    "instead. Every tool takes lang ('de' or 'en')."
)


def _version() -> str:
    try:
        return metadata.version("vierstaedte")
    except metadata.PackageNotFoundError:
        return ""


def _text(result: Any) -> list[types.TextContent]:
    """The readable answer first (what a person or a model quotes), then the whole result."""
    blocks = []
    if isinstance(result, dict):
        readable = result.get("answer") or result.get("message")
        if isinstance(readable, str) and readable:
            blocks.append(types.TextContent(type="text", text=readable))
    blocks.append(types.TextContent(type="text", text=json.dumps(result, ensure_ascii=False)))
    return blocks


def _refused(errors: dict[str, list[str]]) -> types.CallToolResult:
    lines = [f"{name}: {' '.join(messages)}" for name, messages in errors.items()]
    return types.CallToolResult(
        content=[types.TextContent(type="text", text="\n".join(lines))],
        structured_content={"error": errors},
        is_error=True,
    )


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        title=spec.name.removeprefix("vierstaedte_tool_").replace("_", " "),
        description=spec.description,
        input_schema=spec.parameters,
        annotations=types.ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )


def build_server(portal: Portal, *, lang: str | None = None) -> Server:
    """The MCP server for ``portal``; ``lang`` is the language of calls that name none."""

    async def ask(action: str, arguments: dict[str, Any]) -> Answer:
        return await anyio.to_thread.run_sync(portal.call, action, arguments)

    async def tools(fresh: bool = False) -> dict[str, ToolSpec]:
        try:
            return await anyio.to_thread.run_sync(lambda: portal.tools(fresh=fresh))
        except PortalError as error:
            raise MCPError(types.INTERNAL_ERROR, str(error)) from None

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(spec) for spec in (await tools()).values()])

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        specs = await tools()
        if params.name not in specs:  # a tool the portal gained since the manifest was read?
            specs = await tools(fresh=True)
        spec = specs.get(params.name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        arguments = dict(params.arguments or {})
        if lang and "lang" not in arguments and "lang" in spec.parameters.get("properties", {}):
            arguments["lang"] = lang
        try:
            answer = await ask(spec.name, arguments)
        except PortalError as error:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(error))], is_error=True
            )
        if answer.errors is not None:
            return _refused(answer.errors)
        return types.CallToolResult(content=_text(answer.result), structured_content=answer.result)

    async def list_resources(ctx, params) -> types.ListResourcesResult:
        start = _offset(params.cursor if params else None)
        try:
            found = (
                await ask(
                    "package_search",
                    {"q": "*:*", "rows": PAGE, "start": start, "sort": "name asc"},
                )
            ).result
        except PortalError as error:
            raise MCPError(types.INTERNAL_ERROR, str(error)) from None
        if not isinstance(found, dict) or not isinstance(found.get("results"), list):
            raise MCPError(types.INTERNAL_ERROR, "the portal's catalogue answer has no results")
        resources = [] if start else [_indicators_resource()]
        resources += [_dataset_resource(d) for d in found["results"] if isinstance(d, dict)]
        more = start + PAGE < int(found.get("count") or 0)
        return types.ListResourcesResult(
            resources=resources, next_cursor=str(start + PAGE) if more else None
        )

    async def list_templates(ctx, params) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=DATASETS_URI + "{name}",
                    name="dataset",
                    title="Datensatz / dataset",
                    description=(
                        "Ein Datensatz: Felder, Einheiten, Zeiträume, Gebiete, Aufgliederungen "
                        "mit Anzahlen, Zitierangabe (?lang=en für Englisch). / A dataset: "
                        "fields, units, periods, areas, breakdowns with counts, citation."
                    ),
                    mime_type="application/json",
                )
            ]
        )

    async def read_resource(
        ctx, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        parts = urlsplit(uri)
        asked = parse_qs(parts.query).get("lang", [lang])[-1]
        arguments: dict[str, Any] = {"lang": asked} if asked else {}
        if parts.scheme == "vierstaedte" and parts.netloc == "indicators" and not parts.path:
            action = INDICATORS
        elif parts.scheme == "vierstaedte" and parts.netloc == "datasets" and parts.path[1:]:
            action, arguments["id"] = DESCRIBE, unquote(parts.path[1:])
        else:
            raise MCPError(RESOURCE_NOT_FOUND, f"Unknown resource: {uri}")
        try:
            answer = await ask(action, arguments)
        except PortalError as error:
            raise MCPError(types.INTERNAL_ERROR, str(error)) from None
        if answer.errors is not None:
            raise MCPError(types.INVALID_PARAMS, _refused(answer.errors).content[0].text)
        result = answer.result
        if isinstance(result, dict) and result.get("available") is False:
            raise MCPError(RESOURCE_NOT_FOUND, f"{uri}: {result.get('message')}", data=result)
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri,
                    mime_type="application/json",
                    text=json.dumps(result, ensure_ascii=False),
                )
            ]
        )

    return Server(
        "vierstaedte",
        version=_version(),
        title="Vier Städte Open Data",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise MCPError(types.INVALID_PARAMS, f"Invalid cursor: {cursor!r}")
    return int(cursor)


def _indicators_resource() -> types.Resource:
    return types.Resource(
        uri=INDICATORS_URI,
        name="indicators",
        title="Indikatoren / indicators",
        description=(
            "Die Indikatoren mit Daten, mit Städten, Zeiträumen und Einheiten (?lang=en). / "
            "The indicators that have data, with cities, periods and units."
        ),
        mime_type="application/json",
    )


def _dataset_resource(dataset: dict[str, Any]) -> types.Resource:
    name = str(dataset.get("name"))
    organization = dataset.get("organization") or {}
    city = organization.get("title") if isinstance(organization, dict) else None
    return types.Resource(
        uri=DATASETS_URI + quote(name, safe=""),
        name=name,
        title=str(dataset.get("title") or name),
        description=f"{city}: {dataset.get('title') or name}" if city else None,
        mime_type="application/json",
    )
