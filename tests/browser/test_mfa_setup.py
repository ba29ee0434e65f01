"""A user without an authenticator app is made to set one up before anything else."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.a11y import check_page
from tests.browser.auth import submit, totp_code
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser


def test_user_without_mfa_must_set_up_an_authenticator(
    page: Page, live_server: Any, browser_world: World
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", browser_world.user("no_mfa").get_username())
    page.fill("input[name=password]", PASSWORD)
    submit(page)

    # Straight to set-up, without being asked for the password again; every other page
    # sends them back there.
    assert page.url.endswith("/accounts/2fa/totp/activate/"), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    check_page(page, "set up your authenticator app")
    page.goto(f"{live_server.url}/people/")
    assert page.url.endswith("/accounts/2fa/totp/activate/"), page.url

    # A wrong code is refused, accessibly.
    page.fill("input[name=code]", "000000")
    submit(page, "main button[type=submit]:has-text('Turn on')")
    assert page.url.endswith("/accounts/2fa/totp/activate/"), page.url
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "set up your authenticator app, with errors")

    # What the phone would do: read the secret, make a code.
    secret = page.locator("#authenticator_secret").input_value()
    assert len(pyotp.TOTP(secret).byte_secret()) >= 20
    page.fill("input[name=code]", totp_code(secret))
    submit(page, "main button[type=submit]:has-text('Turn on')")
    assert "/accounts/2fa/totp/activate/" not in page.url, "the code was refused"
    # allauth makes recovery codes with the first authenticator, and shows them.
    assert page.url.endswith("/accounts/2fa/recovery-codes/"), page.url
    check_page(page, "your recovery codes")
    page.goto(f"{live_server.url}/accounts/2fa/recovery-codes/generate/")
    assert page.url.endswith("/accounts/2fa/recovery-codes/generate/"), page.url
    check_page(page, "make new recovery codes")

    # Now the app opens: a navigator lands on My caseload.
    page.goto(f"{live_server.url}/")
    assert page.url.endswith("/caseload/"), page.url  # a navigator starts at My caseload
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    check_page(page, "my caseload, after setting up MFA")
