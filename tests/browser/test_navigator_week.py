"""A navigator's week with Alice (issue 4), in a real browser: allocate her, log two
failed and one successful contact, edit About me with her, set two goals with steps for two
organisations, record a safety marker and schedule a review. Every page is checked with
axe-core at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from onestory.casework.models import Allocation, Contact, Goal, Review, SafetyMarker, Step
from onestory.people.models import AboutMe
from tests.browser.a11y import check_page
from tests.browser.auth import submit
from tests.conftest import World

pytestmark = pytest.mark.browser


def _success(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def test_a_week_with_alice(
    signed_in: Callable[[str], Page], live_server: Any, browser_world: World
) -> None:
    world = browser_world
    today = timezone.localdate()
    page = signed_in("navigator")
    base = live_server.url

    # Monday: Alice is not on anyone's caseload yet. The navigator takes her on.
    page.goto(f"{base}/people/{world.alice.pk}/")
    expect(page.locator("#support-heading + dl")).to_contain_text("Nobody is allocated")
    page.get_by_role("link", name="Allocate a worker").click()
    check_page(page, "allocate")
    page.check("input[name=kind][value=lead]")
    submit(page)
    _success(page, "Allocation saved")
    allocation = Allocation.objects.get(person=world.alice, ended_on__isnull=True)
    assert allocation.worker == world.user("navigator")
    check_page(page, "person page, allocated")

    # Two attempts to find her fail; on Thursday they meet at the day centre.
    page.get_by_role("link", name="Contacts").first.click()
    check_page(page, "contacts")
    for days_ago, method, seen, where in (
        (4, "outreach", "no", "Old Market Square"),
        (3, "text", "no", ""),
        (1, "in_person", "yes", "Day centre"),
    ):
        page.fill("#id_occurred_on", (today - timedelta(days=days_ago)).isoformat())
        page.check(f"input[name=method][value={method}]")
        page.check(f"input[name=successful][value={seen}]")
        page.fill("#id_where", where)
        page.fill("#id_note", "Talked about the flat" if seen == "yes" else "")
        submit(page, "main form[method=post] button[type=submit]")
        _success(page, "Contact recorded")
    assert Contact.objects.filter(person=world.alice).count() == 3
    expect(page.locator("main")).to_contain_text("Last seen or spoken with on")
    expect(page.locator(".onestory-log__item")).to_have_count(3)
    check_page(page, "contacts, after three")

    # About me, edited with her, in her words.
    page.goto(f"{base}/people/{world.alice.pk}/about-me/")
    page.fill("#id_what_matters", "Pepper, my sister Jo, and a flat near the park.")
    page.check("#id_person_agreed_wording")
    submit(page)
    _success(page, "About me saved")
    assert AboutMe.objects.filter(person=world.alice).count() == 2

    # Two goals, each with a step for a different organisation in her team.
    page.get_by_role("link", name="Support plan").first.click()
    check_page(page, "support plan, empty")
    goals = (
        ("Get my own flat, somewhere Pepper can come", "Housing assessment", world.housing_org),
        ("Sort out my ID so I can open a bank account", "Birth certificate", world.nav_org),
    )
    for words, step, organisation in goals:
        page.get_by_role("link", name="Set a goal").click()
        check_page(page, "set a goal")
        page.fill("#id_in_their_words", words)
        page.fill("#id_target_on", (today + timedelta(days=120)).isoformat())
        submit(page)
        _success(page, "Goal set")
        check_page(page, "goal, before steps")
        page.fill("#id_step-description", step)
        page.select_option("#id_step-organisation", str(organisation.pk))
        page.fill("#id_step-helper", "Named worker")
        page.locator("form:has(input[name=action][value=step]) button[type=submit]").click()
        page.wait_for_load_state()
        _success(page, "Step added")
        expect(page.locator("main table")).to_contain_text(organisation.name)
        check_page(page, "goal, with a step")
        page.get_by_role("link", name="Back to the support plan").click()
    assert Goal.objects.filter(person=world.alice).count() == 2
    assert set(Step.objects.values_list("organisation", flat=True)) == {
        world.housing_org.pk,
        world.nav_org.pk,
    }
    check_page(page, "support plan, two goals")

    # A safety marker, shown before any visit.
    page.get_by_role("link", name="Safety").first.click()
    check_page(page, "safety")
    page.check("input[name=kind][value=lone_working]")
    page.fill("#id_detail", "Her ex-partner visits the hostel: meet in pairs, in public.")
    submit(page, "main form[method=post] button[type=submit]")
    _success(page, "Safety marker recorded")
    assert SafetyMarker.objects.filter(person=world.alice).count() == 1
    expect(page.locator(".onestory-safety")).to_contain_text("Do not visit alone")
    check_page(page, "safety, with a marker")

    # A review in four weeks.
    page.goto(f"{base}/people/{world.alice.pk}/reviews/new/")
    check_page(page, "schedule a review")
    page.check("input[name=kind][value=plan]")
    review_on = today + timedelta(days=28)
    page.fill("#id_due_on", review_on.isoformat())
    submit(page)
    _success(page, "Review scheduled")
    assert Review.objects.get(person=world.alice).due_on == review_on

    # Friday: My caseload shows it all at a glance.
    page.get_by_role("link", name="My caseload").click()
    row = page.locator("main table tbody tr", has_text="Alice")
    expect(row).to_contain_text("1 day ago")
    expect(row).to_contain_text(review_on.strftime("%-d %b %Y"))
    expect(row).to_contain_text("Do not visit alone")
    expect(row).to_contain_text("Birth certificate")  # her own organisation's open action
    check_page(page, "my caseload")
