"""Uploaded files never become pages of the portal: data formats only, served as downloads.

Over HTTP against the live CKAN, as a city's editor (``resource_create``, what the web form calls)
and as its harvester (``package_revise`` with files, what ``vierstaedte-harvest`` sends): HTML, SVG
and script are refused — by name, by declared type and by content; a real table is accepted,
stored with the media type we verified and served as an attachment with ``nosniff``, whatever the
download URL's file name says; the harvester publishes a source's file under a name of its own.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
import requests
from ckan.tests import factories
from ckan.tests.helpers import call_action

from vierstaedte_contract.dataset import RAW, resource_with_role

CSV = b"Stadtteil;Jahr;Einwohner\nAltstadt;2023;5214\n"
HTML = (
    b"<!DOCTYPE html><html><body><script>fetch('/api/3/action/api_token_create')</script>"
    b"</body></html>"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
XHTML = (
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'
    b"<script>alert(1)</script></html>"
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# name, content, the media type the client declares
REFUSED = {
    "html-file": ("seite.html", HTML, "text/html"),
    "svg-file": ("bild.svg", SVG, "image/svg+xml"),
    "javascript-file": ("skript.js", b"fetch('/api/3/action/api_token_create')", "text/javascript"),
    "csv-declared-as-html": ("daten.csv", CSV, "text/html"),
    "csv-holding-html": ("daten.csv", HTML, "text/csv"),
    "xhtml-as-xml": ("daten.xml", XHTML, "application/xml"),
}


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["Stadtteil", "Jahr", "Einwohner"])
    book.active.append(["Altstadt", 2023, 5214])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def city(platform):
    """Mainz's editor and harvester tokens, and an empty Mainz dataset to upload into."""
    admin = {"ignore_auth": True, "user": factories.Sysadmin()["name"]}
    editor = factories.User()
    call_action(
        "organization_member_create",
        context=dict(admin),
        id="mainz",
        username=editor["name"],
        role="editor",
    )
    dataset = call_action(
        "package_create",
        context=dict(admin),
        name="mainz-upload-ziel",
        title="Upload-Ziel",
        notes="Ziel der Upload-Prüfung.",
        owner_org="mainz",
        theme=["SOCI"],
        spatial_granularity="stadt",
    )
    return {
        "editor": factories.APIToken(user=editor["name"])["token"],
        "harvester": platform["tokens"]["mainz"].read_text().strip(),
        "dataset": dataset["id"],
    }


def upload(
    platform, city, actor: str, name: str, body: bytes, declared: str, **fields
) -> requests.Response:
    """Upload as the editor's web form does (resource_create) or the harvester (package_revise)."""
    headers = {"Authorization": city[actor]}
    if actor == "editor":
        return requests.post(
            platform["url"] + "/api/3/action/resource_create",
            headers=headers,
            data={"package_id": city["dataset"], "name": name, **fields},
            files={"upload": (name, body, declared)},
            timeout=30,
        )
    return requests.post(
        platform["url"] + "/api/3/action/package_revise",
        headers=headers,
        data={
            "match__id": city["dataset"],
            "update__resources__extend": json.dumps([{"name": name, **fields}]),
        },
        files={"update__resources__-1__upload": (name, body, declared)},
        timeout=30,
    )


def resources(platform, city) -> list[dict]:
    return requests.get(
        platform["url"] + "/api/3/action/package_show",
        timeout=30,
        params={"id": city["dataset"]},
        headers={"Authorization": city["harvester"]},
    ).json()["result"]["resources"]


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("actor", ["editor", "harvester"])
@pytest.mark.parametrize("case", REFUSED)
def test_scriptable_uploads_are_refused(platform, city, actor, case):
    name, body, declared = REFUSED[case]
    answer = upload(platform, city, actor, name, body, declared)
    assert answer.status_code == 409, answer.text[:500]
    error = answer.json()["error"]
    assert error["__type"] == "Validation Error" and error.get("upload"), error
    assert resources(platform, city) == []


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("actor", ["editor", "harvester"])
@pytest.mark.parametrize(
    "name, body, media_type",
    [("einwohner.csv", CSV, "text/csv"), ("einwohner.xlsx", xlsx(), XLSX_TYPE)],
    ids=["csv", "xlsx"],
)
def test_tables_are_accepted_and_served_as_downloads(platform, city, actor, name, body, media_type):
    # the client's claims (a browser's guess, a harvester's header, the mimetype field) are not kept
    answer = upload(
        platform, city, actor, name, body, "application/octet-stream", mimetype="text/html"
    )
    assert answer.status_code == 200, answer.text[:500]
    [resource] = resources(platform, city)
    assert resource["mimetype"] == media_type and resource["url"].endswith("/" + name)
    # the file name in a download URL is the requester's choice: no claim either
    for url in (resource["url"], resource["url"].rsplit("/", 1)[0] + "/seite.html"):
        served = requests.get(url, timeout=30)
        assert served.status_code == 200 and served.content == body, url
        assert served.headers["Content-Type"].split(";")[0] == media_type, url
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Content-Disposition"].startswith("attachment"), url
        assert name in served.headers["Content-Disposition"], url
        assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.usefixtures("with_plugins")
def test_a_stored_upload_keeps_its_verified_media_type(platform, city):
    assert upload(platform, city, "editor", "einwohner.csv", CSV, "text/csv").status_code == 200
    [resource] = resources(platform, city)
    answer = requests.post(
        platform["url"] + "/api/3/action/resource_patch",
        timeout=30,
        headers={"Authorization": city["editor"]},
        json={"id": resource["id"], "mimetype": "text/html", "description": "neu"},
    )
    assert answer.status_code == 200, answer.text[:500]
    [resource] = resources(platform, city)
    assert resource["mimetype"] == "text/csv" and resource["description"] == "neu"
    served = requests.get(resource["url"], timeout=30)
    assert served.headers["Content-Type"].split(";")[0] == "text/csv"
    assert served.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.usefixtures("with_plugins")
def test_the_harvester_publishes_a_source_file_under_its_own_name(harvest, replay, platform):
    """A table saved as ``x.html``, a script in its title: published as ``<slug>-original.csv``."""
    table = (replay.root / "files/koblenz/einwohner-stadtteile.csv").read_bytes()
    title, rest = table.split(b"\n", 1)
    (replay.root / "files/koblenz/x.html").write_bytes(
        title + b" <script>alert(document.cookie)</script>\n" + rest
    )
    manifest = replay.root / "files/koblenz-manifest.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("einwohner-stadtteile.csv", "x.html"),
        encoding="utf-8",
    )
    done = harvest("koblenz")
    assert done.returncode == 0, done.stdout + done.stderr
    found = requests.get(
        platform["url"] + "/api/3/action/package_search",
        timeout=30,
        params={"fq": "organization:koblenz"},
    ).json()["result"]["results"]
    [dataset] = [d for d in found if resource_with_role(d, RAW)]
    raw = resource_with_role(dataset, RAW)
    assert raw["url"].endswith(f"/download/{dataset['name']}-original.csv"), raw["url"]
    assert (raw["format"], raw["mimetype"]) == ("CSV", "text/csv")
    uploaded = [r["url"] for r in dataset["resources"] if r.get("url_type") == "upload"]
    assert not [url for url in uploaded if ".html" in url], uploaded
    served = requests.get(raw["url"], timeout=30)
    assert b"<script>" in served.content
    assert served.headers["Content-Type"].split(";")[0] == "text/csv"
    assert served.headers["Content-Disposition"].startswith("attachment")
