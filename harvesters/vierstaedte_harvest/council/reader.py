"""The walk through an OParl system: System → Body → the Body's external lists, page by page.

OParl 1.0 and 1.1 alike: a Body names its lists by URL (``organization``, ``person``,
``meeting``, ``paper``; 1.1 adds ``agendaItem``, ``consultation``, ``file``, ``membership``,
``locationList``, ``legislativeTermList``); a 1.0 Body embeds its legislative terms instead.
A list is read by following ``links.next`` until a page has none. What makes a list's reading
incomplete is recorded on its :class:`ListRead` (and its watermark is then not advanced): a
``next`` link seen before (a loop), one to a foreign host, more than ``council.max_pages`` pages
or ``council.max_objects`` objects (a list that never ends), a page that is not an OParl list
or not JSON, a request that failed after its retries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from vierstaedte_harvest.council.client import Client, CouncilError, since_query

# the Body's key of each external list → the list's name (the short type of its objects), in
# the order a run reads them: what others link to first
LISTS = (
    ("organization", "organization"),
    ("person", "person"),
    ("membership", "membership"),
    ("legislativeTermList", "legislativeTerm"),
    ("legislativeTerm", "legislativeTerm"),  # a URL in some 1.0 systems, else embedded
    ("locationList", "location"),
    ("meeting", "meeting"),
    ("agendaItem", "agendaItem"),
    ("paper", "paper"),
    ("consultation", "consultation"),
    ("file", "file"),
)


@dataclasses.dataclass
class ListRead:
    """How the reading of one list went; ``problems`` are report entries."""

    body: str
    name: str
    url: str
    since: str | None = None
    complete: bool = True
    pages: int = 0
    objects: int = 0
    repairs: set[str] = dataclasses.field(default_factory=set)
    problems: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def fail(self, code: str, message: str, url: str) -> None:
        self.complete = False
        self.problems.append(
            {"code": code, "message": message, "url": url, "body": self.body, "list": self.name}
        )


def lists_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(list name, URL) of every external list the Body names, each name once."""
    found: dict[str, str] = {}
    for key, name in LISTS:
        url = body.get(key)
        if isinstance(url, str) and url and name not in found:
            found[name] = url
    return list(found.items())


class Reader:
    def __init__(self, client: Client, max_pages: int, max_objects: int):
        self.client, self.max_pages, self.max_objects = client, max_pages, max_objects

    def document(self, url: str) -> tuple[dict[str, Any], list[str]]:
        """One OParl object (the System); CouncilError if it is none."""
        value, repairs = self.client.get(url)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise CouncilError("not-oparl", f"{url}: not an OParl object (no id)", url)
        return value, repairs

    def pages(self, read: ListRead) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list, each a list of its objects (dicts with an ``id``).

        With ``read.since`` the first request asks only for what changed since then; the server
        carries the filter into its ``next`` links. Ends early, marking ``read`` incomplete, on
        anything that makes the rest of the list unknowable.
        """
        url, query, seen = read.url, since_query(read.since) if read.since else "", set()
        while url:
            if url in seen:
                read.fail("next-loop", f"links.next returns to a page already read: {url}", url)
                return
            if read.pages >= self.max_pages:
                read.fail(
                    "list-capped",
                    f"more than {self.max_pages} pages (council.max_pages); the rest is not read",
                    url,
                )
                return
            seen.add(url)
            try:
                page, repairs = self.client.get(url, query)
            except CouncilError as error:
                read.fail(error.code, str(error), error.url)
                return
            read.repairs.update(repairs)
            items = page.get("data") if isinstance(page, dict) else None
            if not isinstance(items, list):
                read.fail("not-a-list", f"{url}: no OParl list (no data array)", url)
                return
            read.pages += 1
            objects = [o for o in items if isinstance(o, dict) and isinstance(o.get("id"), str)]
            if len(objects) < len(items):
                read.problems.append(
                    {
                        "code": "object-without-id",
                        "message": f"{url}: {len(items) - len(objects)} entries without an id",
                        "url": url,
                        "body": read.body,
                        "list": read.name,
                    }
                )
            room = self.max_objects - read.objects
            read.objects += min(len(objects), room)
            yield objects[:room]
            if len(objects) > room:
                read.fail(
                    "list-capped",
                    f"more than {self.max_objects} objects (council.max_objects)",
                    url,
                )
                return
            links = page.get("links") if isinstance(page.get("links"), dict) else {}
            url, query = links.get("next"), ""
            if url is not None and not isinstance(url, str):
                read.fail("not-a-list", f"links.next is no URL: {url!r}", read.url)
                return
            if url and not self.client.fetcher.allowed(url):
                read.fail(
                    "foreign-host", f"links.next leads to another host, not followed: {url}", url
                )
                return
