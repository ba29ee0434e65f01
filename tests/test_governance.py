"""Information governance (issue 9): subject access requests produce everything held about a
person, with their access log, as JSON and PDF, against the one-month deadline; rectification
requests are recorded and decided; the privacy notice is public."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from onestory.audit.models import AuditEvent
from onestory.governance.models import (
    DestructionRecord,
    RectificationRequest,
    SubjectAccessRequest,
)
from onestory.governance.selectors import NOT_DISCLOSED, person_models
from onestory.governance.services import months_after
from onestory.people.models import Person, TimelineEvent
from tests.conftest import World


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (date(2026, 1, 3), 1, date(2026, 2, 3)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 8, 31), 2, date(2026, 10, 31)),
        (date(2026, 3, 31), 3, date(2026, 6, 30)),
    ],
)
def test_a_month_is_the_corresponding_calendar_date(received: date, months: int, due: date) -> None:
    assert months_after(received, months) == due


def _record_sar(client: Any, person: Person, received: date | None = None) -> SubjectAccessRequest:
    received = received or timezone.localdate() - timedelta(days=3)
    response = client.post(
        f"/governance/subject-access/new/?person={person.pk}",
        {
            "received_on": received.isoformat(),
            "requester": "Alice herself, in person at the day centre",
            "identity_checked": "Photo ID seen by her navigator",
        },
    )
    assert response.status_code == 302, response.content
    return SubjectAccessRequest.objects.get(person=person)


def test_a_subject_access_request_produces_everything_with_the_access_log(
    world: World, client_for: Any
) -> None:
    alice = world.alice
    # A navigator reads her record first: that read must be in her access log.
    assert client_for("navigator").get(f"/people/{alice.pk}/").status_code == 200
    # A record that linkage merged into her: its entries are hers too.
    old = Person.objects.create(given_name="Ali", family_name="Marsh", merged_into=alice)
    TimelineEvent.objects.create(
        person=old,
        organisation=world.police_org,
        category="criminal_justice",
        event_type="custody",
        occurred_on=date(2024, 5, 1),
        summary="custody under an old record",
    )
    officer = client_for("privacy_officer")
    found = officer.get("/governance/subject-access/new/?q=marsh")
    assert "Alice Marsh" in found.content.decode()
    assert "Ali Marsh" not in found.content.decode()  # merged records are not separate people
    sar = _record_sar(officer, alice)
    assert sar.due_on == months_after(sar.received_on, 1)

    response = officer.get(f"/governance/subject-access/{sar.pk}/record.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.json"')
    record = json.loads(response.content)
    assert record["identity"]["Nhs number"] == "9434765919"
    assert record["merged_person_ids"] == [old.pk]
    text = json.dumps(record, ensure_ascii=False)
    for held in [
        "My dog Pepper and getting my own flat.",  # About me, in her words
        "crisis_contact note",  # every category of the timeline, from every organisation
        "custody under an old record",  # the merged record's entries
        "Ally",  # the other names she uses
        "consent",  # her sharing decisions
        "Alice herself, in person",  # the request itself
    ]:
        assert held in text, held
    log = record["access_log"]
    assert any(e["Who"] == "navigator_nav" and e["What"] == "person.view" for e in log)

    pdf = officer.get(f"/governance/subject-access/{sar.pk}/record.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sar.refresh_from_db()
    assert sar.status == "produced"

    produced = AuditEvent.objects.filter(action__contains="subject_access.produce")
    assert produced.count() == 2
    assert all(set(e.person_ids) >= {alice.pk, old.pk} for e in produced)
    assert all(e.basis == "subject_access" for e in produced)

    closed = officer.post(
        f"/governance/subject-access/{sar.pk}/",
        {"step": "close", "sent_on": timezone.localdate().isoformat(), "version": sar.version},
    )
    assert closed.status_code == 302
    # Closed: the privacy officer's access to the whole record ends.
    assert officer.get(f"/governance/subject-access/{sar.pk}/record.json").status_code == 404


def test_only_the_privacy_officer_sees_requests_or_records(world: World, client_for: Any) -> None:
    sar = _record_sar(client_for("privacy_officer"), world.alice)
    for persona in ("navigator", "manager", "analyst", "administrator", "data_manager"):
        client = client_for(persona)
        for path in (
            "/governance/",
            f"/governance/subject-access/{sar.pk}/",
            f"/governance/subject-access/{sar.pk}/record.json",
            "/governance/subject-access/new/?q=marsh",
        ):
            assert client.get(path).status_code in {403, 404}, (persona, path)
    assert client_for("anonymous").get("/governance/").status_code == 302


def test_a_deadline_is_extended_once_and_a_stale_form_changes_nothing(
    world: World, client_for: Any
) -> None:
    officer = client_for("privacy_officer")
    sar = _record_sar(officer, world.alice, date(2026, 1, 31))
    page = f"/governance/subject-access/{sar.pk}/"
    extend = {"step": "extend", "months": "2", "reason": "Records from five organisations"}
    stale = officer.post(page, {**extend, "version": sar.version - 1})
    assert "Someone else changed this request" in stale.content.decode()
    assert officer.post(page, {**extend, "version": sar.version}).status_code == 302
    sar.refresh_from_db()
    assert sar.extended_to == date(2026, 4, 28) and sar.deadline == date(2026, 4, 28)
    # Extended once only: the form is gone, and a replay is refused.
    assert "Extend the deadline" not in officer.get(page).content.decode()
    again = officer.post(page, {**extend, "version": sar.version})
    assert "can be extended once" in again.content.decode()
    sar.refresh_from_db()
    assert sar.extended_to == date(2026, 4, 28)


def test_overdue_requests_are_flagged(world: World, client_for: Any) -> None:
    officer = client_for("privacy_officer")
    _record_sar(officer, world.alice, timezone.localdate() - timedelta(days=40))
    page = officer.get("/governance/").content.decode()
    assert "Overdue" in page


def test_a_future_receipt_date_is_refused(world: World, client_for: Any) -> None:
    officer = client_for("privacy_officer")
    response = officer.post(
        f"/governance/subject-access/new/?person={world.alice.pk}",
        {
            "received_on": (timezone.localdate() + timedelta(days=1)).isoformat(),
            "requester": "Alice",
            "identity_checked": "Known to the service",
        },
    )
    assert response.status_code == 200
    assert "today or in the past" in response.content.decode()
    assert not SubjectAccessRequest.objects.exists()


def test_a_rectification_request_is_recorded_and_decided(world: World, client_for: Any) -> None:
    officer = client_for("privacy_officer")
    response = officer.post(
        f"/governance/rectification/new/?person={world.alice.pk}",
        {
            "received_on": timezone.localdate().isoformat(),
            "what_is_wrong": "I was never arrested in October.",
            "where": "Police arrest entry",
        },
    )
    assert response.status_code == 302
    row = RectificationRequest.objects.get()
    assert row.due_on == months_after(row.received_on, 1)
    page = f"/governance/rectification/{row.pk}/"
    decide = {"outcome": "not_corrected", "note": "Police confirm; her view is noted."}
    stale = officer.post(page, {**decide, "version": row.version + 5})
    assert "Someone else changed this request" in stale.content.decode()
    assert officer.post(page, {**decide, "version": row.version}).status_code == 302
    row.refresh_from_db()
    assert row.status == "closed" and row.outcome == "not_corrected"
    assert AuditEvent.objects.filter(action__contains="rectification.decide").exists()
    # Her request and its outcome are part of what is held about her.
    sar = _record_sar(officer, world.alice)
    record = officer.get(f"/governance/subject-access/{sar.pk}/record.json").json()
    assert "I was never arrested in October." in json.dumps(record)


def test_every_model_about_a_person_is_disclosed_or_excluded_with_a_reason() -> None:
    disclosed = {f"{m._meta.app_label}.{m.__name__}" for m, _ in person_models()}
    for expected in [
        "people.AboutMe",
        "people.TimelineEvent",
        "casework.Contact",
        "casework.Step",  # reached through the person's goals
        "referrals.ReferralMessage",  # reached through the person's referrals
        "intake.SourceRecord",  # the raw rows partners sent
        "measures.Completion",
        "governance.SubjectAccessRequest",
    ]:
        assert expected in disclosed, expected
    assert all(reason for reason in NOT_DISCLOSED.values())


def test_the_privacy_notice_is_public_and_easy_read(client_for: Any, world: World) -> None:
    response = client_for("anonymous").get("/privacy-notice/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "How we use your information" in page
    assert "within one month" in page
    accessibility = client_for("anonymous").get("/accessibility/").content.decode()
    assert "Enforcement procedure" in accessibility


# --- retention


def _old_person(w: World, years_ago: int, *, mental_health: bool = False) -> Person:
    """Someone whose last contact with any service was ``years_ago`` years ago."""
    person = Person.objects.create(
        given_name="Olive",
        family_name="Oldcase",
        date_of_birth=date(1960, 2, 2),
        address_line="1 Past Street",
        phone="07700 900999",
    )
    long_ago = timezone.localdate().replace(year=timezone.localdate().year - years_ago)
    long_ago -= timedelta(days=30)
    categories = ["homelessness", "criminal_justice"] + (["mental_health"] if mental_health else [])
    for category in categories:
        TimelineEvent.objects.create(
            person=person,
            organisation=w.housing_org,
            category=category,
            event_type="note",
            occurred_on=long_ago,
            summary=f"old {category} entry",
        )
    return person


def test_a_record_past_retention_is_reviewed_then_destroyed_and_recorded(
    world: World, client_for: Any
) -> None:
    old = _old_person(world, 9)
    merged = Person.objects.create(given_name="Olly", family_name="Oldcase", merged_into=old)
    TimelineEvent.objects.create(
        person=merged,
        organisation=world.police_org,
        category="criminal_justice",
        event_type="arrest",
        occurred_on=date(2010, 1, 1),
    )
    officer = client_for("privacy_officer")
    queue = officer.get("/governance/retention/").content.decode()
    assert "Olive Oldcase" in queue
    assert "Alice Marsh" not in queue  # seen 10 days ago
    review = officer.get(f"/governance/retention/{old.pk}/").content.decode()
    assert "The whole record" in review
    # Not without confirming.
    refused = officer.post(
        f"/governance/retention/{old.pk}/", {"step": "destroy", "reason": "No contact"}
    )
    assert "Confirm that you have reviewed the record" in refused.content.decode()
    assert Person.objects.filter(pk=old.pk).exists()
    done = officer.post(
        f"/governance/retention/{old.pk}/",
        {"step": "destroy", "reason": "No contact for 9 years", "confirm": "on"},
    )
    assert done.status_code == 302
    assert not Person.objects.filter(pk__in=[old.pk, merged.pk]).exists()
    assert not TimelineEvent.objects.filter(person_id__in=[old.pk, merged.pk]).exists()
    record = DestructionRecord.objects.get()
    assert record.person_id == old.pk and record.merged_person_ids == [merged.pk]
    assert record.rows["people.TimelineEvent"] == 3 and record.rows["people.Person"] == 2
    assert "Oldcase" not in json.dumps(record.rows) + record.reason
    event = AuditEvent.objects.filter(action__contains="retention.destroy").get()
    assert set(event.person_ids) >= {old.pk, merged.pk} and event.basis == "retention"
    assert "No contact for 9 years" in officer.get("/governance/retention/").content.decode()
    # The audit trail still verifies: destruction never touches it.
    from onestory.audit.services import audit_verify

    assert audit_verify().ok


def test_mental_health_entries_are_kept_for_twenty_years(world: World, client_for: Any) -> None:
    old = _old_person(world, 9, mental_health=True)
    officer = client_for("privacy_officer")
    review = officer.get(f"/governance/retention/{old.pk}/").content.decode()
    assert "Everything but mental health entries" in review
    officer.post(
        f"/governance/retention/{old.pk}/",
        {"step": "destroy", "reason": "8 years", "confirm": "on"},
    )
    old.refresh_from_db()
    kept = list(TimelineEvent.objects.filter(person=old).values_list("category", flat=True))
    assert kept == ["mental_health"]
    assert old.address_line == "" and old.phone == ""  # contact details go
    assert old.family_name == "Oldcase"  # identity stays to hold the kept entries
    # Only the mental health entries are left, and they are not due: off the queue.
    assert "Olive Oldcase" not in officer.get("/governance/retention/").content.decode()
    assert officer.get(f"/governance/retention/{old.pk}/").status_code == 404
    # Twenty years on, the rest goes.
    TimelineEvent.objects.filter(person=old).update(occurred_on=date(2000, 1, 1))
    assert "The whole record" in officer.get(f"/governance/retention/{old.pk}/").content.decode()


def test_open_requests_and_holds_keep_a_record_off_the_queue(world: World, client_for: Any) -> None:
    old = _old_person(world, 9)
    officer = client_for("privacy_officer")
    sar = _record_sar(officer, old)
    assert "Olive Oldcase" not in officer.get("/governance/retention/").content.decode()
    SubjectAccessRequest.objects.filter(pk=sar.pk).update(status="closed")
    assert "Olive Oldcase" in officer.get("/governance/retention/").content.decode()
    past = officer.post(
        f"/governance/retention/{old.pk}/",
        {"step": "hold", "until": "2020-01-01", "reason": "Safeguarding enquiry"},
    )
    assert "must be in the future" in past.content.decode()
    until = timezone.localdate() + timedelta(days=180)
    kept = officer.post(
        f"/governance/retention/{old.pk}/",
        {"step": "hold", "until": until.isoformat(), "reason": "Safeguarding enquiry"},
    )
    assert kept.status_code == 302
    assert "Olive Oldcase" not in officer.get("/governance/retention/").content.decode()
    assert Person.objects.filter(pk=old.pk).exists()


def test_only_the_privacy_officer_reviews_retention(world: World, client_for: Any) -> None:
    old = _old_person(world, 9)
    for persona in ("navigator", "manager", "administrator", "data_manager", "analyst"):
        client = client_for(persona)
        assert client.get("/governance/retention/").status_code in {403, 404}
        response = client.post(
            f"/governance/retention/{old.pk}/",
            {"step": "destroy", "reason": "x", "confirm": "on"},
        )
        assert response.status_code in {403, 404}
    assert Person.objects.filter(pk=old.pk).exists()
    assert not DestructionRecord.objects.exists()


# --- joiners, movers and leavers


def test_a_manager_reviews_roles_and_ending_the_last_one_signs_them_out(
    world: World, client_for: Any
) -> None:
    from onestory.access.models import Membership

    manager = client_for("manager")
    leaver = client_for("peer_mentor")
    assert leaver.get("/caseload/").status_code == 200
    page = manager.get("/governance/access-review/").content.decode()
    assert "peer_nav" in page or "Peer" in page
    assert "Not signed in for 90 days" not in page  # everyone here joined today
    peer = Membership.objects.get(user=world.user("peer_mentor"))
    navigator = Membership.objects.get(user=world.user("navigator"))
    assert (
        manager.post(
            "/governance/access-review/", {"membership": navigator.pk, "decision": "keep"}
        ).status_code
        == 302
    )
    manager.post("/governance/access-review/", {"membership": peer.pk, "decision": "end"})
    peer.refresh_from_db()
    assert not peer.is_active
    world.user("peer_mentor").refresh_from_db()
    assert not world.user("peer_mentor").is_active  # their last role: account disabled
    assert leaver.get("/caseload/").status_code == 302  # signed out at once
    assert AuditEvent.objects.filter(action__contains="access_review.keep").exists()
    assert AuditEvent.objects.filter(action__contains="membership.end").exists()
    # Their own role, and other organisations' roles, cannot be ended from here.
    own = Membership.objects.get(user=world.user("manager"))
    manager.post("/governance/access-review/", {"membership": own.pk, "decision": "end"})
    other = Membership.objects.get(user=world.user("practitioner"))
    manager.post("/governance/access-review/", {"membership": other.pk, "decision": "end"})
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.is_active and other.is_active


def test_movers_and_dormant_accounts_are_shown(world: World, client_for: Any) -> None:
    from onestory.access.models import Membership
    from onestory.access.roles import Role

    navigator = world.user("navigator")
    Membership.objects.create(
        user=navigator, organisation=world.housing_org, role=Role.PRACTITIONER
    )
    long_ago = timezone.now() - timedelta(days=200)
    Membership.objects.filter(user=world.user("analyst")).update(created_at=long_ago)
    page = client_for("manager").get("/governance/access-review/").content.decode()
    assert "Also practitioner, City Council Housing" in page
    assert "Not signed in for 90 days" in page  # the analyst: a role since 200 days, no sign-in
    assert "Check due" in page  # and not checked for more than six months
    assert client_for("navigator").get("/governance/access-review/").status_code == 403


def test_a_destroyed_feed_record_is_not_imported_again(
    world: World, client_for: Any, tmp_path: Any
) -> None:
    """The partner's extract may still hold a record destroyed under the retention schedule:
    importing it again quarantines that row, naming why, and keeps no identifier of it."""
    from onestory.intake.models import DestroyedRecord, QuarantinedRow, SourceRecord
    from tests.test_import import do_import, write_csv

    old = _old_person(world, 9)
    long_ago = timezone.localdate().replace(year=timezone.localdate().year - 9).isoformat()
    today = timezone.localdate().isoformat()
    path = write_csv(
        tmp_path / "ed.csv",
        [
            ["OLD1", "Olive", "Oldcase", "1960-02-02", "", "", long_ago, "attendance", "walk_in"],
            ["NEW1", "Nina", "Newcase", "1991-01-01", "", "", today, "attendance", "walk_in"],
        ],
    )
    assert do_import(path).summary == "accepted=2 updated=0 unchanged=0 quarantined=0"
    SourceRecord.objects.filter(source_record_id="OLD1").update(person=old)
    done = client_for("privacy_officer").post(
        f"/governance/retention/{old.pk}/",
        {"step": "destroy", "reason": "No contact for 9 years", "confirm": "on"},
    )
    assert done.status_code == 302
    assert not SourceRecord.objects.filter(source_record_id="OLD1").exists()
    tombstone = DestroyedRecord.objects.get()
    assert "OLD1" not in tombstone.record_key and len(tombstone.record_key) == 64

    again = do_import(path)
    assert again.summary == "accepted=0 updated=0 unchanged=1 quarantined=1"
    reason = QuarantinedRow.objects.get(import_run=again.run).reason
    assert reason.startswith("row 2: source_record_id OLD1 was destroyed under the retention")
    assert not SourceRecord.objects.filter(source_record_id="OLD1").exists()
