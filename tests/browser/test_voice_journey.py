"""Voice (issue 7) in a real browser: a navigator logs a barrier from a declined
referral; the board assigns it to the housing organisation, which answers and resolves it;
the board publishes it and it appears on the public "you said, we did" page; a person gives
feedback through a one-time link on a phone. axe-core on every page, desktop and phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from onestory.access.roles import Role
from onestory.referrals.models import Referral
from onestory.voice.models import Barrier, FeedbackResponse
from tests.browser.a11y import PHONE, check_page
from tests.browser.auth import SECRETS, sign_in, submit
from tests.browser.conftest import BrowserProblems
from tests.conftest import TOTP_SECRETS, World, make_user

pytestmark = pytest.mark.browser


def _page_for(browser: Browser, live_server: Any, username: str | None = None) -> Page:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.problems = BrowserProblems(page)  # type: ignore[attr-defined]
    page.set_default_timeout(10_000)
    if username:
        SECRETS[username] = TOTP_SECRETS[username]
        sign_in(page, live_server, username)
    return page


def test_barrier_to_you_said_we_did_and_feedback_on_a_phone(
    browser: Browser, live_server: Any, browser_world: World
) -> None:
    world = browser_world
    base = live_server.url
    housing_manager = make_user("housing_manager_voice", world.housing_org, Role.MANAGER)
    referral = Referral.objects.create(
        person=world.alice,
        from_organisation=world.nav_org,
        sent_by=world.user("navigator"),
        to_organisation=world.housing_org,
        reason="Sleeping rough again",
        what_they_want="Somewhere safe with my dog",
        respond_by=timezone.localdate(),
        status=Referral.Status.DECLINED,
        decline_reason=Referral.DeclineReason.NOT_ELIGIBLE,
    )

    # A navigator logs a barrier from the declined referral.
    navigator = _page_for(browser, live_server, world.user("navigator").username)
    navigator.goto(f"{base}/referrals/{referral.pk}/")
    check_page(navigator, "declined referral")
    navigator.get_by_role("link", name="Log a barrier about this").click()
    check_page(navigator, "log a barrier from a referral")
    expect(navigator.locator("#id_what_happened")).to_contain_text("was declined")
    navigator.fill("#id_what_happened", "Turned away: no local connection after a year here.")
    navigator.fill("#id_service_or_rule", "Housing register: 2 years' local connection")
    navigator.check("input[name=impact][value=stopped]")
    submit(navigator)
    expect(navigator.locator(".govuk-notification-banner--success")).to_contain_text("logged")
    check_page(navigator, "barrier, logged")
    barrier = Barrier.objects.get()

    # The board assigns it to the housing organisation, never seeing who it happened to.
    board = _page_for(browser, live_server, world.user("board_member").username)
    board.goto(f"{base}/barriers/")
    check_page(board, "barrier board")
    board.get_by_role("link", name=f"Barrier {barrier.pk}").click()
    expect(board.locator("main")).not_to_contain_text("Alice")
    check_page(board, "barrier, for the board")
    board.select_option("#id_assign-owner", label=str(world.housing_org))
    board.fill("#id_assign-note", "Please review the local connection rule for rough sleepers.")
    submit(board, "main form:has(input[name=action][value=assign]) button[type=submit]")
    expect(board.locator(".govuk-tag").first).to_contain_text("With the owning organisation")

    # Housing answers and resolves it.
    housing = _page_for(browser, live_server, housing_manager.username)
    housing.goto(f"{base}/barriers/")
    housing.get_by_role("link", name=f"Barrier {barrier.pk}").click()
    check_page(housing, "barrier, for its owner")
    housing.check("input[name=respond-kind][value=resolved]")
    housing.fill(
        "#id_respond-text", "Verified rough sleepers now join the register without a wait."
    )
    submit(housing, "main form:has(input[name=action][value=respond]) button[type=submit]")
    expect(housing.locator(".govuk-tag").first).to_contain_text("Resolved")
    check_page(housing, "barrier, resolved")

    # The board publishes it, and it appears on the public page.
    board.reload()
    check_page(board, "barrier, ready to publish")
    board.fill("#id_publish-you_said", "People sleeping rough were turned away from housing.")
    submit(board, "main form:has(input[name=action][value=publish]) button[type=submit]")
    public = _page_for(browser, live_server)
    public.goto(f"{base}/you-said-we-did/")
    expect(public.locator("main")).to_contain_text("Verified rough sleepers now join the register")
    check_page(public, "you said, we did")

    # A person gives feedback through a one-time link on a phone.
    navigator.goto(f"{base}/feedback/new/")
    check_page(navigator, "ask for feedback")
    submit(navigator, "main form button[type=submit]")
    link = navigator.locator("#feedback-link").input_value()
    check_page(navigator, "feedback link and QR code")
    phone = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
    phone.problems = BrowserProblems(phone)  # type: ignore[attr-defined]
    phone.goto(link)
    check_page(phone, "feedback on a phone", widths=(PHONE,))
    submit(phone, "main form button[type=submit]")
    expect(phone.locator(".govuk-error-summary")).to_contain_text("did we listen to you?")
    check_page(phone, "feedback with errors, on a phone", widths=(PHONE,))
    for name, value in [
        ("listened", "yes"), ("told_once", "no"), ("have_a_say", "a_bit"), ("right_help", "yes")
    ]:  # fmt: skip
        phone.check(f"input[name={name}][value={value}]")
    phone.fill("#id_better", "Ring me back when you say you will.")
    submit(phone, "main form button[type=submit]")
    expect(phone.locator("h1")).to_contain_text("Thank you")
    check_page(phone, "feedback sent, on a phone", widths=(PHONE,))
    assert FeedbackResponse.objects.get().told_once == "no"
    phone.goto(link)
    expect(phone.locator("main")).to_contain_text("already been used")
