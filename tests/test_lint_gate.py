"""The lint gate of scripts/test: a ruff finding stops the suite, as CI runs it, with its name.

The gate runs in a copy of the scripts with one bad module as the whole checkout, sharing this
run's virtualenv and stack, so it proves the real script and the real pyproject settings. The
copy holds no more than the steps before the gate need: a run that went past it would fail at
the next step (or wait for this run's lock), never reach the test databases.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_finding_fails_the_full_run_before_any_service_starts(tmp_path):
    for name in (
        "scripts/test",
        "scripts/lib.sh",
        "scripts/solr/pom.xml",
        "setup.py",
        "pyproject.toml",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "bad.py").write_text("import sys\nimport os\n\nprint(os.sep)\n")
    env = {
        **os.environ,
        "VIERSTAEDTE_VENV": sys.prefix,
        "VIERSTAEDTE_STACK_DIR": os.environ.get("VIERSTAEDTE_STACK_DIR", str(ROOT / ".stack")),
    }

    run = subprocess.Popen(
        [str(tmp_path / "scripts/test")],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = run.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate()
        raise AssertionError("scripts/test went past a lint finding to the test lock") from None

    assert run.returncode == 1, (out, err)
    assert "bad.py:1:8: F401 [*] `sys` imported but unused" in err
    assert "bad.py:1:1: I001" in err
    assert "ERROR: lint gate: `.venv/bin/ruff check" in err
    assert "Recreating the test databases" not in err
