"""The service directory: searched and filtered by what bends to fit people; each
organisation's managers keep their own entries."""

from __future__ import annotations

from onestory.access.models import Service
from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from tests.conftest import World, make_user, signed_in_client


def test_managers_keep_entries_and_everyone_can_filter(world: World) -> None:
    manager = signed_in_client(world.user("manager"))
    response = manager.post(
        "/directory/new/",
        {
            "name": "Hostel with kennels",
            "description": "Beds for people with dogs",
            "accepts_dogs": "on",
            "no_id_needed": "on",
            "hours": "24 hours",
            "is_active": "on",
        },
    )
    service = Service.objects.get(name="Hostel with kennels")
    assert response["Location"] == f"/directory/{service.pk}/"
    assert service.organisation == world.nav_org
    assert AuditEvent.objects.filter(action__contains="directory.create").exists()
    Service.objects.create(organisation=world.housing_org, name="Housing advice", drop_in=True)
    navigator = signed_in_client(world.user("navigator"))
    page = navigator.get("/directory/?needs=accepts_dogs").content.decode()
    assert "Hostel with kennels" in page and "Housing advice" not in page
    page = navigator.get("/directory/?needs=drop_in").content.decode()
    assert "Housing advice" in page and "Hostel with kennels" not in page
    page = navigator.get("/directory/?q=kennels").content.decode()
    assert "Hostel with kennels" in page
    page = navigator.get("/directory/?org_type=council_housing").content.decode()
    assert "Housing advice" in page and "Hostel with kennels" not in page
    # Another organisation's manager cannot edit it.
    other = make_user("housing_boss", world.housing_org, Role.MANAGER)
    response = signed_in_client(other).post(
        f"/directory/{service.pk}/edit/", {"name": "Taken over", "is_active": "on"}
    )
    assert response.status_code == 404
    service.refresh_from_db()
    assert service.name == "Hostel with kennels"
