"""The MCP server in docker/: its service, nginx's /mcp, the image, and its health check.

The health check runs against a real ``vierstaedte-mcp --http`` process on loopback.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

from .tools import DOCKER, VENV_BIN, clean_env, free_port


def test_the_service_runs_the_mcp_server_of_our_image_anonymously(compose_model):
    services = compose_model["services"]
    mcp = services["mcp"]
    assert mcp["image"] == services["ckan"]["image"]
    assert mcp["entrypoint"] == ["/srv/app/venv/bin/vierstaedte-mcp"]
    command = mcp["command"]
    assert command[:2] == ["--http", "--host"] and command[command.index("--port") + 1] == "5003"
    assert mcp["environment"]["VIERSTAEDTE_PORTAL_URL"] == "http://ckan:5000"
    # it calls the portal as any visitor: no secret, no token, no port of its own
    assert "secrets" not in mcp and "volumes" not in mcp and "ports" not in mcp
    assert mcp["healthcheck"]["test"][-1] == "mcp"
    assert "mcp" in services["nginx"]["depends_on"]


def test_nginx_serves_mcp_at_slash_mcp():
    proxy = (DOCKER / "nginx/ckan-proxy.conf").read_text()
    location = re.search(r"location = /mcp \{(.*?)\n\}", proxy, re.S)
    assert location, "no location = /mcp"
    assert "proxy_pass http://mcp;" in location.group(1)
    assert "client_max_body_size 1m;" in location.group(1)
    upstream = (DOCKER / "nginx/upstream.conf").read_text()
    assert re.search(r"upstream mcp \{[^}]*server mcp:5003 resolve;", upstream)
    for server in ("tls", "http"):  # both server variants include the proxy snippet
        assert "ckan-proxy.conf" in (DOCKER / f"nginx/{server}.conf.template").read_text()


def test_the_image_installs_the_mcp_server():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "COPY servers servers" in dockerfile and '".[ckan,mcp]"' in dockerfile
    assert "!servers/" in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()


def check(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DOCKER / "check.py"), "mcp", url],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )


def test_health_check_pings_the_running_server():
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    assert check(url).returncode == 1  # nothing listens yet
    # no portal behind it: a ping is answered by the server alone
    server = subprocess.Popen(
        [
            str(VENV_BIN / "vierstaedte-mcp"),
            "--http",
            "--port",
            str(port),
            "--portal",
            f"http://127.0.0.1:{free_port()}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        done = check(url)
        assert done.returncode == 0, done.stderr
    finally:
        server.terminate()
        server.wait(timeout=15)
