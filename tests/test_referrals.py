"""Referrals (a sharing basis to send; acceptance creates the relationship; declining or
closing leaves no access; exactly one of two simultaneous answers wins) and alerts to lead
workers at the end of an import."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections

from onestory.access.context import AccessContext
from onestory.access.models import Organisation
from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.audit.services import audited_command
from onestory.casework.models import Allocation
from onestory.intake.linking import link_everything
from onestory.intake.models import SourceRecord
from onestory.intake.services import feed_import
from onestory.people.models import Relationship, TimelineEvent
from onestory.referrals.models import Alert, Referral
from onestory.referrals.services import AlreadyDecided, referral_decide, working_days_after
from onestory_engine.synthetic import generate_city, write_feeds
from tests.conftest import World, make_user, share, signed_in_client


def _recovery(world: World) -> tuple[Organisation, Any]:
    """A drug and alcohol service Alice agreed to share with, with no relationship yet."""
    org = Organisation.objects.create(name="Recovery Service", org_type="drug_alcohol")
    worker = make_user("recovery_worker", org, Role.PRACTITIONER)
    worker.email = "worker@recovery.example"
    worker.save()
    share(world.alice, org, world.user("navigator"), ["substance_misuse", "about_me"])
    return org, worker


def _refer(world: World, org: Organisation, **extra: Any) -> Any:
    return signed_in_client(world.user("navigator")).post(
        f"/people/{world.alice.pk}/refer/",
        {
            "to_organisation": org.pk,
            "reason": "Using heroin daily; wants to stop",
            "what_they_want": "A script and someone to talk to",
            **extra,
        },
    )


def test_a_referral_needs_a_sharing_basis(world: World) -> None:
    # Alice has shared nothing with the police: they are not offered, and refused if forced.
    response = _refer(world, world.police_org)
    assert response.status_code == 200
    assert not Referral.objects.exists()
    org, _ = _recovery(world)
    response = _refer(world, org)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.respond_by == working_days_after(date.today(), 5)  # noqa: DTZ011
    assert referral.respond_by.weekday() < 5
    # A second open referral to the same place is refused.
    assert "already an open referral" in _refer(world, org).content.decode()


def test_duty_to_refer_goes_to_council_housing(world: World) -> None:
    org, _ = _recovery(world)
    response = _refer(world, org, duty_to_refer="on")
    assert "housing service" in response.content.decode()
    assert not Referral.objects.exists()
    response = _refer(world, world.housing_org, duty_to_refer="on")
    assert response.status_code == 302
    assert Referral.objects.get().duty_to_refer


def test_acceptance_opens_the_record_and_closing_ends_it(world: World) -> None:
    org, worker = _recovery(world)
    _refer(world, org)
    referral = Referral.objects.get()
    receiver = signed_in_client(worker)
    # Before accepting: the referral (name, date of birth, what it says), not the record.
    assert receiver.get(f"/people/{world.alice.pk}/").status_code == 404
    page = receiver.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Alice Marsh" in page and "wants to stop" in page
    assert "12 Forest Road" not in page and "Arrest" not in page
    assert "Alice Marsh" in receiver.get("/referrals/").content.decode()
    response = receiver.post(
        f"/referrals/{referral.pk}/",
        {"action": "decide", "decision": "accept", "based_on_version": 1},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.relationship is not None
    # Now they are in the team and see what Alice shared with them, and no more.
    page = receiver.get(f"/people/{world.alice.pk}/").content.decode()
    assert "Recovery Service" in page
    assert "12 Forest Road" not in page  # contact details were not shared with them
    nav_page = signed_in_client(world.user("navigator")).get(f"/people/{world.alice.pk}/")
    assert "Recovery Service" in nav_page.content.decode()
    # Closing the referral ends the relationship, and with it their access.
    receiver.post(f"/referrals/{referral.pk}/", {"action": "end"})
    referral.refresh_from_db()
    assert referral.status == "closed"
    assert receiver.get(f"/people/{world.alice.pk}/").status_code == 404
    # Every step was audited with Alice's id.
    actions = (
        " ".join(
            AuditEvent.objects.filter(person_ids__contains=[world.alice.pk]).values_list(
                "action", flat=True
            )
        )
        if connection.vendor == "postgresql"
        else " ".join(e.action for e in AuditEvent.objects.all() if world.alice.pk in e.person_ids)
    )
    for action in ("referral.send", "referral.view", "referral.accept", "referral.closed"):
        assert action in actions


def test_declining_leaves_no_access_and_asks_for_a_reason(world: World) -> None:
    org, worker = _recovery(world)
    _refer(world, org)
    referral = Referral.objects.get()
    receiver = signed_in_client(worker)
    response = receiver.post(
        f"/referrals/{referral.pk}/",
        {"action": "decide", "decision": "decline", "based_on_version": 1},
    )
    assert "Choose why you are declining" in response.content.decode()
    response = receiver.post(
        f"/referrals/{referral.pk}/",
        {
            "action": "decide",
            "decision": "decline",
            "decline_reason": "no_capacity",
            "note": "Waiting list closed until March",
            "based_on_version": 1,
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "declined" and referral.decline_reason == "no_capacity"
    assert not Relationship.objects.filter(organisation=org).exists()
    assert receiver.get(f"/people/{world.alice.pk}/").status_code == 404
    sender_page = signed_in_client(world.user("navigator")).get(f"/referrals/{referral.pk}/")
    assert "No capacity at the moment" in sender_page.content.decode()


def test_asking_for_more_and_replying(world: World) -> None:
    org, worker = _recovery(world)
    _refer(world, org)
    referral = Referral.objects.get()
    receiver = signed_in_client(worker)
    receiver.post(
        f"/referrals/{referral.pk}/",
        {"action": "decide", "decision": "more_info", "note": "GP?", "based_on_version": 1},
    )
    referral.refresh_from_db()
    assert referral.status == "more_info"
    navigator = signed_in_client(world.user("navigator"))
    navigator.post(f"/referrals/{referral.pk}/", {"action": "reply", "text": "Dr Singh, NG7"})
    referral.refresh_from_db()
    assert referral.status == "sent"
    page = receiver.get(f"/referrals/{referral.pk}/").content.decode()
    assert "GP?" in page and "Dr Singh" in page
    # The sender cannot answer their own referral.
    response = navigator.post(
        f"/referrals/{referral.pk}/",
        {"action": "decide", "decision": "accept", "based_on_version": referral.version},
    )
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "sent"


def test_overdue_referrals_are_flagged(world: World) -> None:
    org, worker = _recovery(world)
    _refer(world, org)
    Referral.objects.update(respond_by=date.today() - timedelta(days=1))  # noqa: DTZ011
    assert "Overdue" in signed_in_client(worker).get("/referrals/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_accept_at_once_exactly_one_wins(world: World) -> None:
    """Two practitioners accept the same referral at the same moment on two real
    connections, 100 times: exactly one succeeds each time, the other is told clearly."""
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("needs two real connections (PostgreSQL, or SQLite on disk)")
    org, first = _recovery(world)
    second = make_user("recovery_second", org, Role.PRACTITIONER)
    contexts = [
        AccessContext(user=u, membership=u.memberships.select_related("organisation").get())
        for u in (first, second)
    ]
    for round_ in range(100):
        referral = Referral.objects.create(
            person=world.alice,
            from_organisation=world.nav_org,
            sent_by=world.user("navigator"),
            to_organisation=org,
            reason=f"round {round_}",
            what_they_want="help",
            respond_by=date.today(),  # noqa: DTZ011
        )
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        messages: list[str] = []

        def accept(
            ctx: AccessContext,
            referral: Referral = referral,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
            messages: list[str] = messages,
        ) -> None:
            try:
                barrier.wait()
                with audited_command("test"):
                    referral_decide(
                        actor=ctx, referral=referral, decision="accept", based_on_version=1
                    )
                outcomes.append("accepted")
            except AlreadyDecided as exc:
                messages.append(str(exc))
                outcomes.append("refused")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=accept, args=(c,)) for c in contexts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["accepted", "refused"], (round_, outcomes)
        assert "already answered" in messages[0]
        assert Relationship.objects.filter(organisation=org, kind="referral").count() == round_ + 1
        Referral.objects.filter(pk=referral.pk).update(status="closed")


# --- alerts


ED_FEED = (
    "source_record_id,given_name,family_name,date_of_birth,nhs_number,event_type,event_date,"
    "arrival_mode\nED-1,Alice,Marsh,1984-03-09,9434765919,attendance,{day},ambulance\n"
)


def _index_with_alice(world: World, tmp_path: Path, settings: Any) -> None:
    """A trained linkage model and an index in which Alice's register record is hers."""
    settings.DATA_DIR = tmp_path / "data"
    city = generate_city(150, seed=4242, as_of=date.today())  # noqa: DTZ011
    register = tmp_path / "register.csv"
    register.write_text(
        "source_record_id,given_name,family_name,date_of_birth,nhs_number\n"
        "R-ALICE,Alice,Marsh,1984-03-09,9434765919\n"
    )
    with audited_command("test") as ctx:
        for f in write_feeds(city, tmp_path / "feeds"):
            feed_import(
                actor=ctx.actor,
                kind=f.kind,
                path=f.path,
                source_name=f.source,
                organisation_name=f.organisation_name,
            )
        feed_import(
            actor=ctx.actor,
            kind="register",
            path=register,
            source_name="nav_register",
            organisation_name=world.nav_org.name,
        )
        SourceRecord.objects.filter(source_record_id="R-ALICE").update(person=world.alice)
        link_everything(actor=ctx.actor)
    assert SourceRecord.objects.get(source_record_id="R-ALICE").person_id == world.alice.pk


