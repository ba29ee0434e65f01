"""Break glass in a real browser (SECURITY.md rule 7): a practitioner with no relationship
with Bob meets the 404, breaks glass with a reason, sees his record read-only with when
it ends; the navigators' privacy officer finds it in the review queue and records a
finding. axe-core on every page, at desktop and phone widths."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from onestory.access.models import BreakGlass, PrivacyReview
from tests.browser.a11y import check_page
from tests.browser.auth import SECRETS, sign_in, submit
from tests.browser.conftest import BrowserProblems
from tests.conftest import TOTP_SECRETS, World, relate

pytestmark = pytest.mark.browser


def _page_for(browser: Browser, live_server: Any, username: str) -> Page:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.problems = BrowserProblems(page)  # type: ignore[attr-defined]
    page.set_default_timeout(10_000)
    SECRETS[username] = TOTP_SECRETS[username]
    sign_in(page, live_server, username)
    return page


def test_a_practitioner_breaks_glass_and_the_privacy_officer_reviews_it(
    browser: Browser, live_server: Any, browser_world: World
) -> None:
    world = browser_world
    bob = world.bob
    relate(bob, world.nav_org)  # the navigators work with Bob; housing does not

    practitioner = _page_for(browser, live_server, world.user("practitioner").username)
    practitioner.goto(f"{live_server.url}/people/{bob.pk}/")
    expect(practitioner.locator("h1")).to_have_text("Page not found")
    check_page(practitioner, "person not found, with break glass offered")
    with practitioner.expect_navigation():
        practitioner.get_by_role("link", name="break glass to open the record").click()
    check_page(practitioner, "break glass")
    practitioner.get_by_label("Their life or safety is at risk now").check()
    practitioner.get_by_label("Explain what is happening").fill(
        "Found collapsed outside the hostel; the ambulance crew need his history."
    )
    submit(practitioner, "main button:has-text('Break glass')")
    banner = practitioner.locator(".onestory-break-glass")
    expect(banner).to_contain_text("You are seeing this record by break glass, read-only, until")
    expect(practitioner.locator("h1")).to_have_text("Bob Hart")
    expect(practitioner.get_by_role("link", name="Edit About me")).to_have_count(0)
    expect(practitioner.get_by_role("link", name="Make a referral")).to_have_count(0)
    check_page(practitioner, "person, by break glass")
    glass = BreakGlass.objects.get()
    assert glass.user == world.user("practitioner")

    officer = _page_for(browser, live_server, world.user("privacy_officer").username)
    officer.goto(f"{live_server.url}/")
    with officer.expect_navigation():
        officer.locator("#navigation").get_by_role("link", name="Reviews").click()
    expect(officer.locator("main")).to_contain_text("Waiting for your review (1)")
    check_page(officer, "reviews, one waiting")
    with officer.expect_navigation():
        officer.locator("main table a").first.click()
    expect(officer.locator("main")).to_contain_text("Found collapsed outside the hostel")
    check_page(officer, "a review")
    officer.get_by_label("Appropriate", exact=True).check()
    officer.get_by_label("Note").fill("Spoke to the practitioner and the ambulance service.")
    submit(officer, "main button:has-text('Record the review')")
    expect(officer.locator(".govuk-notification-banner--success")).to_contain_text(
        "Review recorded"
    )
    expect(officer.locator("main")).to_contain_text("Waiting for your review (0)")
    check_page(officer, "reviews, after the review")
    review = PrivacyReview.objects.get(organisation=world.nav_org)
    assert review.status == "appropriate" and review.reviewed_by == world.user("privacy_officer")
    # The other affected organisation (housing, the one acting) still has its own review.
    assert PrivacyReview.objects.get(organisation=world.housing_org).status == "pending"
