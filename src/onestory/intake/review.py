"""A data manager's decisions on the person index: confirm or reject a pair, undo a merge,
split a record out. Each is audited and reversible; a split never loses a record."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.audit import services as audit
from onestory.consent.models import SharingDecision
from onestory.core import rls
from onestory.intake.index import index_refresh
from onestory.intake.models import IdentityChange, MatchPair, SourceRecord
from onestory.people.models import AboutMe, OtherName, Person, Relationship, TimelineEvent


class ReviewError(ValueError):
    pass


def _resolve(person_id: int) -> int:
    seen: set[int] = set()
    current: int | None = person_id
    while current is not None and current not in seen:
        seen.add(current)
        nxt = Person.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        if nxt is None:
            return current
        current = nxt
    return person_id


@rls.system()
def merge_persons(
    *,
    actor: AccessContext | None,
    keep: int,
    other: int,
    reason: str,
    pair: MatchPair | None = None,
    system: str = "",
) -> IdentityChange:
    """Move everything of ``other`` to ``keep`` (the older id); ``other`` resolves to it."""
    moved = {
        "records": list(SourceRecord.objects.filter(person_id=other).values_list("pk", flat=True)),
        "timeline": list(
            TimelineEvent.objects.filter(person_id=other, source_record__isnull=True).values_list(
                "pk", flat=True
            )
        ),
        "relationships": list(
            Relationship.objects.filter(person_id=other).values_list("pk", flat=True)
        ),
        "sharing": list(
            SharingDecision.objects.filter(person_id=other).values_list("pk", flat=True)
        ),
        "other_names": list(OtherName.objects.filter(person_id=other).values_list("pk", flat=True)),
        "about_me": []
        if AboutMe.objects.filter(person_id=keep).exists()
        else list(AboutMe.objects.filter(person_id=other).values_list("pk", flat=True)),
    }
    SourceRecord.objects.filter(pk__in=moved["records"]).update(person_id=keep)
    TimelineEvent.objects.filter(pk__in=moved["timeline"]).update(person_id=keep)
    Relationship.objects.filter(pk__in=moved["relationships"]).update(person_id=keep)
    SharingDecision.objects.filter(pk__in=moved["sharing"]).update(person_id=keep)
    OtherName.objects.filter(pk__in=moved["other_names"]).update(person_id=keep)
    AboutMe.objects.filter(pk__in=moved["about_me"]).update(person_id=keep)
    Person.objects.filter(pk=other).update(merged_into_id=keep)
    return IdentityChange.objects.create(
        kind=IdentityChange.Kind.MERGE,
        kept_person_id=keep,
        other_person_id=other,
        record_ids=moved["records"],
        moved=moved,
        reason=reason,
        pair=pair,
        made_by=actor.user if actor else None,
        system_actor=system,
    )


def _decide(actor: AccessContext, pair: MatchPair, status: str) -> MatchPair:
    """Record a decision on a pending pair; two people deciding at once cannot both win."""
    locked = MatchPair.objects.select_for_update().get(pk=pair.pk)
    if locked.status != MatchPair.Status.PENDING:
        raise ReviewError("Someone has already decided this pair")
    locked.status = status
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


@rls.system()
def pair_confirm(*, actor: AccessContext, pair: MatchPair) -> int:
    """Confirm a pending pair: the two persons become one (the older id). Returns its id."""
    with transaction.atomic():
        locked = _decide(actor, pair, MatchPair.Status.CONFIRMED)
        left = SourceRecord.objects.get(pk=locked.record_l_id)
        right = SourceRecord.objects.get(pk=locked.record_r_id)
        a, b = _resolve(left.person_id or 0), _resolve(right.person_id or 0)
        keep = min(a, b)
        if a != b:
            merge_persons(
                actor=actor, keep=keep, other=max(a, b), reason="confirmed match", pair=locked
            )
            index_refresh([keep])
        audit.record(
            actor=actor.actor,
            action="review.confirm",
            persons=sorted({a, b}),
            detail={"pair": locked.pk, "kept": keep},
        )
    return keep


@rls.system()
def pair_reject(*, actor: AccessContext, pair: MatchPair) -> None:
    with transaction.atomic():
        locked = _decide(actor, pair, MatchPair.Status.REJECTED)
        persons = {
            r.person_id
            for r in SourceRecord.objects.filter(pk__in=[locked.record_l_id, locked.record_r_id])
            if r.person_id
        }
        audit.record(
            actor=actor.actor,
            action="review.reject",
            persons=sorted(persons),
            detail={"pair": locked.pk},
        )


@rls.system()
def merge_undo(*, actor: AccessContext, change: IdentityChange) -> None:
    """Put back everything a merge moved; the pair, if any, goes back to the queue."""
    with transaction.atomic():
        locked = IdentityChange.objects.select_for_update().get(pk=change.pk)
        if locked.kind != IdentityChange.Kind.MERGE or locked.undone_at is not None:
            raise ReviewError("This merge has already been undone")
        other, keep = locked.other_person_id, locked.kept_person_id
        moved = locked.moved or {"records": locked.record_ids}
        SourceRecord.objects.filter(pk__in=moved.get("records", [])).update(person_id=other)
        TimelineEvent.objects.filter(pk__in=moved.get("timeline", [])).update(person_id=other)
        Relationship.objects.filter(pk__in=moved.get("relationships", [])).update(person_id=other)
        SharingDecision.objects.filter(pk__in=moved.get("sharing", [])).update(person_id=other)
        OtherName.objects.filter(pk__in=moved.get("other_names", [])).update(person_id=other)
        AboutMe.objects.filter(pk__in=moved.get("about_me", [])).update(person_id=other)
        Person.objects.filter(pk=other).update(merged_into=None)
        if locked.pair_id:
            MatchPair.objects.filter(pk=locked.pair_id).update(
                status=MatchPair.Status.PENDING, decided_by=None, decided_at=None
            )
        locked.undone_at = timezone.now()
        locked.save(update_fields=["undone_at"])
        index_refresh([keep, other])
        audit.record(
            actor=actor.actor,
            action="identity.undo_merge",
            persons=[keep, other],
            detail={"change": locked.pk},
        )


@rls.system()
def record_split(*, actor: AccessContext, record: SourceRecord) -> int:
    """Split one record out of its person into a new person; returns the new person's id.

    The pairs that tied it to the rest become rejected, so a later `link` keeps them apart.
    """
    with transaction.atomic():
        if record.person_id is None:
            raise ReviewError("This record is not linked to anyone")
        old = record.person_id
        others = list(
            SourceRecord.objects.filter(person_id=old)
            .exclude(pk=record.pk)
            .values_list("pk", flat=True)
        )
        if not others:
            raise ReviewError("This is the person's only record; there is nothing to split")
        new = Person.objects.create()
        SourceRecord.objects.filter(pk=record.pk).update(person_id=new.pk, match_probability=None)
        for other_id in others:
            left, right = sorted((record.pk, other_id))
            MatchPair.objects.update_or_create(
                record_l_id=left,
                record_r_id=right,
                defaults={
                    "status": MatchPair.Status.REJECTED,
                    "decided_by": actor.user,
                    "decided_at": timezone.now(),
                },
                create_defaults={
                    "match_probability": 0.0,
                    "status": MatchPair.Status.REJECTED,
                    "decided_by": actor.user,
                    "decided_at": timezone.now(),
                },
            )
        IdentityChange.objects.create(
            kind=IdentityChange.Kind.SPLIT,
            kept_person_id=old,
            other_person_id=new.pk,
            record_ids=[record.pk],
            reason="split by a data manager",
            made_by=actor.user,
        )
        index_refresh([old, new.pk])
        audit.record(
            actor=actor.actor,
            action="identity.split",
            persons=[old, new.pk],
            detail={"record": record.pk},
        )
    return new.pk
