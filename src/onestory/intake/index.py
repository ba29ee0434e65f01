"""Keeping persons, their timelines and feed relationships in step with the record links.

Called after linking (full or incremental) and after a merge, split or undo.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from onestory.intake.models import SourceRecord
from onestory.people.models import Person, Relationship, TimelineEvent
from onestory_engine import feeds

# A partner's recent event is a current service episode for this long (rule 3).
EPISODE_DAYS = 365


def _most_common(values: Iterable[Any]) -> Any:
    counted = Counter(v for v in values if v not in ("", None))
    if not counted:
        return None
    return counted.most_common(1)[0][0]


def persons_refresh(person_ids: Iterable[int]) -> None:
    """Set each person's identity from their records: the most common value of each field,
    and contact details from the most recent record that has them."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    by_person: dict[int, list[SourceRecord]] = defaultdict(list)
    for record in SourceRecord.objects.filter(person_id__in=ids).order_by("event_date", "pk"):
        assert record.person_id is not None
        by_person[record.person_id].append(record)
    people = Person.objects.in_bulk(ids)
    changed = []
    for pid, records in by_person.items():
        person = people[pid]
        person.given_name = _most_common(r.given_name.title() for r in records) or ""
        person.family_name = _most_common(r.family_name.title() for r in records) or ""
        person.middle_names = _most_common(r.middle_names.title() for r in records) or ""
        person.date_of_birth = _most_common(
            r.date_of_birth for r in records if not r.dob_placeholder
        ) or _most_common(r.date_of_birth for r in records)
        person.sex = _most_common(r.sex for r in records if r.sex != "U") or "U"
        person.nhs_number = _most_common(r.nhs_number for r in records) or ""
        person.pnc_id = _most_common(r.pnc_id for r in records) or ""
        latest_place = next(
            (r for r in reversed(records) if r.no_fixed_abode or r.postcode or r.address_line),
            None,
        )
        if latest_place is not None:
            person.no_fixed_abode = latest_place.no_fixed_abode
            person.address_line = latest_place.address_line.title()
            person.postcode = latest_place.postcode
        person.phone = next((r.phone for r in reversed(records) if r.phone), "")
        person.email = next((r.email for r in reversed(records) if r.email), "")
        changed.append(person)
    Person.objects.bulk_update(
        changed,
        [
            "given_name",
            "family_name",
            "middle_names",
            "date_of_birth",
            "sex",
            "nhs_number",
            "pnc_id",
            "no_fixed_abode",
            "address_line",
            "postcode",
            "phone",
            "email",
        ],
        batch_size=1000,
    )


def _summary(record: SourceRecord) -> str:
    parts = []
    for column in ("arrival_mode", "reason_category", "substance", "offence_category", "role"):
        value = (record.raw.get(column) or "").strip()
        if value:
            parts.append(f"{column.replace('_', ' ')} {value.replace('_', ' ')}")
    return ", ".join(parts)[:300]


def timeline_sync(record_ids: Iterable[int]) -> None:
    """Give every linked event record one timeline event on its person."""
    ids = list(set(record_ids))
    records = list(
        SourceRecord.objects.filter(pk__in=ids, person__isnull=False)
        .exclude(event_type="")
        .select_related("source")
    )
    existing = {
        e.source_record_id: e
        for e in TimelineEvent.objects.filter(source_record_id__in=[r.pk for r in records])
    }
    new, changed = [], []
    for r in records:
        assert r.event_date is not None
        assert r.person_id is not None
        category = feeds.event_category(r.source.kind, r.event_type, r.role or None)
        fields = {
            "person_id": r.person_id,
            "organisation_id": r.source.organisation_id,
            "category": category,
            "event_type": r.event_type,
            "occurred_on": r.event_date,
            "ended_on": r.end_date,
            "summary": _summary(r),
            "source": r.source.name,
        }
        event = existing.get(r.pk)
        if event is None:
            new.append(TimelineEvent(source_record_id=r.pk, **fields))
        else:
            for key, value in fields.items():
                setattr(event, key, value)
            changed.append(event)
    TimelineEvent.objects.bulk_create(new, batch_size=2000)
    TimelineEvent.objects.bulk_update(
        changed,
        [
            "person_id",
            "organisation_id",
            "category",
            "event_type",
            "occurred_on",
            "ended_on",
            "summary",
            "source",
        ],
        batch_size=2000,
    )


def relationships_sync(person_ids: Iterable[int], *, today: date | None = None) -> None:
    """A current service episode in an organisation's own feed gives it a relationship
    (rule 3): an event in the last year, an open stay, or a place on its register."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    today = today or timezone.localdate()
    since = today - timedelta(days=EPISODE_DAYS)
    current: dict[tuple[int, int], date] = {}
    rows = (
        SourceRecord.objects.filter(person_id__in=ids)
        .filter(
            Q(event_date__gt=since)
            | Q(event_type="")
            | Q(
                end_date__isnull=True,
                event_type__in=[
                    "admission",
                    "reception",
                    "temporary_accommodation_start",
                    "supervision_start",
                    "treatment_start",
                ],
            )
        )
        .values_list("person_id", "source__organisation_id", "event_date")
    )
    for person_id, org_id, event_date in rows:
        assert person_id is not None
        key = (person_id, org_id)
        started = event_date or today
        current[key] = min(current.get(key, started), started)
    existing = {
        (r.person_id, r.organisation_id): r
        for r in Relationship.objects.filter(
            person_id__in=ids, kind="service_episode", ended_on__isnull=True
        )
    }
    Relationship.objects.bulk_create(
        [
            Relationship(person_id=p, organisation_id=o, kind="service_episode", started_on=s)
            for (p, o), s in current.items()
            if (p, o) not in existing
        ],
        batch_size=2000,
    )
    ended = [r for key, r in existing.items() if key not in current]
    for r in ended:
        r.ended_on = today
    Relationship.objects.bulk_update(ended, ["ended_on"], batch_size=2000)


def index_refresh(person_ids: Iterable[int]) -> None:
    """After records moved between persons: their identity, timelines and feed episodes."""
    ids = sorted(set(person_ids))
    persons_refresh(ids)
    timeline_sync(SourceRecord.objects.filter(person_id__in=ids).values_list("pk", flat=True))
    relationships_sync(ids)
