"""A FHIR Bundle imported as a feed is linked incrementally like a file (ADR 0020): the
Encounter's record lands on the person who already has a matching record, and a person's
exported record, imported back under a new source, round-trips onto the same person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onestory.access.roles import Role
from onestory.intake.models import SourceRecord
from onestory.people.models import TimelineEvent
from tests.conftest import make_user, share, signed_in_client
from tests.test_fhir import _import, _of
from tests.test_linking import city_index  # noqa: F401 - the fixture

ENCOUNTER_FIELDS = ("class", "type", "period", "hospitalization", "reasonCode")


def _identity(patient: dict[str, Any]) -> tuple[Any, ...]:
    idents = sorted(
        (i["system"], i["value"])
        for i in patient["identifier"]
        if i["system"] != "urn:onestory:id:person"
    )
    return (patient.get("name"), patient.get("birthDate"), patient.get("gender"), idents)


def test_a_bundle_links_onto_the_existing_person_and_round_trips(
    city_index: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    record = (
        SourceRecord.objects.select_related("source__organisation", "person")
        .filter(source__kind="ed", person__isnull=False)
        .exclude(nhs_number="")
        .order_by("pk")
        .first()
    )
    assert record is not None and record.person is not None
    person, hospital = record.person, record.source.organisation
    worker = make_user("ed_liaison", hospital, Role.PRACTITIONER)
    share(person, hospital, worker)  # the feed's service episode is the relationship
    response = signed_in_client(worker).get(f"/api/v1/fhir/Patient/{person.pk}/$everything")
    assert response.status_code == 200, response.content[:300]
    exported = json.loads(response.content)
    encounters = _of(exported, "Encounter")
    ed = [e for e in encounters if e["type"][0]["coding"][0]["code"].startswith("ed.")]
    assert ed, "the person has ED attendances the hospital may see"
    path = tmp_path / "person.json"
    path.write_text(json.dumps(exported))
    result = _import(path, kind="ed", source="fhir_copy", org=hospital.name)
    # Only ED Encounters belong in an ed feed; any others are quarantined, named.
    assert (result.run.accepted, result.run.quarantined) == (len(ed), len(encounters) - len(ed))
    assert result.run.linked
    copies = list(SourceRecord.objects.filter(source__name="fhir_copy"))
    assert {c.person_id for c in copies} == {person.pk}
    assert TimelineEvent.objects.filter(source_record__in=copies, person=person).count() == len(ed)
    # Export again: each exported attendance has a twin from the copy, equal in content.
    again = json.loads(
        signed_in_client(worker).get(f"/api/v1/fhir/Patient/{person.pk}/$everything").content
    )
    (before,) = _of(exported, "Patient")
    (after,) = _of(again, "Patient")
    assert _identity(after) == _identity(before)

    def content(e: dict[str, Any]) -> tuple[str, str]:
        return e["identifier"][0]["value"], json.dumps(
            {k: e.get(k) for k in ENCOUNTER_FIELDS}, sort_keys=True
        )

    copied = [
        e
        for e in _of(again, "Encounter")
        if e["identifier"][0]["system"] == "urn:onestory:source:fhir_copy"
    ]
    assert sorted(map(content, copied)) == sorted(map(content, ed))
