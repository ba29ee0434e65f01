"""The ``onestory`` command as cli.md specifies it, run as a real subprocess."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from onestory.access.roles import Role

CLI = [sys.executable, "-m", "onestory.cli"]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ONESTORY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.mark.parametrize(
    "verb", [[], ["init"], ["demo"], ["serve"], ["audit"], ["audit", "verify"]]
)
def test_every_verb_has_help(verb: list[str], tmp_path: Path) -> None:
    result = run([*verb, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_init_is_idempotent(tmp_path: Path) -> None:
    first = run(["init"], tmp_path)
    assert first.returncode == 0, first.stderr
    second = run(["init"], tmp_path)
    assert second.returncode == 0, second.stderr
    verify = run(["audit", "verify"], tmp_path)
    assert verify.stdout.strip().splitlines()[-1] == "ok events=2"


def test_demo_builds_a_city_with_users_of_every_role(tmp_path: Path) -> None:
    result = run(["demo", "--persons", "80", "--seed", "7", "--no-serve"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    with (tmp_path / "demo-logins.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["username", "password", "organisation", "role", "totp_secret"]
    assert {r["role"] for r in rows} == {r.value for r in Role}
    orgs_with_users = {r["organisation"] for r in rows}
    assert len(orgs_with_users) >= 3
    for row in rows:
        assert len(row["totp_secret"]) == 32 and row["password"]
        assert row["username"] in result.stdout  # printed as well as written
    # Navigators have caseloads with contact histories, plans and closures.
    casework = re.search(
        r"Casework: (\d+) allocations, (\d+) contacts, (\d+) goals, (\d+) closures",
        result.stdout,
    )
    assert casework is not None, result.stdout[-2000:]
    allocations, contacts, goals, closures = map(int, casework.groups())
    assert allocations >= 3 and contacts >= 10 * allocations and goals >= allocations
    assert closures >= 1
    verify = run(["audit", "verify"], tmp_path)
    assert verify.returncode == 0 and verify.stdout.startswith("ok events=")
