"""FHIR R4 exchange (ADR 0020, docs/fhir.md): a person's shared record out as a Bundle
that validates and whose references resolve, under the same access policy and audit trail;
a Bundle of Patient + Encounter in as a feed, through the same import path, round-tripping.

"Equal" in the round trip means: for every exported Encounter, the re-imported record has
the same contract fields as the export carried (identity columns from the Patient, the
event columns and ED extras from the Encounter), and exporting again gives an Encounter
with the same type, class, period, arrival mode and reason, and the same Patient identity
(names, birth date, gender, NHS number and PNC id). Resource ids, fullUrls, meta and the
partner identifier's system are not compared (they name where a record came from).
"""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.audit.services import Actor, audit_context
from onestory.casework.models import Allocation, Goal, ProgressNote, Step, SupportPlan
from onestory.intake.index import timeline_sync
from onestory.intake.models import QuarantinedRow, SourceRecord
from onestory.intake.services import feed_import
from onestory.people.models import Person, TimelineEvent
from onestory.referrals.models import Referral
from onestory_engine import fhir_feed
from tests.conftest import World, make_user, share, signed_in_client
from tests.test_measures_web import FIRST

ACTOR = Actor(system="test fhir")
ED_COLUMNS = ("source_record_id", "given_name", "family_name", "date_of_birth", "sex",
              "nhs_number", "postcode", "event_date", "event_type", "end_date",
              "arrival_mode", "reason_category")  # fmt: skip


def _url(person_id: int) -> str:
    return f"/api/v1/fhir/Patient/{person_id}/$everything"


def _import(path: Path, *, kind: str, source: str, org: str | None = None) -> Any:
    with audit_context(ACTOR):
        return feed_import(
            actor=ACTOR, kind=kind, path=path, source_name=source, organisation_name=org
        )


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def record(world: World, tmp_path: Path, settings: Any) -> World:
    """Alice with a whole shared record: ED attendances from the hospital's feed (one of
    them sealed by the hospital), a lead worker, a plan with a goal and a step, an NDTA, a
    referral, and her sharing decisions (from the world)."""
    settings.DATA_DIR = tmp_path / "data"
    today = timezone.localdate()
    alice = ("Alice", "Marsh", "1984-03-09", "F", "9434765919", "NG7 6GR")
    rows = [
        dict(zip(ED_COLUMNS, (sid, *alice, day, "attendance", end, arrival, reason), strict=True))
        for sid, day, end, arrival, reason in [
            ("ED-1", (today - timedelta(days=40)).isoformat(), "", "ambulance", "alcohol"),
            ("ED-2", (today - timedelta(days=9)).isoformat(), "", "walk_in", "self_harm"),
            ("ED-3", (today - timedelta(days=3)).isoformat(), "", "police", "assault"),
        ]
    ]
    _import(_write_csv(tmp_path / "ed.csv", rows), kind="ed", source="city_ed", org="City Hospital")
    records = SourceRecord.objects.filter(source__name="city_ed")
    records.update(person=world.alice)
    timeline_sync([r.pk for r in records])
    TimelineEvent.objects.filter(source_record__source_record_id="ED-3").update(sealed=True)
    navigator = world.user("navigator")
    Allocation.objects.create(
        person=world.alice, organisation=world.nav_org, worker=navigator, kind="lead",
        started_on=today - timedelta(days=60), allocated_by=world.user("manager"),
    )  # fmt: skip
    SupportPlan.objects.create(
        person=world.alice, aspirations="A flat of my own with Pepper",
        strengths="I keep going", updated_by=navigator, updated_by_organisation=world.nav_org,
    )  # fmt: skip
    goal = Goal.objects.create(
        person=world.alice, organisation=world.nav_org, in_their_words="A flat near my sister",
        target_on=today + timedelta(days=90), created_by=navigator,
    )  # fmt: skip
    Step.objects.create(
        goal=goal, description="Housing register form", organisation=world.housing_org,
        created_by=navigator,
    )  # fmt: skip
    ProgressNote.objects.create(
        goal=goal, text="Form started", organisation=world.nav_org, recorded_by=navigator
    )
    day = (today - timedelta(days=20)).isoformat()
    data = {f"item_{k}": str(v) for k, v in FIRST.items()} | {"completed_on": day}
    response = signed_in_client(navigator).post(
        f"/people/{world.alice.pk}/measures/ndta/new/", data
    )
    assert response.status_code == 302
    Referral.objects.create(
        person=world.alice, from_organisation=world.nav_org, sent_by=navigator,
        to_organisation=world.housing_org, reason="Sleeping rough again",
        what_they_want="Somewhere safe with my dog", respond_by=today + timedelta(days=5),
    )  # fmt: skip
    return world


