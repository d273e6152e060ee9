"""The portal as an anonymous client sees it: the tool manifest and the tool actions.

Only two kinds of request leave this module, a GET of the manifest and a POST of an action,
and neither carries credentials (no ``Authorization``, no cookies): whatever token a desktop
has, the server sees only public data. Every request is bounded (a timeout, a size limit on
the answer), and a manifest that is not what the portal publishes is refused with a message
that says what is wrong, never half-used.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

MANIFEST_PATH = "/api/vierstaedte/tools.json"
ACTION_PATH = "/api/3/action/"
# a tool name becomes a URL path segment: CKAN's action names, nothing else
NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
USER_AGENT = "vierstaedte-mcp"


class PortalError(Exception):
    """The portal could not be asked or did not answer as it should; ``str()`` says why."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool of the manifest: the action's name, its descriptions and its JSON Schema."""

    name: str
    description: str
    parameters: dict[str, Any]
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """An action's answer: its ``result``, or the portal's validation errors per parameter."""

    result: Any = None
    errors: dict[str, list[str]] | None = None


def parse_manifest(data: Any) -> dict[str, ToolSpec]:
    """The tools of a manifest by name; raises ``PortalError`` naming the first defect."""
    tools = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(tools, list):
        raise PortalError("the tool manifest has no list 'tools'")
    specs: dict[str, ToolSpec] = {}
    for number, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        where = f"tools[{number}].function"
        if not isinstance(function, dict):
            raise PortalError(f"the tool manifest's {where} is not an object")
        name = function.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise PortalError(f"the tool manifest's {where}.name is not an action name: {name!r}")
        if name in specs:
            raise PortalError(f"the tool manifest lists {name} twice")
        description = function.get("description")
        if not isinstance(description, str):
            raise PortalError(f"the tool manifest's {name} has no description")
        parameters = function.get("parameters")
        if not isinstance(parameters, dict) or parameters.get("type") != "object":
            raise PortalError(f"the tool manifest's {name} has no parameters of type object")
        descriptions = function.get("descriptions")
        specs[name] = ToolSpec(
            name,
            description,
            parameters,
            {k: v for k, v in descriptions.items() if isinstance(v, str)}
            if isinstance(descriptions, dict)
            else {},
        )
    return specs


class Portal:
    """An anonymous, bounded client of one portal; the manifest is cached for ``ttl`` seconds.

    The cache keeps a listing and the calls after it from fetching the manifest each time; it
    expires so that a tool the portal gains appears without a restart.
    """

    def __init__(
        self, url: str, *, timeout: float = 30.0, max_bytes: int = 8 << 20, ttl: float = 60.0
    ):
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"the portal URL must be http(s)://host[:port]: {url!r}")
        self.url = url.rstrip("/")
        self.timeout, self.max_bytes, self.ttl = timeout, max_bytes, ttl
        self._manifest: tuple[float, dict[str, ToolSpec]] | None = None
        self._lock = threading.Lock()

    def tools(self, *, fresh: bool = False) -> dict[str, ToolSpec]:
        """The manifest's tools by name."""
        with self._lock:
            cached = self._manifest
            if not fresh and cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
        where = self.url + MANIFEST_PATH
        status, body = self._request(urllib.request.Request(where))
        if status != 200:
            raise PortalError(f"the portal answered HTTP {status} for its tool manifest {where}")
        try:
            specs = parse_manifest(json.loads(body))
        except ValueError as error:  # JSONDecodeError
            raise PortalError(f"the tool manifest at {where} is not JSON: {error}") from None
        except PortalError as error:
            raise PortalError(f"{error} ({where})") from None
        with self._lock:
            self._manifest = (time.monotonic(), specs)
        return specs

    def call(self, action: str, arguments: dict[str, Any]) -> Answer:
        """``POST /api/3/action/<action>`` with ``arguments`` as JSON."""
        if not NAME.match(action):
            raise PortalError(f"not an action name: {action!r}")
        request = urllib.request.Request(
            self.url + ACTION_PATH + action,
            data=json.dumps(arguments).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        status, body = self._request(request)
        try:
            answer = json.loads(body)
        except ValueError:
            raise PortalError(
                f"the portal answered {action} with HTTP {status}, not JSON"
            ) from None
        if not isinstance(answer, dict):
            raise PortalError(f"the portal answered {action} with HTTP {status}, not an object")
        if status == 200 and answer.get("success") is True:
            return Answer(result=answer.get("result"))
        error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
        if status == 409 and error.get("__type") == "Validation Error":
            return Answer(errors={k: _texts(v) for k, v in error.items() if k != "__type"})
        message = error.get("message") or error.get("__type") or "no message"
        raise PortalError(f"the portal answered {action} with HTTP {status}: {message}")

    def _request(self, request: urllib.request.Request) -> tuple[int, bytes]:
        request.add_header("User-Agent", USER_AGENT)
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, self._read(response)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, self._read(error)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise PortalError(
                    f"the portal {self.url} did not answer within {self.timeout:g} s"
                ) from None
            raise PortalError(f"the portal {self.url} cannot be reached: {reason}") from None

    def _read(self, response: Any) -> bytes:
        body = response.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise PortalError(f"the portal's answer is larger than {self.max_bytes} bytes")
        return body


def _texts(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value]
    return [value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)]
