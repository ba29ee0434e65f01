"""Signing in through the real forms: password, authenticator code, role."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyotp
from playwright.sync_api import Page

from tests.conftest import PASSWORD, TOTP_SECRETS, World

# username -> base32 secret of that persona's authenticator app, for the current test.
SECRETS: dict[str, str] = {}


def give_personas_real_authenticators(world: World) -> None:
    """Record each persona's authenticator secret (``make_user`` gives each a random,
    valid base32 secret) for signing in through the real forms."""
    SECRETS.clear()
    for user in world.users.values():
        secret = TOTP_SECRETS.get(user.get_username())
        if secret is not None:
            SECRETS[user.get_username()] = secret


def totp_code(secret: str) -> str:
    """The authenticator's current code, waiting out the last moments of a 30-second step
    so the server (which allows no clock drift) sees the same step."""
    remaining = 30 - time.time() % 30
    if remaining < 2:
        time.sleep(remaining + 0.1)
    return str(pyotp.TOTP(secret).now())


def submit(page: Page, selector: str = "main button[type=submit]") -> None:
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def sign_in(
    page: Page,
    live_server: Any,
    username: str,
    *,
    on_login_page: Callable[[Page], None] | None = None,
    on_mfa_page: Callable[[Page], None] | None = None,
) -> None:
    """Sign in through the real forms: username and password, then the authenticator code,
    then the role, if the choose-role page is shown. ``on_login_page`` and ``on_mfa_page``
    are called while the page shows that step (for accessibility checks).

    Sign each persona in once per test and reuse the page: allauth refuses a code that has
    already been used."""
    page.goto(f"{live_server.url}/accounts/login/")
    if on_login_page:
        on_login_page(page)
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    submit(page)
    assert "/accounts/login/" not in page.url, f"{username}'s password was refused"
    if "/accounts/2fa/authenticate/" in page.url:
        if on_mfa_page:
            on_mfa_page(page)
        page.fill("input[name=code]", totp_code(SECRETS[username]))
        submit(page, "main button[type=submit]:has-text('Continue')")
        assert "/accounts/2fa/authenticate/" not in page.url, (
            f"{username}'s security code was refused"
        )
    if "/choose-role/" in page.url:
        page.locator("input[name=membership]").first.check()
        submit(page)
        assert "/choose-role/" not in page.url, f"{username} could not choose a role"