def test_an_imported_ae_attendance_alerts_the_lead_worker(
    world: World, tmp_path: Path, settings: Any
) -> None:
    """Once a linkage model exists, an import links new records at once and the lead
    worker hears about an A&E attendance in the app and by email, by the end of it."""
    Allocation.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        worker=world.user("navigator"),
        kind="lead",
        started_on=date.today(),  # noqa: DTZ011
        allocated_by=world.user("manager"),
    )
    navigator = world.user("navigator")
    navigator.email = "navigator@example.org"
    navigator.save()
    _index_with_alice(world, tmp_path, settings)
    feed = tmp_path / "ed.csv"
    feed.write_text(ED_FEED.format(day=date.today().isoformat()))  # noqa: DTZ011
    with audited_command("import") as ctx:
        feed_import(actor=ctx.actor, kind="ed", path=feed, source_name="city_ed")
    event = TimelineEvent.objects.get(source_record__source_record_id="ED-1")
    assert event.person_id == world.alice.pk
    alert = Alert.objects.get(user=navigator)
    assert alert.event == event and alert.emailed
    assert len(mail.outbox) == 1
    assert "Alice" not in mail.outbox[0].body  # no personal data by email
    client = signed_in_client(navigator)
    page = client.get("/alerts/").content.decode()
    assert "Alice Marsh" in page and "Attendance" in page
    client.post("/alerts/")
    alert.refresh_from_db()
    assert alert.read_at is not None
    # The same file again raises nothing new.
    with audited_command("import") as ctx:
        feed_import(actor=ctx.actor, kind="ed", path=feed, source_name="city_ed")
    assert Alert.objects.count() == 1


