"""The background worker (``onestory worker``): housekeeping commands on a schedule, one
JSON log line per job, a failing job reported as an error."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONESTORY_", "DATABASE"))}
    env.update(
        ONESTORY_DATA_DIR=str(data_dir),
        ONESTORY_LOG_FORMAT="json",
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(REPO / "src"),
    )
    return env


def _worker(env: dict[str, str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = subprocess.run(
        [sys.executable, "-m", "onestory.cli", "worker", "--once", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return result.returncode, [ln for ln in lines if ln["logger"] == "onestory.worker"]


def test_one_round_runs_every_job_and_logs_each(initialised: Path) -> None:
    env = _env(initialised)
    code, lines = _worker(env)
    assert code == 0, lines
    assert [ln["level"] for ln in lines] == ["INFO", "INFO"]
    assert "clear expired sessions" in lines[0]["message"]
    assert "verify the audit trail" in lines[1]["message"]
    assert "ok events=" in lines[1]["message"]


def test_a_broken_audit_trail_is_logged_as_an_error(initialised: Path) -> None:
    env = _env(initialised)
    init = subprocess.run(
        [sys.executable, "-m", "onestory.cli", "init"], env=env, cwd=REPO, capture_output=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert init.returncode == 0
    con = sqlite3.connect(initialised / "onestory.sqlite3")
    con.execute("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 1")
    con.commit()
    con.close()
    code, lines = _worker(env)
    assert code == 1
    errors = [ln for ln in lines if ln["level"] == "ERROR"]
    assert len(errors) == 1
    assert "verify the audit trail" in errors[0]["message"]
    assert "broken at event 1" in errors[0]["message"]
