"""Writes to the person record. Each takes ``actor=`` and is audited explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import Membership, User
from onestory.audit import services as audit
from onestory.casework.models import Contact
from onestory.people.models import AboutMe, Person, Relationship, TimelineEvent


class StaleVersion(Exception):
    """Someone else saved a newer version first; the caller must reload and try again."""


@dataclass(frozen=True)
class AboutMeText:
    what_matters: str = ""
    what_helps: str = ""
    what_to_avoid: str = ""
    how_to_contact: str = ""
    important_people: str = ""


def about_me_save(
    *,
    actor: AccessContext,
    person: Person,
    text: AboutMeText,
    person_agreed_wording: bool,
    based_on_version: int,
) -> AboutMe:
    """Append a new version of About me on top of ``based_on_version``.

    Concurrent edits never lose an update: if another version was saved since the editor
    loaded the page, ``StaleVersion`` is raised and nothing is written.
    """
    with transaction.atomic():
        latest = (
            AboutMe.objects.filter(person=person)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
            or 0
        )
        if latest != based_on_version:
            raise StaleVersion
        try:
            with transaction.atomic():
                entry = AboutMe.objects.create(
                    person=person,
                    version=latest + 1,
                    what_matters=text.what_matters,
                    what_helps=text.what_helps,
                    what_to_avoid=text.what_to_avoid,
                    how_to_contact=text.how_to_contact,
                    important_people=text.important_people,
                    person_agreed_wording=person_agreed_wording,
                    recorded_by=actor.user,
                    recorded_by_organisation=actor.organisation,
                )
        except IntegrityError as exc:  # the unique (person, version) constraint
            raise StaleVersion from exc
        audit.record(
            actor=actor.actor,
            action="about_me.save",
            persons=[person.pk],
            detail={"version": entry.version},
        )
    return entry


class TeamError(ValueError):
    """A refused change to the team around the person; the message says why."""


def team_member_add(
    *,
    actor: AccessContext,
    person: Person,
    worker: User,
    role_description: str,
    how_to_reach: str,
) -> Relationship:
    """Name a worker from the actor's own organisation in the team around the person."""
    if not Membership.objects.filter(user=worker, organisation_id=actor.organisation_id).exists():
        raise TeamError("You can only name workers from your own organisation.")
    with transaction.atomic():
        member = Relationship.objects.create(
            person=person,
            organisation=actor.organisation,
            kind=Relationship.Kind.TEAM,
            worker=worker,
            role_description=role_description,
            how_to_reach=how_to_reach,
            started_on=timezone.localdate(),
        )
        audit.record(
            actor=actor.actor,
            action="team.add",
            persons=[person.pk],
            detail={"relationship": member.pk, "worker": worker.username},
        )
    return member


def team_member_end(*, actor: AccessContext, person: Person, relationship_id: int) -> None:
    """End one of the actor's organisation's named-worker entries (history stays)."""
    with transaction.atomic():
        ended = Relationship.objects.filter(
            pk=relationship_id,
            person=person,
            organisation_id=actor.organisation_id,
            kind=Relationship.Kind.TEAM,
            ended_on__isnull=True,
        ).update(ended_on=timezone.localdate())
        if not ended:
            raise TeamError("Only your own organisation's team entries can be ended here.")
        audit.record(
            actor=actor.actor,
            action="team.end",
            persons=[person.pk],
            detail={"relationship": relationship_id},
        )


class SealError(ValueError):
    """A refused seal or unseal; the message says why."""


def entry_seal(
    *, actor: AccessContext, person: Person, entry: TimelineEvent | Contact, sealed: bool
) -> None:
    """Seal (or unseal) one of the actor's organisation's own entries: once sealed it is
    visible only to that organisation, never through break glass (rule 6)."""
    if not policy.may_seal(
        role=actor.role,
        entry_organisation_id=entry.organisation_id,
        organisation_id=actor.organisation_id,
    ):
        raise SealError("Only the organisation that wrote an entry can seal it.")
    kind = "timeline" if isinstance(entry, TimelineEvent) else "contact"
    with transaction.atomic():
        type(entry).objects.filter(pk=entry.pk, person=person).update(sealed=sealed)
        audit.record(
            actor=actor.actor,
            action="entry.seal" if sealed else "entry.unseal",
            persons=[person.pk],
            detail={"entry": f"{kind}:{entry.pk}"},
        )