def test_no_alert_without_a_lead_worker(world: World, tmp_path: Path, settings: Any) -> None:

    _index_with_alice(world, tmp_path, settings)
    feed = tmp_path / "ed.csv"
    feed.write_text(ED_FEED.format(day=date.today().isoformat()))  # noqa: DTZ011
    with audited_command("import") as ctx:
        feed_import(actor=ctx.actor, kind="ed", path=feed, source_name="city_ed")
    assert not Alert.objects.exists()


def test_a_worker_recording_an_arrest_alerts_the_lead_worker(world: World) -> None:
    Allocation.objects.create(
        person=world.alice,
        organisation=world.nav_org,
        worker=world.user("navigator"),
        kind="lead",
        started_on=date.today(),  # noqa: DTZ011
        allocated_by=world.user("manager"),
    )
    manager = signed_in_client(world.user("manager"))
    response = manager.post(
        f"/people/{world.alice.pk}/events/new/",
        {"event_type": "arrest", "occurred_on": date.today().isoformat(), "summary": "Shoplifting"},  # noqa: DTZ011
    )
    assert response.status_code == 302
    event = TimelineEvent.objects.get(summary="Shoplifting")
    assert event.category == "criminal_justice" and event.source == "recorded"
    assert Alert.objects.get().user == world.user("navigator")
    # The housing practitioner cannot record a justice event (not shared with them).
    before = TimelineEvent.objects.count()
    response = signed_in_client(world.user("practitioner")).post(
        f"/people/{world.alice.pk}/events/new/",
        {"event_type": "arrest", "occurred_on": date.today().isoformat()},  # noqa: DTZ011
    )
    assert response.status_code == 200
    assert TimelineEvent.objects.count() == before
