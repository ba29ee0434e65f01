"""Feeds in, one person index out: import, link, incremental linking, the review queue,
merges, undo and splits, and what the person page then shows."""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from onestory.access.models import Membership, Organisation
from onestory.access.roles import Role
from onestory.audit.services import Actor, audit_context
from onestory.intake.exports import links_write
from onestory.intake.linking import link_everything
from onestory.intake.models import IdentityChange, MatchPair, Source, SourceRecord
from onestory.intake.services import feed_import
from onestory.people.models import Person, Relationship, TimelineEvent
from onestory_engine.synthetic import generate_city, write_feeds
from tests.conftest import make_user, share, signed_in_client

ACTOR = Actor(system="test linking")


def _pairs(mapping: dict[Any, Any]) -> set[tuple[Any, Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for key, value in mapping.items():
        groups[value].append(key)
    return {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}


@pytest.fixture
def city_index(db: None, tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.DATA_DIR = tmp_path / "data"
    city = generate_city(150, seed=4242, as_of=timezone.localdate())
    files = write_feeds(city, tmp_path / "feeds")
    with audit_context(ACTOR):
        for f in files:
            feed_import(
                actor=ACTOR,
                kind=f.kind,
                path=f.path,
                source_name=f.source,
                organisation_name=f.organisation_name,
            )
        summary = link_everything(actor=ACTOR)
    return {"city": city, "files": files, "summary": summary, "tmp": tmp_path}


def test_link_builds_an_accurate_index_with_stable_ids(city_index: dict[str, Any]) -> None:
    city, summary = city_index["city"], city_index["summary"]
    assert summary.records == SourceRecord.objects.count() == city.row_count
    assert not SourceRecord.objects.filter(person__isnull=True).exists()
    index = {
        (r.source.name, r.source_record_id): r.person_id
        for r in SourceRecord.objects.select_related("source")
    }
    truth_pairs, our_pairs = _pairs(dict(city.truth)), _pairs(index)
    tp = len(truth_pairs & our_pairs)
    precision, recall = tp / len(our_pairs), tp / len(truth_pairs)
    assert precision >= 0.97 and recall >= 0.9, (precision, recall)
    # Every match keeps its probability and evidence.
    linked = SourceRecord.objects.exclude(match_probability__isnull=True)
    assert linked.exists()
    pair = MatchPair.objects.filter(status="auto").first()
    assert pair is not None and pair.evidence["levels"]
    # The export has one row for every record, singletons too.
    out = city_index["tmp"] / "links.csv"
    with audit_context(ACTOR):
        links_write(out, actor=ACTOR)
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary.records
    assert list(rows[0]) == ["source_name", "source_record_id", "person_id", "match_probability"]
    # Re-linking keeps every id.
    with audit_context(ACTOR):
        link_everything(actor=ACTOR)
    again = {
        (r.source.name, r.source_record_id): r.person_id
        for r in SourceRecord.objects.select_related("source")
    }
    assert again == index


def test_feed_events_and_episodes_reach_the_person_page(city_index: dict[str, Any]) -> None:
    record = (
        SourceRecord.objects.select_related("source__organisation")
        .filter(source__kind="ed", event_date__gte=timezone.localdate() - timedelta(days=300))
        .first()
    )
    assert record is not None and record.person is not None
    event = TimelineEvent.objects.get(source_record=record)
    assert event.person_id == record.person_id and event.category == "health"
    assert event.organisation == record.source.organisation
    assert Relationship.objects.filter(
        person=record.person,
        organisation=record.source.organisation,
        kind="service_episode",
        ended_on__isnull=True,
    ).exists()
    worker = make_user("ed_liaison", record.source.organisation, Role.PRACTITIONER)
    share(record.person, record.source.organisation, worker)
    page = signed_in_client(worker).get(f"/people/{record.person_id}/").content.decode()
    assert "Attendance" in page and record.source.organisation.name in page


def test_incremental_linking_within_import(city_index: dict[str, Any], tmp_path: Path) -> None:
    ed = next(f for f in city_index["files"] if f.kind == "ed")
    with ed.path.open() as fh:
        rows = list(csv.DictReader(fh))[:25]
    new = tmp_path / "ed_more.csv"
    with new.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "source_record_id": "LATE-" + row["source_record_id"],
                    "event_date": timezone.localdate().isoformat(),
                }
            )
    with audit_context(ACTOR):
        result = feed_import(actor=ACTOR, kind="ed", path=new, source_name=ed.source)
    assert result.run.linked
    for row in rows:
        original = SourceRecord.objects.get(
            source__name=ed.source, source_record_id=row["source_record_id"]
        )
        late = SourceRecord.objects.get(
            source__name=ed.source, source_record_id="LATE-" + row["source_record_id"]
        )
        assert late.person_id == original.person_id
        assert TimelineEvent.objects.filter(source_record=late, person=late.person).exists()


def test_review_confirm_undo_and_split(city_index: dict[str, Any]) -> None:
    # A pending pair between two records of different persons (made here if none waits).
    pair = MatchPair.objects.filter(status="pending").first()
    if pair is None:
        first = SourceRecord.objects.order_by("pk").first()
        assert first is not None
        second = SourceRecord.objects.exclude(person=first.person).order_by("pk").first()
        assert second is not None
        pair = MatchPair.objects.create(
            record_l=first, record_r=second, match_probability=0.7, status="pending"
        )
    left, right = pair.record_l, pair.record_r
    org = left.source.organisation
    manager = make_user("data_manager_x", org, Role.DATA_MANAGER)
    client = signed_in_client(manager)
    assert (
        "Are these the same person?" in client.get(f"/imports/review/{pair.pk}/").content.decode()
    )
    # A data manager of an organisation with neither record cannot see the pair.
    other_org = Organisation.objects.create(name="Unrelated Org", org_type="other")
    outsider = make_user("data_manager_y", other_org, Role.DATA_MANAGER)
    assert signed_in_client(outsider).get(f"/imports/review/{pair.pk}/").status_code == 404
    a, b = left.person_id, right.person_id
    assert a is not None and b is not None and a != b
    response = client.post(f"/imports/review/{pair.pk}/", {"decision": "confirm"})
    kept = min(a, b)
    assert response.status_code == 302 and response["Location"] == f"/imports/identity/{kept}/"
    assert SourceRecord.objects.get(pk=right.pk).person_id == kept
    assert Person.objects.get(pk=max(a, b)).merged_into_id == kept
    identity = client.get(f"/imports/identity/{kept}/").content.decode()
    assert left.source_record_id in identity and right.source_record_id in identity
    # Undo puts every record back.
    change = IdentityChange.objects.get(kind="merge", pair=pair)
    client.post(f"/imports/identity/{kept}/", {"action": "undo", "change": change.pk})
    assert SourceRecord.objects.get(pk=right.pk).person_id == b
    assert SourceRecord.objects.get(pk=left.pk).person_id == a
    assert MatchPair.objects.get(pk=pair.pk).status == "pending"
    # Split a record out: no record is lost, and the link is remembered as rejected.
    person = (
        SourceRecord.objects.values("person_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .order_by("person_id")
        .first()
    )
    assert person is not None
    record = (
        SourceRecord.objects.filter(person_id=person["person_id"])
        .select_related("source__organisation")
        .order_by("pk")
        .first()
    )
    assert record is not None
    # The manager may already manage that organisation's data.
    Membership.objects.get_or_create(
        user=manager, organisation=record.source.organisation, role=Role.DATA_MANAGER.value
    )
    splitter = signed_in_client(
        manager, manager.memberships.get(organisation=record.source.organisation)
    )
    before = SourceRecord.objects.count()
    splitter.post(
        f"/imports/identity/{person['person_id']}/", {"action": "split", "record": record.pk}
    )
    record.refresh_from_db()
    assert record.person_id != person["person_id"]
    assert SourceRecord.objects.count() == before
    assert MatchPair.objects.filter(status="rejected").exists()
    assert Source.objects.exists()
