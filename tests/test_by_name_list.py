"""The by-name list: the cohort by name for lead navigation organisations (identification
before consent), minimal fields only, and allocation from it creating the relationship."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from onestory.audit.models import AuditEvent
from onestory.casework.models import Allocation
from onestory.intake.models import ImportRun, Source, SourceRecord
from onestory.people.models import Person, Relationship
from tests.conftest import World, signed_in_client, visible


def _in_cohort(world: World, person: Person) -> None:
    """Feed records showing three domains and two A&E visits in the last year."""
    today = timezone.localdate()
    for kind, event_type in [
        ("housing", "relief_duty"),
        ("substance", "treatment_start"),
        ("police", "arrest"),
        ("ed", "attendance"),
        ("ed", "attendance"),
    ]:
        source, _ = Source.objects.get_or_create(
            name=f"{kind}_feed", defaults={"kind": kind, "organisation": world.housing_org}
        )
        run = ImportRun.objects.create(source=source, file_name="f.csv", started_at=timezone.now())
        SourceRecord.objects.create(
            source=source,
            source_record_id=f"{kind}-{SourceRecord.objects.count()}",
            raw={},
            row_hash="x",
            event_type=event_type,
            event_date=today - timedelta(days=30),
            person=person,
            first_import=run,
            last_import=run,
        )


def test_lead_navigators_see_the_cohort_and_allocate_from_it(world: World) -> None:
    _in_cohort(world, world.bob)
    navigator = signed_in_client(world.user("navigator"))
    page = navigator.get("/by-name-list/").content.decode()
    assert "Bob Hart" in page
    assert "Criminal justice" in page and "Homelessness" in page
    assert "Alice" not in page  # not in the cohort
    # Minimal fields only: nothing from Bob's record beyond them.
    assert "1979" not in visible(page)  # the age is shown, not the date of birth
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and world.bob.pk in event.person_ids
    assert event.basis == "identification"
    # Allocating creates the caseload relationship.
    response = navigator.post("/by-name-list/", {"person": world.bob.pk})
    assert response.status_code == 302
    assert Allocation.objects.get(person=world.bob).worker == world.user("navigator")
    assert Relationship.objects.filter(
        person=world.bob, organisation=world.nav_org, kind="caseload"
    ).exists()
    navigator.get("/by-name-list/")  # the success message, shown once
    page = navigator.get("/by-name-list/?show=unallocated").content.decode()
    assert "Bob Hart" not in page


def test_other_organisations_see_nobody(world: World) -> None:
    _in_cohort(world, world.bob)
    police = signed_in_client(world.user("outsider"))
    page = police.get("/by-name-list/").content.decode()
    assert "Bob Hart" not in page and "not one of them" in page
    response = police.post("/by-name-list/", {"person": world.bob.pk})
    assert response.status_code == 404
    assert not Allocation.objects.exists()
    assert signed_in_client(world.user("analyst")).get("/by-name-list/").status_code == 403
