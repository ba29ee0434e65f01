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
from onestory.governance.models import RectificationRequest, SubjectAccessRequest
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
