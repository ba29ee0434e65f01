"""``onestory create-admin``: the first account of a new deployment, from the command line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STRONG = "a-long-synthetic-passphrase-42"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONESTORY_", "DATABASE"))}
    env.update(ONESTORY_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO / "src"))
    return env


def _create(env: dict[str, str], password: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onestory.cli", "create-admin", *args],
        input=f"{password}\n{password}\n", env=env, cwd=REPO, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_create_admin_makes_an_administrator_and_audits_it(initialised: Path) -> None:
    env = _env(initialised)
    made = _create(env, STRONG, "first.admin", "--email", "admin@example.org")
    assert made.returncode == 0, made.stderr
    assert "ok administrator first.admin in OneStory Partnership Hub" in made.stdout
    con = sqlite3.connect(initialised / "onestory.sqlite3")
    rows = con.execute(
        "SELECT u.username, u.password, m.role, o.name FROM access_user u "
        "JOIN access_membership m ON m.user_id = u.id "
        "JOIN access_organisation o ON o.id = m.organisation_id"
    ).fetchall()
    actions = [r[0] for r in con.execute("SELECT action FROM audit_auditevent ORDER BY seq")]
    con.close()
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("first.admin", "administrator", "OneStory Partnership Hub")
    ]
    assert rows[0][1].startswith("argon2"), "the password is hashed with Argon2"
    assert any(a.startswith("cli.create-admin") and "user.create" in a for a in actions)
    verify = subprocess.run(
        [sys.executable, "-m", "onestory.cli", "audit", "verify"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout


def test_create_admin_refuses_a_weak_password_or_a_taken_username(initialised: Path) -> None:
    env = _env(initialised)
    weak = _create(env, "password", "first.admin")
    assert weak.returncode == 2
    assert "refused: This password is too short" in weak.stderr
    assert _create(env, STRONG, "first.admin").returncode == 0
    again = _create(env, STRONG, "First.Admin")
    assert again.returncode == 2
    assert "refused: That username is already taken" in again.stderr
    con = sqlite3.connect(initialised / "onestory.sqlite3")
    assert con.execute("SELECT count(*) FROM access_user").fetchone() == (1,)
    con.close()
