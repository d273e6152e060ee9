"""docker/docker-compose.cluster.yml: the cluster option is valid and wired as scripts/cluster runs it.

No Docker engine runs here, so the override is checked as docker compose resolves it (with
docker-compose.yml and .env.example), and its scripts run where they can: the SolrCloud
configset step of docker/solr/cloud-init.sh on the configsets scripts/solr/configset.py writes,
and docker/solr/20-configset.sh as a cloud node's run-initdb sources it. The same topology runs
for real in tests/cluster (SolrCloud, two CKAN nodes behind nginx, the image).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .tools import DOCKER, ROOT, clean_env, compose_command, run_compose

OVERRIDE = DOCKER / "docker-compose.cluster.yml"
CLOUD_INIT = DOCKER / "solr" / "cloud-init.sh"
PROFILES = "bundled-db,harvester"  # docs/deploy.md: not bundled-solr beside SolrCloud
SOLR_NODES = {"solr1", "solr2"}
CLOUD_SERVICES = {"zookeeper", "solr-cloud-init", "solr-lb"} | SOLR_NODES
OUR_CKAN = {"ckan-init", "ckan", "ckan-worker"}


def run_cluster_compose(*args: str, **env: str) -> subprocess.CompletedProcess:
    command = compose_command() + [
        "--project-directory",
        str(DOCKER),
        "-f",
        str(DOCKER / "docker-compose.yml"),
        "-f",
        str(OVERRIDE),
        "--env-file",
        str(DOCKER / ".env.example"),
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=clean_env(**env), timeout=120
    )


@pytest.fixture(scope="module")
def cluster_model() -> dict:
    result = run_cluster_compose("config", "--format", "json", COMPOSE_PROFILES=PROFILES)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_override_adds_solrcloud_and_drops_nothing_else(cluster_model):
    single = run_compose("config", "--services", COMPOSE_PROFILES=PROFILES)
    assert single.returncode == 0, single.stderr
    assert set(cluster_model["services"]) == set(single.stdout.split()) | CLOUD_SERVICES
    assert "solr" not in cluster_model["services"]  # the single core's profile is off


def test_ckan_reads_the_collection_url_through_the_solr_load_balancer(cluster_model):
    services = cluster_model["services"]
    for name in OUR_CKAN:
        assert services[name]["environment"]["CKAN_SOLR_URL"] == "http://solr-lb:8983/solr/ckan"
    conf = (DOCKER / "nginx" / "solr-lb.conf").read_text()
    upstream = re.search(r"upstream solr \{(.*?)\}", conf, re.S).group(1)
    assert set(re.findall(r"server (\w+):8983", upstream)) == SOLR_NODES
    assert "proxy_next_upstream error timeout http_502 http_503;" in conf
    volumes = {v["target"]: v for v in services["solr-lb"]["volumes"]}
    assert Path(volumes["/etc/nginx/conf.d/default.conf"]["source"]) == DOCKER / "nginx" / (
        "solr-lb.conf"
    )


def test_two_web_replicas_behind_nginx(cluster_model):
    services = cluster_model["services"]
    assert services["ckan"]["deploy"]["replicas"] == 2
    assert "container_name" not in services["ckan"]
    assert "server ckan:5000 resolve;" in (DOCKER / "nginx" / "upstream.conf").read_text()


def test_start_order_zookeeper_nodes_collections_then_ckan(cluster_model):
    services = cluster_model["services"]
    for node in SOLR_NODES:
        service = services[node]
        assert service["depends_on"]["zookeeper"]["condition"] == "service_healthy"
        assert service["environment"]["ZK_HOST"] == "zookeeper:2181"
        assert service["environment"]["SOLR_HOST"] == node == service["hostname"]
        assert service["command"] == ["solr-foreground"]
    init = services["solr-cloud-init"]
    assert init["restart"] == "no"
    assert {n: d["condition"] for n, d in init["depends_on"].items()} == {
        n: "service_healthy" for n in SOLR_NODES
    }
    assert set(init["environment"]["VIERSTAEDTE_SOLR_NODES"].split()) == {
        f"{n}:8983" for n in SOLR_NODES
    }
    assert (
        init["environment"]["VIERSTAEDTE_SOLR_SHARDS"],
        init["environment"]["VIERSTAEDTE_SOLR_REPLICAS"],
    ) == ("2", "2")
    ckan_init = services["ckan-init"]["depends_on"]["solr-cloud-init"]
    assert ckan_init["condition"] == "service_completed_successfully"


def test_nodes_put_security_json_into_zookeeper_before_they_start(cluster_model):
    for node in SOLR_NODES:
        service = cluster_model["services"][node]
        volumes = {
            v["target"]: Path(v["source"]) for v in service["volumes"] if v["type"] == "bind"
        }
        assert volumes["/docker-entrypoint-initdb.d/10-cloud-security.sh"] == (
            DOCKER / "solr" / "cloud-security.sh"
        )
        assert volumes["/opt/vierstaedte/security-json.sh"] == (
            ROOT / "scripts" / "solr" / "security-json.sh"
        )
        assert {s["source"] for s in service["secrets"]} == {"solr_password", "solr_admin_password"}
        assert service["volumes"][0]["target"] == "/var/solr"  # each node its own volume
    sources = {cluster_model["services"][n]["volumes"][0]["source"] for n in SOLR_NODES}
    assert len(sources) == 2


def test_deployment_rules_hold_for_the_new_services(cluster_model):
    for name in CLOUD_SERVICES:
        service = cluster_model["services"][name]
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), name
        assert not service.get("ports"), f"{name} publishes a port"
        if service.get("restart") != "no":
            check = service.get("healthcheck", {})
            assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert value.startswith("/run/secrets/"), f"{name}.{key}"
    published = {n for n, s in cluster_model["services"].items() if s.get("ports")}
    assert published == {"nginx"}


def test_cloud_init_passes_the_admin_password_in_a_file_only():
    script = CLOUD_INIT.read_text()
    assert "WGETRC=" in script and "umask 077" in script
    assert not re.search(r"--(http-)?password|-u admin:|basicauth=", script)


@pytest.fixture(scope="module")
def configsets(tmp_path_factory) -> Path:
    """The configsets the Solr image carries (docker/solr/Dockerfile runs the same generator)."""
    root = tmp_path_factory.mktemp("configsets")
    generator = ROOT / "scripts" / "solr" / "configset.py"
    for name, extra in (("ckan", []), ("council", ["--council"])):
        result = subprocess.run(
            [sys.executable, str(generator), *extra, str(root / name / "conf")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
    return root


@pytest.mark.parametrize("name", ["ckan", "council"])
def test_cloud_init_makes_version_a_long_in_each_configset(configsets, tmp_path, name):
    # the script's configset step alone (the rest needs ZooKeeper and the Solr CLI)
    text = CLOUD_INIT.read_text()
    step = text[text.index("VERSION_STRING=") : text.index("\nlive=0")]
    result = subprocess.run(
        ["bash", "-c", f'set -euo pipefail; log() {{ echo "$*" >&2; }}\n{step}\ncloud_conf "$1" "$2"',
         "cloud-init", name, str(tmp_path / "conf")],
        capture_output=True,
        text=True,
        env=clean_env(CONFIGSETS=str(configsets)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    schema = (tmp_path / "conf" / "schema.xml").read_text()
    (version,) = re.findall(r'<field name="_version_"[^>]*/>', schema)
    assert 'type="plong"' in version, version
    original = (configsets / name / "conf" / "schema.xml").read_text()
    assert schema.replace(version, "") == re.sub(r'<field name="_version_"[^>]*/>', "", original)


def test_a_cloud_node_leaves_its_data_volume_to_zookeeper(tmp_path):
    # 20-configset.sh would make a standalone council core in a cloud node's volume
    configset = tmp_path / "configsets" / "council" / "conf"
    configset.mkdir(parents=True)
    (configset / "schema.xml").write_text("<schema name='council'/>")
    home = tmp_path / "data"
    result = subprocess.run(
        ["bash", "-c", f'set -e; . "{DOCKER / "solr" / "20-configset.sh"}"; echo sourced'],
        capture_output=True,
        text=True,
        env=clean_env(
            SOLR_HOME=str(home), VIERSTAEDTE_COUNCIL_CONFIGSET=str(configset), ZK_HOST="zk:2181"
        ),
    )
    assert (result.returncode, result.stdout) == (0, "sourced\n"), result.stderr
    assert not (home / "council").exists()
