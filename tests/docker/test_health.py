"""docker/check.py against real processes: the image's gunicorn command and a `ckan jobs worker`.

Both run on the suite's test.ini, on loopback, and are stopped by the test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import rq

from .tools import DOCKER, VENV_BIN, clean_env, free_port

CHECK = DOCKER / "check.py"


def check(*args: str, ini: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECK), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(CKAN_INI=ini),
    )


def until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_web_check_passes_once_the_images_gunicorn_command_serves_ckan(ckan_test_config, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/3/action/status_show"
    ini = ckan_test_config["ini"]
    assert check("web", url, ini=ini).returncode == 1  # nothing listens yet

    log = (tmp_path / "gunicorn.log").open("w")
    # the image's CMD, bound to loopback with one worker for the test
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--config",
            str(DOCKER / "gunicorn.conf.py"),
            "ckanext.vierstaedte.wsgi:application",
        ],
        env=clean_env(CKAN_INI=ini, GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port} --workers 1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        healthy = until(lambda: check("web", url, ini=ini).returncode == 0, 90)
        assert healthy, Path(log.name).read_text()[-3000:]
    finally:
        stop(server)
        log.close()


def idle_worker(redis_url: str, pid: int) -> bool:
    """Whether the worker of `pid` waits for jobs.

    rq registers a worker before it installs its SIGTERM handler; a SIGTERM in between kills it
    without unregistering it. It is idle only once the handler is in place.
    """
    connection = redis.Redis.from_url(redis_url, socket_timeout=5)
    return any(w.pid == pid and w.state == "idle" for w in rq.Worker.all(connection=connection))


def test_worker_check_sees_this_hosts_rq_worker(ckan_test_config, tmp_path):
    ini = ckan_test_config["ini"]
    log = (tmp_path / "worker.log").open("w")
    # a queue of its own: jobs that other tests left on the default queue would keep it busy
    worker = subprocess.Popen(
        [str(VENV_BIN / "ckan"), "-c", ini, "jobs", "worker", "health-check-test"],
        env=clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        registered = until(lambda: check("worker", ini=ini).returncode == 0, 90)
        assert registered, Path(log.name).read_text()[-3000:]
        assert until(lambda: idle_worker(ckan_test_config["ckan.redis.url"], worker.pid), 30)
    finally:
        stop(worker)
        log.close()
    # a worker that stopped cleanly has left the registry
    assert until(lambda: check("worker", ini=ini).returncode == 1, 30)


def test_unknown_command_prints_usage(ckan_test_config):
    result = check("bogus", ini=ckan_test_config["ini"])
    assert result.returncode == 2
    assert "check.py wait" in result.stderr


@pytest.mark.parametrize("command", ["wait", "worker"])
def test_checks_need_a_readable_ckan_ini(command, tmp_path):
    result = check(command, ini=str(tmp_path / "missing.ini"))
    assert result.returncode == 1
    assert "cannot read CKAN_INI" in result.stderr
