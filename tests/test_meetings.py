"""Multi-agency meetings: the host's agenda, what others may see of it, and actions that
reach the owning organisation's caseload."""

from __future__ import annotations

from datetime import date, timedelta

from onestory.access.models import Organisation
from onestory.access.roles import Role
from onestory.casework.models import Allocation
from onestory.meetings.models import Action, AgendaItem, Meeting
from onestory.people.models import Person
from tests.conftest import World, make_user, relate, share, signed_in_client, visible


def _setup(world: World) -> tuple[Meeting, Organisation, object]:
    Allocation.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        worker=world.user("navigator"),
        kind="lead",
        started_on=date.today(),  # noqa: DTZ011
        allocated_by=world.user("manager"),
    )
    probation = Organisation.objects.create(name="Probation Service", org_type="probation")
    officer = make_user("probation_officer", probation, Role.PRACTITIONER)
    relate(world.alice, probation, kind="team")
    share(world.alice, probation, world.user("navigator"), ["criminal_justice", "case_notes"])
    client = signed_in_client(world.user("navigator"))
    response = client.post(
        "/meetings/",
        {
            "title": "Complex needs panel",
            "held_on": date.today().isoformat(),  # noqa: DTZ011
            "organisations": [probation.pk, world.housing_org.pk],
        },
    )
    meeting = Meeting.objects.get()
    assert response["Location"] == f"/meetings/{meeting.pk}/"
    return meeting, probation, officer


def test_a_meeting_action_reaches_the_owners_caseload(world: World) -> None:
    meeting, probation, officer = _setup(world)
    navigator = signed_in_client(world.user("navigator"))
    navigator.post(f"/meetings/{meeting.pk}/", {"action": "add", "add-person": world.alice.pk})
    item = AgendaItem.objects.get()
    navigator.post(
        f"/meetings/{meeting.pk}/",
        {
            "action": "record",
            "item": item.pk,
            f"item{item.pk}-discussion": "Missed two appointments after the eviction",
            f"item{item.pk}-decisions": "Probation to move appointments to the hub",
            f"item{item.pk}-based_on_version": 1,
        },
    )
    navigator.post(
        f"/meetings/{meeting.pk}/",
        {
            "action": "action",
            "item": item.pk,
            f"action{item.pk}-description": "Move reporting to the Thursday hub",
            f"action{item.pk}-owner_organisation": probation.pk,
            f"action{item.pk}-owner": officer.pk,  # type: ignore[attr-defined]
            f"action{item.pk}-due_on": (date.today() - timedelta(days=1)).isoformat(),  # noqa: DTZ011
        },
    )
    action = Action.objects.get()
    assert action.owner_organisation == probation
    # It is on the probation officer's caseload, flagged overdue, and on Alice's page.
    officer_client = signed_in_client(officer)  # type: ignore[arg-type]
    caseload = officer_client.get("/caseload/").content.decode()
    assert "Move reporting to the Thursday hub" in caseload and "Overdue" in caseload
    assert "Move reporting" in officer_client.get(f"/people/{world.alice.pk}/").content.decode()
    # Probation took part, sees the discussion (case notes are shared with it)...
    page = officer_client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "Missed two appointments" in page
    # ...and only probation can mark its action done.
    response = navigator.post(f"/actions/{action.pk}/", {"status": "done", "based_on_version": 1})
    assert response.status_code == 404
    response = officer_client.post(
        f"/actions/{action.pk}/", {"status": "done", "based_on_version": 1}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.completed_on == date.today()  # noqa: DTZ011


def test_what_was_said_is_shown_only_to_who_may_see_it(world: World) -> None:
    meeting, _, _ = _setup(world)
    navigator = signed_in_client(world.user("navigator"))
    navigator.post(f"/meetings/{meeting.pk}/", {"action": "add", "add-person": world.alice.pk})
    item = AgendaItem.objects.get()
    AgendaItem.objects.filter(pk=item.pk).update(discussion="Talked about her dad")
    # Housing took part but case notes are not shared with it.
    housing = signed_in_client(world.user("practitioner")).get(f"/meetings/{meeting.pk}/")
    assert "Talked about her dad" not in housing.content.decode()
    assert "not agreed to share case notes" in housing.content.decode()
    # Someone Housing does not work with at all is only counted.
    stranger = Person.objects.create(given_name="Zed", family_name="Unknown")
    relate(stranger, world.nav_org)
    share(stranger, world.nav_org, world.user("navigator"))
    AgendaItem.objects.create(meeting=meeting, person=stranger, added_by=world.user("navigator"))
    page = signed_in_client(world.user("practitioner")).get(f"/meetings/{meeting.pk}/")
    assert "Zed" not in visible(page.content)
    assert "1 other person was discussed" in page.content.decode()
    # The police took no part: not found.
    assert (
        signed_in_client(world.user("outsider")).get(f"/meetings/{meeting.pk}/").status_code == 404
    )


def test_only_the_host_changes_the_agenda(world: World) -> None:
    meeting, _, officer = _setup(world)
    response = signed_in_client(officer).post(  # type: ignore[arg-type]
        f"/meetings/{meeting.pk}/", {"action": "add", "add-person": world.alice.pk}
    )
    assert response.status_code == 403
    assert not AgendaItem.objects.exists()


def test_the_closing_review_can_be_held_at_the_meeting(world: World) -> None:
    from onestory.casework.models import Review

    meeting, _, _ = _setup(world)
    navigator = signed_in_client(world.user("navigator"))
    navigator.post(f"/meetings/{meeting.pk}/", {"action": "add", "add-person": world.alice.pk})
    item = AgendaItem.objects.get()
    AgendaItem.objects.filter(pk=item.pk).update(decisions="She has said no for now; door open")
    navigator.post(f"/meetings/{meeting.pk}/", {"action": "review", "item": item.pk})
    review = Review.objects.get(person=world.alice, kind="engagement")
    assert review.held_on == meeting.held_on
    assert set(review.organisations.all()) == set(meeting.organisations.all())
    # The manager may now close support as declined.
    response = signed_in_client(world.user("manager")).post(
        f"/people/{world.alice.pk}/close/",
        {"reason": "declined_after_review", "closed_on": date.today().isoformat()},  # noqa: DTZ011
    )
    assert response.status_code == 302
