"""Services around the person (issue 5), in a real browser: a navigator refers Alice to a
housing service, its worker accepts and both appear in her team; a meeting creates an
action for probation that appears on its caseload; an imported A&E attendance alerts her
lead worker. axe-core on every page, at desktop and phone widths."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from onestory.access.models import Organisation
from onestory.access.roles import Role
from onestory.audit.services import audited_command
from onestory.casework.models import Allocation
from onestory.intake.services import feed_import
from onestory.meetings.models import Action
from onestory.referrals.models import Alert, Referral
from tests.browser.a11y import check_page
from tests.browser.auth import SECRETS, sign_in, submit
from tests.browser.conftest import BrowserProblems
from tests.conftest import TOTP_SECRETS, World, make_user, relate, share
from tests.test_referrals import ED_FEED, _index_with_alice

pytestmark = pytest.mark.browser


def _page_for(browser: Browser, live_server: Any, username: str) -> Page:
    """A separate browser context, signed in as ``username`` through the real forms."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.problems = BrowserProblems(page)  # type: ignore[attr-defined]
    page.set_default_timeout(10_000)
    SECRETS[username] = TOTP_SECRETS[username]
    sign_in(page, live_server, username)
    return page


def test_referral_meeting_action_and_alert(
    browser: Browser,
    live_server: Any,
    browser_world: World,
    tmp_path: Path,
    settings: Any,
) -> None:
    world = browser_world
    base = live_server.url
    housing = Organisation.objects.create(name="Housing Options", org_type="council_housing")
    housing_worker = make_user("housing_options_worker", housing, Role.PRACTITIONER)
    share(world.alice, housing, world.user("navigator"), ["homelessness", "about_me"])
    probation = Organisation.objects.create(name="Probation Service", org_type="probation")
    officer = make_user("probation_officer", probation, Role.PRACTITIONER)
    relate(world.alice, probation, kind="team")
    share(world.alice, probation, world.user("navigator"), ["criminal_justice", "case_notes"])
    Allocation.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        worker=world.user("navigator"),
        kind="lead",
        started_on=date.today() - timedelta(days=30),  # noqa: DTZ011
        allocated_by=world.user("manager"),
    )
    navigator = _page_for(browser, live_server, world.user("navigator").username)

    # The navigator refers Alice to Housing Options, with what she wants in her words.
    navigator.goto(f"{base}/people/{world.alice.pk}/")
    navigator.get_by_role("link", name="Make a referral").click()
    check_page(navigator, "make a referral")
    navigator.select_option("#id_to_organisation", label="Housing Options")
    navigator.fill("#id_reason", "Sleeping in a tent by the canal since the eviction.")
    navigator.fill("#id_what_they_want", "Somewhere I can keep Pepper.")
    submit(navigator)
    expect(navigator.locator(".govuk-notification-banner--success")).to_contain_text(
        "Referral sent to Housing Options"
    )
    check_page(navigator, "referral, sent")
    referral = Referral.objects.get()

    # Housing Options' worker finds it in the inbox and accepts.
    worker = _page_for(browser, live_server, housing_worker.username)
    worker.get_by_role("link", name="Referrals").first.click()
    check_page(worker, "referrals inbox")
    worker.get_by_role("link", name="Alice Marsh").click()
    check_page(worker, "a referral, to answer")
    worker.check("input[name=decision][value=accept]")
    submit(worker, "main form:has(input[name=action][value=decide]) button[type=submit]")
    referral.refresh_from_db()
    assert referral.status == "accepted"
    worker.goto(f"{base}/people/{world.alice.pk}/")
    team = worker.locator("#team-heading + table")
    expect(team).to_contain_text("Housing Options")
    expect(team).to_contain_text(world.nav_org.name)
    check_page(worker, "Alice's page, for Housing Options")
    navigator.goto(f"{base}/people/{world.alice.pk}/")
    expect(navigator.locator("#team-heading + table")).to_contain_text("Housing Options")

    # A multi-agency meeting: Alice on the agenda, an action for probation.
    navigator.get_by_role("link", name="Meetings").first.click()
    check_page(navigator, "meetings")
    navigator.fill("#id_title", "Complex needs panel")
    navigator.check(f"input[name=organisations][value='{probation.pk}']")
    submit(navigator, "main form[method=post] button[type=submit]")
    navigator.select_option("#id_add-person", label="Alice Marsh")
    submit(navigator, "main form:has(input[name=action][value=add]) button[type=submit]")
    check_page(navigator, "a meeting, Alice on the agenda")
    navigator.locator("summary", has_text="Add an action").click()
    card = navigator.locator("section.govuk-summary-card", has_text="Alice Marsh")
    card.locator("input[name$=-description]").fill("Move reporting to the Thursday hub")
    card.locator("select[name$=-owner_organisation]").select_option(label="Probation Service")
    card.locator("input[name$=-due_on]").fill(
        (date.today() + timedelta(days=7)).isoformat()  # noqa: DTZ011
    )
    with navigator.expect_navigation():
        card.locator("form:has(input[name=action][value=action]) button").click()
    expect(navigator.locator(".govuk-notification-banner--success")).to_contain_text("Action added")
    assert Action.objects.get().owner_organisation == probation
    check_page(navigator, "a meeting, with an action")

    # It is on probation's caseload.
    probation_page = _page_for(browser, live_server, officer.username)
    expect(probation_page.locator("main")).to_contain_text("Move reporting to the Thursday hub")
    check_page(probation_page, "probation's caseload, with the action")
    probation_page.get_by_role("link", name="Actions").first.click()
    check_page(probation_page, "actions for probation")

    # An A&E attendance arrives in a feed: the lead worker is alerted by the end of it.
    _index_with_alice(world, tmp_path, settings)
    feed = tmp_path / "ed.csv"
    feed.write_text(ED_FEED.format(day=date.today().isoformat()))  # noqa: DTZ011
    with audited_command("import") as ctx:
        feed_import(actor=ctx.actor, kind="ed", path=feed, source_name="city_ed")
    assert Alert.objects.filter(user=world.user("navigator")).count() == 1
    navigator.get_by_role("link", name="Alerts").first.click()
    expect(navigator.locator("main table")).to_contain_text("Attendance")
    expect(navigator.locator("main table")).to_contain_text("Alice Marsh")
    check_page(navigator, "alerts")
