"""Caseload migration: bring an existing caseload into OneStory so a partnership can go live
with its history (people, lead worker, About me, goals, contact history).

One file is one transaction. Rows are validated like partner feeds: a bad row is
quarantined with its row number and reason, the good rows are imported, and the same file
twice is refused the second time (nothing changes).

Template columns (case-insensitive; one or more rows per person, grouped by ``person_ref``):
``person_ref`` (required), ``given_name``, ``family_name``, ``date_of_birth``,
``nhs_number``, ``lead_worker`` (username or e-mail of a worker in your organisation),
``consent_recorded_on`` (when the person agreed, in your old system, to share their
record with your organisation), ``what_matters``, ``what_helps``, ``what_to_avoid``,
``how_to_contact``, ``important_people``, ``goal``, ``goal_target_date``, ``contact_date``,
``contact_method``, ``contact_successful`` (yes/no), ``contact_note``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from onestory.access.context import AccessContext
from onestory.access.models import Membership, User
from onestory.access.roles import CASEWORK_ROLES, SHAREABLE_CATEGORIES, Role
from onestory.audit import services as audit
from onestory.casework.models import (
    Allocation,
    Contact,
    Goal,
    MigrationQuarantine,
    MigrationRun,
)
from onestory.casework.services import CaseworkError, allocation_create
from onestory.consent.models import SharingBasis, SharingDecision
from onestory.core import rls
from onestory.people.models import AboutMe, Person
from onestory_engine import standardise
from onestory_engine.intake import FeedRefused, read_table

MAX_BYTES = 20 * 1024 * 1024
ABOUT_ME = ("what_matters", "what_helps", "what_to_avoid", "how_to_contact", "important_people")
TRUE = {"yes", "y", "true", "1", "seen"}
FALSE = {"no", "n", "false", "0", "not seen"}


class MigrationRefused(ValueError):
    """The whole file is unusable; the message is the one-line reason."""


@dataclass
class _Row:
    number: int
    raw: dict[str, str]
    dob: date | None = None
    nhs: str = ""
    lead: User | None = None
    consent_on: date | None = None
    goal_target: date | None = None
    contact_on: date | None = None
    contact_ok: bool | None = None


@dataclass
class _Group:
    rows: list[_Row] = field(default_factory=list)


def _date(raw: dict[str, str], column: str) -> date | None:
    value = raw.get(column, "").strip()
    if not value:
        return None
    try:
        return standardise.parse_date_strict(value)
    except ValueError as exc:
        raise CaseworkError(f"{column} '{value}' is not a date ({exc})") from exc


def _worker(raw: dict[str, str], organisation_id: int) -> User | None:
    value = raw.get("lead_worker", "").strip()
    if not value:
        return None
    members = Membership.objects.filter(
        organisation_id=organisation_id, role__in=[r.value for r in CASEWORK_ROLES]
    ).values("user_id")
    worker = (
        User.objects.filter(pk__in=members)
        .filter(Q(username__iexact=value) | Q(email__iexact=value))
        .first()
    )
    if worker is None:
        raise CaseworkError(f"lead_worker '{value}' is not a caseworker in your organisation")
    return worker


def _validate(raw: dict[str, str], organisation_id: int, number: int) -> _Row:
    row = _Row(number, raw)
    if not raw.get("person_ref", "").strip():
        raise CaseworkError("missing person_ref")
    row.dob = _date(raw, "date_of_birth")
    nhs_raw = raw.get("nhs_number", "").strip()
    if nhs_raw:
        nhs = standardise.nhs_number_clean(nhs_raw)
        if nhs is None:
            raise CaseworkError(f"NHS number '{nhs_raw}' fails its check digit")
        row.nhs = nhs
    row.lead = _worker(raw, organisation_id)
    row.consent_on = _date(raw, "consent_recorded_on")
    row.goal_target = _date(raw, "goal_target_date")
    row.contact_on = _date(raw, "contact_date")
    if row.contact_on is not None:
        if row.contact_on > timezone.localdate():
            raise CaseworkError(f"contact_date {row.contact_on} is in the future")
        method = raw.get("contact_method", "").strip().lower().replace(" ", "_")
        if method not in Contact.Method.values:
            raise CaseworkError(
                f"contact_method '{raw.get('contact_method', '')}' is not one of "
                + ", ".join(Contact.Method.values)
            )
        seen = raw.get("contact_successful", "").strip().lower()
        if seen not in TRUE | FALSE:
            raise CaseworkError("contact_successful must be yes or no")
        row.contact_ok = seen in TRUE
    return row


def _person(rows: list[_Row]) -> tuple[Person, bool]:
    """The person these rows describe: found by NHS number or exact name and date of birth,
    otherwise created."""
    first = rows[0].raw
    given = next((r.raw.get("given_name", "").strip() for r in rows if r.raw.get("given_name")), "")
    family = next(
        (r.raw.get("family_name", "").strip() for r in rows if r.raw.get("family_name")), ""
    )
    dob = next((r.dob for r in rows if r.dob), None)
    nhs = next((r.nhs for r in rows if r.nhs), "")
    people = Person.objects.filter(merged_into__isnull=True)
    found = people.filter(nhs_number=nhs).first() if nhs else None
    if found is None and given and family and dob:
        found = people.filter(
            given_name__iexact=given, family_name__iexact=family, date_of_birth=dob
        ).first()
    if found is not None:
        return found, False
    if not (given or family):
        raise CaseworkError(f"person_ref '{first.get('person_ref')}' has no name")
    person = Person.objects.create(
        given_name=given, family_name=family, date_of_birth=dob, nhs_number=nhs
    )
    return person, True


@rls.system()  # a whole caseload arrives at once, on the manager's behalf
def caseload_migrate(*, actor: AccessContext, upload: UploadedFile[bytes]) -> MigrationRun:
    """Import one caseload file for the actor's organisation (a manager)."""
    if actor.role != Role.MANAGER:
        raise MigrationRefused("Only a manager can migrate a caseload.")
    if upload.size is not None and upload.size > MAX_BYTES:
        raise MigrationRefused(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    data = upload.read()
    name = upload.name or "caseload.csv"
    digest = hashlib.sha256(data).hexdigest()
    earlier = MigrationRun.objects.filter(
        organisation_id=actor.organisation_id, file_sha256=digest
    ).first()
    if earlier is not None:
        raise MigrationRefused(
            f"This file was already imported on {earlier.imported_at:%d %B %Y}; nothing changed."
        )
    try:
        columns, rows, _encoding = read_table(name, data)
    except FeedRefused as exc:
        raise MigrationRefused(str(exc)) from exc
    if "person_ref" not in columns:
        raise MigrationRefused("The file has no person_ref column. Use the caseload template.")
    good: dict[str, _Group] = {}
    bad: list[tuple[int, str, dict[str, str]]] = []
    for number, raw in rows:
        try:
            row = _validate(raw, actor.organisation_id, number)
        except CaseworkError as exc:
            bad.append((number, str(exc), raw))
            continue
        good.setdefault(raw["person_ref"].strip(), _Group()).rows.append(row)
    today = timezone.localdate()
    with transaction.atomic():
        run = MigrationRun.objects.create(
            organisation=actor.organisation,
            file_name=name[:300],
            file_sha256=digest,
            imported_by=actor.user,
        )
        persons: list[int] = []
        for ref, group in good.items():
            try:
                with transaction.atomic():
                    counts = _import_person(actor, run, group, today)
            except CaseworkError as exc:
                for row in group.rows:
                    bad.append((row.number, f"person_ref '{ref}': {exc}", row.raw))
                continue
            persons.append(counts.pop("person"))
            for key, value in counts.items():
                setattr(run, key, getattr(run, key) + value)
        MigrationQuarantine.objects.bulk_create(
            MigrationQuarantine(run=run, row_number=n, reason=reason[:500], raw=raw)
            for n, reason, raw in sorted(bad, key=lambda b: b[0])
        )
        run.quarantined = len(bad)
        run.save()
        audit.record(
            actor=actor.actor,
            action="caseload.migrate",
            persons=persons,
            detail={"run": run.pk, "file": run.file_name, "summary": run.summary},
        )
    return run


def _import_person(
    actor: AccessContext, run: MigrationRun, group: _Group, today: date
) -> dict[str, Any]:
    person, created = _person(group.rows)
    counts: dict[str, Any] = {
        "person": person.pk,
        "people_created": int(created),
        "people_matched": int(not created),
        "allocations": 0,
        "goals": 0,
        "contacts": 0,
    }
    lead = next((r.lead for r in group.rows if r.lead), None)
    if (
        lead is not None
        and not Allocation.objects.filter(
            person=person, worker=lead, ended_on__isnull=True
        ).exists()
    ):
        allocation_create(
            actor=actor,
            person=person,
            worker=lead,
            kind=Allocation.Kind.LEAD,
            handover_note="Migrated from the previous system.",
            agree_over_cap=True,  # a manager moving an existing caseload across
        )
        counts["allocations"] = 1
    consent = next((r.consent_on for r in group.rows if r.consent_on), None)
    if consent is not None:
        SharingDecision.objects.create(
            person=person,
            organisation=actor.organisation,
            categories=[c.value for c in SHAREABLE_CATEGORIES],
            basis=SharingBasis.CONSENT,
            notes=f"Agreed on {consent:%d %B %Y}, migrated from the previous system.",
            recorded_by=actor.user,
            recorded_by_organisation=actor.organisation,
            review_on=max(consent + timedelta(days=365), today + timedelta(days=30)),
        )
    about = {k: next((r.raw.get(k, "").strip() for r in group.rows if r.raw.get(k)), "")
             for k in ABOUT_ME}  # fmt: skip
    if any(about.values()):
        latest = AboutMe.objects.filter(person=person).order_by("-version").first()
        AboutMe.objects.create(
            person=person,
            version=(latest.version if latest else 0) + 1,
            recorded_by=actor.user,
            recorded_by_organisation=actor.organisation,
            **about,
        )
    worker = lead or actor.user
    for row in group.rows:
        words = row.raw.get("goal", "").strip()
        if words:
            Goal.objects.create(
                person=person,
                organisation=actor.organisation,
                in_their_words=words,
                target_on=row.goal_target,
                created_by=actor.user,
            )
            counts["goals"] += 1
        if row.contact_on is not None:
            Contact.objects.create(
                person=person,
                organisation=actor.organisation,
                worker=worker,
                occurred_on=row.contact_on,
                method=row.raw.get("contact_method", "").strip().lower().replace(" ", "_"),
                successful=bool(row.contact_ok),
                note=row.raw.get("contact_note", "").strip(),
            )
            counts["contacts"] += 1
    assert run.pk
    return counts
