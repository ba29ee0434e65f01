"""Recording measures. Each write takes ``actor=`` and is audited explicitly."""

from __future__ import annotations

import json
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.roles import Role
from onestory.access.scope import PersonView
from onestory.audit import services as audit
from onestory.measures import shipped
from onestory.measures.models import (
    Completion,
    Equality,
    IndicatorValue,
    Instrument,
    StaffResponse,
)
from onestory_engine import fingertips
from onestory_engine import measures as engine


class MeasureError(ValueError):
    """A refused step; the message says why in plain English."""


def current_instrument(code: str) -> Instrument:
    instrument = Instrument.objects.filter(code=code, active=True).order_by("-version").first()
    if instrument is None:
        shipped.ensure_instruments()
        instrument = Instrument.objects.filter(code=code, active=True).order_by("-version").first()
    if instrument is None:
        raise MeasureError(f"There is no questionnaire called {code!r}.")
    return instrument


def completion_record(
    *,
    actor: AccessContext,
    view: PersonView,
    instrument: Instrument,
    answers: dict[str, int | None],
    completed_on: date | None = None,
) -> Completion:
    """Score and store one completion for a person the worker works with."""
    if not policy.may_record_measures(role=actor.role, categories=view.categories):
        raise MeasureError("Your role cannot record measures for this person.")
    day = completed_on or timezone.localdate()
    if day > timezone.localdate():
        raise MeasureError("The date cannot be in the future.")
    try:
        result = engine.score(instrument.parsed, answers)
    except engine.InstrumentError as exc:
        raise MeasureError(str(exc)) from exc
    with transaction.atomic():
        completion = Completion.objects.create(
            person=view.person,
            instrument=instrument,
            completed_on=day,
            recorded_by=actor.user,
            organisation=actor.organisation,
            answers={k: v for k, v in answers.items() if v is not None},
            total=result.total,
            subscores=result.subscores,
            complete=result.complete,
        )
        audit.record(
            actor=actor.actor,
            action=f"measure.{instrument.code}",
            persons=[view.id],
            detail={"completion": completion.pk},
        )
    return completion


EQUALITY_FIELDS = (
    "sex", "gender_same_as_birth", "ethnicity", "disabled", "sexual_orientation", "religion"
)  # fmt: skip


def equality_save(
    *, actor: AccessContext, view: PersonView, answers: dict[str, str], based_on_version: int
) -> Equality:
    """Record what the person chose to say (blank: not asked yet; 'prefer not to say' is an
    answer). Refused, changing nothing, if someone else saved in the meantime."""
    if not policy.may_record_equality(role=actor.role, categories=view.categories):
        raise MeasureError("Your role cannot record equality monitoring for this person.")
    values = {f: answers.get(f, "") for f in EQUALITY_FIELDS}
    today = timezone.localdate()
    with transaction.atomic():
        if based_on_version == 0:
            record, created = Equality.objects.get_or_create(
                person=view.person,
                defaults={**values, "recorded_on": today, "recorded_by": actor.user,
                          "organisation": actor.organisation},
            )  # fmt: skip
            if not created:
                raise MeasureError(
                    "Someone else recorded this person's answers since you opened the page. "
                    "Nothing was changed: read theirs and try again."
                )
        else:
            won = Equality.objects.filter(person=view.person, version=based_on_version).update(
                **values, recorded_on=today, recorded_by=actor.user,
                organisation=actor.organisation, version=F("version") + 1,
            )  # fmt: skip
            if not won:
                raise MeasureError(
                    "Someone else changed these answers since you opened the page. Nothing "
                    "was changed: read theirs and try again."
                )
            record = Equality.objects.get(person=view.person)
        audit.record(actor=actor.actor, action="equality.save", persons=[view.id])
    return record


def indicators_import(*, actor: AccessContext, data: bytes, name: str) -> tuple[int, list[str]]:
    """Load a Fingertips export: new values are added and existing ones replaced (the same
    file twice changes nothing). Returns how many rows were stored and the skipped rows."""
    if actor.role not in {Role.ANALYST, Role.MANAGER}:
        raise MeasureError("Only analysts and managers load indicator data.")
    try:
        parsed = fingertips.read(data)
    except fingertips.FingertipsError as exc:
        raise MeasureError(f"{name}: {exc}") from exc
    with transaction.atomic():
        for row in parsed.rows:
            IndicatorValue.objects.update_or_create(
                indicator_id=row.indicator_id, area_code=row.area_code, sex=row.sex,
                age=row.age, period=row.period,
                defaults={
                    "indicator_name": row.indicator_name[:300], "area_name": row.area_name[:200],
                    "value": row.value, "lower_ci": row.lower_ci, "upper_ci": row.upper_ci,
                    "count": row.count, "denominator": row.denominator,
                },
            )  # fmt: skip
        audit.record(
            actor=actor.actor,
            action="indicators.import",
            detail={"file": name, "rows": len(parsed.rows), "skipped": len(parsed.problems)},
        )
    return len(parsed.rows), parsed.problems


def staff_survey_answer(*, actor: AccessContext, answers: dict[str, int | None]) -> StaffResponse:
    """A staff member's answers, kept with their organisation and the day only."""
    instrument = current_instrument("staff_confidence")
    try:
        result = engine.score(instrument.parsed, answers)
    except engine.InstrumentError as exc:
        raise MeasureError(str(exc)) from exc
    response = StaffResponse.objects.create(
        instrument=instrument,
        organisation=actor.organisation,
        answered_on=timezone.localdate(),
        answers={k: v for k, v in answers.items() if v is not None},
        total=result.total,
    )
    audit.record(actor=audit.UNATTRIBUTED, action="staff_survey.answer")
    return response


def instrument_add(*, actor: AccessContext, text: str) -> Instrument:
    """Add a questionnaire (or a new version of one) from its JSON definition: a licensed
    instrument needs no code. The highest active version is used for new completions."""
    if actor.role != Role.ADMINISTRATOR:
        raise MeasureError("Only an administrator adds questionnaires.")
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MeasureError(
            f"The definition is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    if not isinstance(definition, dict):
        raise MeasureError("The definition must be a JSON object with code, version and items.")
    try:
        parsed = engine.instrument_from(definition)
    except engine.InstrumentError as exc:
        raise MeasureError(f"The definition cannot be used: {exc}.") from exc
    if Instrument.objects.filter(code=parsed.code, version=parsed.version).exists():
        raise MeasureError(
            f"Version {parsed.version} of {parsed.code!r} already exists. Give the new one a "
            "higher version number; answers already recorded keep the version they used."
        )
    instrument = Instrument.objects.create(
        code=parsed.code, version=parsed.version, name=parsed.name, definition=definition
    )
    audit.record(
        actor=actor.actor,
        action="instrument.add",
        detail={"code": parsed.code, "version": parsed.version},
    )
    return instrument
