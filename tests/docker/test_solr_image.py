"""The compose stack's Solr image: the portal's German configset on ckan/ckan-solr.

docker/solr/Dockerfile generates the configset with scripts/solr/configset.py (as the local
stack does) and puts it in place of the base image's; docker/solr/20-configset.sh gives a core
an older image created the new configset. The script is run here as the image's run-initdb
sources it, on a data directory laid out like the image's.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .tools import DOCKER, ROOT, clean_env, find_tool

SCRIPT = DOCKER / "solr" / "20-configset.sh"


def test_solr_is_built_from_docker_solr_dockerfile(compose_model):
    solr = compose_model["services"]["solr"]
    assert Path(solr["build"]["context"]) == ROOT
    assert solr["build"]["dockerfile"] == "docker/solr/Dockerfile"
    assert re.fullmatch(r"vierstaedte/solr:[\w.-]+", solr["image"])


def test_hadolint_passes():
    result = subprocess.run(
        [
            find_tool("hadolint"),
            "--no-color",
            "--config",
            str(DOCKER / ".hadolint.yaml"),
            str(DOCKER / "solr" / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_reads_the_schema_of_the_ckan_setup_py_pins():
    pinned = re.search(r'"ckan\[requirements\]==([\d.]+)"', (ROOT / "setup.py").read_text())
    dockerfile = (DOCKER / "solr" / "Dockerfile").read_text()
    assert f"ARG CKAN_VERSION={pinned.group(1)}\n" in dockerfile
    assert "configset.py /configset/conf" in dockerfile
    ignore = (DOCKER / "solr" / "Dockerfile.dockerignore").read_text().splitlines()
    assert {"**", "!schemas/", "!scripts/solr/", "!docker/solr/20-configset.sh"} <= set(ignore)


@pytest.fixture
def solr_dirs(tmp_path) -> tuple[Path, Path]:
    configset = tmp_path / "configsets" / "ckan" / "conf"
    configset.mkdir(parents=True)
    (configset / "schema.xml").write_text("<schema name='new'/>")
    (configset / "compounds_de.txt").write_text("wahl\n")
    return configset, tmp_path / "data"


def source_script(configset: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", f'set -e; . "{SCRIPT}"; echo sourced'],
        capture_output=True,
        text=True,
        env=clean_env(SOLR_HOME=str(home), VIERSTAEDTE_CONFIGSET=str(configset)),
    )


def test_a_new_volume_is_left_to_solr_precreate(solr_dirs):
    configset, home = solr_dirs
    result = source_script(configset, home)
    assert (result.returncode, result.stdout) == (0, "sourced\n"), result.stderr
    assert not (home / "ckan").exists()


def test_an_older_core_gets_the_new_configset_and_is_marked_for_reindexing(solr_dirs):
    configset, home = solr_dirs
    old = home / "ckan" / "conf"
    old.mkdir(parents=True)
    (old / "managed-schema").write_text("<schema name='ckan-2.12'/>")
    (home / "ckan" / "data").mkdir()
    result = source_script(configset, home)
    assert (result.returncode, result.stdout) == (0, "sourced\n"), result.stderr
    assert sorted(p.name for p in old.iterdir()) == ["compounds_de.txt", "schema.xml"]
    assert (old / "schema.xml").read_text() == "<schema name='new'/>"
    assert (home / "ckan" / "reindex-needed").exists()
    assert (home / "ckan" / "data").is_dir()  # the index stays
    assert "search-index rebuild" in result.stderr

    (home / "ckan" / "reindex-needed").unlink()
    again = source_script(configset, home)
    assert (again.returncode, again.stderr) == (0, "")
    assert not (home / "ckan" / "reindex-needed").exists()


def test_the_council_core_is_created_once_and_then_updated_like_the_ckan_core(solr_dirs, tmp_path):
    configset, home = solr_dirs
    council = tmp_path / "configsets" / "council" / "conf"
    council.mkdir(parents=True)
    (council / "schema.xml").write_text("<schema name='vierstaedte-council'/>")

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", f'set -e; . "{SCRIPT}"; echo sourced'],
            capture_output=True,
            text=True,
            env=clean_env(
                SOLR_HOME=str(home),
                VIERSTAEDTE_CONFIGSET=str(configset),
                VIERSTAEDTE_COUNCIL_CONFIGSET=str(council),
            ),
        )

    first = run()
    assert (first.returncode, first.stdout, first.stderr) == (0, "sourced\n", "")
    assert (home / "council" / "core.properties").read_text() == "name=council\n"
    assert (home / "council" / "conf" / "schema.xml").read_text() == (
        "<schema name='vierstaedte-council'/>"
    )
    assert not (home / "ckan").exists() and not (home / "council" / "reindex-needed").exists()
    (council / "schema.xml").write_text("<schema name='vierstaedte-council-2'/>")
    second = run()
    assert second.returncode == 0 and "council reindex --all" in second.stderr
    assert "council-2" in (home / "council" / "conf" / "schema.xml").read_text()
    assert (home / "council" / "reindex-needed").exists()
