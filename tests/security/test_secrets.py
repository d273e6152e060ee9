"""Secrets stay secret: not in the repository, not in what a harvest run writes or records.

The repository is scanned twice: for anything shaped like a credential
(private keys, JWT API tokens, cloud keys, literal passwords), and for the
actual secret values of this installation (database passwords, CKAN's
signing keys, API tokens). A harvest run — successful, failing, verbose,
with a refused token — must not put an API token into its output, its log
lines, its state and report files, CKAN's run records or CKAN's own log.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ckan.tests.helpers import call_action

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
SHAPES = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JWT (CKAN API token)": re.compile(
        r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    ),
    "AWS access key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "GitHub token": re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"),
    "Slack token": re.compile(r"xox[baprs]-[A-Za-z0-9-]{10,}"),
    "literal password": re.compile(
        r"(?i)(password|passwd|secret|api_?key|token)[\"']?\s*[:=]\s*[\"'][^\"'\s{}$<>]{8,}[\"']"
    ),
    "password in a URL": re.compile(r"[a-z]+://[^/\s:@]+:[^/\s:@{}$<>*]{6,}@"),
}


def tracked_files() -> dict[str, str]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    files = {}
    for name in filter(None, names):
        path = ROOT / name.decode()
        if path.is_file() and path.stat().st_size < 5_000_000:
            files[name.decode()] = path.read_bytes().decode("utf-8", errors="replace")
    return files


def installation_secrets(ckan_ini: Path) -> dict[str, str]:
    """This installation's secret values: files in .stack/secrets, signing keys and passwords in the
    CKAN configs."""
    secrets = {
        f"secrets/{p.name}": p.read_text().strip()
        for p in (STACK_DIR / "secrets").glob("*")
        if p.is_file()
    }
    for ini in {ckan_ini, STACK_DIR / "ckan.ini"}:
        if not ini.exists():
            continue
        parser = configparser.RawConfigParser(strict=False)
        parser.read(ini)
        for key, value in parser.items("app:main"):
            if re.search(r"secret|password", key) and value.strip() and "%(" not in value:
                secrets[f"{ini.name}: {key}"] = value.strip()
            if "://" in value and urlsplit(value).password:
                secrets[f"{ini.name}: password in {key}"] = urlsplit(value).password
    return {k: v for k, v in secrets.items() if len(v) >= 8}


def test_repository_holds_no_credentials(request):
    files = tracked_files()
    assert len(files) > 100 and "setup.py" in files  # the scan sees the repository
    found = [
        f"{name}: {kind}"
        for name, text in files.items()
        for kind, shape in SHAPES.items()
        if shape.search(text)
    ]
    assert found == []
    secrets = installation_secrets(Path(request.config.getoption("--ckan-ini")))
    assert any(k.startswith("secrets/pg-password") for k in secrets) and any(
        "secret_key" in k for k in secrets
    )
    leaked = [
        f"{name}: {what}"
        for name, text in files.items()
        for what, value in secrets.items()
        if value in text
    ]
    assert leaked == []


def test_the_shapes_find_what_they_look_for():
    """The scan must be able to fail: each shape recognises a (made-up) example of its kind."""
    # written in pieces, so that this file itself holds no credential-shaped text for the repository scan
    examples = {
        "private key": "-----BEGIN OPENSSH " + "PRIVATE KEY-----",
        "JWT (CKAN API token)": "eyJhbGciOiJIUzI1NiJ9"
        + ".eyJqdGkiOiJhYmNkZWZnaGlqIn0"
        + ".c2lnbmF0dXJlc2lnbmF0dXJl",
        "AWS access key": "AKIA" + "ABCDEFGHIJKLMNOP",
        "GitHub token": "ghp" + "_" + "a" * 36,
        "Slack token": "xoxb" + "-1234567890-abcdef",
        "literal password": "pass" + "word" + ' = "Tr0ub4dor&3x"',
        "password in a URL": "postgresql://ckan_default" + ":hunter2hunter2@db/ckan",
    }
    assert {
        kind: bool(SHAPES[kind].search(text)) for kind, text in examples.items()
    } == dict.fromkeys(examples, True)
    assert not SHAPES["password in a URL"].search("postgresql://ckan_default:${PASSWORD}@db/ckan")


@pytest.mark.usefixtures("with_plugins")
def test_harvest_outputs_hold_no_token(harvest, platform, replay, request):
    tokens = {
        f"{city} harvester": path.read_text().strip() for city, path in platform["tokens"].items()
    }
    tokens["sysadmin"] = platform["admin_token"]
    outputs = [harvest("mainz", "-v")]  # debug logging: every log line there is
    replay.faults["/files/koblenz/einwohner-stadtteile.csv"] = {"status": 500, "times": 5}
    outputs.append(harvest("koblenz", "-v"))  # a failing run, with error messages
    outputs.append(harvest("trier", token=platform["tokens"]["ludwigshafen"]))  # a token refused
    outputs.append(harvest("trier", token=platform["admin_token_file"]))  # a sysadmin token refused
    assert [p.returncode for p in outputs] == [0, 1, 1, 1], [p.stdout + p.stderr for p in outputs]

    texts = {f"run {n}: stdout/stderr": p.stdout + p.stderr for n, p in enumerate(outputs)}
    files = [p for p in harvest.state.rglob("*") if p.is_file()]
    assert any(p.name == "latest.json" for p in files) and any(
        p.name == "mainz.json" for p in files
    )
    texts.update(
        {f"state: {p.relative_to(harvest.state)}": p.read_text(encoding="utf-8") for p in files}
    )
    for city in ("mainz", "koblenz", "trier"):
        for run in call_action(
            "vierstaedte_harvest_run_list", organization=city, include_report=True
        )["results"]:
            texts[f"CKAN run record {city} {run['id']}"] = json.dumps(run)
    assert (
        sum(k.startswith("CKAN run record") for k in texts) == 2
    )  # the refused tokens recorded nothing
    server_log = (
        Path(request.config.getoption("--ckan-ini")).parent / "log" / "ckan-test-server.log"
    )
    texts["CKAN's log"] = server_log.read_text(encoding="utf-8", errors="replace")
    assert texts["CKAN's log"].strip()  # CKAN logs there

    leaks = [
        f"{where}: {whose} token"
        for where, text in texts.items()
        for whose, token in tokens.items()
        if token in text
    ]
    assert leaks == []
