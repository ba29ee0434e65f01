"""Backup and restore (issue 10): a demo city in a fresh PostgreSQL database is backed up
with ``scripts/backup`` and restored with ``scripts/restore`` into another fresh one; every
table has the same rows and the audit trail verifies the same on both.

It uses the PostgreSQL server of ``DATABASE_URL`` when that is PostgreSQL, otherwise the
local one at 127.0.0.1:5432, so it runs in both CI stages."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
LOCAL = "postgres://postgres@127.0.0.1:5432/postgres"


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else LOCAL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    server = _with_database(_server_url(), "postgres")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")):
        pytest.skip("pg_dump, pg_restore and psql are needed (Debian: postgresql-client)")
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server reachable at {server}: {exc}")
    suffix = secrets.token_hex(4)
    names = [f"onestory_backup_src_{suffix}", f"onestory_backup_dst_{suffix}"]
    with admin:
        for name in names:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield _with_database(server, names[0]), _with_database(server, names[1])
        finally:
            for name in names:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _admin(url: str) -> str:
    """The same database as the local superuser: backups and restores are made as a role
    row-level security does not bind (ADR 0022); the application's own role sees no one."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return urlunsplit(parts._replace(netloc=f"postgres@{host}:{parts.port or 5432}"))


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONESTORY_", "DATABASE"))}
    env.update(
        DATABASE_URL=database_url,
        ONESTORY_ADMIN_DATABASE_URL=_admin(database_url),
        ONESTORY_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(REPO / "src"),
        PYTHON=sys.executable,
        # The restore script finds `onestory` on the PATH (the virtual environment's).
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def _row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(_admin(url)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        counts: dict[str, int] = {}
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            counts[table] = row[0] if row else 0
    return counts


def test_backup_then_restore_gives_the_same_database(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = two_databases
    src_env = _env(source, tmp_path / "src-data")
    _run([sys.executable, "-m", "onestory.cli", "demo", "--persons", "80", "--no-serve"], src_env)
    before = _run([sys.executable, "-m", "onestory.cli", "audit", "verify"], src_env)
    backups = tmp_path / "backups"
    made = _run([str(REPO / "scripts" / "backup"), str(backups)], src_env)
    dump, archive = (Path(p) for p in made.stdout.split())
    assert dump.suffix == ".dump" and dump.stat().st_size > 0
    assert archive.name.endswith("-data.tar.gz")
    assert oct(dump.stat().st_mode & 0o777) == "0o600", "backups are readable by the owner only"

    dst_env = _env(target, tmp_path / "dst-data")
    restored = _run([str(REPO / "scripts" / "restore"), str(dump), str(archive)], dst_env)
    # The restore ends by verifying the audit trail: the same chain, every event intact.
    assert restored.stdout.strip().splitlines()[-1] == before.stdout.strip().splitlines()[-1]
    assert before.stdout.strip().startswith("ok events=")
    assert int(before.stdout.strip().split("=")[-1]) > 0

    src_counts, dst_counts = _row_counts(source), _row_counts(target)
    assert src_counts["people_person"] > 0 and src_counts["audit_auditevent"] > 0
    assert dst_counts == src_counts
    assert (tmp_path / "dst-data" / "demo-logins.csv").exists()

    # A second restore into the now full database is refused, changing nothing.
    again = subprocess.run(
        [str(REPO / "scripts" / "restore"), str(dump)],
        cwd=REPO, env=dst_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 2
    assert "already has" in again.stderr
    assert _row_counts(target) == src_counts
