"""Hardening (issue 9): production settings refuse local defaults and pass ``check --deploy``;
HTTPS only with HSTS; no page is cached; no special-category data reaches the logs."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from onestory.audit.services import Actor
from onestory.intake.services import feed_import
from tests.conftest import World
from tests.test_import import HEADER, write_csv

REPO = Path(__file__).resolve().parent.parent


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONESTORY_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        ONESTORY_PRODUCTION="1",
        ONESTORY_DATA_DIR=str(tmp_path),
        ONESTORY_SECRET_KEY=secrets.token_urlsafe(64),
        ONESTORY_AUDIT_KEY=secrets.token_urlsafe(48),
        ONESTORY_ALLOWED_HOSTS="onestory.example.org",
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(REPO / "src"),
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PROBE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
print("hsts", settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS)
print("cookies", settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)
plain = Client(HTTP_HOST="onestory.example.org").get("/no-such-page/")
print("plain", plain.status_code, plain.headers.get("Location"))
secure = Client(HTTP_HOST="onestory.example.org").get("/no-such-page/", secure=True)
print("secure", secure.headers.get("Strict-Transport-Security"))
proxied = Client(HTTP_HOST="onestory.example.org", HTTP_X_FORWARDED_PROTO="https")
print("proxied", proxied.get("/no-such-page/").status_code)
"""


def test_production_is_https_only_with_hsts(tmp_path: Path) -> None:
    result = _run(["-c", PROBE], _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    out = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert out["hsts"] == "31536000 True"
    assert out["cookies"] == "True True"
    assert out["plain"] == "301 https://onestory.example.org/no-such-page/"
    assert out["secure"] == "max-age=31536000; includeSubDomains; preload"
    # A client may not claim HTTPS through the header unless a proxy is declared.
    assert out["proxied"] == "301"
    behind = _run(["-c", PROBE], _production_env(tmp_path, ONESTORY_BEHIND_PROXY="1"))
    assert "proxied 301" not in behind.stdout, behind.stderr


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        ("ONESTORY_SECRET_KEY", "ONESTORY_SECRET_KEY must be set"),
        ("ONESTORY_AUDIT_KEY", "ONESTORY_AUDIT_KEY must be set"),
        ("ONESTORY_ALLOWED_HOSTS", "ONESTORY_ALLOWED_HOSTS must name"),
    ],
)
def test_production_refuses_local_defaults(tmp_path: Path, unset: str, message: str) -> None:
    env = _production_env(tmp_path)
    del env[unset]
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "OneStory will not start in production" in result.stderr
    assert message in result.stderr


def test_production_refuses_debug(tmp_path: Path) -> None:
    result = _run(["manage.py", "check"], _production_env(tmp_path, ONESTORY_DEBUG="1"))
    assert result.returncode != 0
    assert "ONESTORY_DEBUG must be off" in result.stderr


@pytest.mark.parametrize(
    "path",
    ["/people/{alice}/", "/people/", "/people/{alice}/about-me/history/", "/no-such-page/", "/"],
)
def test_no_page_is_cached(world: World, client_for: Any, path: str) -> None:
    for persona in ("navigator", "anonymous"):
        response = client_for(persona).get(path.format(alice=world.alice.pk))
        cache = response.headers.get("Cache-Control", "")
        assert "no-store" in cache and "private" in cache, (persona, path, cache)


# What the fixtures hold that must never reach a log line: names, identifiers, contact
# details, and health, justice and About me text.
SECRETS = [
    "Alice",
    "Marsh",
    "9434765919",
    "943 476 5919",
    "04/1234567F",
    "07700 900123",
    "alice@example.org",
    "crisis_contact note",
    "ask about my dad",
    "Zoë",
    "Brontë",
    "self_harm",
]


def test_no_special_category_data_in_logs(
    world: World,
    client_for: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    navigator = client_for("navigator")
    alice = world.alice.pk
    # Reads of every kind of person data, a search by name, a 404 that names a person id.
    for path in [
        f"/people/{alice}/",
        f"/people/{alice}/?category=mental_health",
        f"/people/{alice}/about-me/history/",
        "/people/?q=Alice+Marsh",
        "/people/999999/",
    ]:
        navigator.get(path)
    # A write of mental health data, with a note.
    recorded = navigator.post(
        f"/people/{alice}/events/new/",
        {
            "event_type": "crisis_contact",
            "occurred_on": "2026-11-01",
            "summary": "Alice Marsh self_harm crisis_contact note",
        },
    )
    assert recorded.status_code == 302
    # Failed sign-ins with a person's name as the username.
    Client().post("/accounts/login/", {"login": "Alice Marsh", "password": "9434765919"})
    # An import with bad rows whose values are special-category data.
    rows = [
        ["Z1", "Zoë", "Brontë", "1990-12-31", "943 476 5919", "", "not a date", "attendance", ""],
        ["Z2", "Alice", "Marsh", "1984-03-09", "", "", "2026-10-01", "self_harm", ""],
        ["Z1", "Zoë", "Brontë", "1990-12-31", "", "", "2026-10-01", "attendance", ""],
    ]
    feed_import(
        actor=Actor(system="test"),
        kind="ed",
        path=write_csv(tmp_path / "ed.csv", rows, HEADER),
        source_name="city_ed",
        organisation_name="City Hospital",
    )
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert caplog.records, "nothing was logged at all: the capture is not working"
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} reached the logs"


def test_the_idle_timeout_renews_at_most_once_a_minute(world: World) -> None:
    """Reading pages keeps someone signed in without writing their session on every
    request; a session left idle for the whole timeout signs them out."""
    import time
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from onestory.core.middleware import SESSION_RENEWED
    from tests.conftest import signed_in_client

    client = signed_in_client(world.users["navigator"])
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/caseload/").status_code == 200
    renewed = Session.objects.get(pk=key)
    assert abs(renewed.get_decoded()[SESSION_RENEWED] - time.time()) < 5
    expiry = renewed.expire_date
    assert timedelta(seconds=settings.SESSION_COOKIE_AGE - 60) < expiry - timezone.now()

    # Within the minute: nothing written.
    assert client.get("/caseload/").status_code == 200
    assert Session.objects.get(pk=key).expire_date == expiry

    # A minute on: the expiry moves on.
    store = client.session
    store[SESSION_RENEWED] = int(time.time()) - 61
    store.save()
    before = Session.objects.get(pk=key).expire_date
    Session.objects.filter(pk=key).update(expire_date=before - timedelta(seconds=120))
    assert client.get("/caseload/").status_code == 200
    assert Session.objects.get(pk=key).expire_date > before - timedelta(seconds=5)

    # Idle past the timeout: signed out.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/caseload/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
