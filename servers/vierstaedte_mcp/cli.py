"""The command ``vierstaedte-mcp``: the MCP server over stdio (default) or streamable HTTP.

stdio is what a desktop assistant launches (its config names the command and the portal);
``--http`` serves ``/mcp`` for clients that connect over the network, started by
``scripts/stack up`` and in Docker behind nginx. Stateless and answering JSON (no session
to keep, no event stream to buffer), so it runs behind a proxy and in several replicas. The
server starts even when the portal is not up yet: every request asks the portal afresh and
an unreachable portal or a broken manifest is an error the client sees, with its reason.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import anyio

from vierstaedte_mcp.portal import Portal, PortalError
from vierstaedte_mcp.server import LANGS, build_server

DEFAULT_PORTAL = "http://127.0.0.1:5000"
MAX_REQUEST_BYTES = 1 << 20  # a tool call is a few hundred bytes; nginx holds the same line

log = logging.getLogger("vierstaedte_mcp")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vierstaedte-mcp",
        description="MCP server for the Vier Städte portal's AI tools (read-only, anonymous).",
    )
    p.add_argument(
        "--portal",
        default=os.environ.get("VIERSTAEDTE_PORTAL_URL", DEFAULT_PORTAL),
        help="the portal's URL (env VIERSTAEDTE_PORTAL_URL; default %(default)s)",
    )
    p.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="HTTP address (default %(default)s)")
    p.add_argument("--port", type=int, default=5003, help="HTTP port (default %(default)s)")
    p.add_argument(
        "--lang", choices=LANGS, help="the language of tool calls that name none (default: de)"
    )
    p.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the portal (default 30)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    # stdout is the stdio transport's wire: everything else goes to stderr
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        portal = Portal(options.portal, timeout=options.timeout)
    except ValueError as error:
        print(f"vierstaedte-mcp: {error}", file=sys.stderr)
        return 2
    try:  # a first look for the log; briefly, so that a client's initialize never waits long
        tools = Portal(portal.url, timeout=min(options.timeout, 5)).tools()
        log.info("portal %s: %d tools", portal.url, len(tools))
    except PortalError as error:
        log.warning("portal %s: %s (every request asks again)", portal.url, error)
    logging.getLogger("mcp").setLevel(logging.WARNING)  # a line per stateless request otherwise
    server = build_server(portal, lang=options.lang)
    if options.http:
        import uvicorn

        app = server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            host=options.host,
            max_request_body_size=MAX_REQUEST_BYTES,
        )
        uvicorn.run(app, host=options.host, port=options.port, log_level="info")
        return 0

    async def stdio() -> None:
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(stdio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
