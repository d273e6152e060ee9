"""The Model Context Protocol server of the portal: the AI tools for MCP clients.

A thin bridge, so that the tools have one implementation: the tool list is the portal's manifest
(``/api/vierstaedte/tools.json``) and every call is forwarded to the portal's action
(``POST /api/3/action/<name>``), anonymously, so the server sees what any visitor sees and
never more. It imports neither wing (no ``ckan``, no ``vierstaedte_harvest``): it runs on a
desktop beside an assistant as well as next to the portal. Modules, in import order:
``portal`` (the bounded HTTP client and the manifest), ``server`` (tools and resources on the
SDK's low-level server), ``cli`` (the command ``vierstaedte-mcp``: stdio or streamable HTTP).
"""
