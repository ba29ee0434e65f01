"""A data manager's journey (issue 3): upload a feed, read the import report, confirm a
match in the review queue, and see the merged person's identity view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from onestory.intake.models import MatchPair, SourceRecord
from tests.browser.a11y import check_page
from tests.browser.auth import submit
from tests.conftest import World

pytestmark = pytest.mark.browser

FEED = (
    "source_record_id,given_name,family_name,date_of_birth,nhs_number,postcode\n"
    "NAV-1,Ally,Marsh,1984-03-09,9434765919,NG7 6GR\n"
    "NAV-2,Bob,Hart,1979-01-01,,NFA\n"
    ",Nobody,Here,,,\n"
)


def test_upload_report_review_and_identity(
    signed_in: Callable[[str], Page], live_server: Any, browser_world: World, tmp_path: Path
) -> None:
    page = signed_in("data_manager")
    page.goto(f"{live_server.url}/imports/")
    check_page(page, "imports")
    feed = tmp_path / "navigator-list.csv"
    feed.write_text(FEED)
    page.check("input[name=kind][value=register]")
    page.fill("#id_source", "nav_list")
    page.set_input_files("#id_file", str(feed))
    submit(page)

    # The import report: counts and the row set aside, with its reason.
    expect(page.get_by_role("heading", level=1)).to_have_text("navigator-list.csv")
    expect(page.locator(".govuk-summary-list")).to_contain_text("New records")
    expect(page.locator("main table")).to_contain_text("missing source_record_id")
    expect(page.locator("main table")).to_contain_text("4")  # spreadsheet row number
    check_page(page, "import report")

    # An earlier feed of another partner holds Alice too; the linkage left the pair
    # uncertain, so it waits for review.
    ours = SourceRecord.objects.get(source__name="nav_list", source_record_id="NAV-1")
    other = SourceRecord.objects.create(
        source=_housing_source(browser_world),
        source_record_id="H-77",
        raw={},
        row_hash="x",
        given_name="Alice",
        family_name="Marsh",
        nhs_number="9434765919",
        first_import=ours.first_import,
        last_import=ours.last_import,
        person=browser_world.alice,
    )
    SourceRecord.objects.filter(pk=ours.pk).update(person=browser_world.bob)
    pair = MatchPair.objects.create(
        record_l=ours,
        record_r=other,
        match_probability=0.83,
        status="pending",
        evidence={
            "levels": {
                "nhs_number": {"gamma": 1, "label": "Exact match"},
                "name": {"gamma": 2, "label": "Nickname of the given name"},
            }
        },
    )

    page.goto(f"{live_server.url}/imports/review/")
    check_page(page, "review queue")
    page.get_by_role("link", name="Ally Marsh and Alice Marsh").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are these the same person?")
    expect(page.locator("main")).to_contain_text("Nickname of the given name")
    check_page(page, "review pair")
    page.get_by_role("button", name="Yes, the same person").click()

    # The identity view of the merged person: both records, side by side with sources.
    kept = min(browser_world.alice.pk, browser_world.bob.pk)
    assert page.url.endswith(f"/imports/identity/{kept}/"), page.url
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Match confirmed")
    expect(page.locator("main table")).to_contain_text("NAV-1")
    expect(page.locator("main table")).to_contain_text("H-77")
    check_page(page, "identity view after the merge")
    assert MatchPair.objects.get(pk=pair.pk).status == "confirmed"


def _housing_source(world: World) -> Any:
    from onestory.intake.models import Source

    return Source.objects.create(
        name="housing_feed", kind="housing", organisation=world.housing_org
    )
