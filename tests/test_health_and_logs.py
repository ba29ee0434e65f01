"""Deployment (issue 10): health probes, JSON logs with a request id, and gunicorn's access
log without query strings, checked against a real gunicorn process on loopback."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from onestory.audit.models import AuditEvent
from onestory.core.logs import JsonFormatter, without_query
from tests.conftest import World
from tests.test_hardening import SECRETS
from tests.test_hardening import _production_env as production_env

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------
# Health probes
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_liveness_answers_any_host_without_session_or_audit() -> None:
    before = AuditEvent.objects.count()
    # A probe calls the container by its address, which is not a public host name.
    response = Client(HTTP_HOST="10.0.3.7:8000").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "sessionid" not in response.cookies
    assert "no-store" in response.headers["Cache-Control"]
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_readiness_checks_the_database_and_is_not_audited() -> None:
    before = AuditEvent.objects.count()
    response = Client(HTTP_HOST="10.0.3.7").get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    assert AuditEvent.objects.count() == before


def test_probes_need_no_sign_in_or_mfa(world: World, client_for: Any) -> None:
    # A signed-in user with no authenticator is sent to set one up from every page, but
    # not from the probes; neither probe says anything about the user.
    from onestory.access.models import Membership, User
    from tests.conftest import signed_in_client

    user = User.objects.create_user(username="no_mfa_yet", password="x" * 20)
    Membership.objects.create(user=user, organisation=world.nav_org, role="navigator")
    no_mfa = signed_in_client(user)
    assert no_mfa.get("/people/").status_code == 302
    for path in ("/healthz", "/readyz"):
        response = no_mfa.get(path)
        assert response.status_code == 200
        assert b"no_mfa_yet" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_writes(path: str) -> None:
    response = Client().post(path)
    assert response.status_code == 405


def _readyz_in_subprocess(tmp_path: Path, **env: str) -> dict[str, Any]:
    probe = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/readyz')\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ONESTORY_", "DATABASE"))}
    clean.update(
        ONESTORY_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(REPO / "src"),
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_readiness_fails_before_migrations(tmp_path: Path) -> None:
    # A fresh SQLite database has no tables: the server is up but not ready.
    answer = _readyz_in_subprocess(tmp_path)
    assert answer["status"] == 503
    assert answer["body"]["status"] == "not ready"
    assert "migrations not applied" in answer["body"]["reason"]


def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = _readyz_in_subprocess(
        tmp_path, DATABASE_URL=f"postgres://nobody@127.0.0.1:{port}/nothing"
    )
    assert answer == {
        "status": 503,
        "body": {"status": "not ready", "reason": "database unreachable"},
    }


# ---------------------------------------------------------------------------------------------
# JSON application logs
# ---------------------------------------------------------------------------------------------


def test_query_strings_are_cut_from_messages() -> None:
    assert without_query("Not Found: /people/?q=Alice+Marsh now") == "Not Found: /people/ now"
    assert without_query("'GET /x/?a=1&b=2'") == "'GET /x/'"
    assert without_query("no url here") == "no url here"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log record at DEBUG, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_app_logs_are_json_lines_with_request_id_and_no_person_data(
    world: World, client_for: Any, json_log: io.StringIO
) -> None:
    navigator = client_for("navigator")
    alice = world.alice.pk
    responses = [
        navigator.get(path)
        for path in (
            f"/people/{alice}/",
            f"/people/{alice}/?category=mental_health",
            "/people/?q=Alice+Marsh&nhs=9434765919",
            "/people/999999/?q=Zoë+Brontë",
            "/no-such-page/?q=Alice+Marsh+943+476+5919",
        )
    ]
    ids = {r.headers["X-Request-ID"] for r in responses}
    assert len(ids) == len(responses), "each request has its own id"
    Client().post("/accounts/login/", {"login": "Alice Marsh", "password": "9434765919"})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines, "nothing was logged at all: the capture is not working"
    not_found = [ln for ln in lines if ln["logger"] == "django.request"]
    assert not_found, "the 404s should have been logged"
    for line in not_found:
        assert line["request_id"] in ids
        assert "?" not in line["message"]
    text = json_log.getvalue()
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} reached the logs"


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_only_when_it_looks_like_one() -> None:
    kept = Client().get("/healthz", HTTP_X_REQUEST_ID="proxy-0123456789abcdef")
    assert kept.headers["X-Request-ID"] == "proxy-0123456789abcdef"
    replaced = Client().get("/healthz", HTTP_X_REQUEST_ID="Alice Marsh said hello")
    assert replaced.headers["X-Request-ID"] != "Alice Marsh said hello"
    assert len(replaced.headers["X-Request-ID"]) == 32


# ---------------------------------------------------------------------------------------------
# gunicorn, for real
# ---------------------------------------------------------------------------------------------


def _production_env(data_dir: Path) -> dict[str, str]:
    return production_env(data_dir, ONESTORY_ALLOWED_HOSTS="127.0.0.1", ONESTORY_BEHIND_PROXY="1")


def _get(url: str, **headers: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_gunicorn_logs_json_and_never_a_query_string(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    init = subprocess.run(
        [sys.executable, "-m", "onestory.cli", "init"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env, cwd=REPO, stdout=stdout, stderr=stderr,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                try:
                    if _get(f"{base}/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
            assert _get(f"{base}/readyz")[0] == 200
            # Behind the TLS proxy: the search sends an anonymous visitor to sign in.
            status, headers = _get(f"{base}/people/?q=Somename", **{"X-Forwarded-Proto": "https"})
            assert status == 302
            assert "Somename" in headers["Location"]  # the redirect keeps it; logs must not
            missing, missing_headers = _get(
                f"{base}/no-such-page/?q=Somename+9434765919", **{"X-Forwarded-Proto": "https"}
            )
            assert missing == 404
        finally:
            server.terminate()
            server.wait(timeout=30)
    logged = out.read_text() + err.read_text()
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
    access = [ln for ln in lines if ln["logger"] == "gunicorn.access"]
    search = [ln for ln in access if ln["path"] == "/people/"]
    assert search, logged
    assert search[0]["status"] == 302
    assert search[0]["method"] == "GET"
    assert isinstance(search[0]["duration_ms"], float)
    assert "Somename" not in logged
    assert "9434765919" not in logged
    # The application's own line about the 404 carries the same request id as the access
    # line and the response header, so the three can be matched.
    rid = missing_headers["X-Request-ID"]
    assert [ln["path"] for ln in access if ln.get("request_id") == rid] == ["/no-such-page/"]
    app_lines = [ln for ln in lines if ln["logger"] == "django.request"]
    assert [ln["request_id"] for ln in app_lines] == [rid]
    assert any(ln["logger"] == "gunicorn.error" for ln in lines)
