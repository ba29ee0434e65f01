"""Retention (issue 9): which records are due for review, and destroying them.

A person's record is due for review ``RETENTION_YEARS`` (8) after their last contact with any
service, except mental health entries, kept ``RETENTION_MENTAL_HEALTH_YEARS`` (20). Nothing is
destroyed without a privacy officer's review; a record is never due while a subject access or
rectification request about the person is open (destroying it then would frustrate the
request, an offence under DPA 2018 s173), or while a reviewed hold keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from onestory.access.context import AccessContext
from onestory.audit import services as audit
from onestory.casework.models import Contact
from onestory.core import rls
from onestory.governance.models import (
    DestructionRecord,
    DestructionScope,
    RectificationRequest,
    RequestStatus,
    RetentionHold,
    SubjectAccessRequest,
)
from onestory.governance.selectors import merged_ids, person_models
from onestory.intake.models import SourceRecord
from onestory.intake.services import remember_destroyed
from onestory.people.models import Person, TimelineEvent

MENTAL_HEALTH = "mental_health"


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Due:
    person_id: int
    last_contact: date
    scope: str  # DestructionScope
    mental_health_entries: int

    @property
    def scope_label(self) -> str:
        return DestructionScope(self.scope).label


@rls.basis("retention")
def _last_contacts(person_ids: list[int] | None = None) -> dict[int, date]:
    """Each person's last contact: the latest timeline entry or recorded contact of theirs
    or of any record merged into them."""
    root: dict[int, int] = {}
    parent = dict(Person._default_manager.values_list("pk", "merged_into_id"))

    def top(pk: int) -> int:
        while parent.get(pk):
            pk = parent[pk]
        return pk

    latest: dict[int, date] = {}
    for model, field in ((TimelineEvent, "occurred_on"), (Contact, "occurred_on")):
        rows = model._default_manager.values("person_id").annotate(last=Max(field))
        for row in rows:
            pid = root.setdefault(row["person_id"], top(row["person_id"]))
            if row["last"] and (pid not in latest or row["last"] > latest[pid]):
                latest[pid] = row["last"]
    if person_ids is not None:
        return {p: d for p, d in latest.items() if p in set(person_ids)}
    return latest


@rls.basis("retention")
def _blocked(today: date) -> set[int]:
    """People whose record must not be destroyed now."""
    held = set(
        RetentionHold._default_manager.filter(until__gte=today).values_list("person_id", flat=True)
    )
    open_requests = set(
        SubjectAccessRequest._default_manager.exclude(status=RequestStatus.CLOSED).values_list(
            "person_id", flat=True
        )
    ) | set(
        RectificationRequest._default_manager.exclude(status=RequestStatus.CLOSED).values_list(
            "person_id", flat=True
        )
    )
    return held | open_requests


@rls.basis("retention")
def due(today: date, person_ids: list[int] | None = None) -> list[Due]:
    """The records due for a retention review today, oldest last contact first."""
    years = settings.ONESTORY["RETENTION_YEARS"]
    mh_years = settings.ONESTORY["RETENTION_MENTAL_HEALTH_YEARS"]
    blocked = _blocked(today)
    partly = set(
        DestructionRecord._default_manager.filter(
            scope=DestructionScope.ALL_BUT_MENTAL_HEALTH
        ).values_list("person_id", flat=True)
    )
    out = []
    for pid, last in _last_contacts(person_ids).items():
        if pid in blocked or today < years_after(last, years):
            continue
        mh = TimelineEvent._default_manager.filter(
            person_id__in=merged_ids(pid), category=MENTAL_HEALTH
        ).count()
        if mh and today < years_after(last, mh_years):
            if pid in partly:
                continue  # only the mental health entries are left, and they are not due
            scope = DestructionScope.ALL_BUT_MENTAL_HEALTH
        else:
            scope = DestructionScope.WHOLE
        out.append(Due(pid, last, scope, mh))
    return sorted(out, key=lambda d: (d.last_contact, d.person_id))


class RetentionError(Exception):
    pass


@rls.basis("retention")
def destroy(*, actor: AccessContext, person_id: int, reason: str, today: date) -> DestructionRecord:
    """Destroy what is due of a person's record, after review, and record that it was."""
    with transaction.atomic():
        found = due(today, [person_id])
        if not found:
            raise RetentionError(
                "This record is not due for destruction: it may have had new contact, a hold "
                "or an open request since you looked."
            )
        item = found[0]
        ids = merged_ids(person_id)
        keep_mh = item.scope == DestructionScope.ALL_BUT_MENTAL_HEALTH
        counts: dict[str, int] = {}
        # The partner's extract may still hold the feed records: remember them, without
        # their identifiers, so importing it again does not bring them back.
        destroyed_records = SourceRecord._default_manager.filter(person_id__in=ids)
        if keep_mh:
            destroyed_records = destroyed_records.exclude(timeline_event__category=MENTAL_HEALTH)
        remember_destroyed(destroyed_records.values_list("source_id", "source_record_id"), today)
        # Rows hanging off a person's rows first, then the person's own rows.
        for model, lookup in reversed(person_models()):
            rows = model._default_manager.filter(**{f"{lookup}__in": ids})
            if keep_mh and model is TimelineEvent:
                rows = rows.exclude(category=MENTAL_HEALTH)
            if keep_mh and model is SourceRecord:
                rows = rows.exclude(timeline_event__category=MENTAL_HEALTH)
            _, per_model = rows.delete()
            for label, n in per_model.items():
                if n:
                    counts[label] = counts.get(label, 0) + n
        if keep_mh:
            # Identity stays to hold the mental health entries; contact details go.
            Person._default_manager.filter(pk__in=ids).update(
                address_line="", postcode="", phone="", email="", no_fixed_abode=False
            )
        else:
            for pid in reversed(ids):  # merged records point at the one they joined
                Person._default_manager.filter(pk=pid).delete()
            counts["people.Person"] = len(ids)
        record = DestructionRecord._default_manager.create(
            person_id=person_id,
            merged_person_ids=ids[1:],
            scope=item.scope,
            last_contact=item.last_contact,
            rows=counts,
            reason=reason,
            destroyed_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="retention.destroy",
            persons=ids,
            basis="retention",
            detail={"scope": item.scope, "rows": sum(counts.values())},
        )
    return record


def hold(
    *, actor: AccessContext, person_id: int, until: date, reason: str, today: date
) -> RetentionHold:
    """Keep a record past its retention date, for a reviewed reason, until a later review."""
    if until <= today:
        raise RetentionError("The date to review it again must be in the future")
    with transaction.atomic():
        made = RetentionHold._default_manager.create(
            person_id=person_id, until=until, reason=reason, decided_by=actor.user
        )
        audit.record(
            actor=actor.actor,
            action="retention.hold",
            persons=[person_id],
            basis="retention",
            detail={"until": until.isoformat()},
        )
    return made


@rls.basis("retention")
def held_rows(person_id: int) -> list[tuple[str, int]]:
    """How many rows of each kind the person's record holds (for the review page)."""
    ids = merged_ids(person_id)
    out = []
    for model, lookup in person_models():
        n = model._default_manager.filter(**{f"{lookup}__in": ids}).count()
        if n:
            out.append((str(model._meta.verbose_name_plural).capitalize(), n))
    return sorted(out)
