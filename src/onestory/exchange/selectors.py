"""A person's shared record as a FHIR Bundle, as far as the requesting user may see it.

Everything is fetched through ``access.scope`` (rule 1) under the user's access, so the
Bundle holds only the categories they may see and never another organisation's sealed
entries; ``scope.person_get`` puts the person in the request's one audit event.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from onestory.access import scope
from onestory.access.context import AccessContext
from onestory.access.models import Organisation
from onestory.casework import selectors as casework
from onestory.exchange import fhir

EXPORT_ACTION = "fhir.export"


def person_bundle(ctx: AccessContext, person_id: int) -> dict[str, Any]:
    """The person's record as a FHIR R4 collection Bundle (JSON), or ``PersonNotFound``
    (404) when missing or not the user's; a merged id answers ``PersonMoved``."""
    view = scope.person_get(ctx, person_id, action=EXPORT_ACTION)
    person = view.person
    entries: list[tuple[str, object, dict[str, Any]]] = [
        ("Patient", person.pk, fhir.patient(person, contact_visible=not view.contact_hidden))
    ]
    organisations: dict[int, Organisation] = {}

    def org(organisation: Organisation) -> None:
        organisations.setdefault(organisation.pk, organisation)

    for allocation in casework.allocation_history(view):
        org(allocation.organisation)
        entries.append(("EpisodeOfCare", allocation.pk, fhir.episode_of_care(allocation)))
    plan = casework.plan(view)
    if plan is not None and (plan.plan is not None or plan.goals):
        for goal in plan.goals:
            for step in goal.steps.all():
                org(step.organisation)
        entries.append(("CarePlan", person.pk, fhir.care_plan(person.pk, plan.plan, plan.goals)))
        entries += [("Goal", g.pk, fhir.goal(g)) for g in plan.goals]
    for completion in scope.person_completions(view) or []:
        org(completion.organisation)
        entries.append(
            ("QuestionnaireResponse", completion.pk, fhir.questionnaire_response(completion))
        )
    today = timezone.localdate()
    for decision in scope.person_sharing_decisions(ctx, view):
        org(decision.organisation)
        org(decision.recorded_by_organisation)
        entries.append(("Consent", decision.pk, fhir.consent(decision, today=today)))
    for referral in scope.person_referrals(ctx, view):
        org(referral.from_organisation)
        org(referral.to_organisation)
        entries.append(("ServiceRequest", referral.pk, fhir.service_request(referral)))
    for event in scope.person_feed_events(ctx, view):
        assert event.source_record is not None
        org(event.source_record.source.organisation)
        entries.append(("Encounter", event.pk, fhir.encounter(event, person.pk)))
    entries += [
        ("Organization", o.pk, fhir.organization(o))
        for o in sorted(organisations.values(), key=lambda o: o.pk)
    ]
    return fhir.bundle(entries)