def _bundle(user: Any, person_id: int) -> dict[str, Any]:
    response = signed_in_client(user).get(_url(person_id))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/fhir+json"
    data: dict[str, Any] = json.loads(response.content)
    return data


def _types(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle.get("entry", [])]


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_export_validates_and_every_reference_resolves(record: World) -> None:
    data = _bundle(record.user("navigator"), record.alice.pk)
    parsed = Bundle.model_validate(data)  # the whole Bundle, with validation
    assert parsed.type == "collection"
    for entry in data["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    urls = {e["fullUrl"] for e in data["entry"]}
    assert len(urls) == len(data["entry"])
    references = _references([e["resource"] for e in data["entry"]])
    assert references and set(references) <= urls, set(references) - urls
    assert set(_types(data)) == {
        "Patient", "EpisodeOfCare", "CarePlan", "Goal", "QuestionnaireResponse", "Consent",
        "ServiceRequest", "Encounter", "Organization",
    }  # fmt: skip
    (patient,) = _of(data, "Patient")
    assert patient["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    ]
    assert {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"} in patient[
        "identifier"
    ]
    assert patient["name"][0] == {"use": "official", "family": "Marsh", "given": ["Alice"]}
    assert patient["birthDate"] == "1984-03-09" and patient["gender"] == "female"
    assert patient["address"][0]["postalCode"] == "NG7 6GR"
    (goal,) = _of(data, "Goal")
    assert goal["description"]["text"] == "A flat near my sister"
    assert goal["expressedBy"]["reference"] == data["entry"][0]["fullUrl"]
    (plan,) = _of(data, "CarePlan")
    assert plan["description"] == "A flat of my own with Pepper"
    assert plan["activity"][0]["detail"]["description"] == "Housing register form"
    (ndta,) = _of(data, "QuestionnaireResponse")
    assert ndta["questionnaire"].startswith("urn:onestory:questionnaire:ndta|")
    assert {i["linkId"]: i["answer"][0]["valueInteger"] for i in ndta["item"]} == FIRST
    (referral,) = _of(data, "ServiceRequest")
    assert referral["reasonCode"][0]["text"] == "Sleeping rough again"
    consents = _of(data, "Consent")
    assert len(consents) == 2 and all(c["status"] == "active" for c in consents)
    # ED-3 is sealed by the hospital: never exported to another organisation.
    encounters = _of(data, "Encounter")
    assert sorted(e["identifier"][0]["value"] for e in encounters) == ["ED-1", "ED-2"]
    ed1 = next(e for e in encounters if e["identifier"][0]["value"] == "ED-1")
    assert ed1["class"]["code"] == "EMER"
    assert ed1["type"][0]["coding"][0]["code"] == "ed.attendance"
    assert ed1["hospitalization"]["admitSource"]["coding"][0]["code"] == "ambulance"
    assert ed1["reasonCode"][0]["coding"][0]["code"] == "alcohol"
    # The same record always exports the same entries (so re-importing changes nothing).
    again = _bundle(record.user("navigator"), record.alice.pk)
    assert again["entry"] == data["entry"]


def test_export_writes_one_audit_event_naming_the_person(record: World) -> None:
    before = AuditEvent.objects.count()
    _bundle(record.user("navigator"), record.alice.pk)
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert len(events) == 1
    assert events[0].person_ids == [record.alice.pk]
    assert "fhir.export" in events[0].action


@pytest.mark.parametrize("persona", ["outsider", "analyst", "administrator", "data_manager"])
def test_no_relationship_or_wrong_role_is_404(record: World, persona: str) -> None:
    response = signed_in_client(record.user(persona)).get(_url(record.alice.pk))
    assert response.status_code == 404
    assert b"Marsh" not in response.content and b"9434765919" not in response.content


def test_a_missing_person_is_the_same_404(record: World) -> None:
    client = signed_in_client(record.user("navigator"))
    missing = client.get(_url(Person.objects.order_by("-pk").first().pk + 100))  # type: ignore[union-attr]
    assert missing.status_code == 404
    assert (
        missing.content
        == signed_in_client(record.user("outsider")).get(_url(record.alice.pk)).content
    )


def test_categories_the_user_may_not_see_are_absent(record: World) -> None:
    # Housing shares only homelessness, About me and contact details.
    data = _bundle(record.user("practitioner"), record.alice.pk)
    types = set(_types(data))
    assert "Encounter" not in types  # health
    assert not types & {"CarePlan", "Goal", "QuestionnaireResponse"}
    (patient,) = _of(data, "Patient")
    assert patient["address"][0]["postalCode"] == "NG7 6GR"
    # A peer mentor sees identity, contact, About me, plan and safety: no health, no
    # measures, no sharing decisions.
    data = _bundle(record.user("peer_mentor"), record.alice.pk)
    types = set(_types(data))
    assert {"Patient", "CarePlan", "Goal"} <= types
    assert not types & {"Encounter", "QuestionnaireResponse", "Consent"}
    # Restricted location hides the address and phone from outside the owning team.
    Person.objects.filter(pk=record.alice.pk).update(
        restricted_location=True, restricted_owner=record.housing_org
    )
    (patient,) = _of(_bundle(record.user("navigator"), record.alice.pk), "Patient")
    assert "address" not in patient and "telecom" not in patient


def test_the_hospital_sees_its_own_sealed_attendance(record: World) -> None:
    hospital = SourceRecord.objects.filter(source__name="city_ed").first().source.organisation  # type: ignore[union-attr]
    worker = make_user("ed_liaison", hospital, Role.PRACTITIONER)
    share(record.alice, hospital, worker)
    from tests.conftest import relate

    relate(record.alice, hospital, kind="service_episode")
    ids = sorted(
        e["identifier"][0]["value"] for e in _of(_bundle(worker, record.alice.pk), "Encounter")
    )
    assert ids == ["ED-1", "ED-2", "ED-3"]


def _exported_rows(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What the export said each Encounter's record is, in feed columns."""
    (patient,) = _of(data, "Patient")
    identity = fhir_feed.patient_values(patient)
    return {
        e["identifier"][0]["value"]: {**identity, **fhir_feed.encounter_values(e, "ed")}
        for e in _of(data, "Encounter")
    }


def _stored_row(r: SourceRecord) -> dict[str, str]:
    raw = r.raw
    return {
        "given_name": r.given_name, "middle_names": r.middle_names, "family_name": r.family_name,
        "date_of_birth": r.date_of_birth.isoformat() if r.date_of_birth else "",
        "sex": r.sex, "nhs_number": r.nhs_number, "pnc_id": r.pnc_id,
        "address_line": r.address_line, "postcode": r.postcode, "phone": r.phone,
        "email": r.email, "event_type": r.event_type,
        "event_date": r.event_date.isoformat() if r.event_date else "",
        "end_date": r.end_date.isoformat() if r.end_date else "",
        "arrival_mode": raw.get("arrival_mode", ""),
        "reason_category": raw.get("reason_category", ""),
    }  # fmt: skip


def test_round_trip_export_import_stores_what_was_exported(record: World, tmp_path: Path) -> None:
    data = _bundle(record.user("navigator"), record.alice.pk)
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(data))
    result = _import(path, kind="ed", source="fhir_copy", org="City Hospital")
    assert (result.run.accepted, result.run.quarantined) == (2, 0)
    stored = {
        r.source_record_id: _stored_row(r)
        for r in SourceRecord.objects.filter(source__name="fhir_copy")
    }
    assert stored == _exported_rows(data)
    # The same Bundle again changes nothing (idempotent, like a file).
    again = _import(path, kind="ed", source="fhir_copy", org="City Hospital")
    assert (again.run.accepted, again.run.updated, again.run.unchanged) == (0, 0, 2)


def test_bad_entries_are_quarantined_naming_entry_and_field(world: World, tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Hart", "given": ["Bob"]}],
               "birthDate": "1979-01-01"}  # fmt: skip

    def enc(i: str, **extra: Any) -> dict[str, Any]:
        return {"resource": {"resourceType": "Encounter", "id": i, "status": "finished",
                             "class": {"code": "EMER"}, "subject": {"reference": "Patient/p1"},
                             "period": {"start": "2026-01-02"}, **extra}}  # fmt: skip

    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": patient}, enc("good"),
        enc("no-date", period={"start": "2026-13-40"}),
        enc("lost", subject={"reference": "Patient/nobody"}),
        enc("ends-early", period={"start": "2026-01-05", "end": "2026-01-01"}),
    ]}  # fmt: skip
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = _import(path, kind="ed", source="bundle_ed")
    assert (result.run.accepted, result.run.quarantined) == (1, 3)
    reasons = dict(QuarantinedRow.objects.values_list("row_number", "reason"))
    assert reasons[2].startswith("Bundle.entry[2] (Encounter/no-date) period.start")
    assert reasons[3] == (
        "Bundle.entry[3] (Encounter/lost) subject: 'Patient/nobody' is not a Patient in this Bundle"
    )
    assert reasons[4] == (
        "Bundle.entry[4] (Encounter/ends-early) Encounter.period.end: "
        "end_date 2026-01-01 is before event_date 2026-01-05"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"resourceType": "Patient"}', "must be a FHIR Bundle"),
        ('{"resourceType": "Bundle", "entry": []}', "no Patient"),
        ('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]}',
         "ed feeds need Encounter resources"),
        ('{"resourceType": "Bundle", ', "not valid JSON"),
    ],
)  # fmt: skip
def test_an_unusable_bundle_is_refused_whole(
    world: World, tmp_path: Path, body: str, reason: str
) -> None:
    from onestory_engine.intake import FeedRefused

    path = tmp_path / "bad.json"
    path.write_text(body)
    with pytest.raises(FeedRefused, match=reason):
        _import(path, kind="ed", source="bundle_ed")
    assert not SourceRecord.objects.exists()


