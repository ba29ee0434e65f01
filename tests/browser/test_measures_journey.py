"""Measures (issue 8) in a real browser: a navigator completes an NDTA for Alice twice;
her measures page and the outcomes dashboard show the change; a manager downloads the
board report. axe-core on every page, desktop and phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.a11y import check_page
from tests.browser.auth import SECRETS, sign_in, submit
from tests.browser.conftest import BrowserProblems
from tests.conftest import TOTP_SECRETS, World

pytestmark = pytest.mark.browser

FIRST = {
    "engagement": 3, "intentional_self_harm": 1, "unintentional_self_harm": 2,
    "risk_to_others": 2, "risk_from_others": 3, "stress_anxiety": 4,
    "social_effectiveness": 2, "alcohol_drugs": 4, "impulse_control": 3, "housing": 4,
}  # fmt: skip
LATER = dict.fromkeys(FIRST, 1)


def _page_for(browser: Browser, live_server: Any, username: str) -> Page:
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.problems = BrowserProblems(page)  # type: ignore[attr-defined]
    page.set_default_timeout(10_000)
    SECRETS[username] = TOTP_SECRETS[username]
    sign_in(page, live_server, username)
    return page


def _ndta(page: Page, answers: dict[str, int], day: str) -> None:
    page.get_by_role("link", name="Record an NDTA").click()
    check_page(page, "record an NDTA")
    page.fill("#id_completed_on", day)
    for key, value in answers.items():
        page.check(f"input[name=item_{key}][value='{value}']")
    submit(page)


def test_two_ndtas_show_the_change_and_reach_the_board_report(
    browser: Browser, live_server: Any, browser_world: World
) -> None:
    world = browser_world
    base = live_server.url
    navigator = _page_for(browser, live_server, world.user("navigator").username)
    navigator.goto(f"{base}/people/{world.alice.pk}/")
    navigator.get_by_role("link", name="Measures").first.click()
    check_page(navigator, "measures, none yet")
    _ndta(navigator, FIRST, "2026-05-01")
    expect(navigator.locator(".govuk-notification-banner--success")).to_contain_text("total 33")
    _ndta(navigator, LATER, "2026-08-01")
    expect(navigator.locator(".onestory-change")).to_contain_text("21 points better")
    check_page(navigator, "measures, after two NDTAs")

    manager = _page_for(browser, live_server, world.user("manager").username)
    manager.goto(f"{base}/outcomes/")
    expect(manager.locator("main")).to_contain_text("33.0 then 12.0")
    check_page(manager, "outcomes")
    manager.goto(f"{base}/insight/")
    with manager.expect_download() as download:
        manager.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename == "onestory-board-report.pdf"
