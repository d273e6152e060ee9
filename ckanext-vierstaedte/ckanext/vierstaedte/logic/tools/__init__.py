"""The tools for AI assistants: one implementation behind the JSON tool API and the MCP server.

Seven CKAN actions (``vierstaedte_tool_*``) whose parameters are JSON Schema (``schemas``),
published with German and English descriptions at ``/api/vierstaedte/tools.json``; the MCP
server lists its tools from that manifest and forwards each call to the action. Modules, in
import order: ``schemas`` (parameters, validation, manifest), ``words`` (sentences and numbers
in ``lang``), ``citations`` (what every result cites), ``data`` (bounded reads of public
tables), ``answers`` (value results and honest refusals), ``council`` (the council search tool),
``actions`` (the statistics tools, and the registry ``logic/action.py`` reads). The package
itself exports the manifest only, so that no module of it imports the package while the
package imports it.
"""

from __future__ import annotations

from ckanext.vierstaedte.logic.tools.schemas import tool_manifest, tool_schemas

__all__ = ["tool_manifest", "tool_schemas"]