def test_the_api_imports_a_bundle_for_data_managers_only(record: World) -> None:
    data = _bundle(record.user("navigator"), record.alice.pk)
    body = json.dumps(data)
    url = "/api/v1/fhir/Bundle?kind=ed&source=nav_fhir"
    refused = signed_in_client(record.user("navigator")).post(
        url, body, content_type="application/fhir+json"
    )
    assert refused.status_code == 403
    assert not SourceRecord.objects.filter(source__name="nav_fhir").exists()
    response = signed_in_client(record.user("data_manager")).post(
        url, body, content_type="application/fhir+json"
    )
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["summary"] == (
        "accepted=2 updated=0 unchanged=0 quarantined=0"
    )
    bad = signed_in_client(record.user("data_manager")).post(
        url, '{"resourceType": "Patient"}', content_type="application/fhir+json"
    )
    assert bad.status_code == 409  # well-formed, and refused: as the API answers such
    assert "must be a FHIR Bundle" in json.loads(bad.content)["issue"][0]["diagnostics"]
    # An unknown kind or a bad source name is an invalid request, naming the field.
    client = signed_in_client(record.user("data_manager"))
    for query, field in (
        ("kind=nothing&source=ok", "kind"),
        ("kind=ed&source=no%20good", "source"),
    ):
        invalid = client.post(
            f"/api/v1/fhir/Bundle?{query}", body, content_type="application/fhir+json"
        )
        assert invalid.status_code == 422, (query, invalid.content)
        assert field in invalid.content.decode()


