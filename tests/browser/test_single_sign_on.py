"""Single sign-on through OpenID Connect (issue 9), against a real OpenID provider run on
loopback (panva's certified ``oidc-provider``, from npm: tests/oidc/provider.mjs).

A sign-in connects to the account an administrator made (by the email the provider
verified) and never makes one; OneStory's own second factor is still asked for unless the
provider's ID token says it checked one (``amr``)."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import Page

from onestory.access.models import User
from onestory.access.roles import Role
from tests.browser.a11y import check_page
from tests.browser.auth import SECRETS, submit, totp_code
from tests.conftest import World, make_user

pytestmark = pytest.mark.browser

PROVIDER = Path(__file__).resolve().parent.parent / "oidc" / "provider.mjs"
REPO = PROVIDER.parent.parent.parent
ACCOUNTS = {
    "nav.worker": {"email": "navigator@framework.example"},
    "sso.only": {"email": "sso.only@framework.example"},
    "stranger": {"email": "stranger@elsewhere.example"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def identity_provider(live_server: Any, settings: Any) -> Iterator[str]:
    """The provider on a free loopback port, registered with OneStory as "Test NHS login"."""
    port = _free_port()
    callback = f"{live_server.url}/accounts/oidc/test-idp/login/callback/"
    process = subprocess.Popen(
        ["node", str(PROVIDER), str(port), callback, json.dumps(ACCOUNTS)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening"), f"the identity provider did not start: {line!r}"
        issuer = f"http://127.0.0.1:{port}"
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "test-idp",
                        "name": "Test NHS login",
                        "client_id": "onestory",
                        "secret": "onestory-test-client-secret",
                        "settings": {"server_url": issuer},
                    }
                ],
            }
        }
        settings.SECURE_CSP = {
            **settings.SECURE_CSP,
            "form-action": [*settings.SECURE_CSP["form-action"], issuer],
        }
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def _sso(page: Page, live_server: Any, login: str, *, mfa: bool) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    check_page(page, "sign in, with single sign-on")
    submit(page, "main button:has-text('Sign in with Test NHS login')")
    assert "/interaction/" in page.url, page.url
    page.fill("input[name=login]", login)
    if mfa:
        page.check("input[name=mfa]")
    with page.expect_navigation(url=lambda u: u.startswith(live_server.url)):
        page.click("button[type=submit]")
    page.wait_for_load_state()


def test_sso_connects_to_the_account_and_still_asks_for_our_second_factor(
    page: Page, live_server: Any, browser_world: World, identity_provider: str
) -> None:
    navigator = browser_world.user("navigator")
    navigator.email = "navigator@framework.example"
    navigator.save()
    _sso(page, live_server, "nav.worker", mfa=False)
    # The provider did not say it checked a second factor: OneStory asks for its own.
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    check_page(page, "enter your security code after single sign-on")
    page.fill("input[name=code]", totp_code(SECRETS[navigator.get_username()]))
    submit(page)
    assert page.url.rstrip("/").endswith(("/caseload", "")), page.url
    assert navigator.get_username() in page.content() or "Sign out" in page.content()
    assert SocialAccount.objects.filter(user=navigator, provider="test-idp").exists()


def _sso_only_user(world: World) -> User:
    user = make_user("ssoonly_nav", world.nav_org, Role.NAVIGATOR, mfa=False)
    user.email = "sso.only@framework.example"
    user.set_unusable_password()
    user.save()
    return user


def test_a_provider_that_checked_a_second_factor_is_trusted_for_it(
    page: Page, live_server: Any, browser_world: World, identity_provider: str
) -> None:
    user = _sso_only_user(browser_world)
    _sso(page, live_server, "sso.only", mfa=True)
    assert "/accounts/2fa/" not in page.url, page.url
    assert page.locator("a:has-text('Sign out'), button:has-text('Sign out')").count() >= 1
    check_page(page, "home after single sign-on with the provider's second factor")
    assert SocialAccount.objects.filter(user=user).exists()


def test_without_the_providers_second_factor_ours_must_be_set_up(
    page: Page, live_server: Any, browser_world: World, identity_provider: str
) -> None:
    _sso_only_user(browser_world)
    _sso(page, live_server, "sso.only", mfa=False)
    assert "/accounts/2fa/totp/activate/" in page.url, page.url
    page.goto(f"{live_server.url}/people/")
    assert "/accounts/2fa/totp/activate/" in page.url, "reached a page without any second factor"


def test_sso_never_creates_an_account(
    page: Page, live_server: Any, browser_world: World, identity_provider: str
) -> None:
    before = User.objects.count()
    _sso(page, live_server, "stranger", mfa=True)
    assert User.objects.count() == before
    check_page(page, "single sign-on for someone without an account")
    page.goto(f"{live_server.url}/people/")
    assert "/accounts/login/" in page.url, page.url
