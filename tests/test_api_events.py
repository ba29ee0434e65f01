"""Feed records pushed through the API (POST /api/v1/events): the same validation, store and
incremental linking as a feed file, per-row answers, idempotence, and the audit trail."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from onestory.access.models import Organisation
from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.audit.services import Actor, audit_context
from onestory.intake.linking import link_everything
from onestory.intake.models import ImportRun, QuarantinedRow, Source, SourceRecord
from onestory.intake.services import feed_import
from onestory.partner_api.scopes import Scope
from onestory.people.models import Person, TimelineEvent
from onestory_engine.synthetic import generate_city, write_feeds
from tests.api_clients import api_post, make_client
from tests.conftest import World, signed_in_client

EVENTS = "/api/v1/events"
TODAY = timezone.localdate().isoformat()


def _batch(
    rows: list[dict[str, Any]], source: str = "framework_register", kind: str = "register"
) -> dict[str, Any]:
    return {"kind": kind, "source": source, "rows": rows}


GOOD = {"source_record_id": "R1", "given_name": "Dora", "family_name": "Finch",
        "date_of_birth": "1990-04-02", "postcode": "ng7 6gr"}  # fmt: skip


def test_good_and_bad_rows_get_their_own_answers(world: World) -> None:
    _, secret = make_client(world.nav_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    rows: list[dict[str, Any]] = [
        {"source_record_id": "E1", "given_name": "Dora", "event_type": "attendance",
         "event_date": TODAY, "arrival_mode": "walk_in", "NHS_Number": 9434765919},
        {"source_record_id": "E2", "family_name": "Finch", "event_type": "walked_in",
         "event_date": TODAY},
        {"source_record_id": "E3", "family_name": "Finch", "event_type": "attendance",
         "event_date": "31/02/2026"},
        {"given_name": "No id", "event_type": "attendance", "event_date": TODAY},
        {"source_record_id": "E1", "given_name": "Again", "event_type": "attendance",
         "event_date": TODAY},
        {"source_record_id": "E6", "event_type": "attendance", "event_date": TODAY},
    ]  # fmt: skip
    response = api_post(secret, EVENTS, _batch(rows, "nav_ed", "ed"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == {"accepted": 1, "updated": 0, "unchanged": 0, "quarantined": 5}
    answers = {r["index"]: r for r in body["rows"]}
    assert [r["index"] for r in body["rows"]] == [0, 1, 2, 3, 4, 5]
    assert answers[0]["status"] == "accepted" and answers[0]["source_record_id"] == "E1"
    assert (answers[1]["field"], answers[1]["status"]) == ("event_type", "quarantined")
    assert "walked_in" in answers[1]["reason"]
    assert answers[2]["field"] == "event_date" and "31/02/2026" in answers[2]["reason"]
    assert answers[3]["field"] == "source_record_id" and "missing" in answers[3]["reason"]
    assert answers[4]["field"] == "source_record_id" and "row 1" in answers[4]["reason"]
    assert answers[5]["field"] is None and "no identity" in answers[5]["reason"]
    # Stored as a file's rows are: the record (a number read as text), the quarantine.
    record = SourceRecord.objects.get(source__name="nav_ed", source_record_id="E1")
    assert record.nhs_number == "9434765919" and record.raw["arrival_mode"] == "walk_in"
    source = Source.objects.get(name="nav_ed")
    assert source.organisation == world.nav_org and source.kind == "ed"
    run = ImportRun.objects.get(pk=body["import_id"])
    assert run.file_name.startswith("API: ") and "(6 rows)" in run.file_name
    assert QuarantinedRow.objects.filter(import_run=run).count() == 5
    assert AuditEvent.objects.filter(action__contains="feed.import").count() == 1


def test_rows_without_an_id_or_identity_column_are_each_quarantined(world: World) -> None:
    """A file with neither is refused whole; rows sent one by one each get their answer."""
    _, secret = make_client(world.nav_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    body = api_post(secret, EVENTS, _batch([{"given_name": "Dora"}, {"source_record_id": "X"}]))
    assert body.status_code == 200
    rows = body.json()["rows"]
    assert [(r["status"], r["field"]) for r in rows] == [
        ("quarantined", "source_record_id"),
        ("quarantined", None),
    ]
    assert "no identity" in rows[1]["reason"]
    assert not SourceRecord.objects.exists()


def test_the_same_batch_twice_changes_nothing(world: World) -> None:
    _, secret = make_client(world.nav_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    rows = [GOOD, {**GOOD, "source_record_id": "R2", "given_name": "Ed"}]
    first = api_post(secret, EVENTS, _batch(rows)).json()
    assert [r["status"] for r in first["rows"]] == ["accepted", "accepted"]
    records = list(SourceRecord.objects.order_by("pk").values())
    second = api_post(secret, EVENTS, _batch(rows)).json()
    assert second["summary"] == {"accepted": 0, "updated": 0, "unchanged": 2, "quarantined": 0}
    assert [r["status"] for r in second["rows"]] == ["unchanged", "unchanged"]
    assert list(SourceRecord.objects.order_by("pk").values()) == records
    # One row alone, or in a batch with other columns, is the same record: still unchanged.
    alone = api_post(secret, EVENTS, _batch([GOOD, {"source_record_id": "R3", "note": "x",
                                                     "given_name": "Flo"}])).json()  # fmt: skip
    assert [r["status"] for r in alone["rows"]] == ["unchanged", "accepted"]
    changed = api_post(secret, EVENTS, _batch([{**GOOD, "postcode": "NG1 1AA"}])).json()
    assert changed["rows"][0]["status"] == "updated"
    assert SourceRecord.objects.get(source_record_id="R1").postcode == "NG1 1AA"


def test_badly_formed_requests_are_refused_whole_and_nothing_is_stored(world: World) -> None:
    _, secret = make_client(world.nav_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    for bad, field in [
        ({"kind": "hospital", "source": "s", "rows": [GOOD]}, "kind"),
        ({"kind": "register", "source": "no spaces", "rows": [GOOD]}, "source"),
        ({"kind": "register", "source": "s", "rows": []}, "rows"),
        ({"kind": "register", "source": "s", "rows": [{"given_name": True}]}, "rows.0.given_name"),
    ]:
        response = api_post(secret, EVENTS, bad)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == field, response.json()
    assert not SourceRecord.objects.exists() and not ImportRun.objects.exists()


def test_a_source_of_another_organisation_or_kind_is_refused(world: World) -> None:
    _, police = make_client(world.police_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    _, nav = make_client(world.nav_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    assert api_post(police, EVENTS, _batch([GOOD], "custody")).status_code == 200
    taken = api_post(nav, EVENTS, _batch([GOOD], "custody"))
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "source"
    assert world.police_org.name not in taken.json()["detail"]
    arrest = {**GOOD, "event_type": "arrest", "event_date": TODAY}
    kind = api_post(police, EVENTS, _batch([arrest], "custody", "police"))
    assert kind.status_code == 409 and "register feeds, not police" in kind.json()["detail"]
    assert SourceRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("data_manager", 200),
        ("navigator", 403),
        ("manager", 403),
        ("analyst", 403),
        ("administrator", 403),
    ],
)
def test_only_data_managers_send_records(world: World, persona: str, status: int) -> None:
    response = signed_in_client(world.user(persona)).post(
        EVENTS, _batch([GOOD]), content_type="application/json"
    )
    assert response.status_code == status, response.content
    assert SourceRecord.objects.count() == (1 if status == 200 else 0)


def test_a_token_without_events_write_cannot_send(world: World) -> None:
    _, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    response = api_post(secret, EVENTS, _batch([GOOD]))
    assert response.status_code == 403 and response.json()["required_scope"] == "events:write"
    assert not SourceRecord.objects.exists()


@pytest.fixture
def linked_city(db: None, tmp_path: Path, settings: Any) -> dict[str, Any]:
    """A small synthetic city imported and linked, so a linkage model exists."""
    settings.DATA_DIR = tmp_path / "data"
    city = generate_city(150, seed=4242, as_of=timezone.localdate())
    files = write_feeds(city, tmp_path / "feeds")
    actor = Actor(system="test api events")
    with audit_context(actor):
        for f in files:
            feed_import(
                actor=actor,
                kind=f.kind,
                path=f.path,
                source_name=f.source,
                organisation_name=f.organisation_name,
            )
        link_everything(actor=actor)
    return {"files": files}


def test_pushed_records_are_linked_at_once_and_audited(
    world: World, linked_city: dict[str, Any]
) -> None:
    ed = next(f for f in linked_city["files"] if f.kind == "ed")
    with ed.path.open() as fh:
        rows = list(csv.DictReader(fh))[:10]
    org = Organisation.objects.get(name=ed.organisation_name)
    _, secret = make_client(org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    late = [{**r, "source_record_id": "API-" + r["source_record_id"], "event_date": TODAY}
            for r in rows]  # fmt: skip
    persons_before = Person.objects.count()
    before = AuditEvent.objects.order_by("-seq").first()
    response = api_post(secret, EVENTS, _batch(late, ed.source, "ed"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["linked"] and body["summary"]["accepted"] == 10
    touched = set()
    for row in rows:
        original = SourceRecord.objects.get(source__name=ed.source,
                                            source_record_id=row["source_record_id"])  # fmt: skip
        pushed = SourceRecord.objects.get(
            source__name=ed.source, source_record_id="API-" + row["source_record_id"]
        )
        assert pushed.person_id == original.person_id is not None
        assert TimelineEvent.objects.filter(source_record=pushed, person=pushed.person).exists()
        touched.add(pushed.person_id)
    assert Person.objects.count() == persons_before
    # One audit event for the call, naming every person the records were linked to.
    events = AuditEvent.objects.filter(seq__gt=before.seq if before else 0)
    assert events.count() == 1
    event = events.get()
    assert "feed.import" in event.action and event.path == EVENTS
    assert touched <= set(event.person_ids)
    # Someone new becomes a person of their own.
    new = {"source_record_id": "API-NEW", "given_name": "Zebedee", "family_name": "Quill",
           "date_of_birth": "1971-07-07", "event_type": "attendance", "event_date": TODAY}  # fmt: skip
    api_post(secret, EVENTS, _batch([new], ed.source, "ed"))
    record = SourceRecord.objects.get(source_record_id="API-NEW")
    assert record.person_id is not None and Person.objects.count() == persons_before + 1
    assert record.person_id in AuditEvent.objects.order_by("-seq").first().person_ids  # type: ignore[union-attr]


def test_nul_characters_are_dropped_not_a_failure(world: World) -> None:
    """Found by schemathesis on PostgreSQL, which cannot store NUL in JSON."""
    _, secret = make_client(world.nav_org, Role.DATA_MANAGER, [Scope.EVENTS_WRITE])
    row = {**GOOD, "address_line": "1 High\x00 St", "no\x00te": "x\x00"}
    response = api_post(secret, EVENTS, _batch([row]))
    assert response.status_code == 200, response.content
    record = SourceRecord.objects.get()
    assert record.address_line == "1 High St" and record.raw["note"] == "x"
