"""The barrier log and the system change board (issue 7): a worker logs a barrier from a
declined referral; the board, which never sees who it happened to, assigns it; the owning
organisation answers and resolves it; nobody overwrites anybody; the audit sees it all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.referrals.models import Referral
from onestory.voice.models import Barrier, BarrierPerson, BarrierUpdate
from tests.conftest import World, make_user, signed_in_client


def _declined(world: World) -> Referral:
    return Referral.objects.create(
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


def _log(world: World, referral: Referral) -> Barrier:
    client = signed_in_client(world.user("navigator"))
    page = client.get(f"/barriers/new/?referral={referral.pk}").content.decode()
    assert "declined: does not meet our eligibility criteria" in page
    assert "Alice" in page  # the worker sees who it will be linked to
    response = client.post(
        f"/barriers/new/?referral={referral.pk}",
        {
            "what_happened": "Turned away: no local connection, though she has slept here for "
            "a year.",
            "category": "eligibility",
            "service_or_rule": "Housing register: 2 years' local connection",
            "impact": "stopped",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    barrier = Barrier.objects.get()
    assert response["Location"] == f"/barriers/{barrier.pk}/"
    return barrier


def test_a_declined_referral_becomes_a_barrier_the_board_assigns_and_housing_resolves(
    world: World,
) -> None:
    referral = _declined(world)
    detail = signed_in_client(world.user("navigator")).get(f"/referrals/{referral.pk}/")
    assert f"/barriers/new/?referral={referral.pk}" in detail.content.decode()
    barrier = _log(world, referral)
    assert barrier.from_declined_referral and barrier.raised_by == world.user("navigator")
    assert BarrierPerson.objects.get(barrier=barrier).person == world.alice
    event = AuditEvent.objects.filter(action__contains="barrier.raise").get()
    assert event.person_ids == [world.alice.pk]

    board = signed_in_client(world.user("board_member"))
    listing = board.get("/barriers/").content.decode()
    assert f"Barrier {barrier.pk}" in listing and "Waiting for triage" in listing
    page = board.get(f"/barriers/{barrier.pk}/").content.decode()
    assert "Alice" not in page and "Who it happened to" not in page
    assert "Alice" not in listing
    response = board.post(
        f"/barriers/{barrier.pk}/",
        {
            "action": "assign",
            "assign-owner": world.housing_org.pk,
            "assign-note": "Please review the local connection rule for rough sleepers.",
            "assign-based_on_version": barrier.version,
        },
    )
    assert response.status_code == 302
    barrier.refresh_from_db()
    assert barrier.owner == world.housing_org and barrier.status == Barrier.Status.ASSIGNED

    housing = signed_in_client(make_user("manager_housing", world.housing_org, Role.MANAGER))
    assert f"Barrier {barrier.pk}" in housing.get("/barriers/").content.decode()
    page = housing.get(f"/barriers/{barrier.pk}/").content.decode()
    assert "Your organisation's answer" in page
    for kind, text in [
        ("response", "We will waive local connection for verified rough sleepers."),
        ("resolved", "Policy changed on 1 March: verified rough sleepers join the register."),
    ]:
        response = housing.post(
            f"/barriers/{barrier.pk}/",
            {
                "action": "respond",
                "respond-kind": kind,
                "respond-text": text,
                "respond-based_on_version": Barrier.objects.get().version,
            },
        )
        assert response.status_code == 302
    barrier.refresh_from_db()
    assert barrier.status == Barrier.Status.RESOLVED and barrier.resolved_on == date.today()  # noqa: DTZ011
    kinds = list(barrier.updates.values_list("kind", flat=True))
    assert kinds == ["raised", "assigned", "response", "resolved"]

    # The worker who raised it follows it, and sees who it was about.
    mine = signed_in_client(world.user("navigator")).get(f"/barriers/{barrier.pk}/")
    text = mine.content.decode()
    assert "Resolved" in text and "Policy changed on 1 March" in text and "Alice" in text


def test_who_may_do_what(world: World) -> None:
    barrier = _log(world, _declined(world))
    board = signed_in_client(world.user("board_member"))
    # The board cannot answer for an organisation; a worker cannot triage.
    assert (
        board.post(
            f"/barriers/{barrier.pk}/",
            {"action": "respond", "respond-kind": "response", "respond-text": "x",
             "respond-based_on_version": 1},
        ).status_code
        == 403
    )  # fmt: skip
    navigator = signed_in_client(world.user("navigator"))
    assert (
        navigator.post(
            f"/barriers/{barrier.pk}/",
            {"action": "assign", "assign-owner": world.police_org.pk, "assign-based_on_version": 1},
        ).status_code
        == 403
    )
    # Another organisation's worker, an analyst and an administrator do not see it.
    assert (
        signed_in_client(world.user("outsider")).get(f"/barriers/{barrier.pk}/").status_code == 404
    )
    assert signed_in_client(world.user("analyst")).get("/barriers/").status_code == 403
    assert signed_in_client(world.user("administrator")).get("/barriers/").status_code == 403
    # An owner with no relationship with the person sees the barrier but not who it was.
    Barrier.objects.filter(pk=barrier.pk).update(owner=world.police_org, status="assigned")
    police = signed_in_client(make_user("manager_police", world.police_org, Role.MANAGER))
    page = police.get(f"/barriers/{barrier.pk}/").content.decode()
    assert "Your organisation's answer" in page and "Alice" not in page
    # A referral that was not declined prompts nothing.
    other = _declined(world)
    Referral.objects.filter(pk=other.pk).update(status=Referral.Status.ACCEPTED)
    assert navigator.get(f"/barriers/new/?referral={other.pk}").status_code == 404
    # Bad input is refused with the field named, and nothing is stored.
    response = navigator.post("/barriers/new/", {"what_happened": "", "category": "nonsense"})
    page = response.content.decode()
    assert response.status_code == 200 and "Say what happened" in page
    assert "Select a valid choice" in page and Barrier.objects.count() == 1


def test_two_board_members_at_once_never_overwrite_each_other(world: World) -> None:
    barrier = _log(world, _declined(world))
    first = signed_in_client(world.user("board_member"))
    second = signed_in_client(make_user("board_two", world.hub_org, Role.BOARD_MEMBER))
    version = barrier.version
    for client, owner in ((first, world.housing_org), (second, world.police_org)):
        response = client.post(
            f"/barriers/{barrier.pk}/",
            {"action": "assign", "assign-owner": owner.pk, "assign-based_on_version": version},
        )
    assert response.status_code == 200
    assert "Someone else has changed this barrier" in response.content.decode()
    barrier.refresh_from_db()
    assert barrier.owner == world.housing_org
    assert BarrierUpdate.objects.filter(kind="assigned").count() == 1


def test_old_barriers_are_overdue_first_and_can_be_escalated(world: World) -> None:
    barrier = _log(world, _declined(world))
    fresh = Barrier.objects.create(
        what_happened="Appointments only by phone", category="digital", impact="delayed",
        raised_by=world.user("navigator"), raised_by_organisation=world.nav_org,
        raised_on=timezone.localdate(),
    )  # fmt: skip
    Barrier.objects.filter(pk=barrier.pk).update(
        raised_on=timezone.localdate() - timedelta(days=120)
    )
    board = signed_in_client(world.user("board_member"))
    listing = board.get("/barriers/").content.decode()
    assert listing.index(f"Barrier {barrier.pk}<") < listing.index(f"Barrier {fresh.pk}<")
    assert "Overdue" in listing
    only = board.get("/barriers/?status=overdue").content.decode()
    assert f"Barrier {barrier.pk}<" in only and f"Barrier {fresh.pk}<" not in only
    response = board.post(
        f"/barriers/{barrier.pk}/",
        {"action": "escalate", "escalate-text": "Four months without an owner.",
         "escalate-based_on_version": Barrier.objects.get(pk=barrier.pk).version},
    )  # fmt: skip
    assert response.status_code == 302
    assert Barrier.objects.get(pk=barrier.pk).escalated_on == timezone.localdate()
    themes = board.get("/barriers/themes/").content.decode()
    assert "Eligibility rules" in themes and "Digital exclusion" in themes


@pytest.mark.parametrize("role", ["navigator", "manager", "board_member"])
def test_the_board_list_shows_what_each_role_may_see(world: World, role: str) -> None:
    barrier = _log(world, _declined(world))
    page = signed_in_client(world.user(role)).get("/barriers/").content.decode()
    assert f"Barrier {barrier.pk}<" in page
    assert "Alice" not in page
