"""Alice's page in a real browser: the htmx timeline filter, and the service navigation's
menu toggle at phone width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.a11y import DESKTOP, PHONE, check_page
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_timeline_filter_and_phone_menu(
    signed_in: Callable[[str], Page], live_server: Any, browser_world: World
) -> None:
    page = signed_in("navigator")
    page.goto(f"{live_server.url}/people/{browser_world.alice.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline.locator("tbody tr")).to_have_count(5)

    # Choosing a category swaps just the timeline, through htmx, without a page load.
    page.evaluate("() => { window.notReloaded = true }")
    with page.expect_response(lambda r: "partial=timeline" in r.url) as swap:
        page.select_option("#id_category", label="Criminal justice")
    assert swap.value.ok
    expect(timeline.locator("tbody tr")).to_have_count(1)
    expect(timeline.locator("tbody tr")).to_contain_text("Arrest")
    expect(timeline.locator("caption")).to_have_text("1 event in this category")
    for other in ("Rough sleeping verified", "Attendance", "Crisis contact", "Goal set"):
        expect(timeline).not_to_contain_text(other)
    assert page.evaluate("() => window.notReloaded === true"), "the whole page reloaded"
    check_page(page, "person page, timeline filtered to criminal justice")

    # At phone width the navigation folds behind a "Menu" button (GOV.UK JavaScript).
    toggle = page.locator(".govuk-service-navigation__toggle")
    menu = page.locator("#navigation")
    expect(toggle).to_be_hidden()
    expect(menu).to_be_visible()
    page.set_viewport_size(PHONE)
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="My people")).to_be_visible()
    check_page(page, "person page at 375px, menu open", widths=(PHONE,))
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    page.set_viewport_size(DESKTOP)
    expect(menu).to_be_visible()
