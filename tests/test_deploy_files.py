"""The container image and compose file (issue 10). There is no Docker engine where the
tests run, so the files are parsed and checked: the image installs with CI's own commands,
runs as an unprivileged user and holds no secret; compose runs the database, a migration,
the web server and the worker with health checks, volumes and secrets from the environment,
and what it passes satisfies the production settings' own refusals."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SECRET_VARS = (
    "ONESTORY_SECRET_KEY",
    "ONESTORY_AUDIT_KEY",
    "POSTGRES_PASSWORD",
    "ONESTORY_DB_OWNER_PASSWORD",
    "ONESTORY_DB_WEB_PASSWORD",
)


# ---------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    result = []
    for line in joined:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def makefile_recipe(target: str) -> list[str]:
    """The recipe lines of a Makefile target (continuations joined)."""
    lines = (REPO / "Makefile").read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"{target}:"))
    recipe: list[str] = []
    current = ""
    for ln in lines[start + 1 :]:
        if not ln.startswith("\t"):
            break
        body = ln[1:].strip()
        if body.endswith("\\"):
            current += body[:-1] + " "
            continue
        recipe.append(current + body)
        current = ""
    return recipe


def makefile_prerequisites(target: str) -> list[str]:
    text = (REPO / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:([^\n]*)$", text, re.MULTILINE)
    assert match, target
    return match.group(1).split()


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((REPO / "Dockerfile").read_text())


def test_the_image_installs_with_cis_own_commands(dockerfile: list[tuple[str, str]]) -> None:
    runs = [args for instr, args in dockerfile if instr == "RUN"]
    assert any(re.search(r"(^|&&\s*)make install(\s|$)", r) for r in runs), runs
    # `make install` is what CI runs (make test depends on it): Debian packages, then the
    # locked Python packages, then the locked npm packages.
    assert makefile_prerequisites("install") == ["system-packages", "python-packages", "assets"]
    assert "install" in makefile_prerequisites("test")
    assert any("uv) sync --frozen" in ln or "UV) sync --frozen" in ln
               for ln in makefile_recipe("python-packages"))  # fmt: skip
    assert any("npm ci" in ln for ln in makefile_recipe("assets"))
    # ... and nothing installs packages any other way, so there is no second list to drift.
    for r in runs:
        assert not re.search(r"pip install|uv pip|uv add|npm install|npm i\b|poetry", r), r
    copied = " ".join(args for instr, args in dockerfile if instr == "COPY")
    for lock in ("pyproject.toml", "uv.lock", "package.json", "package-lock.json", "Makefile"):
        assert lock in copied


def test_the_image_runs_as_an_unprivileged_user(dockerfile: list[tuple[str, str]]) -> None:
    users = [args for instr, args in dockerfile if instr == "USER"]
    assert users, "no USER: the container would run as root"
    final = users[-1].split(":")[0]
    assert final not in {"root", "0"}
    # The user is created, and nothing after the USER line switches back.
    assert any("useradd" in a and final in a for i, a in dockerfile if i == "RUN")
    last_user = max(i for i, (instr, _) in enumerate(dockerfile) if instr == "USER")
    assert all(instr != "USER" for instr, _ in dockerfile[last_user + 1 :])


def test_no_secret_is_baked_into_the_image(dockerfile: list[tuple[str, str]]) -> None:
    text = (REPO / "Dockerfile").read_text()
    for name in (*SECRET_VARS, "DATABASE_URL", "PASSWORD", "TOKEN"):
        for instr, args in dockerfile:
            if instr in {"ENV", "ARG", "LABEL"}:
                assert name not in args.upper(), f"{instr} {args}"
    assert "ONESTORY_PRODUCTION" not in text  # set where it runs, with its keys
    ignored = (REPO / ".dockerignore").read_text().split()
    for kept_out in (".env", "var", ".venv", "node_modules", ".git"):
        assert kept_out in ignored, f"{kept_out} would be copied into the build context"


def test_the_image_serves_with_gunicorn_and_checks_its_health(
    dockerfile: list[tuple[str, str]],
) -> None:
    cmd = [args for instr, args in dockerfile if instr == "CMD"][-1]
    assert "gunicorn" in cmd and "gunicorn.conf.py" in cmd
    health = [args for instr, args in dockerfile if instr == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]


# ---------------------------------------------------------------------------------------------
# compose.yaml
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return loaded


_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def sub(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        if env.get(name):
            return env[name]
        if op == ":?":
            raise LookupError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return _VAR.sub(sub, value)


def test_compose_runs_database_migration_web_and_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"db", "web", "worker", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert "gunicorn.conf.py" in services["web"]["command"]
    assert services["worker"]["command"][:2] == ["onestory", "worker"]
    assert services["migrate"]["command"] == ["onestory", "init"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    # The web port is reachable only through the TLS proxy on the same host.
    assert all(str(p).startswith("127.0.0.1:") for p in services["web"]["ports"])


def test_compose_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("db", "web", "worker"):
        check = services[name]["healthcheck"]
        assert check["test"][0] == "CMD", name
        assert check["interval"] and check["retries"] >= 1, name
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "worker.heartbeat" in " ".join(services["worker"]["healthcheck"]["test"])


def test_compose_keeps_data_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(compose["volumes"]) == {"onestory-data", "postgres-data"}
    assert "postgres-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in ("web", "worker", "migrate"):
        assert "onestory-data:/var/lib/onestory" in services[name]["volumes"], name


def _app_env(compose: dict[str, Any], service: str, env: dict[str, str]) -> dict[str, str]:
    raw = compose["services"][service]["environment"]
    return {k: interpolate(str(v), env) for k, v in raw.items()}


def test_compose_takes_secrets_from_the_environment(compose: dict[str, Any]) -> None:
    for service in ("web", "worker", "migrate"):
        raw = compose["services"][service]["environment"]
        assert raw["ONESTORY_PRODUCTION"] == "1", service
        for name in ("ONESTORY_SECRET_KEY", "ONESTORY_AUDIT_KEY"):
            assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", raw[name]), (service, raw[name])
        # The app never logs in as the superuser: row-level security must bind it (ADR 0022).
        login = "onestory_owner" if service == "migrate" else "onestory_web"
        password = (
            "ONESTORY_DB_OWNER_PASSWORD" if service == "migrate" else "ONESTORY_DB_WEB_PASSWORD"
        )
        assert raw["DATABASE_URL"].startswith(f"postgres://{login}:${{{password}:?"), service
    db_env = compose["services"]["db"]["environment"]
    assert db_env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert any(
        v.startswith("./scripts/database-init.sh:/docker-entrypoint-initdb.d/")
        for v in compose["services"]["db"]["volumes"]
    )
    # Without each secret, compose refuses to start, naming it.
    full = dict.fromkeys(SECRET_VARS, "x" * 60) | {"ONESTORY_ALLOWED_HOSTS": "a.example"}
    for missing in SECRET_VARS:
        env = {k: v for k, v in full.items() if k != missing}
        with pytest.raises(LookupError, match=missing):
            (
                _app_env(compose, "web", env)
                | _app_env(compose, "migrate", env)
                | _app_env(compose, "db", env)
            )


def test_composes_environment_satisfies_the_production_settings(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    given = {
        "ONESTORY_SECRET_KEY": secrets.token_urlsafe(64),
        "ONESTORY_AUDIT_KEY": secrets.token_urlsafe(48),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "ONESTORY_DB_OWNER_PASSWORD": secrets.token_urlsafe(24),
        "ONESTORY_DB_WEB_PASSWORD": secrets.token_urlsafe(24),
        "ONESTORY_ALLOWED_HOSTS": "onestory.example.org",
    }
    app_env = _app_env(compose, "web", given)
    assert (
        app_env["DATABASE_URL"]
        == f"postgres://onestory_web:{given['ONESTORY_DB_WEB_PASSWORD']}@db:5432/onestory"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONESTORY_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(app_env)
    env.update(
        ONESTORY_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(REPO / "src"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