def test_the_person_page_offers_the_download(record: World) -> None:
    client = signed_in_client(record.user("navigator"))
    page = client.get(f"/people/{record.alice.pk}/").content.decode()
    href = f"/api/v1/fhir/Patient/{record.alice.pk}/$everything?download=1"
    assert f'href="{href}"' in page and "Download as FHIR" in page
    response = client.get(href)
    assert response["Content-Disposition"] == (
        f'attachment; filename="person-{record.alice.pk}-fhir.json"'
    )


def test_the_cli_imports_a_bundle_and_names_bad_entries(initialised: Path) -> None:
    from tests.test_cli import run

    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:0b6f3a3e-8d0e-4c43-9d55-1b1f3c1e2a11",
         "resource": {"resourceType": "Patient", "id": "p1", "gender": "male",
                      "name": [{"family": "Hart", "given": ["Bob"]}], "birthDate": "1979-01-01"}},
        {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                      "class": {"code": "EMER"},
                      "subject": {"reference": "urn:uuid:0b6f3a3e-8d0e-4c43-9d55-1b1f3c1e2a11"},
                      "period": {"start": "2026-02-03T10:15:00Z"}}},
        {"resource": {"resourceType": "Encounter", "id": "e2", "status": "finished",
                      "subject": {"reference": "Patient/p1"}, "period": {"start": "2026-02-04"}}},
    ]}  # fmt: skip
    path = initialised / "bundle.json"
    path.write_text(json.dumps(bundle))
    result = run(["import", "ed", str(path), "--source", "fhir_ed"], initialised)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "accepted=1 updated=0 unchanged=0 quarantined=1"
    )
    assert "entry 2: Bundle.entry[2] (Encounter/e2) class: Field required" in result.stderr
    refused = run(["import", "ed", str(initialised / "nope.json")], initialised)
    assert refused.returncode == 2


def test_the_upload_page_takes_a_bundle(record: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = json.dumps(_bundle(record.user("navigator"), record.alice.pk)).encode()
    upload = SimpleUploadedFile("alice.json", data, content_type="application/fhir+json")
    response = signed_in_client(record.user("data_manager")).post(
        "/imports/", {"kind": "ed", "source": "nav_upload", "file": upload}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert SourceRecord.objects.filter(source__name="nav_upload").count() == 2
